//! The decided history a node hands a member that joins later: every proposal it counted,
//! in decided order (deadline, then id), each with what proves it (the proposer-signed
//! proposal as tabled, every ballot text it received, the outcome it counted and whether
//! it executed it), in pages signed by the node so that what it claimed is evidence. The
//! joining node trusts none of it: [`super::catch_up`] verifies each item against the
//! state it derives itself before applying it.

use comity_stix::clock::format_us;
use comity_store::Store;
use serde::{Deserialize, Serialize};

use super::service::{corrupt, local_member, GovernanceError};
use super::tally::Outcome;
use crate::identity::signed::{self, ReadError};
use crate::identity::NodeKey;

/// The page format this build writes and reads.
pub const VERSION: u64 = 1;
/// The most items a page holds.
pub const MAX_ITEMS: usize = 50;
/// A page stops growing past this many bytes of items (it holds one item at least).
const PAGE_BUDGET: usize = 4 << 20;
/// The largest page read: the budget, plus one item of a proposal (256 KiB) with a few
/// ballots per member of a federation the size of the United Nations.
pub const MAX_PAGE_BYTES: usize = 16 << 20;

/// One decided proposal with what proves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// The signed proposal, as tabled.
    pub proposal: String,
    /// Every ballot text received on it, in the order received.
    pub ballots: Vec<String>,
    /// The outcome counted at its deadline.
    pub outcome: Outcome,
    /// Whether its effect was applied.
    pub executed: bool,
}

/// A page of the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// Format version.
    pub v: u64,
    /// The member whose node hands it over.
    pub member: String,
    /// The proposal it follows; `None` for the first page.
    pub after: Option<String>,
    /// The decided proposals after it, in decided order.
    pub items: Vec<Item>,
    /// Whether more follow the last item.
    pub more: bool,
    /// When it was handed over (RFC 3339).
    pub at: String,
}

/// A page signed by the node that hands it over, with its JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedPage {
    /// The page.
    pub page: Page,
    /// Base64 Ed25519 signature by the node's key.
    pub signature: String,
    /// The JSON text.
    pub json: String,
}

impl SignedPage {
    /// Reads a signed page from its JSON text (the signature is not checked).
    pub fn parse(json: &str) -> Result<SignedPage, String> {
        let (page, signature): (Page, String) =
            signed::read(json, MAX_PAGE_BYTES, VERSION, "history page").map_err(|e| match e {
                ReadError::Malformed(why) => format!("not a history page: {why}"),
                ReadError::Version(v) => {
                    format!("history page format version {v} is not supported (this node reads 1)")
                }
            })?;
        Ok(SignedPage {
            page,
            signature,
            json: json.to_owned(),
        })
    }

    /// Signs `page` with `key`.
    pub fn sign(page: Page, key: &NodeKey) -> SignedPage {
        let (json, signature) = signed::sign(&page, key);
        SignedPage {
            page,
            signature,
            json,
        }
    }
}

/// This node's page of its decided history after proposal `after` (from the first when
/// `None`), at `now`, signed with `key`: at most [`MAX_ITEMS`] items, and no more once
/// they pass a few MiB. `NotFound` when `after` is not a proposal decided here.
pub async fn page(
    store: &dyn Store,
    key: &NodeKey,
    after: Option<&str>,
    now: i64,
) -> Result<SignedPage, GovernanceError> {
    let from = match after {
        Some(id) => {
            let record = store.proposal(id).await?;
            match record {
                Some(p) if store.outcome(id).await?.is_some() => Some((p.deadline, p.id)),
                _ => return Err(GovernanceError::NotFound(id.to_owned())),
            }
        }
        None => None,
    };
    let from = from.as_ref().map(|(deadline, id)| (*deadline, id.as_str()));
    let records = store.decided(from, MAX_ITEMS + 1).await?;
    let mut items = Vec::new();
    let mut size = 0;
    let mut more = false;
    for record in records {
        if items.len() == MAX_ITEMS || (size > PAGE_BUDGET && !items.is_empty()) {
            more = true;
            break;
        }
        let held = store
            .outcome(&record.id)
            .await?
            .ok_or_else(|| corrupt(&format!("outcome of {}", record.id), "missing"))?;
        let outcome: Outcome =
            serde_json::from_str(&held.json).map_err(|e| corrupt("outcome", e))?;
        let ballots: Vec<String> = store
            .ballots(&record.id)
            .await?
            .into_iter()
            .map(|b| b.json)
            .collect();
        size += record.json.len() + ballots.iter().map(String::len).sum::<usize>();
        items.push(Item {
            proposal: record.json,
            ballots,
            outcome,
            executed: held.executed_at.is_some(),
        });
    }
    let page = Page {
        v: VERSION,
        member: local_member(store).await?,
        after: after.map(str::to_owned),
        items,
        more,
        at: format_us(now),
    };
    Ok(SignedPage::sign(page, key))
}
