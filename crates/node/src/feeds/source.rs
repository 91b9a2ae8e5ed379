//! Where feeds are read from: the [`Fetch`] trait the node reads sources through (the
//! server implements it over HTTPS), the credentials sent to a source, and the rules a
//! source URL must meet. This module never performs I/O itself.

use std::net::IpAddr;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::FeedError;

/// A credential sent to a source: stored with the feed, never listed or logged.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "scheme", rename_all = "lowercase", deny_unknown_fields)]
pub enum Credential {
    /// HTTP Basic.
    Basic {
        /// The user name.
        user: String,
        /// The password.
        password: String,
    },
    /// An `Authorization: Bearer` token.
    Bearer {
        /// The token.
        token: String,
    },
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Basic { user, .. } => write!(f, "Basic({user}, <redacted>)"),
            Credential::Bearer { .. } => f.write_str("Bearer(<redacted>)"),
        }
    }
}

/// One GET to a source.
#[derive(Debug)]
pub struct FetchRequest<'a> {
    /// The URL, with its query.
    pub url: &'a str,
    /// The `Accept` header.
    pub accept: &'a str,
    /// The `Range` header, if any (TAXII 2.0 pages with `items` ranges).
    pub range: Option<&'a str>,
    /// The credential to send, if any.
    pub credential: Option<&'a Credential>,
}

/// A source's answer, read to the end.
#[derive(Debug, Clone, Default)]
pub struct Fetched {
    /// The HTTP status.
    pub status: u16,
    /// The headers the feeds read, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Fetched {
    /// The first header of this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body, or why the answer is not a success.
    pub fn success(self, url: &str) -> Result<Vec<u8>, String> {
        if (200..300).contains(&self.status) {
            return Ok(self.body);
        }
        let excerpt = excerpt(&String::from_utf8_lossy(&self.body), 200);
        Err(format!("{url} answered {}: {excerpt}", self.status))
    }
}

/// At most `max` characters of `text` a source sent, without control characters: what of it
/// may go into an error or a run's report.
pub fn excerpt(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(max).collect()
}

/// How the node reads a source: implemented over HTTPS by the server, and by tests.
#[async_trait]
pub trait Fetch: Send + Sync {
    /// GETs `request.url`; `Err` when no answer came (the reason, with no credential in it).
    async fn get(&self, request: FetchRequest<'_>) -> Result<Fetched, String>;
}

/// Checks a source URL: `https`, or `http` to a loopback address or when `allow_http`;
/// no credentials in the URL itself.
pub fn check_url(text: &str, allow_http: bool) -> Result<url::Url, FeedError> {
    let url = url::Url::parse(text)
        .map_err(|e| FeedError::Invalid(format!("url: {text:?} is not a URL: {e}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FeedError::Invalid(
            "url: put credentials in the feed's credential, not in its URL".into(),
        ));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if allow_http || is_loopback(&url) => Ok(url),
        "http" => Err(FeedError::Invalid(format!(
            "url: {text:?} is plain http off loopback; use https, or allow http explicitly"
        ))),
        other => Err(FeedError::Invalid(format!(
            "url: scheme {other:?} is not supported (https or http)"
        ))),
    }
}

pub(super) fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_https_or_loopback_http_unless_allowed() {
        assert!(check_url("https://feeds.example/list.txt", false).is_ok());
        for loopback in [
            "http://127.0.0.1:8080/x",
            "http://localhost/x",
            "http://[::1]/x",
        ] {
            assert!(check_url(loopback, false).is_ok(), "{loopback}");
        }
        let off = check_url("http://feeds.example/x", false).unwrap_err();
        assert!(off.to_string().contains("plain http off loopback"), "{off}");
        assert!(check_url("http://feeds.example/x", true).is_ok());
        for bad in [
            "ftp://feeds.example/x",
            "file:///etc/passwd",
            "not a url",
            "",
            "https://user:pw@feeds.example/",
        ] {
            assert!(
                matches!(check_url(bad, true), Err(FeedError::Invalid(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn credentials_never_show_in_debug_output() {
        let basic = Credential::Basic {
            user: "ana".into(),
            password: "s3cret".into(),
        };
        let bearer = Credential::Bearer {
            token: "t0ken".into(),
        };
        assert!(!format!("{basic:?}{bearer:?}").contains("s3cret"));
        assert!(!format!("{bearer:?}").contains("t0ken"));
    }
}
