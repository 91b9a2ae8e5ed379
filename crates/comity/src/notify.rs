//! Notifications for the 24/7 channel: `comity serve` sends every notice of the node
//! ([`comity_node::requests::notify`]) by e-mail through an SMTP server and to signed
//! webhooks, as `[notifications]` in comity.toml says.
//!
//! Notices come from the federation inbox (the other party made a request or acted on one)
//! and from a periodic scan of the requests whose answer is due within the reminder window
//! (`reminder`) or overdue (`overdue`); each of those is sent once per request per process
//! (a restart sends them once more).
//!
//! Each destination has its own bounded queue and worker: a destination that is slow or
//! down delays only itself, and when its queue is full further notices for it are dropped
//! and counted in a warning, never held without bound. A send is tried a few times with
//! growing pauses.

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use comity_node::requests::notify::{due_notices, Notice, What};
use comity_node::Node;
use hmac::{Hmac, Mac};
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;
use sha2::Sha256;
use tokio::sync::{broadcast, mpsc};

use crate::config::CONFIG_FILE;

/// The header of a webhook request carrying the signature of its body.
pub const SIGNATURE_HEADER: &str = "X-Comity-Signature";
/// Notices waiting for one destination; more are dropped (and counted).
const QUEUE: usize = 100;
/// Tries of one send.
const TRIES: u32 = 4;
/// The pause after the first failed try; doubled after each.
const FIRST_PAUSE: Duration = Duration::from_secs(1);
/// How long one webhook request or SMTP exchange may take.
const TIMEOUT: Duration = Duration::from_secs(15);

/// `[notifications]` in comity.toml.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationsConfig {
    /// Who gets the e-mails (needs `[notifications.smtp]`).
    #[serde(default)]
    pub email_to: Vec<String>,
    /// Reminders go out when an answer is due within this many hours (default 4).
    pub reminder_hours: Option<u64>,
    /// Seconds between two scans for reminders and overdue answers (default 60).
    pub scan_seconds: Option<u64>,
    /// The SMTP server.
    pub smtp: Option<SmtpConfig>,
    /// Webhooks.
    #[serde(default)]
    pub webhooks: Vec<WebhookConfig>,
}

/// `[notifications.smtp]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// The server's host name.
    pub host: String,
    /// Its port (default 587 with STARTTLS, 25 without).
    pub port: Option<u16>,
    /// Whether to require STARTTLS (default true; false only to a loopback server).
    pub starttls: Option<bool>,
    /// The user to log in as, if the server wants a login.
    pub username: Option<String>,
    /// The file holding its password, relative to the data directory.
    pub password_file: Option<PathBuf>,
    /// The sender address.
    pub from: String,
}

/// One `[[notifications.webhooks]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Where to POST (https://, or http:// to loopback only).
    pub url: String,
    /// The file holding the HMAC-SHA256 secret, relative to the data directory.
    pub secret_file: PathBuf,
}

/// The notification settings, checked, with their secrets read.
pub struct Settings {
    email: Option<Email>,
    webhooks: Vec<Webhook>,
    reminder: Duration,
    scan: Duration,
}

struct Email {
    host: String,
    port: u16,
    starttls: bool,
    credentials: Option<Credentials>,
    from: Mailbox,
    to: Vec<Mailbox>,
}

struct Webhook {
    url: reqwest::Url,
    secret: Vec<u8>,
}

/// Whether `host` (a name or an address) is this machine's loopback.
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The contents of `file` (relative to `data_dir`), less a final line break; never empty.
fn read_secret(data_dir: &Path, file: &Path, what: &str) -> anyhow::Result<String> {
    let path = data_dir.join(file);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the {what} from {}", path.display()))?;
    let secret = text.trim_end_matches(['\n', '\r']).to_owned();
    anyhow::ensure!(
        !secret.is_empty(),
        "{} is empty: it must hold the {what}",
        path.display()
    );
    Ok(secret)
}

