//! `comity governance audit`: asks peers for their signed dossiers of proposals over the
//! federation route (a `GET` signed by this node's key, as inbox requests are, over TLS
//! with the node's peer CAs and client certificate), and audits each here
//! ([`comity_node::governance::audit`]).

use std::process::ExitCode;

use anyhow::Context;
use comity_node::federation::request_signature;
use comity_node::federation::transport::{dossier_path, PeerTransport};
use comity_node::governance::audit::{self, Audit, Held};
use comity_node::governance::service;
use comity_node::policy::MemberStatus;
use comity_node::Node;
use comity_server::federation::HttpTransport;
use comity_stix::clock::now_us;
use serde_json::json;

use crate::config::{DataDir, FileConfig, TlsArgs};

/// Audits proposal `id` (every one held here when `None`) at `peers` (every other active
/// member with an endpoint when empty); exits 1 when any disagrees or cannot be audited.
pub async fn run(
    id: Option<String>,
    peers: Vec<String>,
    json: bool,
    data: &DataDir,
) -> anyhow::Result<ExitCode> {
    let node = data.open_node()?;
    let store = node.store();
    let now = now_us();
    service::count_due(store, now).await?;
    let ids = match id {
        Some(id) => vec![id],
        None => service::list(store, now, service::MAX_LIST)
            .await?
            .into_iter()
            .map(|p| p.proposal.id)
            .collect(),
    };
    let peers = match peers.is_empty() {
        false => peers,
        true => node
            .directory()
            .members()
            .await?
            .into_iter()
            .filter(|m| !m.record.local && m.status == MemberStatus::Active)
            .filter(|m| m.record.endpoint.is_some())
            .map(|m| m.id.0)
            .collect(),
    };
    if peers.is_empty() {
        anyhow::bail!("no peer to audit: name one with --peer MEMBER");
    }
    let transport = HttpTransport::with_client(federation_client(data)?);
    let mut all_agree = true;
    let mut reports = Vec::new();
    for id in &ids {
        for peer in &peers {
            match audit_one(&node, &transport, peer, id).await {
                Ok(a) => {
                    all_agree &= a.agree;
                    if json {
                        reports.push(serde_json::to_value(&a)?);
                    } else {
                        print_audit(&a);
                    }
                }
                Err(e) => {
                    all_agree = false;
                    let error = format!("{e:#}");
                    if json {
                        reports.push(json!({"proposal": id, "peer": peer, "error": error}));
                    } else {
                        println!("{id}\t{peer}\tnot audited\t{error}");
                    }
                }
            }
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    }
    Ok(if all_agree {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The client this node reaches its peers' federation routes with: its peer CAs, its
/// client certificate, a minute per request.
pub(super) fn federation_client(data: &DataDir) -> anyhow::Result<reqwest::Client> {
    let file = FileConfig::load(&data.data_dir)?;
    let tls = TlsArgs::default().settings(file.tls.as_ref(), &data.data_dir)?;
    Ok(comity_server::tls::client(
        &tls.peer_roots()?,
        tls.client_identity()?.map(|s| s.current()).as_deref(),
        std::time::Duration::from_secs(60),
    )?)
}

/// Asks `peer` for its dossier of proposal `id` (a `GET` signed as the catch-up's, through
/// the same transport, the answer bounded) and audits it.
async fn audit_one(
    node: &Node,
    transport: &HttpTransport,
    peer: &str,
    id: &str,
) -> anyhow::Result<Audit> {
    let store = node.store();
    let member = node
        .directory()
        .member(peer)
        .await?
        .with_context(|| format!("{peer} is not a member known here"))?;
    let endpoint = member
        .record
        .delivery_endpoint()
        .with_context(|| format!("{peer} has no endpoint this node may reach"))?;
    let local = node
        .directory()
        .local_member()
        .await?
        .context("this node has no member record; run `comity init`")?;
    let path = dossier_path(id);
    let signature = request_signature::sign(
        node.log().node_key(),
        &local.id.0,
        "GET",
        &path,
        b"",
        now_us() / 1_000_000,
    );
    let url = format!("{}{path}", endpoint.trim_end_matches('/'));
    let answer = transport
        .get_signed(&endpoint, &path, signature, audit::MAX_DOSSIER_BYTES)
        .await
        .with_context(|| format!("GET {url}"))?;
    let success = answer.is_success();
    let body = String::from_utf8(answer.body)
        .with_context(|| format!("GET {url}: the answer is not UTF-8"))?;
    if !success {
        let said = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["description"].as_str().map(str::to_owned))
            .unwrap_or_default();
        anyhow::bail!("GET {url} answered {}: {said}", answer.status_text);
    }
    Ok(audit::audit(store, peer, id, &body).await?)
}

fn held(h: &Held) -> String {
    match (&h.member, h.choice, h.sequence) {
        (Some(m), Some(c), Some(s)) => format!("{} ({m}: {c}, sequence {s})", h.sha256),
        _ => format!("{} (unreadable)", h.sha256),
    }
}

fn print_audit(a: &Audit) {
    let verdict = if a.agree { "agree" } else { "disagree" };
    println!("{}\t{}\t{verdict}\t{}", a.proposal, a.peer, a.there.derived);
    if a.agree {
        return;
    }
    for (side, s) in [("here", &a.here), ("there", &a.there)] {
        let claimed = s
            .claimed
            .as_ref()
            .map_or("not counted".to_owned(), |c| c.to_string());
        println!(
            "  {side}: {} ballots; derived {}; claimed {claimed}",
            s.ballots, s.derived
        );
    }
    for finding in &a.findings {
        println!("  - {finding}");
    }
    for h in &a.only_there {
        println!("  only at {}: {}", a.peer, held(h));
    }
    for h in &a.only_here {
        println!("  only here: {}", held(h));
    }
}
