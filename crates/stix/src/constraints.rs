//! Co-constraints between properties of one object: at least one of, mutually exclusive,
//! one requiring another, and timestamps that must not run backwards.

use serde_json::{Map, Value};

use crate::report::{Ctx, Path};
use crate::timestamp::Timestamp;

/// At least one of `names` must be present.
pub(crate) fn at_least_one(ctx: &mut Ctx, map: &Map<String, Value>, names: &[&str]) {
    if !names.iter().any(|n| map.contains_key(*n)) {
        ctx.error(
            &Path::Root,
            "at-least-one",
            format!("at least one of {} must be present", names.join(", ")),
        );
    }
}

/// `a` and `b` must not both be present.
pub(crate) fn exclusive(ctx: &mut Ctx, map: &Map<String, Value>, a: &str, b: &str) {
    if map.contains_key(a) && map.contains_key(b) {
        ctx.error(
            &Path::Root.key(b),
            "exclusive-properties",
            format!("'{b}' must not be present together with '{a}'"),
        );
    }
}

/// When `present` is there, `needed` must be too.
pub(crate) fn requires(ctx: &mut Ctx, map: &Map<String, Value>, present: &str, needed: &str) {
    if map.contains_key(present) && !map.contains_key(needed) {
        ctx.error(
            &Path::Root.key(needed),
            "dependent-property",
            format!("'{needed}' must be present when '{present}' is"),
        );
    }
}

/// `later` must not be before `earlier` (or must be strictly after it, when `strict`).
/// Malformed timestamps are reported elsewhere and skipped here.
pub(crate) fn time_order(
    ctx: &mut Ctx,
    map: &Map<String, Value>,
    earlier: &str,
    later: &str,
    strict: bool,
) {
    let ts = |name: &str| {
        map.get(name)
            .and_then(Value::as_str)
            .and_then(|s| Timestamp::parse(s).ok())
    };
    let (Some(a), Some(b)) = (ts(earlier), ts(later)) else {
        return;
    };
    let (bad, relation) = if strict {
        (b <= a, "later than")
    } else {
        (b < a, "equal to or later than")
    };
    if bad {
        let rule = if later == "modified" {
            "modified-before-created"
        } else {
            "time-order"
        };
        ctx.error(
            &Path::Root.key(later),
            rule,
            format!("'{later}' must be {relation} '{earlier}'"),
        );
    }
}