impl NotificationsConfig {
    /// Checks the settings and reads their secrets from files under `data_dir`.
    pub fn settings(&self, data_dir: &Path) -> anyhow::Result<Settings> {
        let section = format!("[notifications] in {CONFIG_FILE}");
        let email = match (&self.smtp, self.email_to.is_empty()) {
            (None, true) => None,
            (None, false) => {
                anyhow::bail!("{section}: email_to needs a [notifications.smtp] server")
            }
            (Some(_), true) => {
                anyhow::bail!("{section}: [notifications.smtp] is set but email_to names no one")
            }
            (Some(smtp), false) => Some(smtp.email(data_dir, &self.email_to, &section)?),
        };
        let webhooks = self
            .webhooks
            .iter()
            .map(|w| w.webhook(data_dir, &section))
            .collect::<anyhow::Result<Vec<_>>>()?;
        anyhow::ensure!(
            email.is_some() || !webhooks.is_empty(),
            "{section} names no e-mail recipient and no webhook"
        );
        let reminder_hours = self.reminder_hours.unwrap_or(4);
        let scan_seconds = self.scan_seconds.unwrap_or(60);
        anyhow::ensure!(
            scan_seconds >= 1,
            "{section}: scan_seconds must be at least 1"
        );
        Ok(Settings {
            email,
            webhooks,
            reminder: Duration::from_secs(reminder_hours.saturating_mul(3600)),
            scan: Duration::from_secs(scan_seconds),
        })
    }
}

impl SmtpConfig {
    fn email(&self, data_dir: &Path, to: &[String], section: &str) -> anyhow::Result<Email> {
        let starttls = self.starttls.unwrap_or(true);
        anyhow::ensure!(
            !self.host.trim().is_empty(),
            "{section}: smtp host is empty"
        );
        if !starttls && !is_loopback(&self.host) {
            anyhow::bail!(
                "{section}: starttls = false is allowed only to a loopback SMTP server, not to {}: \
                 notices would cross the network in clear",
                self.host
            );
        }
        let credentials = match (&self.username, &self.password_file) {
            (Some(user), Some(file)) => Some(Credentials::new(
                user.clone(),
                read_secret(data_dir, file, "SMTP password")?,
            )),
            (None, None) => None,
            _ => anyhow::bail!("{section}: smtp username and password_file go together"),
        };
        let mailbox = |text: &str| {
            text.parse::<Mailbox>()
                .with_context(|| format!("{section}: {text:?} is not an e-mail address"))
        };
        Ok(Email {
            host: self.host.clone(),
            port: self.port.unwrap_or(if starttls { 587 } else { 25 }),
            starttls,
            credentials,
            from: mailbox(&self.from)?,
            to: to
                .iter()
                .map(|t| mailbox(t))
                .collect::<anyhow::Result<_>>()?,
        })
    }
}

impl WebhookConfig {
    fn webhook(&self, data_dir: &Path, section: &str) -> anyhow::Result<Webhook> {
        let url = reqwest::Url::parse(&self.url)
            .with_context(|| format!("{section}: webhook {:?} is not a URL", self.url))?;
        let host = url.host_str().unwrap_or_default();
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(host) => {}
            "http" => anyhow::bail!(
                "{section}: webhook {} is plain http:// to another machine; use https:// \
                 (plain http:// is allowed to loopback only)",
                self.url
            ),
            other => anyhow::bail!(
                "{section}: webhook {} has scheme {other}; use https://",
                self.url
            ),
        }
        Ok(Webhook {
            url,
            secret: read_secret(data_dir, &self.secret_file, "webhook secret")?.into_bytes(),
        })
    }
}

/// `sha256=` and the hex HMAC-SHA256 of `body` under `secret`: the value of
/// [`SIGNATURE_HEADER`].
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A destination of notices.
enum Sink {
    Email(Box<(Email, AsyncSmtpTransport<Tokio1Executor>)>),
    Webhook(Webhook, reqwest::Client),
}

