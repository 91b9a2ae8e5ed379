//! Request events across nodes: a `request` envelope, `{"event": EVENT}`, carries one signed
//! event of a cooperation request to the other party, through the durable outbox like
//! everything else. The inbox checks the envelope and its sender; the event itself is
//! checked and taken in by [`crate::requests`], which refuses it (signed receipt, recorded,
//! committed to the log) when it does not verify, does not follow the history held here, or
//! is not an act its maker may make.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::identity::PublicKey;
use crate::requests::{self, RequestError};

use super::envelope::Envelope;
use super::inbox::{Answer, Inbox, InboxError};

/// The body of a `request` envelope.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    event: Box<RawValue>,
}

/// Applies an `attachment` envelope, a chunk of an attachment's bytes
/// ([`requests::Chunk`]), from a verified, active sender.
pub(super) async fn receive_chunk(
    inbox: &Inbox<'_>,
    local: &str,
    env: &Envelope,
) -> Result<Answer, InboxError> {
    let chunk: requests::Chunk = match serde_json::from_str(env.body.get()) {
        Ok(c) => c,
        Err(e) => {
            let why = format!(
                "the body is not {{\"request\", \"sha256\", \"offset\", \"size\", \"data\"}}: {e}"
            );
            return inbox.refuse_recorded(local, env, why).await;
        }
    };
    // Evidence counts against the sender's hourly allowance of body bytes.
    if let Some(answer) = inbox.beyond_quota(local, env, 0) {
        return Ok(answer);
    }
    let taken =
        requests::take_in_chunk(inbox.store(), inbox.attachments(), local, &env.from, &chunk).await;
    match taken {
        Ok(fresh) => inbox.deliver_recorded(local, env, u64::from(fresh)).await,
        Err(RequestError::Store(e)) => Err(e.into()),
        Err(RequestError::Attachment(requests::attachments::AttachmentError::Io(e))) => {
            // The disk failed, not the sender: answer nothing, so it comes again.
            Err(InboxError::from(comity_store::StoreError::Backend(
                format!("attachment storage: {e}"),
            )))
        }
        Err(refusal) => inbox.refuse_recorded(local, env, refusal.to_string()).await,
    }
}

/// Applies a `request` envelope from a verified, active sender whose pinned key is `key`.
pub(super) async fn receive(
    inbox: &Inbox<'_>,
    local: &str,
    env: &Envelope,
    key: &PublicKey,
) -> Result<Answer, InboxError> {
    let body: Body = match serde_json::from_str(env.body.get()) {
        Ok(b) => b,
        Err(e) => {
            let why = format!("the body is not {{\"event\": {{...}}}}: {e}");
            return inbox.refuse_recorded(local, env, why).await;
        }
    };
    let taken = requests::take_in(
        inbox.store(),
        inbox.log(),
        inbox.attachments(),
        local,
        &env.from,
        key,
        body.event.get(),
    )
    .await;
    match taken {
        Ok(fresh) => {
            if let (true, Some(notices)) = (fresh, inbox.notices()) {
                notices
                    .taken_in(inbox.store(), local, body.event.get())
                    .await;
            }
            inbox.deliver_recorded(local, env, u64::from(fresh)).await
        }
        Err(e @ (RequestError::Store(_) | RequestError::Log(_) | RequestError::Registry(_))) => {
            Err(match e {
                RequestError::Store(e) => e.into(),
                RequestError::Log(e) => e.into(),
                RequestError::Registry(e) => e.into(),
                _ => unreachable!("matched above"),
            })
        }
        Err(refusal) => inbox.refuse_recorded(local, env, refusal.to_string()).await,
    }
}
