//! TAXII 2.1 content negotiation: what `Accept` must allow (else 406) and what
//! `Content-Type` a POST must carry (else 415).

use axum::extract::Request;
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// The media type of every TAXII 2.1 response.
pub const TAXII_MEDIA_TYPE: &str = "application/taxii+json;version=2.1";

/// Splits a media type into its essence and its `version` parameter, lower-cased.
fn parse(media: &str) -> (String, Option<String>) {
    let mut parts = media.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let version = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("version")).then(|| v.trim().trim_matches('"').to_owned())
    });
    (essence, version)
}

/// Whether one media range of an Accept header admits the TAXII 2.1 type.
fn admits_taxii(range: &str) -> bool {
    let (essence, version) = parse(range);
    match essence.as_str() {
        "*/*" | "application/*" => true,
        "application/taxii+json" => version.is_none_or(|v| v == "2.1"),
        _ => false,
    }
}

/// Middleware: refuses with 406 a request whose Accept header excludes TAXII 2.1.
pub async fn negotiate(request: Request, next: Next) -> Response {
    if let Some(accept) = request.headers().get(header::ACCEPT) {
        let ok = accept
            .to_str()
            .map(|a| a.split(',').any(admits_taxii))
            .unwrap_or(false);
        if !ok {
            return ApiError::not_acceptable(format!(
                "this server answers with {TAXII_MEDIA_TYPE}; the Accept header does not allow it"
            ))
            .into_response();
        }
    }
    next.run(request).await
}

/// Checks that a POST body is declared as TAXII 2.1 content.
pub fn require_taxii_content(headers: &HeaderMap) -> Result<(), ApiError> {
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    match declared.map(parse) {
        Some((essence, version))
            if essence == "application/taxii+json"
                && version.as_deref().is_none_or(|v| v == "2.1") =>
        {
            Ok(())
        }
        _ => Err(ApiError::unsupported_media_type(format!(
            "a POST must be sent as {TAXII_MEDIA_TYPE}, got {}",
            declared.unwrap_or("no Content-Type")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_ranges() {
        for ok in [
            "application/taxii+json;version=2.1",
            "application/taxii+json; version=\"2.1\"",
            "application/taxii+json",
            "*/*",
            "application/*",
            "text/html, application/taxii+json;version=2.1",
        ] {
            assert!(ok.split(',').any(admits_taxii), "{ok}");
        }
        for bad in [
            "application/taxii+json;version=2.0",
            "text/html",
            "application/json",
            "application/stix+json;version=2.1",
        ] {
            assert!(!bad.split(',').any(admits_taxii), "{bad}");
        }
    }
}