impl Sink {
    fn name(&self) -> String {
        match self {
            Sink::Email(e) => format!("smtp://{}:{}", e.0.host, e.0.port),
            Sink::Webhook(w, _) => w.url.to_string(),
        }
    }

    async fn send(&self, notice: &Notice) -> anyhow::Result<()> {
        match self {
            Sink::Email(boxed) => {
                let (email, transport) = boxed.as_ref();
                let mut message = Message::builder()
                    .from(email.from.clone())
                    .subject(notice.subject())
                    .header(ContentType::TEXT_PLAIN);
                for to in &email.to {
                    message = message.to(to.clone());
                }
                transport.send(message.body(notice.text())?).await?;
                Ok(())
            }
            Sink::Webhook(hook, client) => {
                let body = notice.json();
                let response = client
                    .post(hook.url.clone())
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header(SIGNATURE_HEADER, signature(&hook.secret, body.as_bytes()))
                    .body(body)
                    .send()
                    .await?;
                anyhow::ensure!(
                    response.status().is_success(),
                    "answered {}",
                    response.status()
                );
                Ok(())
            }
        }
    }
}

fn sinks(email: Option<Email>, webhooks: Vec<Webhook>) -> anyhow::Result<Vec<Sink>> {
    let mut out = Vec::new();
    if let Some(email) = email {
        let mut builder = if email.starttls {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&email.host)?
        } else {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&email.host)
        };
        builder = builder.port(email.port).timeout(Some(TIMEOUT));
        if let Some(c) = &email.credentials {
            builder = builder.credentials(c.clone());
        }
        let transport = builder.build();
        out.push(Sink::Email(Box::new((email, transport))));
    }
    for hook in webhooks {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        out.push(Sink::Webhook(hook, client));
    }
    Ok(out)
}

