//! `comity copy`: moves a node's store (an embedded SQLite data directory or another
//! PostgreSQL database) into a PostgreSQL database, keeping every object version byte for
//! byte with its original `date_added`, the API roots, collections, users, grants and the
//! pagination secret, the registry of members and agreements, the API tokens, every
//! peer's outbox and the inbox journal, the cooperation requests with their signed
//! events, governance (proposals, ballots, outcomes, rules and norms), feed subscriptions
//! with their state and values, and the transparency log (entries, whose stored hashes the target recomputes,
//! the latest checkpoint, trusted peer logs and what this node witnessed for them, the
//! cosignatures peers gave it and the witnessing alerts). Statuses are not copied (they
//! expire after 48 hours anyway), nor the one-time ids of signed requests (they expire
//! within minutes). Attachment files stay in the data directory, which the node keeps.
//!
//! Resumable: each batch is stored in the same transaction as the source position it
//! reached, so a copy that is killed continues where it stopped. Verifiable: at the end
//! both sides are read back through the same store trait and their counts and SHA-256
//! digests per collection and of the log ([`NodeDigest`]) are printed and compared.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use comity_store::prelude::*;
use comity_store::{
    CollectionRef, Cursor, GovernanceRecords, NewObject, PageRequest, RegistryKind, StoreError,
    StoredObject,
};
use comity_store_postgres::PgStore;
use indicatif::{ProgressBar, ProgressStyle};

use crate::cmd::digest::{every_request, every_version, paged, NodeDigest, LOG_BATCH, ROW_BATCH};
use crate::config::StoreLocation;

/// Secrets that make a node's answers reproducible (pagination tokens), copied as they are.
const NODE_SECRETS: &[&str] = &["paging"];

/// Arguments of `comity copy`.
#[derive(clap::Args)]
pub struct CopyArgs {
    /// The node to copy: its data directory (embedded SQLite) or a postgres:// URL.
    #[arg(long)]
    from: String,
    /// The PostgreSQL database to copy into (postgres://user:password@host/db).
    #[arg(long)]
    to: String,
    /// Object versions per transaction.
    #[arg(long, default_value_t = 2000)]
    batch: usize,
}

/// The version as the target stores it: indexed columns re-derived from the stored JSON.
fn restorable(o: StoredObject) -> anyhow::Result<(NewObject, i64)> {
    #[derive(serde::Deserialize)]
    struct Head {
        #[serde(rename = "type")]
        object_type: String,
    }
    let head: Head = serde_json::from_str(&o.json)
        .with_context(|| format!("stored object {} has no readable type", o.id))?;
    let version_key = if o.version.is_empty() {
        String::new()
    } else {
        comity_node::intake::version_key(&o.version).with_context(|| {
            format!(
                "stored object {} has an unreadable version {:?}",
                o.id, o.version
            )
        })?
    };
    Ok((
        NewObject {
            id: o.id,
            object_type: head.object_type,
            version: o.version,
            version_key,
            spec_version: o.spec_version,
            values: comity_node::correlation::values::extract_text(&o.json),
            json: o.json,
        },
        o.date_added,
    ))
}

fn ignore_conflict(r: Result<(), StoreError>) -> Result<(), StoreError> {
    match r {
        Err(StoreError::Conflict(_)) => Ok(()),
        other => other,
    }
}

/// API roots, collections, users (with their password hashes), grants and node secrets.
async fn copy_node_records(
    source: &dyn Store,
    target: &PgStore,
) -> anyhow::Result<Vec<CollectionRef>> {
    let mut collections = Vec::new();
    for root in source.api_roots().await? {
        ignore_conflict(target.create_api_root(root.clone()).await)?;
        for col in source.collections(&root.name).await? {
            ignore_conflict(target.create_collection(col.clone()).await)?;
            collections.push(col.key());
        }
    }
    for user in source.users().await? {
        let name = user.name.clone();
        let hash = user.password_hash.clone();
        match target.create_user(user).await {
            Err(StoreError::Conflict(_)) => target.set_password_hash(&name, &hash).await?,
            other => other?,
        }
        for col in &collections {
            let access = source.access(col, &name).await?;
            if access.read || access.write {
                target.grant(col, &name, access).await?;
            }
        }
    }
    for kind in RegistryKind::ALL {
        for entry in source.registry(kind).await? {
            match target.add_registry_entry(&entry).await {
                Err(StoreError::Conflict(_)) => target.update_registry_entry(&entry).await?,
                other => other?,
            }
        }
    }
    for token in source.tokens().await? {
        ignore_conflict(target.create_token(&token).await)?;
    }
    for name in NODE_SECRETS {
        let secret = source.node_secret(name, rand::random()).await?;
        if target.node_secret(name, secret).await? != secret {
            eprintln!("warning: the target already had its own {name:?} secret; kept it");
        }
    }
    Ok(collections)
}

