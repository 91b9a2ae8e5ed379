//! Per-peer quotas on what the inbox takes in: objects and body bytes per hour, for each
//! sending member. Each member has two buckets that hold an hour's allowance and refill
//! continuously; an envelope that would overdraw either is refused (signed: the sender is
//! authenticated by then) and takes nothing from them. Counted per serving process.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// The allowances per member and hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaLimits {
    /// Objects a member may send per hour.
    pub objects_per_hour: u64,
    /// Body bytes a member may send per hour.
    pub bytes_per_hour: u64,
}

impl Default for QuotaLimits {
    /// 1,000,000 objects and 1 GiB an hour.
    fn default() -> QuotaLimits {
        QuotaLimits {
            objects_per_hour: 1_000_000,
            bytes_per_hour: 1 << 30,
        }
    }
}

/// An envelope beyond a member's quota.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{member} is over its quota of {limit} {what} per hour ({asked} asked, {left} left); retry in {retry_after} s")]
pub struct OverQuota {
    /// The sending member.
    pub member: String,
    /// `objects` or `bytes`.
    pub what: &'static str,
    /// The hourly allowance.
    pub limit: u64,
    /// What the envelope needs.
    pub asked: u64,
    /// What is left now.
    pub left: u64,
    /// Seconds until the envelope would fit (at least 1; never, when larger than the
    /// allowance itself, is given as an hour).
    pub retry_after: u64,
}

#[derive(Debug, Clone, Copy)]
struct Buckets {
    objects: f64,
    bytes: f64,
    at: Instant,
}

/// The quotas of every member, as used so far by this process.
#[derive(Debug)]
pub struct Quotas {
    limits: QuotaLimits,
    used: Mutex<HashMap<String, Buckets>>,
}

impl Quotas {
    /// Quotas with these allowances, every member starting with a full hour's.
    pub fn new(limits: QuotaLimits) -> Quotas {
        Quotas {
            limits,
            used: Mutex::new(HashMap::new()),
        }
    }

    /// Takes `objects` and `bytes` from `member`'s allowance, or says why not (and takes
    /// nothing).
    pub fn take(&self, member: &str, objects: u64, bytes: u64) -> Result<(), OverQuota> {
        self.take_at(member, objects, bytes, Instant::now())
    }

    fn take_at(
        &self,
        member: &str,
        objects: u64,
        bytes: u64,
        now: Instant,
    ) -> Result<(), OverQuota> {
        let QuotaLimits {
            objects_per_hour,
            bytes_per_hour,
        } = self.limits;
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        let b = used.entry(member.to_owned()).or_insert(Buckets {
            objects: objects_per_hour as f64,
            bytes: bytes_per_hour as f64,
            at: now,
        });
        let hours = now.saturating_duration_since(b.at).as_secs_f64() / 3600.0;
        b.objects = (b.objects + hours * objects_per_hour as f64).min(objects_per_hour as f64);
        b.bytes = (b.bytes + hours * bytes_per_hour as f64).min(bytes_per_hour as f64);
        b.at = now;
        for (what, limit, asked, left) in [
            ("objects", objects_per_hour, objects, b.objects),
            ("bytes", bytes_per_hour, bytes, b.bytes),
        ] {
            if asked as f64 > left {
                let retry_after = if asked > limit {
                    3600
                } else {
                    (((asked as f64 - left) / limit.max(1) as f64) * 3600.0).ceil() as u64
                };
                return Err(OverQuota {
                    member: member.to_owned(),
                    what,
                    limit,
                    asked,
                    left: left as u64,
                    retry_after: retry_after.max(1),
                });
            }
        }
        b.objects -= objects as f64;
        b.bytes -= bytes as f64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn an_hours_allowance_is_taken_refused_beyond_and_refilled_over_time() {
        let q = Quotas::new(QuotaLimits {
            objects_per_hour: 100,
            bytes_per_hour: 10_000,
        });
        let t0 = Instant::now();
        q.take_at("a", 60, 1_000, t0).unwrap();
        let over = q.take_at("a", 41, 1_000, t0).unwrap_err();
        assert_eq!(
            (over.what, over.limit, over.asked, over.left),
            ("objects", 100, 41, 40)
        );
        assert_eq!(over.retry_after, 36);
        // nothing was taken by the refusal; another member has its own allowance
        q.take_at("a", 40, 1_000, t0).unwrap();
        q.take_at("b", 100, 10_000, t0).unwrap();
        let over = q.take_at("b", 1, 1, t0).unwrap_err();
        assert_eq!(over.what, "objects");
        // a quarter of an hour later a quarter of the allowance is back
        let later = t0 + Duration::from_secs(900);
        q.take_at("a", 25, 100, later).unwrap();
        assert!(q.take_at("a", 1, 1, later).is_err());
        let bytes = q.take_at("b", 1, 9_000, later).unwrap_err();
        assert_eq!(
            (bytes.what, bytes.asked, bytes.left),
            ("bytes", 9_000, 2_500)
        );
        let huge = q.take_at("c", 101, 1, later).unwrap_err();
        assert_eq!(huge.retry_after, 3600);
    }
}
