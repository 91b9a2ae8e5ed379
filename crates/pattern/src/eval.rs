//! The evaluator: decides whether a set of observations satisfies a pattern and finds one
//! binding (which observation serves which `[…]`). It owns the semantics of AND / OR /
//! FOLLOWEDBY between observations and of the WITHIN / REPEATS / START…STOP qualifiers.
//!
//! A binding may use an observed-data SDO as many times as its `number_observed`. The
//! search is a depth-first backtracking over observations with three bounds, so work stays
//! finite however the pattern is built: qualifier constraints are checked as soon as an
//! observation is chosen; the repetitions of `REPEATS` are chosen in non-decreasing order
//! (they are interchangeable, so this loses no answer and removes the factorial); and the
//! whole search stops with [`EvalError::TooComplex`] after [`SEARCH_BUDGET`] choices or
//! when one binding would need more than [`MAX_BINDING`] observations.

use crate::ast::{ComparisonExpr, ObservationExpr, Qualifier};
use crate::compare::CompiledTest;
use crate::observation::{Observation, Observations};
use crate::path::resolve;
use crate::timestamp::Timestamp;
use crate::{EvalError, Pattern, PatternError, StixVersion};

/// The most observations one binding may need before evaluation is refused.
pub const MAX_BINDING: u64 = 1_000;

/// The most observation choices one search may make before it gives up.
pub const SEARCH_BUDGET: u64 = 5_000_000;

/// Object types that are STIX domain objects, never matched by a 2.1 pattern's object
/// path (a pattern speaks of cyber-observable objects).
const SDO_TYPES: &[&str] = &[
    "attack-pattern",
    "bundle",
    "campaign",
    "course-of-action",
    "extension-definition",
    "grouping",
    "identity",
    "incident",
    "indicator",
    "infrastructure",
    "intrusion-set",
    "language-content",
    "location",
    "malware",
    "malware-analysis",
    "marking-definition",
    "note",
    "observed-data",
    "opinion",
    "relationship",
    "report",
    "threat-actor",
    "tool",
    "sighting",
    "vulnerability",
];

/// A pattern compiled for evaluation.
#[derive(Debug, Clone)]
pub struct Matcher {
    root: Node,
    leaves: Vec<Comparison>,
    version: StixVersion,
}

#[derive(Debug, Clone)]
enum Node {
    Leaf(usize),
    And(Vec<Node>),
    Or(Vec<Node>),
    FollowedBy(Vec<Node>),
    Within(Box<Node>, i128),
    StartStop(Box<Node>, Timestamp, Timestamp),
    Repeats(Box<Node>, u64),
}

/// A compiled comparison expression (the inside of `[…]`).
#[derive(Debug, Clone)]
pub(crate) enum Comparison {
    And(Vec<Comparison>),
    Or(Vec<Comparison>),
    Test(Box<CompiledTest>),
}

impl Matcher {
    /// Compiles `pattern`; fails on regexes, sets, CIDR blocks or qualifier values that
    /// cannot be evaluated (`WITHIN 0 SECONDS`, `REPEATS 0 TIMES`).
    pub fn new(pattern: &Pattern) -> Result<Matcher, PatternError> {
        let mut leaves = Vec::new();
        let root = compile_node(pattern.expr(), &mut leaves)?;
        Ok(Matcher {
            root,
            leaves,
            version: pattern.version(),
        })
    }

