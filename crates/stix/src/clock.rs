//! Timestamps as Comity keeps them: microseconds since the Unix epoch, written as RFC 3339
//! UTC with six fraction digits (TAXII's `date_added`), parsed from any RFC 3339 form, and
//! the one clock every crate reads.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Formats microseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
pub fn format_us(us: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(us as i128 * 1000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// Parses an RFC 3339 timestamp into microseconds since the epoch (sub-microsecond
/// digits are truncated).
pub fn parse_us(s: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos().div_euclid(1000)).ok()
}

/// Now, in microseconds since the epoch.
pub fn now_us() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_microseconds() {
        let us = 1_700_000_000_123_456;
        let s = format_us(us);
        assert_eq!(s, "2023-11-14T22:13:20.123456Z");
        assert_eq!(parse_us(&s), Some(us));
        assert_eq!(parse_us("2023-11-14T22:13:20.1234569Z"), Some(us));
        assert_eq!(parse_us("2023-11-14"), None);
    }
}
