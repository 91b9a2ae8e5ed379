//! Conversions every backend needs when it stores the federation's outbox and inbox in
//! SQL, where integers are signed.

use crate::{StoreError, StoreResult};

/// A seq as a SQL integer.
pub fn seq_to_sql(seq: u64) -> StoreResult<i64> {
    i64::try_from(seq).map_err(|_| StoreError::Backend(format!("seq {seq} out of range")))
}

/// A seq read back from SQL.
pub fn seq_from_sql(n: i64) -> StoreResult<u64> {
    u64::try_from(n).map_err(|_| StoreError::Backend(format!("a stored seq is negative ({n})")))
}

/// A count read back from SQL.
pub fn count_from_sql(n: i64) -> StoreResult<u64> {
    u64::try_from(n).map_err(|_| StoreError::Backend(format!("a stored count is negative ({n})")))
}

/// A number of attempts read back from SQL.
pub fn attempts_from_sql(n: i64) -> StoreResult<u32> {
    u32::try_from(n).map_err(|_| {
        StoreError::Backend(format!("a stored number of attempts is out of range ({n})"))
    })
}

/// A row limit as a SQL integer (a limit beyond SQL's range means no limit).
pub fn limit_to_sql(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// The seqs of `n` entries pushed together, given the peer's last seq after the push.
pub fn pushed_seqs(last: i64, n: usize) -> StoreResult<Vec<u64>> {
    let last = seq_from_sql(last)?;
    let first = last
        .checked_sub(n as u64)
        .ok_or_else(|| StoreError::Backend(format!("outbox counter {last} below {n} pushes")))?;
    Ok((first + 1..=last).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushed_seqs_end_at_the_counter() {
        assert_eq!(pushed_seqs(3, 3).unwrap(), vec![1, 2, 3]);
        assert_eq!(pushed_seqs(7, 2).unwrap(), vec![6, 7]);
        assert!(pushed_seqs(1, 2).is_err());
        assert!(seq_from_sql(-1).is_err());
        assert!(seq_to_sql(u64::MAX).is_err());
        assert!(attempts_from_sql(i64::from(u32::MAX) + 1).is_err());
        assert_eq!(limit_to_sql(usize::MAX), i64::MAX);
    }
}