/// Copies one collection's versions from where an earlier run stopped.
async fn copy_collection(
    source: &dyn Store,
    target: &PgStore,
    col: &CollectionRef,
    batch: usize,
    bar: &ProgressBar,
) -> anyhow::Result<()> {
    let mut after = target.copy_position(col).await?;
    if after.is_none() && target.count_objects(col).await? > 0 {
        anyhow::bail!(
            "collection {} already holds objects in the target that no copy put there; \
             copy into an empty database",
            col.id
        );
    }
    loop {
        let page = source
            .objects(
                col,
                &every_version(),
                &PageRequest {
                    limit: batch,
                    after,
                },
            )
            .await?;
        let Some(last) = page.items.last() else {
            break;
        };
        // date_added is unique store-wide, so this position follows exactly `last`.
        let reached = page.next.unwrap_or(Cursor {
            date_added: last.date_added,
            row: i64::MAX,
        });
        let n = page.items.len() as u64;
        let versions = page
            .items
            .into_iter()
            .map(restorable)
            .collect::<anyhow::Result<Vec<_>>>()?;
        target.restore_versions(col, &versions, reached).await?;
        bar.inc(n);
        if page.next.is_none() {
            break;
        }
        after = Some(reached);
    }
    Ok(())
}

/// Copies every peer's outbox (delivered entries too: a peer catching up pulls them, and
/// the numbering continues after them) and the inbox journal (so envelopes received
/// before the copy are still recognised as received). Entries stored already are skipped.
async fn copy_federation(source: &dyn Store, target: &PgStore) -> anyhow::Result<()> {
    for stats in source.outbox_stats().await? {
        paged(
            async |after| Ok(source.outbox_after(&stats.peer, after, ROW_BATCH).await?),
            |e| e.seq,
            async |page| {
                target
                    .restore_outbox(&stats.peer, stats.last_seq, &page)
                    .await?;
                Ok(())
            },
        )
        .await?;
    }
    for sender in source.inbox_senders().await? {
        paged(
            async |after| Ok(source.inbox_after(&sender, after, ROW_BATCH).await?),
            |r| r.seq,
            async |page| {
                for record in &page {
                    target.inbox_put(record).await?;
                }
                Ok(())
            },
        )
        .await?;
    }
    Ok(())
}

/// Copies governance (proposals, ballots, outcomes, every version of the rules and of the
/// norms) and feed subscriptions with their state and values; what is stored already is
/// left alone.
async fn copy_governance_and_feeds(source: &dyn Store, target: &PgStore) -> anyhow::Result<()> {
    let records = GovernanceRecords::read(source).await?;
    if !records.is_empty() {
        target.restore_governance(&records).await?;
    }
    for feed in source.feeds().await? {
        ignore_conflict(target.add_feed(&feed.record, &feed.state).await)?;
        let values = source.feed_values(&feed.record.name).await?;
        target
            .replace_feed_values(&feed.record.name, &values, &feed.state)
            .await?;
    }
    Ok(())
}

/// Copies every cooperation request with its signed events; those stored already are left
/// alone. Returns how many the source holds.
async fn copy_requests(source: &dyn Store, target: &PgStore) -> anyhow::Result<usize> {
    let headers = every_request(source).await?;
    for header in &headers {
        let events = source.request_events(&header.id).await?;
        target.restore_request(header, &events).await?;
    }
    Ok(headers.len())
}

