//! STIX timestamps: RFC 3339 in UTC with a literal `Z` (`YYYY-MM-DDTHH:MM:SS[.s+]Z`).
//! Parsing is allocation-free; two timestamps compare by instant, whatever their precision.

use std::cmp::Ordering;

/// A syntactically valid STIX timestamp, borrowed from its JSON string.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timestamp<'a> {
    /// `YYYY-MM-DDTHH:MM:SS`, which orders lexicographically.
    whole: &'a str,
    /// Fractional-second digits without the dot (possibly empty).
    fraction: &'a str,
}

impl<'a> Timestamp<'a> {
    /// Parses `s`, or says in a few words why it is not a STIX timestamp.
    pub(crate) fn parse(s: &'a str) -> Result<Timestamp<'a>, &'static str> {
        let b = s.as_bytes();
        if b.len() < 20 {
            return Err("too short for YYYY-MM-DDTHH:MM:SSZ");
        }
        let shape_ok = b[4] == b'-'
            && b[7] == b'-'
            && b[10] == b'T'
            && b[13] == b':'
            && b[16] == b':'
            && [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
                .iter()
                .all(|&i| b[i].is_ascii_digit());
        if !shape_ok {
            return Err("not of the form YYYY-MM-DDTHH:MM:SS[.s+]Z");
        }
        if b[b.len() - 1] != b'Z' {
            return Err("must be in UTC and end with a literal 'Z'");
        }
        let fraction = match b[19] {
            b'Z' if b.len() == 20 => "",
            b'.' if b.len() > 21 && b[20..b.len() - 1].iter().all(u8::is_ascii_digit) => {
                &s[20..s.len() - 1]
            }
            _ => return Err("fractional seconds must be '.' followed by digits, then 'Z'"),
        };
        let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().unwrap_or(u32::MAX);
        let (year, month, day) = (num(0..4), num(5..7), num(8..10));
        let (hour, minute, second) = (num(11..13), num(14..16), num(17..19));
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err("date out of range");
        }
        if hour > 23 || minute > 59 || second > 60 {
            return Err("time of day out of range");
        }
        Ok(Timestamp {
            whole: &s[..19],
            fraction,
        })
    }

    /// Number of fractional-second digits written.
    pub(crate) fn precision(&self) -> usize {
        self.fraction.len()
    }
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl Ord for Timestamp<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        // Trailing zeros carry no value; after trimming, digit strings order lexicographically.
        let a = self.fraction.trim_end_matches('0');
        let b = other.fraction.trim_end_matches('0');
        self.whole.cmp(other.whole).then_with(|| a.cmp(b))
    }
}

impl PartialOrd for Timestamp<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Timestamp<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Timestamp<'_> {}

#[cfg(test)]
mod tests {
    use super::Timestamp;

    #[test]
    fn accepts_utc_with_any_precision() {
        for s in [
            "2016-04-06T20:03:48Z",
            "2016-04-06T20:03:48.123Z",
            "2016-02-29T23:59:60.123456789Z",
        ] {
            assert!(Timestamp::parse(s).is_ok(), "{s}");
        }
    }

    #[test]
    fn rejects_offsets_lowercase_and_impossible_dates() {
        for s in [
            "2016-04-06T20:03:48+00:00",
            "2016-04-06t20:03:48z",
            "2016-04-06 20:03:48Z",
            "2017-02-29T00:00:00Z",
            "2016-13-01T00:00:00Z",
            "2016-04-06T24:00:00Z",
            "2016-04-06T20:03:48.Z",
            "2016-04-06",
        ] {
            assert!(Timestamp::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn compares_by_instant_not_by_text() {
        let a = Timestamp::parse("2016-04-06T20:03:48.1Z").unwrap();
        let b = Timestamp::parse("2016-04-06T20:03:48.100Z").unwrap();
        let c = Timestamp::parse("2016-04-06T20:03:48.09Z").unwrap();
        let d = Timestamp::parse("2016-04-06T20:03:48Z").unwrap();
        assert_eq!(a, b);
        assert!(c < a && d < c);
        assert_eq!(b.precision(), 3);
    }
}
