//! The compiled multi-indicator engine: many indicators indexed so that one observation
//! is matched against all of them at once. Per object type and object path it keeps an
//! exact-value hash map (equality and IN), a prefix table (ISSUBSET on IPv4/IPv6 blocks),
//! an Aho-Corasick automaton (the literal core of LIKE), a regex set (MATCHES), and a
//! list of indicators that must be evaluated for every object of the type; only the
//! indicators an observation hits there are evaluated in full, with the evaluator's
//! exact semantics. Indicators are added and removed one by one.
//!
//! The engine answers, per observation, which indicators that observation satisfies on
//! its own (a pattern that needs several observations, like `[a] FOLLOWEDBY [b]`, fires
//! only when one observation satisfies it, e.g. through `number_observed`). Indicators
//! outside their `valid_from` / `valid_until` at the observation's time, and revoked
//! ones, never fire.

use aho_corasick::AhoCorasick;
use regex::RegexSet;
use serde_json::Value;
use unicode_normalization::UnicodeNormalization;

use crate::ast::{ObjectPath, PathStep};
use crate::atoms::{number_key, pattern_atoms, Atom, ValueKey};
use crate::cidr::IpNet;
use crate::eval::Matcher;
use crate::fasthash::{hash_one, FastMap};
use crate::observation::Observation;
use crate::path::{visit, Item};
use crate::timestamp::Timestamp;
use crate::{Pattern, PatternError, StixVersion};

/// What the engine needs to know about an indicator besides its pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorMeta {
    /// The indicator's `id`.
    pub id: String,
    /// `valid_from`: it fires for observations from this time on.
    pub valid_from: Option<Timestamp>,
    /// `valid_until`: it fires for observations before this time.
    pub valid_until: Option<Timestamp>,
    /// `revoked`: it never fires.
    pub revoked: bool,
}

impl IndicatorMeta {
    /// Reads `id`, `valid_from`, `valid_until` and `revoked` of an indicator SDO.
    pub fn from_indicator(sdo: &Value) -> Option<IndicatorMeta> {
        let time = |k: &str| {
            sdo.get(k)
                .and_then(Value::as_str)
                .and_then(Timestamp::parse)
        };
        Some(IndicatorMeta {
            id: sdo.get("id")?.as_str()?.to_string(),
            valid_from: time("valid_from"),
            valid_until: time("valid_until"),
            revoked: sdo.get("revoked").and_then(Value::as_bool).unwrap_or(false),
        })
    }

    /// Whether it may fire for an observation seen between `first` and `last`.
    pub fn active_during(&self, first: Timestamp, last: Timestamp) -> bool {
        !self.revoked
            && self.valid_from.is_none_or(|from| last >= from)
            && self.valid_until.is_none_or(|until| first < until)
    }
}

/// One indicator that an observation satisfied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit<'e> {
    /// The indicator.
    pub indicator: &'e IndicatorMeta,
}

/// Indicator slots in a bucket; most buckets hold one.
#[derive(Debug, Clone)]
enum Slots {
    One(u32),
    Many(Vec<u32>),
}

impl Slots {
    fn push(&mut self, s: u32) {
        match self {
            Slots::One(a) => *self = Slots::Many(vec![*a, s]),
            Slots::Many(v) => v.push(s),
        }
    }

    /// Removes `s`; returns true when the bucket is now empty.
    fn remove(&mut self, s: u32) -> bool {
        match self {
            Slots::One(a) => *a == s,
            Slots::Many(v) => {
                v.retain(|x| *x != s);
                let (empty, single) = (v.is_empty(), (v.len() == 1).then(|| v[0]));
                if let Some(only) = single {
                    *self = Slots::One(only);
                }
                empty
            }
        }
    }

    fn as_slice(&self) -> &[u32] {
        match self {
            Slots::One(a) => std::slice::from_ref(a),
            Slots::Many(v) => v,
        }
    }
}

fn insert(map: &mut FastMap<u64, Slots>, key: u64, slot: u32) {
    map.entry(key)
        .and_modify(|s| s.push(slot))
        .or_insert(Slots::One(slot));
}

fn remove(map: &mut FastMap<u64, Slots>, key: u64, slot: u32) {
    if let Some(s) = map.get_mut(&key) {
        if s.remove(slot) {
            map.remove(&key);
        }
    }
}

/// A multi-pattern structure rebuilt lazily after changes.
#[derive(Debug)]
struct Lazy<T> {
    items: Vec<(String, u32)>,
    built: Option<T>,
    dirty: bool,
}

impl<T> Default for Lazy<T> {
    fn default() -> Self {
        Lazy {
            items: Vec::new(),
            built: None,
            dirty: false,
        }
    }
}

