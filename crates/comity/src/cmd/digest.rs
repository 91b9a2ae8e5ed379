//! What a node holds, as counts and SHA-256 digests: two stores hold the same node when
//! their digests are equal. `comity copy` compares its source and target with it, `comity
//! backup` writes the snapshot's into the backup, and `comity restore` checks the restored
//! store against that.

use comity_store::{
    CollectionRef, Feed, GovernanceRecords, ObjectFilter, PageRequest, RegistryKind, RequestFilter,
    Store, TransparencyLog, VersionFilter,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Log entries read (and appended, by `comity copy`) per query.
pub const LOG_BATCH: u64 = 5000;

/// Rows read per query from the outbox, the inbox journal and the requests.
pub const ROW_BATCH: usize = 1000;

/// The parts that are not collections, in the order they follow them.
const NODE_PARTS: [&str; 8] = [
    "registry",
    "api-tokens",
    "outbox",
    "inbox",
    "requests",
    "governance",
    "feeds",
    "transparency-log",
];

/// One part of a node (a collection, the transparency log): how many items, and the
/// SHA-256 over all of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartDigest {
    /// `api-root/collection`, or `transparency-log`.
    pub part: String,
    /// Object versions, or log entries.
    pub count: u64,
    /// Hex SHA-256.
    pub sha256: String,
}

/// Every collection's digest and the log's, in a fixed order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeDigest {
    /// The parts, collections first (by API root and collection id), then the log.
    pub parts: Vec<PartDigest>,
}

impl NodeDigest {
    /// Reads every collection and the log of `store`.
    pub async fn of(store: &dyn Store) -> anyhow::Result<NodeDigest> {
        let mut parts = Vec::new();
        for root in store.api_roots().await? {
            for col in store.collections(&root.name).await? {
                let key = col.key();
                let (count, sha256) = collection_digest(store, &key).await?;
                parts.push(PartDigest {
                    part: format!("{}/{}", key.api_root, key.id),
                    count,
                    sha256,
                });
            }
        }
        parts.sort_by(|a, b| a.part.cmp(&b.part));
        let [registry, tokens, outbox, inbox, requests, governance, feeds, log] = NODE_PARTS;
        parts.push(registry_digest(store).await?.part(registry));
        parts.push(tokens_digest(store).await?.part(tokens));
        parts.push(outbox_digest(store).await?.part(outbox));
        parts.push(inbox_digest(store).await?.part(inbox));
        parts.push(requests_digest(store).await?.part(requests));
        parts.push(governance_digest(store).await?.part(governance));
        parts.push(feeds_digest(store).await?.part(feeds));
        let (count, sha256) = log_digest(store.transparency_log()).await?;
        parts.push(PartDigest {
            part: log.into(),
            count,
            sha256,
        });
        Ok(NodeDigest { parts })
    }

    /// The number of object versions over all collections.
    pub fn object_versions(&self) -> u64 {
        self.parts
            .iter()
            .filter(|p| !NODE_PARTS.contains(&p.part.as_str()))
            .map(|p| p.count)
            .sum()
    }

    /// Prints one line per part on standard output (`part, count, sha256`).
    pub fn print(&self) {
        println!("part\tcount\tsha256");
        for p in &self.parts {
            println!("{}\t{}\t{}", p.part, p.count, p.sha256);
        }
    }

    /// Prints one line per part on standard output (`part, count, sha256, verdict`) and
    /// says whether `got` holds exactly what `want` does.
    pub fn compare(want: &NodeDigest, got: &NodeDigest) -> bool {
        let mut names: Vec<&str> = want.parts.iter().map(|p| p.part.as_str()).collect();
        for p in &got.parts {
            if !names.contains(&p.part.as_str()) {
                names.push(&p.part);
            }
        }
        let find = |d: &'_ NodeDigest, name: &str| d.parts.iter().find(|p| p.part == name).cloned();
        let mut all_equal = true;
        println!("part\tcount\tsha256\tverdict");
        for name in names {
            match (find(want, name), find(got, name)) {
                (Some(a), Some(b)) if a == b => {
                    println!("{name}\t{}\t{}\tidentical", b.count, b.sha256)
                }
                (a, b) => {
                    all_equal = false;
                    let show = |p: &Option<PartDigest>| {
                        p.as_ref()
                            .map(|p| (p.count.to_string(), p.sha256.clone()))
                            .unwrap_or(("absent".into(), "-".into()))
                    };
                    let ((na, sa), (nb, sb)) = (show(&a), show(&b));
                    println!("{name}\t{na} -> {nb}\t{sa} -> {sb}\tDIFFERENT");
                }
            }
        }
        all_equal
    }
}