/// Copies the transparency log from where an earlier run stopped (the target's size),
/// then its latest checkpoint and witness state; returns the number of entries.
async fn copy_log(source: &dyn Store, target: &PgStore) -> anyhow::Result<u64> {
    let (from, to) = (source.transparency_log(), target.transparency_log());
    let size = from.log_size().await?;
    let mut done = to.log_size().await?;
    while done < size {
        let end = (done + LOG_BATCH).min(size);
        to.append_entries(from.log_entries(done, end).await?)
            .await?;
        done = end;
    }
    // The openings of sealed entries, over the whole log: a run cut off between an append
    // and its openings leaves some behind, and keeping one again changes nothing.
    let mut start = 0;
    while start < size {
        let end = (start + LOG_BATCH).min(size);
        to.keep_openings(from.openings_between(start, end).await?)
            .await?;
        start = end;
    }
    if let Some(checkpoint) = from.latest_checkpoint().await? {
        to.put_checkpoint(checkpoint).await?;
    }
    for log in from.trusted_logs().await? {
        if let Some(seen) = from.witnessed(&log.origin).await? {
            let current = to.witnessed(&log.origin).await?;
            to.witness_swap(&log.origin, current.map(|c| c.head), seen)
                .await?;
        }
        to.trust_log(log).await?;
    }
    // What witnessing collected: the largest cosigned checkpoint's cosignatures, each peer's
    // latest (the size its next consistency proof starts from), and the alerts (kept once
    // per evidence, so a second run adds nothing).
    let mut cosignatures = from.cosignatures(None).await?;
    for member in comity_node::registry::Directory::new(source)
        .members()
        .await?
    {
        cosignatures.extend(from.latest_cosignature(&member.id.0).await?);
    }
    for cosignature in cosignatures {
        to.put_cosignature(cosignature).await?;
    }
    for alert in from.witness_alerts().await? {
        to.put_witness_alert(alert).await?;
    }
    Ok(size)
}

/// Runs `comity copy`.
pub async fn run(args: CopyArgs) -> anyhow::Result<ExitCode> {
    let from = StoreLocation::parse(&args.from);
    let StoreLocation::Postgres(to_url) = StoreLocation::parse(&args.to) else {
        anyhow::bail!("--to must be a postgres:// URL");
    };
    let to = StoreLocation::Postgres(to_url.clone());
    if from == to {
        anyhow::bail!("--from and --to name the same database");
    }
    if !from.holds_node().await? {
        anyhow::bail!("{from} holds no Comity node to copy");
    }
    let source: Arc<dyn Store> = from.open().await?;
    let target = PgStore::open(&to_url)
        .await
        .with_context(|| format!("cannot open the target {to}"))?;
    let collections = copy_node_records(source.as_ref(), &target).await?;
    let mut total = 0;
    for col in &collections {
        total += source.count_objects(col).await?;
    }
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template(
            "{spinner} copying {pos}/{len} object versions [{bar:40}] {per_sec}, eta {eta}",
        )?
        .progress_chars("=> "),
    );
    for col in &collections {
        // A resumed copy: what the target holds of this collection came from earlier runs.
        bar.inc(target.count_objects(col).await?);
        copy_collection(source.as_ref(), &target, col, args.batch.max(1), &bar)
            .await
            .with_context(|| format!("copying collection {}", col.id))?;
    }
    bar.finish_and_clear();
    copy_federation(source.as_ref(), &target)
        .await
        .context("copying the federation's outbox and inbox journal")?;
    copy_requests(source.as_ref(), &target)
        .await
        .context("copying the cooperation requests")?;
    copy_governance_and_feeds(source.as_ref(), &target)
        .await
        .context("copying governance and feed subscriptions")?;
    copy_log(source.as_ref(), &target)
        .await
        .context("copying the transparency log")?;
    eprintln!("Copied {from} into {to}. Verifying both sides:");
    let all_equal = NodeDigest::compare(
        &NodeDigest::of(source.as_ref()).await?,
        &NodeDigest::of(&target).await?,
    );
    target.close().await;
    if all_equal {
        eprintln!("Every collection is identical on both sides.");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("error: the copy differs from its source (see above)");
        Ok(ExitCode::from(1))
    }
}