    /// Finds one binding: the sorted, distinct indexes (into `observations.items`) of the
    /// observations it uses, or `None` when the pattern does not match.
    pub fn find(&self, observations: &Observations<'_>) -> Result<Option<Vec<usize>>, EvalError> {
        let obs = &observations.items;
        let mut candidates = Vec::with_capacity(self.leaves.len());
        for leaf in &self.leaves {
            let mut list = Vec::new();
            for (i, o) in obs.iter().enumerate() {
                if !self.roots(leaf, o)?.is_empty() {
                    list.push(i);
                }
            }
            candidates.push(list);
        }
        let capacity: u64 = obs.iter().fold(0u64, |a, o| a.saturating_add(o.count));
        if min_size(&self.root) > capacity {
            return Ok(None);
        }
        let needed = max_size(&self.root);
        if needed > MAX_BINDING {
            return Err(EvalError::TooComplex(format!(
                "one binding could need {needed} observations (the limit is {MAX_BINDING})"
            )));
        }
        let mut search = Search {
            candidates,
            obs,
            used: vec![0; obs.len()],
            chosen: Vec::new(),
            active: Vec::new(),
            steps: 0,
            capacity,
        };
        let found = search.solve(&self.root, &mut |_| Ok(true))?;
        if !found {
            return Ok(None);
        }
        let mut binding = search.chosen;
        binding.sort_unstable();
        binding.dedup();
        Ok(Some(binding))
    }

    /// Whether this one observation alone satisfies the pattern.
    pub fn matches_one(&self, o: &Observation<'_>) -> Result<bool, EvalError> {
        if let Node::Leaf(leaf) = self.root {
            return Ok(!self.roots(&self.leaves[leaf], o)?.is_empty());
        }
        let single = Observations {
            items: vec![o.clone()],
        };
        Ok(self.find(&single)?.is_some())
    }

    /// The number of `[…]` comparison expressions.
    pub fn leaf_count(&self) -> usize {
        self.leaves.len()
    }

    /// True when the pattern is a single `[…]` without qualifiers, so that one
    /// observation decides it alone.
    pub fn is_single_observation(&self) -> bool {
        matches!(self.root, Node::Leaf(_))
    }

    /// The indexes of the objects of `o` on which the comparison expression holds.
    fn roots(&self, c: &Comparison, o: &Observation<'_>) -> Result<Vec<usize>, EvalError> {
        Ok(match c {
            Comparison::Test(t) => {
                let ty = t.path.object_type.as_str();
                if self.version == StixVersion::V21 && SDO_TYPES.contains(&ty) {
                    return Ok(Vec::new());
                }
                let mut out = Vec::new();
                for (i, (_, obj)) in o.objects.iter().enumerate() {
                    if obj.get("type").and_then(|v| v.as_str()) != Some(ty) {
                        continue;
                    }
                    let items = resolve(obj, &t.path.steps, &|r| o.resolve(r))?;
                    if t.holds_for(&items)? {
                        out.push(i);
                    }
                }
                out
            }
            Comparison::And(parts) => {
                let mut acc = self.roots(&parts[0], o)?;
                for p in &parts[1..] {
                    if acc.is_empty() {
                        break;
                    }
                    let next = self.roots(p, o)?;
                    acc.retain(|i| next.binary_search(i).is_ok());
                }
                acc
            }
            Comparison::Or(parts) => {
                let mut acc = Vec::new();
                for p in parts {
                    acc.extend(self.roots(p, o)?);
                }
                acc.sort_unstable();
                acc.dedup();
                acc
            }
        })
    }
}