/// Address blocks by (family, prefix length, network bits).
#[derive(Debug, Default)]
struct PrefixTable {
    blocks: FastMap<u64, Slots>,
    lengths: [Vec<u8>; 2],
}

impl PrefixTable {
    fn key(v6: bool, len: u8, network: u128) -> u64 {
        hash_one((v6, len, network))
    }

    fn add(&mut self, net: &IpNet, slot: u32) {
        insert(
            &mut self.blocks,
            Self::key(net.v6, net.prefix, net.network_key()),
            slot,
        );
        let lengths = &mut self.lengths[usize::from(net.v6)];
        if let Err(i) = lengths.binary_search(&net.prefix) {
            lengths.insert(i, net.prefix);
        }
    }

    fn remove(&mut self, net: &IpNet, slot: u32) {
        remove(
            &mut self.blocks,
            Self::key(net.v6, net.prefix, net.network_key()),
            slot,
        );
    }

    /// Blocks that may contain `value` (an address or a block).
    fn probe(&self, value: &IpNet, out: &mut Vec<u32>) {
        for &len in &self.lengths[usize::from(value.v6)] {
            if len > value.prefix {
                break;
            }
            let masked = IpNet {
                prefix: len,
                ..*value
            };
            if let Some(s) = self
                .blocks
                .get(&Self::key(value.v6, len, masked.network_key()))
            {
                out.extend_from_slice(s.as_slice());
            }
        }
    }
}

/// The indexes of one object path of one object type.
#[derive(Debug)]
struct PathIndex {
    steps: Vec<PathStep>,
    equal: FastMap<u64, Slots>,
    prefixes: PrefixTable,
    /// Literal cores of LIKE, and literals every match of a MATCHES contains.
    substrings: Lazy<AhoCorasick>,
    /// MATCHES without such literals.
    regexes: Lazy<RegexSet>,
    /// Every MATCHES on this path (binary values follow byte-regex rules, so they are
    /// left to the evaluator).
    all_regexes: Vec<u32>,
}

impl PathIndex {
    fn new(steps: Vec<PathStep>) -> PathIndex {
        PathIndex {
            steps,
            equal: FastMap::default(),
            prefixes: PrefixTable::default(),
            substrings: Lazy::default(),
            regexes: Lazy::default(),
            all_regexes: Vec::new(),
        }
    }

    fn rebuild(&mut self) {
        let s = &mut self.substrings;
        if s.dirty {
            s.built = AhoCorasick::new(s.items.iter().map(|(l, _)| l.as_str())).ok();
            s.dirty = false;
        }
        let r = &mut self.regexes;
        if r.dirty {
            r.built = regex::RegexSetBuilder::new(r.items.iter().map(|(re, _)| re.as_str()))
                .size_limit(64 << 20)
                .build()
                .ok();
            r.dirty = false;
        }
    }

    /// Indicators whose atoms on this path fire for `item`.
    fn probe(&self, item: &Item<'_>, out: &mut Vec<u32>) {
        let key = match item {
            Item::Json(Value::String(s)) => Some(ValueKey::Str(s).hash()),
            Item::Json(Value::Bool(b)) => Some(ValueKey::Bool(*b).hash()),
            Item::Json(Value::Number(n)) => Some(match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => number_key(i as f64, Some(i128::from(i))),
                (_, Some(u)) => number_key(u as f64, Some(i128::from(u))),
                _ => number_key(n.as_f64().unwrap_or(f64::NAN), None),
            }),
            Item::Bytes(b) => Some(ValueKey::Bytes(b).hash()),
            _ => None,
        };
        if let Some(s) = key.and_then(|k| self.equal.get(&k)) {
            out.extend_from_slice(s.as_slice());
        }
        let text = match item {
            Item::Json(Value::String(s)) => Some(s.as_str()),
            Item::Bytes(b) => std::str::from_utf8(b).ok(),
            _ => None,
        };
        let Some(text) = text else { return };
        if !self.prefixes.blocks.is_empty() {
            if let Some(net) = IpNet::parse(text) {
                self.prefixes.probe(&net, out);
            }
        }
        let has_text_atoms = !self.substrings.items.is_empty() || !self.all_regexes.is_empty();
        if !has_text_atoms {
            return;
        }
        let normalized;
        let text = if text.is_ascii() {
            text
        } else {
            normalized = text.nfc().collect::<String>();
            &normalized
        };
        if let Some(ac) = &self.substrings.built {
            for m in ac.find_overlapping_iter(text) {
                out.push(self.substrings.items[m.pattern().as_usize()].1);
            }
        }
        if matches!(item, Item::Bytes(_)) {
            out.extend_from_slice(&self.all_regexes);
        } else if let Some(set) = &self.regexes.built {
            out.extend(set.matches(text).iter().map(|i| self.regexes.items[i].1));
        }
    }
}