/// Every version of every object.
pub fn every_version() -> ObjectFilter {
    ObjectFilter {
        versions: VersionFilter::all(),
        ..ObjectFilter::default()
    }
}

/// Count and SHA-256 of a collection's versions in `date_added` order. Each version
/// contributes its id, version, `date_added` and JSON, each length-prefixed, so both
/// sides hash exactly the same bytes when they hold the same data.
async fn collection_digest(
    store: &dyn Store,
    collection: &CollectionRef,
) -> anyhow::Result<(u64, String)> {
    let mut hash = Sha256::new();
    let mut count = 0u64;
    let mut after = None;
    loop {
        let page = store
            .objects(
                collection,
                &every_version(),
                &PageRequest { limit: 5000, after },
            )
            .await?;
        for o in &page.items {
            for field in [o.id.as_bytes(), o.version.as_bytes(), o.json.as_bytes()] {
                hash.update((field.len() as u64).to_be_bytes());
                hash.update(field);
            }
            hash.update(o.date_added.to_be_bytes());
            count += 1;
        }
        match page.next {
            Some(cursor) => after = Some(cursor),
            None => break,
        }
    }
    Ok((count, hex::encode(hash.finalize())))
}

/// A running count and SHA-256 over length-prefixed fields.
#[derive(Default)]
struct Rows {
    hash: Sha256,
    count: u64,
}

impl Rows {
    /// One row: its fields, each length-prefixed, so different rows never hash alike.
    fn row(&mut self, fields: &[&[u8]]) {
        for field in fields {
            self.hash.update((field.len() as u64).to_be_bytes());
            self.hash.update(field);
        }
        self.count += 1;
    }

    fn part(self, name: &str) -> PartDigest {
        PartDigest {
            part: name.into(),
            count: self.count,
            sha256: hex::encode(self.hash.finalize()),
        }
    }
}

/// An optional number as bytes (empty when absent).
fn opt(n: Option<i64>) -> Vec<u8> {
    n.map(|n| n.to_be_bytes().to_vec()).unwrap_or_default()
}

/// The members and agreements, every field.
async fn registry_digest(store: &dyn Store) -> anyhow::Result<Rows> {
    let mut rows = Rows::default();
    for kind in RegistryKind::ALL {
        for e in store.registry(kind).await? {
            rows.row(&[
                kind.as_str().as_bytes(),
                e.id.as_bytes(),
                e.status.as_str().as_bytes(),
                e.document.as_bytes(),
                &e.updated_at.to_be_bytes(),
            ]);
        }
    }
    Ok(rows)
}

/// The API tokens, every field (the secrets are stored as hashes only).
async fn tokens_digest(store: &dyn Store) -> anyhow::Result<Rows> {
    let mut rows = Rows::default();
    for t in store.tokens().await? {
        rows.row(&[
            t.id.as_bytes(),
            t.label.as_bytes(),
            t.user.as_bytes(),
            t.member.as_deref().unwrap_or_default().as_bytes(),
            &t.secret_sha256,
            &t.created_at.to_be_bytes(),
            &opt(t.expires_at),
            &opt(t.revoked_at),
        ]);
    }
    Ok(rows)
}