/// Sends the notices queued for `sink`, each tried [`TRIES`] times.
async fn work(sink: Sink, mut queue: mpsc::Receiver<Notice>) {
    let name = sink.name();
    while let Some(notice) = queue.recv().await {
        let mut pause = FIRST_PAUSE;
        for attempt in 1..=TRIES {
            match sink.send(&notice).await {
                Ok(()) => {
                    tracing::info!(to = %name, request = %notice.request, what = notice.what.as_str(), "notice sent");
                    break;
                }
                Err(e) if attempt < TRIES => {
                    tracing::warn!(to = %name, request = %notice.request, attempt, error = %e, "notice not sent; trying again");
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
                Err(e) => {
                    tracing::error!(to = %name, request = %notice.request, error = %e, "notice not sent; given up");
                }
            }
        }
    }
}

/// Starts sending the node's notices as `settings` say: a worker per destination, the
/// task that hands notices to them, and the periodic scan for reminders and overdue
/// answers. Runs until the process ends.
pub fn start(node: &Node, settings: Settings) -> anyhow::Result<()> {
    let Settings {
        email,
        webhooks,
        reminder,
        scan: every,
    } = settings;
    let (emails, hooks) = (email.is_some(), webhooks.len());
    let mut notices = node.notices().subscribe();
    let mut queues = Vec::new();
    for sink in sinks(email, webhooks)? {
        let (tx, rx) = mpsc::channel(QUEUE);
        queues.push((sink.name(), tx, 0u64));
        tokio::spawn(work(sink, rx));
    }
    tokio::spawn(async move {
        loop {
            match notices.recv().await {
                Ok(notice) => {
                    for (name, tx, dropped) in &mut queues {
                        if tx.try_send(notice.clone()).is_err() {
                            *dropped += 1;
                            tracing::warn!(to = %name, request = %notice.request, dropped = *dropped, "notice queue full: notice dropped");
                        }
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(
                        dropped = n,
                        "notices came faster than they could be queued: some dropped"
                    );
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    });
    let node = node.clone();
    tokio::spawn(async move {
        let mut sent: HashSet<(String, What)> = HashSet::new();
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let local = match node.directory().local_member().await {
                Ok(Some(m)) => m.id.0,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "reminder scan: the registry failed");
                    continue;
                }
            };
            match due_notices(node.store(), &local, reminder).await {
                Ok(found) => {
                    for notice in found {
                        if sent.insert((notice.request.clone(), notice.what)) {
                            node.notices().send(notice);
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "reminder scan failed"),
            }
        }
    });
    tracing::info!(
        email = emails,
        webhooks = hooks,
        "notifications for the 24/7 channel on"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> NotificationsConfig {
        toml::from_str(text).unwrap()
    }

    fn dir_with_secrets() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("secret"), "s3cret\n").unwrap();
        std::fs::write(dir.path().join("password"), "pw").unwrap();
        dir
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_the_body() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn plain_http_webhooks_go_to_loopback_only() {
        let dir = dir_with_secrets();
        for url in [
            "http://hooks.example.org/x",
            "http://10.0.0.1/x",
            "ftp://127.0.0.1/",
        ] {
            let c = config(&format!(
                "[[webhooks]]\nurl = \"{url}\"\nsecret_file = \"secret\"\n"
            ));
            let e = c.settings(dir.path()).err().unwrap().to_string();
            assert!(e.contains("https://"), "{e}");
        }
        for url in [
            "http://127.0.0.1:9/x",
            "http://[::1]:9/x",
            "http://localhost/x",
            "https://hooks.example.org/x",
        ] {
            let c = config(&format!(
                "[[webhooks]]\nurl = \"{url}\"\nsecret_file = \"secret\"\n"
            ));
            let s = c.settings(dir.path()).unwrap();
            assert_eq!(s.webhooks[0].secret, b"s3cret");
        }
    }

    #[test]
    fn smtp_without_starttls_goes_to_loopback_only() {
        let dir = dir_with_secrets();
        let smtp = |host: &str, starttls: bool| {
            config(&format!(
                "email_to = [\"duty@example.org\"]\n[smtp]\nhost = \"{host}\"\nstarttls = {starttls}\n\
                 from = \"comity@example.org\"\nusername = \"u\"\npassword_file = \"password\"\n"
            ))
            .settings(dir.path())
        };
        let e = smtp("smtp.example.org", false).err().unwrap().to_string();
        assert!(
            e.contains("starttls = false is allowed only to a loopback"),
            "{e}"
        );
        let s = smtp("smtp.example.org", true).unwrap();
        let email = s.email.unwrap();
        assert_eq!((email.port, email.starttls), (587, true));
        let s = smtp("127.0.0.1", false).unwrap();
        assert_eq!(s.email.unwrap().port, 25);
    }

    #[test]
    fn incomplete_settings_are_refused_with_the_reason() {
        let dir = dir_with_secrets();
        let refused = |text: &str| config(text).settings(dir.path()).err().unwrap().to_string();
        assert!(refused("").contains("no e-mail recipient and no webhook"));
        assert!(refused("email_to = [\"a@example.org\"]").contains("needs a [notifications.smtp]"));
        assert!(refused(
            "email_to = [\"a@example.org\"]\n[smtp]\nhost = \"h\"\nfrom = \"c@example.org\"\nusername = \"u\"\n"
        )
        .contains("go together"));
        assert!(refused(
            "email_to = [\"not an address\"]\n[smtp]\nhost = \"h\"\nfrom = \"c@example.org\"\n"
        )
        .contains("not an e-mail address"));
        assert!(
            refused("[[webhooks]]\nurl = \"https://h/\"\nsecret_file = \"missing\"\n")
                .contains("cannot read the webhook secret")
        );
        assert!(toml::from_str::<NotificationsConfig>(
            "[smtp]\nhost = \"h\"\nfrom = \"f\"\npassword = \"inline\"\n"
        )
        .is_err());
    }
}
