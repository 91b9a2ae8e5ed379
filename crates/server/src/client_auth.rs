//! Mutual TLS for the federation routes.
//!
//! When the server asks for client certificates (`[tls] client_ca_files`, see
//! [`crate::tls::CertStore::server_config_with_client_cas`]), a certificate that reaches a
//! handler has been verified by the handshake against those CAs; the connection layer hands
//! it to every request of the connection as a [`ClientCertificate`] extension. With
//! [`AppState::federation_requires_client_cert`] set, [`require_for_federation`] lets a
//! request through to `/federation/...` only with that extension: a connection without a
//! client certificate (or a plain HTTP one) gets a 403 saying what is missing, before its
//! body is read. Every other route ignores the extension. Once the request says which member
//! sends it (the inbox's request signature, the outbox's signed pull), [`bound_to_member`]
//! requires the certificate to be valid for the host of that member's endpoint, so that
//! one member's certificate does not carry another member's envelopes.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use comity_node::registry::Directory;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::server::ParsedCertificate;

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

/// With mutual TLS required, whether `client` (the request's verified certificate) is valid
/// for the host of the endpoint of `member`, the member the request is signed by: a 403
/// saying why not. Without mutual TLS, nothing to check.
pub async fn bound_to_member(
    state: &AppState,
    client: Option<&ClientCertificate>,
    member: &str,
) -> Result<(), ApiError> {
    if !state.federation_requires_client_cert {
        return Ok(());
    }
    let ClientCertificate(cert) =
        client.ok_or_else(|| ApiError::forbidden(CLIENT_CERT_REQUIRED))?;
    let record = Directory::new(state.node.store())
        .member(member)
        .await
        .map_err(crate::auth::registry_error)?
        .ok_or_else(|| ApiError::forbidden(format!("{member} is not a member of this node")))?
        .record;
    let host = record
        .endpoint
        .as_deref()
        .and_then(|e| reqwest::Url::parse(e).ok())
        .and_then(|u| u.host_str().map(|h| h.trim_matches(['[', ']']).to_owned()))
        .ok_or_else(|| {
            ApiError::forbidden(format!(
                "member {member} has no endpoint whose host its client certificate could be for"
            ))
        })?;
    let name = ServerName::try_from(host.as_str()).map_err(|_| {
        ApiError::forbidden(format!(
            "the endpoint host {host} of member {member} is not a name"
        ))
    })?;
    ParsedCertificate::try_from(cert.as_ref())
        .and_then(|parsed| rustls::client::verify_server_name(&parsed, &name))
        .map_err(|e| {
            ApiError::forbidden(format!(
                "the TLS client certificate is not valid for {host}, the host of member \
                 {member}'s endpoint: {e}"
            ))
        })
}
