//! The rights of "who else" against a real SQLite store: hand-written cases, and a
//! property over random objects, markings, collections and viewers.

use std::collections::{BTreeSet, HashMap};

use comity_stix::tlp::{TLP2_CLEAR, TLP2_RED};
use comity_store::prelude::*;
use comity_store_sqlite::SqliteStore;
use proptest::prelude::*;
use serde_json::value::RawValue;

use super::*;
use crate::correlation::test_store::{collection, reader, store, LOCAL, PEER};
use crate::intake::examine;

const VALUES: [&str; 3] = ["203.0.113.5", "203.0.113.0/24", "evil.test"];

/// How an object is marked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marking {
    /// No TLP marking (AMBER by default).
    Unmarked,
    Clear,
    /// RED naming no recipient.
    Red,
    /// RED naming this node.
    RedToUs,
    /// A marking definition the node does not hold: RED.
    Unknown,
}

const MARKINGS: [Marking; 5] = [
    Marking::Unmarked,
    Marking::Clear,
    Marking::Red,
    Marking::RedToUs,
    Marking::Unknown,
];

/// One object: where it is, how it is marked, which value it holds.
#[derive(Debug, Clone, Copy)]
struct Planted {
    n: u32,
    peer: bool,
    marking: Marking,
    value: usize,
}

impl Planted {
    fn id(&self) -> String {
        format!("indicator--00000000-0000-4000-8000-{:012}", self.n)
    }

    fn json(&self) -> String {
        let value = VALUES[self.value];
        let path = if value.contains(char::is_alphabetic) {
            "domain-name:value"
        } else {
            "ipv4-addr:value"
        };
        let mut object = serde_json::json!({
            "type": "indicator", "spec_version": "2.1", "id": self.id(),
            "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
            "pattern": format!("[{path} = '{value}']"), "pattern_type": "stix",
            "valid_from": "2024-01-01T00:00:00Z"
        });
        let refs = match self.marking {
            Marking::Unmarked => None,
            Marking::Clear => Some(TLP2_CLEAR),
            Marking::Red | Marking::RedToUs => Some(TLP2_RED),
            Marking::Unknown => Some("marking-definition--99999999-0000-4000-8000-000000000000"),
        };
        if let Some(r) = refs {
            object["object_marking_refs"] = serde_json::json!([r]);
        }
        if self.marking == Marking::RedToUs {
            object[crate::policy::RED_RECIPIENTS] = serde_json::json!([LOCAL]);
        }
        object.to_string()
    }

    /// Whether a local viewer who may read `readable` collections reads it, by the
    /// policy's rules written out: a peer's RED object not naming us is withheld (an
    /// unknown marking is RED); our own objects are ours to read.
    fn visible(&self, readable: [bool; 2]) -> bool {
        readable[usize::from(self.peer)]
            && !(self.peer && matches!(self.marking, Marking::Red | Marking::Unknown))
    }
}

async fn plant(store: &SqliteStore, objects: &[Planted]) {
    for o in objects {
        let raw = RawValue::from_string(o.json()).unwrap();
        let examined = examine(0, &raw).unwrap();
        assert!(!examined.object.values.is_empty());
        store
            .add_objects(&collection(o.peer), vec![examined.object])
            .await
            .unwrap();
    }
}

/// What an answer says of one value, without dates (they differ between stores).
fn gist(c: &Correlation, value: &str) -> (usize, Vec<String>, BTreeSet<String>) {
    let report = c.values.iter().find(|v| v.value == value).unwrap();
    (
        report.count,
        report.members.clone(),
        report.objects.iter().map(|o| o.id.clone()).collect(),
    )
}

