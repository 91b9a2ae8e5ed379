//! The dashboard: requests awaiting this node (for officers), proposals open for a vote
//! (for those who may read governance), intelligence added in the last week that the
//! viewer may read, and the log's latest checkpoint.

use askama::Template;
use axum::extract::State;
use comity_node::federation::witnessing::checkpoint_with_cosignatures;
use comity_stix::clock::{format_us, now_us};

use super::governance::{open_for_vote, ProposalRow};
use super::intel::ObjectRow;
use super::requests::{awaiting, RequestRow};
use super::{render, Ctx, InLanguage, UiError, UiResult, Viewer};
use crate::auth::{Caller, CollectionAccess};
use crate::taxii::objects::readable_page;
use crate::AppState;

/// How far back "recent" intelligence goes.
const RECENT_US: i64 = 7 * 86_400 * 1_000_000;
/// Most recent objects shown.
const RECENT: usize = 10;

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    ctx: Ctx,
    waiting: Vec<RequestRow>,
    proposals: Vec<ProposalRow>,
    recent: Vec<ObjectRow>,
    checkpoint: Option<String>,
    cosignatures: usize,
}

/// Objects added in the last week to the collections the viewer may read, as TAXII would
/// release them to the viewer.
async fn recent(state: &AppState, caller: &Caller) -> Result<Vec<ObjectRow>, UiError> {
    let store = state.node.store();
    let since = format_us(now_us() - RECENT_US);
    let raw = format!("limit={RECENT}&added_after={since}");
    let mut rows = Vec::new();
    for root in store.api_roots().await? {
        for collection in store.collections(&root.name).await? {
            if rows.len() >= RECENT {
                break;
            }
            let Some(access) = CollectionAccess::to_read(state, caller, collection).await? else {
                continue;
            };
            let (items, _) = readable_page(state, &access, &raw).await?;
            rows.extend(
                items
                    .iter()
                    .map(|o| ObjectRow::new(&root.name, &access.collection.id, o)),
            );
        }
    }
    rows.truncate(RECENT);
    Ok(rows)
}

/// GET `/dashboard`.
pub(super) async fn show(
    State(state): State<AppState>,
    Viewer(ctx): Viewer<Ctx>,
    caller: Caller,
) -> UiResult {
    let waiting = if ctx.officer() {
        awaiting(&state, &ctx).await.speak(&ctx)?
    } else {
        Vec::new()
    };
    let proposals = open_for_vote(&state, &ctx, &caller).await.speak(&ctx)?;
    let recent = recent(&state, &caller).await.speak(&ctx)?;
    let note = checkpoint_with_cosignatures(state.node.store(), state.node.log(), false)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "reading the latest checkpoint failed");
            UiError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "error-internal",
            )
        })
        .speak(&ctx)?;
    // A checkpoint note is the log's body, a blank line, then signature lines: the
    // log's own first, then one per cosigning peer.
    let (checkpoint, cosignatures) = match note {
        Some(note) => {
            let (body, signatures) = note.split_once("\n\n").unwrap_or((&note, ""));
            let lines = signatures.lines().filter(|l| l.starts_with('\u{2014}'));
            (Some(body.to_owned()), lines.count().saturating_sub(1))
        }
        None => (None, 0),
    };
    render(
        &ctx.clone(),
        DashboardPage {
            ctx,
            waiting,
            proposals,
            recent,
            checkpoint,
            cosignatures,
        },
    )
}