fn compile_node(e: &ObservationExpr, leaves: &mut Vec<Comparison>) -> Result<Node, PatternError> {
    let all = |v: &[ObservationExpr], leaves: &mut Vec<Comparison>| {
        v.iter()
            .map(|e| compile_node(e, leaves))
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(match e {
        ObservationExpr::Observation(c) => {
            leaves.push(compile_comparison(c)?);
            Node::Leaf(leaves.len() - 1)
        }
        ObservationExpr::And(v) => Node::And(all(v, leaves)?),
        ObservationExpr::Or(v) => Node::Or(all(v, leaves)?),
        ObservationExpr::FollowedBy(v) => Node::FollowedBy(all(v, leaves)?),
        ObservationExpr::Qualified(inner, q) => {
            let inner = Box::new(compile_node(inner, leaves)?);
            match q {
                Qualifier::Within(s) if *s > 0.0 && s.is_finite() => {
                    Node::Within(inner, (s * 1e9).round() as i128)
                }
                Qualifier::Within(s) => {
                    return Err(PatternError::Unusable(format!(
                        "WITHIN needs a positive number of seconds, not {s}"
                    )))
                }
                Qualifier::Repeats(0) => {
                    return Err(PatternError::Unusable(
                        "REPEATS needs a count of at least 1".into(),
                    ))
                }
                Qualifier::Repeats(n) => Node::Repeats(inner, *n),
                Qualifier::StartStop(a, b) => Node::StartStop(inner, *a, *b),
            }
        }
    })
}

pub(crate) fn compile_comparison(c: &ComparisonExpr) -> Result<Comparison, PatternError> {
    Ok(match c {
        ComparisonExpr::Test(t) => Comparison::Test(Box::new(CompiledTest::compile(t)?)),
        ComparisonExpr::And(v) => {
            Comparison::And(v.iter().map(compile_comparison).collect::<Result<_, _>>()?)
        }
        ComparisonExpr::Or(v) => {
            Comparison::Or(v.iter().map(compile_comparison).collect::<Result<_, _>>()?)
        }
    })
}

/// The fewest observations a binding of `n` can use.
fn min_size(n: &Node) -> u64 {
    match n {
        Node::Leaf(_) => 1,
        Node::And(v) | Node::FollowedBy(v) => {
            v.iter().fold(0u64, |a, c| a.saturating_add(min_size(c)))
        }
        Node::Or(v) => v.iter().map(min_size).min().unwrap_or(0),
        Node::Within(c, _) | Node::StartStop(c, ..) => min_size(c),
        Node::Repeats(c, k) => min_size(c).saturating_mul(*k),
    }
}

/// The most observations a binding of `n` can use.
fn max_size(n: &Node) -> u64 {
    match n {
        Node::Leaf(_) => 1,
        Node::And(v) | Node::FollowedBy(v) => {
            v.iter().fold(0u64, |a, c| a.saturating_add(max_size(c)))
        }
        Node::Or(v) => v.iter().map(max_size).max().unwrap_or(0),
        Node::Within(c, _) | Node::StartStop(c, ..) => max_size(c),
        Node::Repeats(c, k) => max_size(c).saturating_mul(*k),
    }
}

/// A qualifier whose scope is still being filled.
enum Active {
    Within { start: usize, nanos: i128 },
    StartStop { start: Timestamp, stop: Timestamp },
}

type Continuation<'k, 'o> = dyn FnMut(&mut Search<'o>) -> Result<bool, EvalError> + 'k;

struct Search<'o> {
    candidates: Vec<Vec<usize>>,
    obs: &'o [Observation<'o>],
    used: Vec<u64>,
    chosen: Vec<usize>,
    active: Vec<Active>,
    steps: u64,
    capacity: u64,
}