async fn ask(store: &SqliteStore, reader: &Reader, subject: Subject) -> Correlation {
    correlate(store, reader, &WarningLists::default(), &subject, MAX_LIMIT)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_value_finds_every_readable_object_with_its_originator_and_dates() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let ours = Planted {
        n: 1,
        peer: false,
        marking: Marking::Unmarked,
        value: 0,
    };
    let theirs = Planted {
        n: 2,
        peer: true,
        marking: Marking::Clear,
        value: 0,
    };
    let block = Planted {
        n: 3,
        peer: true,
        marking: Marking::RedToUs,
        value: 1,
    };
    let withheld = Planted {
        n: 4,
        peer: true,
        marking: Marking::Red,
        value: 0,
    };
    plant(&store, &[ours, theirs, block, withheld]).await;
    let answer = ask(
        &store,
        &reader([true, true]),
        Subject::Value(" 203.0.113.5 ".into()),
    )
    .await;
    assert_eq!(answer.values.len(), 1);
    let report = &answer.values[0];
    assert_eq!(
        (report.kind.as_str(), report.value.as_str()),
        ("ipv4-addr", "203.0.113.5")
    );
    assert_eq!(
        report.count, 3,
        "the address, the peer's copy and the block holding it"
    );
    assert_eq!(report.members, vec![LOCAL.to_owned(), PEER.to_owned()]);
    assert!(!report.suppressed && report.warning_lists.is_empty());
    let by_id: HashMap<&str, &SharedBy> =
        report.objects.iter().map(|o| (o.id.as_str(), o)).collect();
    assert_eq!(by_id[ours.id().as_str()].originator, LOCAL);
    assert_eq!(by_id[theirs.id().as_str()].originator, PEER);
    assert_eq!(by_id[block.id().as_str()].matched, vec!["203.0.113.0/24"]);
    assert_eq!(by_id[ours.id().as_str()].collection, "r/ours");
    assert!(!by_id.contains_key(withheld.id().as_str()));
    assert!(report.first_seen.as_deref() <= report.last_seen.as_deref());

    // A limit shortens the list, never the count.
    let short = correlate(
        &store,
        &reader([true, true]),
        &WarningLists::default(),
        &Subject::Value("203.0.113.5".into()),
        1,
    )
    .await
    .unwrap();
    assert_eq!(
        (short.values[0].count, short.values[0].objects.len()),
        (3, 1)
    );

    // Text that is no value is refused by name.
    let e = correlate(
        &store,
        &reader([true, true]),
        &WarningLists::default(),
        &Subject::Value("   ".into()),
        10,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, CorrelationError::NotAValue(_)), "{e}");
}

#[tokio::test]
async fn an_object_finds_the_others_sharing_its_values_and_not_itself() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let ours = Planted {
        n: 1,
        peer: false,
        marking: Marking::Unmarked,
        value: 0,
    };
    let theirs = Planted {
        n: 2,
        peer: true,
        marking: Marking::Clear,
        value: 0,
    };
    let withheld = Planted {
        n: 4,
        peer: true,
        marking: Marking::Red,
        value: 2,
    };
    plant(&store, &[ours, theirs, withheld]).await;
    let answer = ask(&store, &reader([true, true]), Subject::Object(ours.id())).await;
    assert_eq!(
        gist(&answer, "203.0.113.5"),
        (1, vec![PEER.to_owned()], [theirs.id()].into())
    );
    // An object the viewer may not read answers exactly as one that does not exist.
    let hidden = ask(
        &store,
        &reader([true, true]),
        Subject::Object(withheld.id()),
    )
    .await;
    let missing = ask(
        &store,
        &reader([true, true]),
        Subject::Object("indicator--missing".into()),
    )
    .await;
    assert_eq!(hidden, missing);
    assert_eq!(hidden.values, vec![]);
    let unreadable = ask(&store, &reader([false, true]), Subject::Object(ours.id())).await;
    assert_eq!(unreadable, missing);
}

#[tokio::test]
async fn a_value_a_newer_version_or_a_revocation_drops_is_no_longer_found() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let first = Planted {
        n: 1,
        peer: false,
        marking: Marking::Unmarked,
        value: 2,
    };
    plant(&store, &[first]).await;
    let found = |store: &SqliteStore| {
        let store = store.clone();
        async move {
            gist(
                &ask(
                    &store,
                    &reader([true, true]),
                    Subject::Value("evil.test".into()),
                )
                .await,
                "evil.test",
            )
            .0
        }
    };
    assert_eq!(found(&store).await, 1);
    let mut revoked: serde_json::Value = serde_json::from_str(&first.json()).unwrap();
    revoked["modified"] = "2024-02-01T00:00:00.000Z".into();
    revoked["revoked"] = true.into();
    let raw = RawValue::from_string(revoked.to_string()).unwrap();
    store
        .add_objects(&collection(false), vec![examine(0, &raw).unwrap().object])
        .await
        .unwrap();
    assert_eq!(found(&store).await, 0);
}