/// Everything indexed for one object type.
#[derive(Debug, Default)]
struct TypeIndex {
    every: Vec<u32>,
    paths: Vec<PathIndex>,
}

/// An atom as an indicator keeps it, to unindex itself on removal: equality atoms (the
/// bulk) compactly, by interned path and value hash.
#[derive(Debug)]
enum Stored {
    Eq { path: u32, key: u64 },
    Other(Box<Atom>),
}

#[derive(Debug)]
struct Entry {
    meta: IndicatorMeta,
    matcher: Matcher,
    atoms: Box<[Stored]>,
}

/// Many indicators compiled into one index. See the module documentation.
#[derive(Debug, Default)]
pub struct Engine {
    entries: Vec<Option<Entry>>,
    free: Vec<u32>,
    by_id: FastMap<Box<str>, u32>,
    types: FastMap<String, TypeIndex>,
    /// Interned (type, path) pairs: where each path's index lives.
    path_ids: FastMap<ObjectPath, u32>,
    paths: Vec<(String, usize)>,
    stamp: Vec<u32>,
    generation: u32,
    dirty: bool,
}

impl Engine {
    /// An empty engine.
    pub fn new() -> Engine {
        Engine::default()
    }

    /// The number of indicators.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// True when no indicator is loaded.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Adds (or replaces, by id) an indicator with its pattern.
    pub fn add(
        &mut self,
        meta: IndicatorMeta,
        pattern: &str,
        version: StixVersion,
    ) -> Result<(), PatternError> {
        let parsed = Pattern::parse(pattern, version)?;
        let matcher = parsed.matcher()?;
        let atoms = pattern_atoms(parsed.expr());
        drop(parsed);
        self.remove(&meta.id);
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.entries.push(None);
                self.stamp.push(0);
                (self.entries.len() - 1) as u32
            }
        };
        let stored: Box<[Stored]> = atoms
            .into_iter()
            .map(|atom| {
                self.index(&atom, slot, true);
                match atom {
                    Atom::Eq(path, key) => Stored::Eq {
                        path: self.path_id(&path),
                        key,
                    },
                    other => Stored::Other(Box::new(other)),
                }
            })
            .collect();
        self.by_id.insert(meta.id.clone().into_boxed_str(), slot);
        self.entries[slot as usize] = Some(Entry {
            meta,
            matcher,
            atoms: stored,
        });
        Ok(())
    }

    /// Removes the indicator with this id; false if there was none.
    pub fn remove(&mut self, id: &str) -> bool {
        let Some(slot) = self.by_id.remove(id) else {
            return false;
        };
        if let Some(entry) = self.entries[slot as usize].take() {
            for stored in entry.atoms.iter() {
                match stored {
                    Stored::Eq { path, key } => {
                        let (ty, i) = &self.paths[*path as usize];
                        if let Some(t) = self.types.get_mut(ty) {
                            remove(&mut t.paths[*i].equal, *key, slot);
                        }
                    }
                    Stored::Other(atom) => self.index(atom, slot, false),
                }
            }
        }
        self.free.push(slot);
        true
    }

    /// The interned id of a path, creating its index if needed.
    fn path_id(&mut self, path: &ObjectPath) -> u32 {
        if let Some(id) = self.path_ids.get(path) {
            return *id;
        }
        let t = self.types.entry(path.object_type.clone()).or_default();
        let i = match t.paths.iter().position(|p| p.steps == path.steps) {
            Some(i) => i,
            None => {
                t.paths.push(PathIndex::new(path.steps.clone()));
                t.paths.len() - 1
            }
        };
        let id = self.paths.len() as u32;
        self.paths.push((path.object_type.clone(), i));
        self.path_ids.insert(path.clone(), id);
        id
    }

    fn index(&mut self, atom: &Atom, slot: u32, add: bool) {
        let path = match atom {
            Atom::Type(ty) => {
                let t = self.types.entry(ty.clone()).or_default();
                if add {
                    t.every.push(slot);
                } else {
                    t.every.retain(|s| *s != slot);
                }
                return;
            }
            Atom::Eq(p, _) | Atom::Substring(p, _) | Atom::Regex(p, ..) | Atom::Prefix(p, _) => p,
        };
        let id = self.path_id(path);
        let (ty, i) = &self.paths[id as usize];
        let Some(t) = self.types.get_mut(ty) else {
            return;
        };
        let p = &mut t.paths[*i];
        let edit = |items: &mut Vec<(String, u32)>, text: &str| {
            if add {
                items.push((text.to_string(), slot));
            } else {
                items.retain(|(_, s)| *s != slot);
            }
        };
        match atom {
            Atom::Eq(_, key) if add => insert(&mut p.equal, *key, slot),
            Atom::Eq(_, key) => remove(&mut p.equal, *key, slot),
            Atom::Prefix(_, net) if add => p.prefixes.add(net, slot),
            Atom::Prefix(_, net) => p.prefixes.remove(net, slot),
            Atom::Substring(_, text) => {
                edit(&mut p.substrings.items, text);
                p.substrings.dirty = true;
                self.dirty = true;
            }
            Atom::Regex(_, re, literals) => {
                if literals.is_empty() {
                    edit(&mut p.regexes.items, re);
                    p.regexes.dirty = true;
                } else {
                    for l in literals {
                        edit(&mut p.substrings.items, l);
                    }
                    p.substrings.dirty = true;
                }
                if add {
                    p.all_regexes.push(slot);
                } else {
                    p.all_regexes.retain(|s| *s != slot);
                }
                self.dirty = true;
            }
            Atom::Type(_) => {}
        }
    }

    /// Builds the automata changed since the last call; matching does it when needed.
    pub fn prepare(&mut self) {
        if !self.dirty {
            return;
        }
        for t in self.types.values_mut() {
            for p in &mut t.paths {
                p.rebuild();
            }
        }
        self.dirty = false;
    }

    /// The indicators this observation satisfies on its own, in no particular order.
    /// An indicator whose evaluation fails on this data (say, ISSUBSET on a value that is
    /// not an address) does not fire.
    pub fn matches(&mut self, o: &Observation<'_>) -> Vec<Hit<'_>> {
        self.prepare();
        let mut candidates = Vec::new();
        for (_, object) in &o.objects {
            let Some(ty) = object.get("type").and_then(Value::as_str) else {
                continue;
            };
            let Some(t) = self.types.get(ty) else {
                continue;
            };
            candidates.extend_from_slice(&t.every);
            for p in &t.paths {
                let _ = visit(
                    &Item::Json(object),
                    &p.steps,
                    &|r| o.resolve(r),
                    &mut |item| {
                        p.probe(item, &mut candidates);
                        true
                    },
                );
            }
        }
        if candidates.is_empty() {
            return Vec::new();
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.stamp.iter_mut().for_each(|s| *s = 0);
            self.generation = 1;
        }
        let mut hits = Vec::new();
        for slot in candidates {
            let stamp = &mut self.stamp[slot as usize];
            if *stamp == self.generation {
                continue;
            }
            *stamp = self.generation;
            let Some(entry) = &self.entries[slot as usize] else {
                continue;
            };
            if entry.meta.active_during(o.first, o.last)
                && entry.matcher.matches_one(o).unwrap_or(false)
            {
                hits.push(Hit {
                    indicator: &entry.meta,
                });
            }
        }
        hits
    }

    /// Bytes held by the index structures (maps, tables, automata, slot bookkeeping),
    /// computed from their capacities; the compiled patterns and indicator metadata
    /// themselves are not counted.
    pub fn index_memory(&self) -> usize {
        use std::mem::size_of;
        fn map<K, V>(m: &FastMap<K, V>) -> usize {
            m.capacity() * (size_of::<(K, V)>() + 1)
        }
        let slots = |m: &FastMap<u64, Slots>| {
            map(m)
                + m.values()
                    .map(|s| match s {
                        Slots::One(_) => 0,
                        Slots::Many(v) => v.capacity() * 4,
                    })
                    .sum::<usize>()
        };
        let mut bytes = map(&self.by_id) + self.by_id.keys().map(|k| k.len()).sum::<usize>();
        bytes += map(&self.path_ids) + self.paths.capacity() * size_of::<(String, usize)>();
        bytes += self.stamp.capacity() * 4 + self.free.capacity() * 4;
        bytes += self.entries.capacity() * size_of::<Option<Entry>>();
        for e in self.entries.iter().flatten() {
            bytes += e.atoms.len() * size_of::<Stored>();
        }
        bytes += map(&self.types);
        for t in self.types.values() {
            bytes += t.every.capacity() * 4 + t.paths.capacity() * size_of::<PathIndex>();
            for p in &t.paths {
                bytes += slots(&p.equal) + slots(&p.prefixes.blocks);
                bytes += p.all_regexes.capacity() * 4;
                for lazy in [&p.substrings.items, &p.regexes.items] {
                    bytes += lazy.iter().map(|(s, _)| s.capacity() + 32).sum::<usize>();
                }
                bytes += p.substrings.built.as_ref().map_or(0, |a| a.memory_usage());
            }
        }
        bytes
    }

    /// Every loaded indicator with its compiled pattern (for checking the index against
    /// plain evaluation).
    pub fn indicators(&self) -> impl Iterator<Item = (&IndicatorMeta, &Matcher)> {
        self.entries.iter().flatten().map(|e| (&e.meta, &e.matcher))
    }
}
