//! The one error type of every HTTP route, rendered as a TAXII 2.1 error message
//! (`title`, `description`, `http_status`) with the media type the spec names.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use comity_store::StoreError;
use serde_json::json;

use crate::media::TAXII_MEDIA_TYPE;

/// An error answered to a client; its text never contains secrets.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    title: &'static str,
    description: String,
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, title: &'static str, description: impl Into<String>) -> Self {
        ApiError {
            status,
            title,
            description: description.into(),
            retry_after: None,
        }
    }
    /// 400: the request is malformed.
    pub fn bad_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Bad request", description)
    }
    /// 401: no or wrong credentials.
    pub fn unauthorized(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "Authentication required",
            description,
        )
    }
    /// 403: authenticated but not allowed.
    pub fn forbidden(description: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Forbidden", description)
    }
    /// 404: no such resource (or not visible to the caller).
    pub fn not_found(description: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not found", description)
    }
    /// 406: the Accept header names nothing this server produces.
    pub fn not_acceptable(description: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_ACCEPTABLE, "Not acceptable", description)
    }
    /// 413: the body is larger than the API root's `max_content_length`.
    pub fn too_large(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request too large",
            description,
        )
    }
    /// 415: the Content-Type is not the TAXII media type.
    pub fn unsupported_media_type(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
            description,
        )
    }
    /// 422: well-formed but unprocessable content.
    pub fn unprocessable(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Unprocessable content",
            description,
        )
    }
    /// 429: too many failed attempts; retry after the given seconds.
    pub fn too_many_attempts(retry_after: u64) -> Self {
        ApiError {
            retry_after: Some(retry_after),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many failed attempts",
                format!("too many failed logins for this user; retry in {retry_after} s"),
            )
        }
    }
    /// 429: the caller has its share of a limited resource in use; retry after the given
    /// seconds.
    pub fn too_many_requests(description: impl Into<String>, retry_after: u64) -> Self {
        ApiError {
            retry_after: Some(retry_after),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many requests",
                description,
            )
        }
    }
    /// The same error, telling the client to retry after the given seconds.
    pub fn with_retry_after(self, retry_after: u64) -> Self {
        ApiError {
            retry_after: Some(retry_after),
            ..self
        }
    }
    /// 503: storage is unavailable.
    pub fn unavailable(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service unavailable",
            description,
        )
    }
    /// 500: an internal failure; the details go to the log, not to the client.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal error",
            "the server failed to process the request; the event is logged",
        )
    }
    /// 409: the request conflicts with the current state; retrying later may succeed.
    pub fn conflict(description: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "Conflict", description)
    }
    /// 500: stored data failed an integrity check (a signature that does not verify); the
    /// description names what and why, so that an admin can act.
    pub fn integrity(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Integrity failure",
            description,
        )
    }
    /// 502: a source the node read for the caller failed; the description says how.
    pub fn bad_gateway(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_GATEWAY, "Bad gateway", description)
    }
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// What went wrong, as the client is told.
    pub fn description(&self) -> &str {
        &self.description
    }
}

/// A query string of the wrong shape: 400 with what the parser said.
impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(e: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::bad_request(format!("invalid query: {}", e.body_text()))
    }
}

/// A value that cannot be looked up is the caller's mistake (400); a store failure is not.
impl From<comity_node::correlation::who_else::CorrelationError> for ApiError {
    fn from(e: comity_node::correlation::who_else::CorrelationError) -> Self {
        use comity_node::correlation::who_else::CorrelationError;
        match e {
            CorrelationError::NotAValue(_) => ApiError::bad_request(e.to_string()),
            CorrelationError::Store(e) => e.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::not_found(format!("{what} not found")),
            StoreError::Conflict(what) => ApiError::new(
                StatusCode::CONFLICT,
                "Conflict",
                format!("{what} already exists"),
            ),
            StoreError::Unavailable(_) => {
                tracing::warn!(error = %e, "storage unavailable");
                ApiError::unavailable("storage is unavailable; retry shortly")
            }
            other => {
                tracing::error!(error = %other, "storage failure");
                ApiError::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "title": self.title,
            "description": self.description,
            "http_status": self.status.as_str(),
        });
        let mut response = (self.status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(TAXII_MEDIA_TYPE),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"comity\", charset=\"UTF-8\""),
            );
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<comity_node::governance::GovernanceError> for ApiError {
    fn from(e: comity_node::governance::GovernanceError) -> Self {
        use comity_node::governance::GovernanceError;
        match e {
            GovernanceError::Invalid(_)
            | GovernanceError::Proposal(_)
            | GovernanceError::Ballot(_) => ApiError::bad_request(e.to_string()),
            GovernanceError::Tabling(_) => ApiError::unprocessable(e.to_string()),
            GovernanceError::NoIdentity => ApiError::conflict(e.to_string()),
            GovernanceError::NotFound(_) => ApiError::not_found(e.to_string()),
            GovernanceError::Store(e) => e.into(),
            GovernanceError::Registry(e) => crate::auth::registry_error(e),
            GovernanceError::Log(e) => {
                tracing::error!(error = %e, "log failure");
                ApiError::internal()
            }
        }
    }
}

impl From<comity_node::requests::RequestError> for ApiError {
    fn from(e: comity_node::requests::RequestError) -> Self {
        use comity_node::requests::RequestError;
        match e {
            RequestError::Invalid(_) | RequestError::Event(_) => {
                ApiError::bad_request(e.to_string())
            }
            RequestError::Missing(_) => ApiError::unprocessable(e.to_string()),
            RequestError::Machine(_) | RequestError::Busy(_) | RequestError::NoIdentity => {
                ApiError::conflict(e.to_string())
            }
            RequestError::NotFound(_) => ApiError::not_found(e.to_string()),
            RequestError::Store(e) => e.into(),
            RequestError::Registry(e) => crate::auth::registry_error(e),
            RequestError::Log(e) => {
                tracing::error!(error = %e, "log failure");
                ApiError::internal()
            }
            RequestError::Pdf(pdf) => {
                use comity_node::requests::court_pdf::PdfError;
                match pdf {
                    PdfError::FontMissing { .. } | PdfError::FontUnreadable(_) => {
                        ApiError::unavailable(pdf.to_string())
                    }
                    PdfError::NoGlyph(_) | PdfError::Event { .. } => {
                        ApiError::unprocessable(pdf.to_string())
                    }
                    PdfError::Writer(_) => {
                        tracing::error!(error = %pdf, "court file printing failure");
                        ApiError::internal()
                    }
                }
            }
            RequestError::Attachment(e) => {
                use comity_node::requests::attachments::AttachmentError;
                match e {
                    AttachmentError::Invalid(_) => ApiError::bad_request(e.to_string()),
                    AttachmentError::TooLarge(_) => ApiError::too_large(e.to_string()),
                    AttachmentError::Offset { .. } => ApiError::conflict(e.to_string()),
                    AttachmentError::HashMismatch { .. } => ApiError::unprocessable(e.to_string()),
                    AttachmentError::Absent(_) => ApiError::not_found(e.to_string()),
                    AttachmentError::Integrity { .. } => {
                        tracing::error!(error = %e, "attachment integrity failure");
                        ApiError::integrity(e.to_string())
                    }
                    AttachmentError::Io(e) => {
                        tracing::error!(error = %e, "attachment storage failure");
                        ApiError::internal()
                    }
                    AttachmentError::Store(e) => e.into(),
                }
            }
        }
    }
}