#[tokio::test]
async fn warning_listed_values_are_flagged_and_their_holders_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let raw = RawValue::from_string(
        r#"{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--00000000-0000-4000-8000-000000000008","value":"8.8.8.8"}"#.into(),
    )
    .unwrap();
    store
        .add_objects(&collection(false), vec![examine(0, &raw).unwrap().object])
        .await
        .unwrap();
    let answer = correlate(
        &store,
        &reader([true, true]),
        &WarningLists::defaults(),
        &Subject::Value("8.8.8.8".into()),
        10,
    )
    .await
    .unwrap();
    let report = &answer.values[0];
    assert!(report.suppressed);
    assert_eq!(
        report.warning_lists,
        vec!["List of well-known public IPv4 DNS resolvers".to_owned()]
    );
    assert_eq!(
        (report.count, report.objects.len(), report.members.len()),
        (0, 0, 0)
    );
}

fn planted() -> impl Strategy<Value = Vec<Planted>> {
    prop::collection::vec(
        (any::<bool>(), 0usize..MARKINGS.len(), 0usize..VALUES.len()),
        1..10,
    )
    .prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (peer, m, value))| Planted {
                n: i as u32 + 1,
                peer,
                marking: MARKINGS[m],
                value,
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Every answer holds exactly the objects the viewer may read, and is the answer of a
    /// store that holds only those: a withheld object changes no count, member or list.
    #[test]
    fn answers_hold_exactly_what_the_viewer_may_read(objects in planted(), readable in any::<[bool; 2]>(), pick in any::<prop::sample::Index>()) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let (all_dir, visible_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
            let (all, only_visible) = (store(all_dir.path()).await, store(visible_dir.path()).await);
            let visible: Vec<Planted> = objects.iter().copied().filter(|o| o.visible(readable)).collect();
            plant(&all, &objects).await;
            plant(&only_visible, &visible).await;
            let viewer = reader(readable);
            for (i, value) in VALUES.iter().enumerate() {
                let answer = ask(&all, &viewer, Subject::Value((*value).into())).await;
                let reference = ask(&only_visible, &viewer, Subject::Value((*value).into())).await;
                // The address lies in the block: each finds the holders of both.
                let related = |o: &&Planted| o.value == i || (i < 2 && o.value < 2);
                let expected: BTreeSet<String> = visible.iter().filter(related).map(Planted::id).collect();
                let members: BTreeSet<String> = visible.iter().filter(related)
                    .map(|o| if o.peer { PEER } else { LOCAL }.to_owned()).collect();
                let (count, got_members, ids) = gist(&answer, value);
                prop_assert_eq!(&ids, &expected);
                prop_assert_eq!(count, expected.len());
                prop_assert_eq!(got_members, members.into_iter().collect::<Vec<_>>());
                prop_assert_eq!(gist(&answer, value), gist(&reference, value));
            }
            let chosen = pick.get(&objects);
            let by_object = ask(&all, &viewer, Subject::Object(chosen.id())).await;
            if chosen.visible(readable) {
                prop_assert_eq!(by_object.values.len(), 1);
                prop_assert!(by_object.values[0].objects.iter().all(|o| o.id != chosen.id()));
            } else {
                prop_assert_eq!(by_object.values, vec![]);
            }
            Ok(())
        })?;
    }
}

/// Stores one SDO or SRO in our collection or the peer's, marked RED when `red`.
async fn put(store: &SqliteStore, peer: bool, red: bool, mut object: serde_json::Value) {
    object["spec_version"] = "2.1".into();
    object["created"] = "2024-01-01T00:00:00.000Z".into();
    object["modified"] = "2024-01-01T00:00:00.000Z".into();
    if red {
        object["object_marking_refs"] = serde_json::json!([TLP2_RED]);
    }
    let raw = RawValue::from_string(object.to_string()).unwrap();
    let examined = examine(0, &raw).unwrap_or_else(|r| panic!("{r:?}"));
    store
        .add_objects(&collection(peer), vec![examined.object])
        .await
        .unwrap();
}

