//! STIX timestamps (`YYYY-MM-DDTHH:MM:SS[.s+]Z`, always UTC) as nanoseconds since the
//! Unix epoch. It owns parsing and arithmetic on them; nothing else.

use std::fmt;

/// A UTC instant with nanosecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i128);

const NANOS_PER_SEC: i128 = 1_000_000_000;

impl Timestamp {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (upper-case `T` and `Z` required, as the
    /// spec's timestamp format says). Fractions beyond nanoseconds are truncated.
    pub fn parse(s: &str) -> Option<Timestamp> {
        Self::parse_checked(s, true)
    }

    /// Parses a pattern's timestamp literal body. The grammar only bounds the day to
    /// 01-31, so a day past the month's end (`t'2024-02-30T…'`) is valid syntax; it is
    /// read as the same count of days from the month's start.
    pub fn parse_literal(s: &str) -> Option<Timestamp> {
        Self::parse_checked(s, false)
    }

    fn parse_checked(s: &str, calendar: bool) -> Option<Timestamp> {
        let b = s.as_bytes();
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
            return None;
        }
        if b[13] != b':' || b[16] != b':' || *b.last()? != b'Z' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let part = &s[r];
            part.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| part.parse().ok())?
        };
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
            2 => 28,
            _ => return None,
        };
        if day < 1
            || day > if calendar { days_in_month } else { 31 }
            || hour > 23
            || minute > 59
            || second > 60
        {
            return None;
        }
        let mut nanos: i128 = 0;
        match &b[19..] {
            [b'Z'] => {}
            [b'.', frac @ .., b'Z'] if !frac.is_empty() && frac.iter().all(u8::is_ascii_digit) => {
                let mut scale = NANOS_PER_SEC / 10;
                for d in frac.iter().take(9) {
                    nanos += i128::from(d - b'0') * scale;
                    scale /= 10;
                }
            }
            _ => return None,
        }
        let days = days_from_civil(year, month, day);
        let secs = i128::from(days) * 86_400 + i128::from(hour * 3600 + minute * 60 + second);
        Some(Timestamp(secs * NANOS_PER_SEC + nanos))
    }

    /// This instant plus a (non-negative, finite) number of seconds.
    pub fn plus_seconds(self, seconds: f64) -> Timestamp {
        Timestamp(self.0 + (seconds * 1e9).round() as i128)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.div_euclid(NANOS_PER_SEC);
        let nanos = self.0.rem_euclid(NANOS_PER_SEC);
        let days = secs.div_euclid(86_400) as i64;
        let sod = secs.rem_euclid(86_400) as i64;
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            sod / 3600,
            sod / 60 % 60,
            sod % 60
        )?;
        if nanos != 0 {
            let frac = format!("{nanos:09}");
            write!(f, ".{}", frac.trim_end_matches('0'))?;
        }
        f.write_str("Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_round_trip() {
        for s in [
            "1970-01-01T00:00:00Z",
            "2016-02-29T23:59:59.123Z",
            "1601-01-01T00:00:00Z",
        ] {
            assert_eq!(Timestamp::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(
            Timestamp::parse("1970-01-01T00:00:01Z"),
            Some(Timestamp(NANOS_PER_SEC))
        );
    }

    #[test]
    fn rejects_impossible_dates_and_lower_case() {
        for s in [
            "2015-02-29T00:00:00Z",
            "2016-01-01t00:00:00Z",
            "2016-01-01T00:00:00z",
            "2016-01-01T00:00Z",
        ] {
            assert_eq!(Timestamp::parse(s), None, "{s}");
        }
    }
}