impl<'o> Search<'o> {
    fn solve(&mut self, n: &Node, k: &mut Continuation<'_, 'o>) -> Result<bool, EvalError> {
        match n {
            Node::Leaf(i) => self.leaf(*i, k),
            Node::And(v) => self.all(v, 0, k),
            Node::Or(v) => {
                for c in v {
                    if self.solve(c, k)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Node::FollowedBy(v) => {
                let start = self.chosen.len();
                self.followed_by(v, 0, start, k)
            }
            Node::Within(c, nanos) => {
                let start = self.chosen.len();
                self.scoped(
                    c,
                    Active::Within {
                        start,
                        nanos: *nanos,
                    },
                    k,
                )
            }
            Node::StartStop(c, start, stop) => {
                if start >= stop {
                    return Ok(false);
                }
                self.scoped(
                    c,
                    Active::StartStop {
                        start: *start,
                        stop: *stop,
                    },
                    k,
                )
            }
            Node::Repeats(c, times) => {
                let mut starts = Vec::new();
                self.repeat(c, *times, &mut starts, k)
            }
        }
    }

    fn leaf(&mut self, leaf: usize, k: &mut Continuation<'_, 'o>) -> Result<bool, EvalError> {
        for ci in 0..self.candidates[leaf].len() {
            let o = self.candidates[leaf][ci];
            if self.used[o] >= self.obs[o].count {
                continue;
            }
            self.steps += 1;
            if self.steps > SEARCH_BUDGET {
                return Err(EvalError::TooComplex(format!(
                    "no answer after {SEARCH_BUDGET} observation choices"
                )));
            }
            self.used[o] += 1;
            self.chosen.push(o);
            let ok = self.constraints_hold() && k(self)?;
            if ok {
                return Ok(true);
            }
            self.chosen.pop();
            self.used[o] -= 1;
        }
        Ok(false)
    }

    /// Checks every qualifier whose scope includes the observation just chosen.
    fn constraints_hold(&self) -> bool {
        let Some(&last) = self.chosen.last() else {
            return true;
        };
        let o = &self.obs[last];
        self.active.iter().all(|a| match a {
            Active::StartStop { start, stop } => o.first < *stop && o.last >= *start,
            Active::Within { start, nanos } => {
                let scope = &self.chosen[*start..];
                let max_first = scope.iter().map(|&i| self.obs[i].first).max();
                let min_last = scope.iter().map(|&i| self.obs[i].last).min();
                match (max_first, min_last) {
                    (Some(f), Some(l)) => f.0 - l.0 <= *nanos,
                    _ => true,
                }
            }
        })
    }

    fn all(
        &mut self,
        v: &[Node],
        i: usize,
        k: &mut Continuation<'_, 'o>,
    ) -> Result<bool, EvalError> {
        if i == v.len() {
            return k(self);
        }
        self.solve(&v[i], &mut |s: &mut Search<'o>| s.all(v, i + 1, k))
    }

    /// Solves `n` with qualifier `a` checked on every observation chosen inside it.
    fn scoped(
        &mut self,
        n: &Node,
        a: Active,
        k: &mut Continuation<'_, 'o>,
    ) -> Result<bool, EvalError> {
        self.active.push(a);
        let found = self.solve(n, &mut |s: &mut Search<'o>| {
            let Some(mine) = s.active.pop() else {
                return Ok(false);
            };
            let r = k(s);
            s.active.push(mine);
            r
        });
        self.active.pop();
        found
    }

    /// `v[0] FOLLOWEDBY v[1] …`, left-associative: everything before operand `i` must
    /// be able to happen no later than operand `i`.
    fn followed_by(
        &mut self,
        v: &[Node],
        i: usize,
        start: usize,
        k: &mut Continuation<'_, 'o>,
    ) -> Result<bool, EvalError> {
        if i == v.len() {
            return k(self);
        }
        let boundary = self.chosen.len();
        self.solve(&v[i], &mut |s: &mut Search<'o>| {
            if i > 0 {
                let lhs = &s.chosen[start..boundary];
                let rhs = &s.chosen[boundary..];
                let latest_first = lhs.iter().map(|&o| s.obs[o].first).max();
                let earliest_last = rhs.iter().map(|&o| s.obs[o].last).min();
                if let (Some(f), Some(l)) = (latest_first, earliest_last) {
                    if f > l {
                        return Ok(false);
                    }
                }
            }
            s.followed_by(v, i + 1, start, k)
        })
    }

    fn repeat(
        &mut self,
        n: &Node,
        times: u64,
        starts: &mut Vec<usize>,
        k: &mut Continuation<'_, 'o>,
    ) -> Result<bool, EvalError> {
        if starts.len() as u64 == times {
            return k(self);
        }
        let remaining = (times - starts.len() as u64).saturating_mul(min_size(n));
        if remaining > self.capacity.saturating_sub(self.chosen.len() as u64) {
            return Ok(false);
        }
        starts.push(self.chosen.len());
        let found = self.solve(n, &mut |s: &mut Search<'o>| {
            let count = starts.len();
            if count >= 2 {
                let (prev, cur) = (starts[count - 2], starts[count - 1]);
                if s.chosen[prev..cur] > s.chosen[cur..] {
                    return Ok(false);
                }
            }
            let mut inner = starts.clone();
            s.repeat(n, times, &mut inner, k)
        })?;
        starts.pop();
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::{Observations, Pattern, StixVersion};

    /// 2.0 observed-data, one `x-e` object each: (seconds after midnight, count, name).
    fn data(items: &[(u32, u64, &str)]) -> Vec<Value> {
        items
            .iter()
            .map(|(s, n, name)| {
                let t = format!("2024-01-01T00:{:02}:{:02}Z", s / 60, s % 60);
                json!({"type": "observed-data", "first_observed": t, "last_observed": t,
                    "number_observed": n, "objects": {"0": {"type": "x-e", "name": name}}})
            })
            .collect()
    }

    fn find(pattern: &str, input: &[Value]) -> Option<Vec<usize>> {
        let m = Pattern::parse(pattern, StixVersion::V20)
            .unwrap()
            .matcher()
            .unwrap();
        m.find(&Observations::from_json(input, StixVersion::V20).unwrap())
            .unwrap()
    }

    #[test]
    fn followedby_needs_the_right_order() {
        let d = data(&[(10, 1, "a"), (20, 1, "b")]);
        assert_eq!(
            find("[x-e:name = 'a'] FOLLOWEDBY [x-e:name = 'b']", &d),
            Some(vec![0, 1])
        );
        assert_eq!(
            find("[x-e:name = 'b'] FOLLOWEDBY [x-e:name = 'a']", &d),
            None
        );
    }

    #[test]
    fn within_bounds_the_span_of_the_binding() {
        let d = data(&[(10, 1, "a"), (20, 1, "b")]);
        assert_eq!(
            find(
                "([x-e:name = 'a'] AND [x-e:name = 'b']) WITHIN 5 SECONDS",
                &d
            ),
            None
        );
        assert!(find(
            "([x-e:name = 'a'] AND [x-e:name = 'b']) WITHIN 10 SECONDS",
            &d
        )
        .is_some());
    }

    #[test]
    fn repeats_counts_number_observed() {
        let d = data(&[(10, 3, "a")]);
        assert_eq!(find("[x-e:name = 'a'] REPEATS 3 TIMES", &d), Some(vec![0]));
        assert_eq!(find("[x-e:name = 'a'] REPEATS 4 TIMES", &d), None);
        assert_eq!(
            find(
                "[x-e:name = 'a'] AND [x-e:name = 'a'] AND [x-e:name = 'a']",
                &d
            ),
            Some(vec![0])
        );
    }

    #[test]
    fn start_includes_its_instant_and_stop_excludes_its_own() {
        let d = data(&[(10, 1, "a")]);
        let at = |start: &str, stop: &str| {
            find(&format!("[x-e:name = 'a'] START t'2024-01-01T00:00:{start}Z' STOP t'2024-01-01T00:00:{stop}Z'"), &d)
        };
        assert!(at("10", "11").is_some());
        assert!(at("05", "10").is_none());
        assert!(at("11", "12").is_none());
    }

    #[test]
    fn references_resolve_through_object_refs_in_21() {
        let input = vec![json!({"type": "bundle", "id": "bundle--1", "objects": [
            {"type": "observed-data", "id": "observed-data--1", "first_observed": "2024-01-01T00:00:00Z",
             "last_observed": "2024-01-01T00:00:00Z", "number_observed": 1,
             "object_refs": ["domain-name--1", "ipv4-addr--1"]},
            {"type": "domain-name", "id": "domain-name--1", "value": "evil.example", "resolves_to_refs": ["ipv4-addr--1"]},
            {"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "198.51.100.1"}]})];
        let obs = Observations::from_json(&input, StixVersion::V21).unwrap();
        let hit = |p: &str| {
            Pattern::parse(p, StixVersion::V21)
                .unwrap()
                .matcher()
                .unwrap()
                .find(&obs)
                .unwrap()
        };
        assert!(
            hit("[domain-name:resolves_to_refs[*].value ISSUBSET '198.51.100.0/24']").is_some()
        );
        assert!(hit("[domain-name:resolves_to_refs[0].value = '198.51.100.1']").is_some());
        assert!(hit("[domain-name:value = 'evil.example' AND NOT EXISTS domain-name:x]").is_some());
        assert!(hit("[observed-data:number_observed = 1]").is_none());
    }
}