#[tokio::test]
async fn an_answer_names_the_reports_and_campaigns_related_to_its_holders_that_the_reader_may_read()
{
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let holder = Planted {
        n: 1,
        peer: false,
        marking: Marking::Unmarked,
        value: 2,
    };
    plant(&store, &[holder]).await;
    let id = |t: &str, n: u32| format!("{t}--00000000-0000-4000-8000-{n:012}");
    put(
        &store,
        false,
        false,
        serde_json::json!({"type": "campaign", "id": id("campaign", 10), "name": "c"}),
    )
    .await;
    put(
        &store,
        true,
        true,
        serde_json::json!({"type": "campaign", "id": id("campaign", 11), "name": "hidden"}),
    )
    .await;
    for (n, target, peer, red) in [
        (20, 10, false, false),
        (21, 11, false, false),
        (22, 10, true, true),
    ] {
        put(&store, peer, red, serde_json::json!({"type": "relationship", "id": id("relationship", n),
            "relationship_type": "indicates", "source_ref": holder.id(), "target_ref": id("campaign", target)})).await;
    }
    put(
        &store,
        false,
        false,
        serde_json::json!({"type": "report", "id": id("report", 30), "name": "r",
        "published": "2024-01-01T00:00:00Z", "object_refs": [holder.id()]}),
    )
    .await;
    put(
        &store,
        true,
        true,
        serde_json::json!({"type": "report", "id": id("report", 31), "name": "hidden",
        "published": "2024-01-01T00:00:00Z", "object_refs": [holder.id()]}),
    )
    .await;
    let answer = ask(
        &store,
        &reader([true, true]),
        Subject::Value("evil.test".into()),
    )
    .await;
    let related: Vec<(String, String, Vec<String>)> = answer.values[0]
        .related
        .iter()
        .map(|r| (r.id.clone(), r.object_type.clone(), r.via.clone()))
        .collect();
    assert_eq!(
        related,
        vec![
            (id("campaign", 10), "campaign".to_owned(), vec![holder.id()]),
            (id("report", 30), "report".to_owned(), vec![holder.id()]),
        ],
        "the peer's RED campaign, relationship and report are not the reader's"
    );
    // References are how relations are found, never values to correlate by: a report
    // answers with the values of what it lists, whose only holder is its own.
    let by_object = ask(
        &store,
        &reader([true, true]),
        Subject::Object(id("report", 30)),
    )
    .await;
    assert_eq!(gist(&by_object, "evil.test"), (0, vec![], BTreeSet::new()));
    assert_eq!(by_object.values.len(), 1);
}

#[tokio::test]
async fn a_report_answers_for_everything_it_lists_the_reader_may_read_with_confidence() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let planted = |n, peer, marking, value| Planted {
        n,
        peer,
        marking,
        value,
    };
    let (listed_ip, listed_domain, listed_red) = (
        planted(1, false, Marking::Unmarked, 0),
        planted(2, false, Marking::Unmarked, 2),
        planted(3, true, Marking::Red, 1),
    );
    let (other_ip, other_domain) = (
        planted(4, true, Marking::Clear, 0),
        planted(5, false, Marking::Unmarked, 2),
    );
    plant(
        &store,
        &[listed_ip, listed_domain, listed_red, other_ip, other_domain],
    )
    .await;
    let mut confident: serde_json::Value = serde_json::from_str(&other_ip.json()).unwrap();
    confident["modified"] = "2024-02-01T00:00:00.000Z".into();
    confident["confidence"] = 85.into();
    let raw = RawValue::from_string(confident.to_string()).unwrap();
    store
        .add_objects(&collection(true), vec![examine(0, &raw).unwrap().object])
        .await
        .unwrap();
    let report = "report--00000000-0000-4000-8000-000000000030";
    put(
        &store,
        false,
        false,
        serde_json::json!({"type": "report", "id": report, "name": "r",
        "published": "2024-01-01T00:00:00Z",
        "object_refs": [listed_ip.id(), listed_domain.id(), listed_red.id(), "indicator--00000000-0000-4000-8000-000000000999"]}),
    )
    .await;
    let answer = ask(
        &store,
        &reader([true, true]),
        Subject::Object(report.into()),
    )
    .await;
    let values: BTreeSet<&str> = answer.values.iter().map(|v| v.value.as_str()).collect();
    assert_eq!(
        values,
        BTreeSet::from([VALUES[0], VALUES[2]]),
        "the values of what it lists, not of the peer's RED object"
    );
    assert_eq!(
        gist(&answer, VALUES[0]),
        (1, vec![PEER.to_owned()], [other_ip.id()].into()),
        "its own objects are not among the holders"
    );
    assert_eq!(
        gist(&answer, VALUES[2]),
        (1, vec![LOCAL.to_owned()], [other_domain.id()].into())
    );
    let ip = answer.values.iter().find(|v| v.value == VALUES[0]).unwrap();
    assert_eq!(ip.objects[0].confidence, Some(85));
    let domain = answer.values.iter().find(|v| v.value == VALUES[2]).unwrap();
    assert_eq!(domain.objects[0].confidence, None);
    // A report the reader may not read answers as one that does not exist.
    let unreadable = ask(
        &store,
        &reader([false, true]),
        Subject::Object(report.into()),
    )
    .await;
    assert_eq!(unreadable.values, vec![]);
}
