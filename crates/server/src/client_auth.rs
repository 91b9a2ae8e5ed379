//! Mutual TLS for the federation routes.
//!
//! When the server asks for client certificates (`[tls] client_ca_files`, see
//! [`crate::tls::CertStore::server_config_with_client_cas`]), a certificate that reaches a
//! handler has been verified by the handshake against those CAs; the connection layer hands
//! it to every request of the connection as a [`ClientCertificate`] extension. With
//! [`AppState::federation_requires_client_cert`] set, [`require_for_federation`] lets a
//! request through to `/federation/...` only with that extension: a connection without a
//! client certificate (or a plain HTTP one) gets a 403 saying what is missing, before its
//! body is read. Every other route ignores the extension.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;

use crate::error::ApiError;
use crate::AppState;

/// The end-entity certificate a client presented and the TLS handshake verified, as a
/// request extension.
#[derive(Debug, Clone)]
pub struct ClientCertificate(pub Arc<CertificateDer<'static>>);

/// What a federation request without a verified client certificate is told.
pub const CLIENT_CERT_REQUIRED: &str = "this node's federation routes require a TLS client \
     certificate signed by a CA it trusts for peers ([tls] client_ca_files); the connection \
     presented none";

/// Middleware of the federation routes: fails closed with 403 when the node requires a
/// client certificate for them and the request's connection has no verified one.
pub async fn require_for_federation(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if state.federation_requires_client_cert
        && request.extensions().get::<ClientCertificate>().is_none()
    {
        return Err(ApiError::forbidden(CLIENT_CERT_REQUIRED));
    }
    Ok(next.run(request).await)
}