/// Reads a journal (a peer's outbox, a sender's inbox records) page by page from its start,
/// [`ROW_BATCH`] rows at a time, handing each page to `each`; `seq` gives a row's sequence
/// number, after which the next page starts.
pub async fn paged<T>(
    mut page_after: impl AsyncFnMut(u64) -> anyhow::Result<Vec<T>>,
    seq: impl Fn(&T) -> u64,
    mut each: impl AsyncFnMut(Vec<T>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut after = 0;
    loop {
        let page = page_after(after).await?;
        let next = match page.last() {
            Some(last) if page.len() == ROW_BATCH => Some(seq(last)),
            _ => None,
        };
        each(page).await?;
        match next {
            Some(seq) => after = seq,
            None => return Ok(()),
        }
    }
}

/// Every peer's outbox entries, delivered or not, with the peer's last sequence number.
async fn outbox_digest(store: &dyn Store) -> anyhow::Result<Rows> {
    let mut rows = Rows::default();
    for stats in store.outbox_stats().await? {
        rows.row(&[stats.peer.as_bytes(), &stats.last_seq.to_be_bytes()]);
        paged(
            async |after| Ok(store.outbox_after(&stats.peer, after, ROW_BATCH).await?),
            |e| e.seq,
            async |page| {
                for e in &page {
                    rows.row(&[
                        e.peer.as_bytes(),
                        &e.seq.to_be_bytes(),
                        e.id.as_bytes(),
                        e.kind.as_str().as_bytes(),
                        &e.created_at.to_be_bytes(),
                        e.body.as_bytes(),
                        &opt(e.delivered_at),
                        e.receipt.as_deref().unwrap_or_default().as_bytes(),
                        &e.attempts.to_be_bytes(),
                        &e.next_attempt_at.to_be_bytes(),
                        e.last_error.as_deref().unwrap_or_default().as_bytes(),
                    ]);
                }
                Ok(())
            },
        )
        .await?;
    }
    Ok(rows)
}

/// The inbox journal: every record of every sender.
async fn inbox_digest(store: &dyn Store) -> anyhow::Result<Rows> {
    let mut rows = Rows::default();
    for sender in store.inbox_senders().await? {
        paged(
            async |after| Ok(store.inbox_after(&sender, after, ROW_BATCH).await?),
            |r| r.seq,
            async |page| {
                for r in &page {
                    rows.row(&[
                        r.sender.as_bytes(),
                        r.id.as_bytes(),
                        &r.seq.to_be_bytes(),
                        r.kind.as_bytes(),
                        &r.received_at.to_be_bytes(),
                        r.outcome.as_str().as_bytes(),
                        r.reason.as_deref().unwrap_or_default().as_bytes(),
                        r.receipt.as_bytes(),
                    ]);
                }
                Ok(())
            },
        )
        .await?;
    }
    Ok(rows)
}

/// Governance: every proposal, ballot, outcome, cancellation, version of the rules and of every norm.
async fn governance_digest(store: &dyn Store) -> anyhow::Result<Rows> {
    let mut rows = Rows::default();
    let g = GovernanceRecords::read(store).await?;
    for p in &g.proposals {
        rows.row(&[
            p.id.as_bytes(),
            p.kind.as_bytes(),
            p.proposer.as_bytes(),
            &p.tabled_at.to_be_bytes(),
            &p.deadline.to_be_bytes(),
            p.sha256.as_bytes(),
            p.json.as_bytes(),
        ]);
    }
    for b in &g.ballots {
        rows.row(&[
            b.proposal.as_bytes(),
            b.sha256.as_bytes(),
            b.member.as_deref().unwrap_or_default().as_bytes(),
            &b.received_at.to_be_bytes(),
            b.refusal.as_deref().unwrap_or_default().as_bytes(),
            b.json.as_bytes(),
        ]);
    }
    for o in &g.outcomes {
        rows.row(&[
            o.proposal.as_bytes(),
            o.decision.as_bytes(),
            o.digest.as_bytes(),
            &o.counted_at.to_be_bytes(),
            &opt(o.executed_at),
            o.json.as_bytes(),
        ]);
    }
    for k in &g.cancellations {
        rows.row(&[
            k.proposal.as_bytes(),
            k.member.as_bytes(),
            &k.at.to_be_bytes(),
            k.sha256.as_bytes(),
            k.json.as_bytes(),
        ]);
    }
    for r in &g.rules {
        rows.row(&[
            &r.version.to_be_bytes(),
            r.json.as_bytes(),
            r.proposal.as_deref().unwrap_or_default().as_bytes(),
            &r.at.to_be_bytes(),
        ]);
    }
    for n in &g.norms {
        rows.row(&[
            n.norm.as_bytes(),
            &n.version.to_be_bytes(),
            n.texts.as_bytes(),
            &[u8::from(n.repealed)],
            n.proposal.as_bytes(),
            &n.at.to_be_bytes(),
        ]);
    }
    Ok(rows)
}

/// Feed subscriptions with their state (the secret as stored) and their values.
async fn feeds_digest(store: &dyn Store) -> anyhow::Result<Rows> {
    let mut rows = Rows::default();
    for Feed {
        record: r,
        state: st,
    } in store.feeds().await?
    {
        rows.row(&[
            r.name.as_bytes(),
            r.kind.as_bytes(),
            r.url.as_bytes(),
            r.api_root.as_bytes(),
            r.collection.as_bytes(),
            &r.interval_secs.to_be_bytes(),
            r.settings.as_bytes(),
            r.secret.as_deref().unwrap_or_default().as_bytes(),
            &r.created_at.to_be_bytes(),
            st.cursor.as_deref().unwrap_or_default().as_bytes(),
            &opt(st.last_run),
            st.last_error.as_deref().unwrap_or_default().as_bytes(),
            &st.failures.to_be_bytes(),
            &st.next_run.to_be_bytes(),
            &st.runs.to_be_bytes(),
            &st.failed_runs.to_be_bytes(),
            &st.objects.to_be_bytes(),
        ]);
        for v in store.feed_values(&r.name).await? {
            rows.row(&[r.name.as_bytes(), v.value.as_bytes(), v.created.as_bytes()]);
        }
    }
    Ok(rows)
}

/// Every request the store holds, newest first, in pages of [`ROW_BATCH`].
pub async fn every_request(store: &dyn Store) -> anyhow::Result<Vec<comity_store::RequestRecord>> {
    let mut all = Vec::new();
    let mut filter = RequestFilter {
        limit: ROW_BATCH,
        ..RequestFilter::default()
    };
    loop {
        let page = store.requests(&filter).await?;
        let full = page.len() == ROW_BATCH;
        filter.before = page.last().map(|h| (h.updated_at, h.id.clone()));
        all.extend(page);
        if !full {
            return Ok(all);
        }
    }
}

/// Every request's header and signed events.
async fn requests_digest(store: &dyn Store) -> anyhow::Result<Rows> {
    let mut rows = Rows::default();
    let mut headers = every_request(store).await?;
    headers.sort_by(|a, b| a.id.cmp(&b.id));
    for h in headers {
        rows.row(&[
            h.id.as_bytes(),
            h.kind.as_bytes(),
            h.requester.as_bytes(),
            h.requested.as_bytes(),
            h.state.as_bytes(),
            &[u8::from(h.emergency)],
            &h.created_at.to_be_bytes(),
            &h.updated_at.to_be_bytes(),
            &opt(h.due_at),
            &h.events.to_be_bytes(),
            h.document.as_bytes(),
        ]);
        for e in store.request_events(&h.id).await? {
            rows.row(&[
                e.request.as_bytes(),
                &e.n.to_be_bytes(),
                e.actor.as_bytes(),
                e.act.as_bytes(),
                &e.at.to_be_bytes(),
                e.sha256.as_bytes(),
                e.json.as_bytes(),
            ]);
        }
    }
    Ok(rows)
}

/// Count and SHA-256 of a store's log entries, in order, and of their kept openings.
async fn log_digest(log: &dyn TransparencyLog) -> anyhow::Result<(u64, String)> {
    let size = log.log_size().await?;
    let mut hash = Sha256::new();
    let mut start = 0;
    while start < size {
        let end = (start + LOG_BATCH).min(size);
        for entry in log.log_entries(start, end).await? {
            hash.update((entry.len() as u64).to_be_bytes());
            hash.update(&entry);
        }
        for o in log.openings_between(start, end).await? {
            hash.update(o.index.to_be_bytes());
            for part in [o.scope.as_bytes(), o.subject.as_bytes(), &o.opening] {
                hash.update((part.len() as u64).to_be_bytes());
                hash.update(part);
            }
        }
        start = end;
    }
    Ok((size, hex::encode(hash.finalize())))
}
