//! Dates as authors write them (`YYYY-MM-DD` or RFC 3339) and as outputs need them.

use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// A publication or update date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(into = "(String, bool)", try_from = "(String, bool)")]
pub struct Date {
    /// The instant, in the offset the author wrote (UTC for a date without a time).
    pub at: DateTime<FixedOffset>,
    /// Whether the author wrote only a day (`2024-05-01`).
    pub date_only: bool,
}

impl From<Date> for (String, bool) {
    fn from(d: Date) -> Self {
        (
            d.at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            d.date_only,
        )
    }
}

impl TryFrom<(String, bool)> for Date {
    type Error = String;
    fn try_from((s, date_only): (String, bool)) -> Result<Self, String> {
        let at = DateTime::parse_from_rfc3339(&s).map_err(|e| e.to_string())?;
        Ok(Date { at, date_only })
    }
}

impl Ord for Date {
    fn cmp(&self, other: &Self) -> Ordering {
        self.at
            .cmp(&other.at)
            .then(self.date_only.cmp(&other.date_only))
    }
}

impl PartialOrd for Date {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// What a date must look like, for error messages.
pub const DATE_HELP: &str =
    "write the date as YYYY-MM-DD (2024-05-14) or as an RFC 3339 date-time (2024-05-14T08:30:00Z)";

impl Date {
    /// Parses `YYYY-MM-DD`, RFC 3339, or a date-time without an offset (taken as UTC).
    pub fn parse(text: &str) -> Result<Date, String> {
        let t = text.trim();
        let year_ok = t.len() >= 10 && t.as_bytes()[..4].iter().all(u8::is_ascii_digit);
        if !year_ok || t.as_bytes().get(4) != Some(&b'-') {
            return Err(format!("{t:?} is not a date"));
        }
        if t.len() == 10 {
            let day = NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .map_err(|e| format!("{t:?} is not a valid date ({e})"))?;
            let at = Utc
                .from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
                .fixed_offset();
            return Ok(Date {
                at,
                date_only: true,
            });
        }
        if let Ok(at) = DateTime::parse_from_rfc3339(t) {
            return Ok(Date {
                at,
                date_only: false,
            });
        }
        for fmt in [
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M",
        ] {
            if let Ok(naive) = NaiveDateTime::parse_from_str(t, fmt) {
                return Ok(Date {
                    at: Utc.from_utc_datetime(&naive).fixed_offset(),
                    date_only: false,
                });
            }
        }
        // A space instead of `T` before an offset, as YAML timestamps allow.
        if t.as_bytes().get(10) == Some(&b' ') {
            let with_t = format!("{}T{}", &t[..10], &t[11..]);
            if let Ok(at) = DateTime::parse_from_rfc3339(&with_t) {
                return Ok(Date {
                    at,
                    date_only: false,
                });
            }
        }
        Err(format!("{t:?} is not a valid date or date-time"))
    }

    /// `2024-05-14`.
    pub fn ymd(&self) -> String {
        use chrono::Datelike;
        let (y, m, d) = (self.at.year(), self.at.month(), self.at.day());
        if !(0..=9999).contains(&y) {
            // A sign or a fifth digit: as chrono writes them.
            return self.at.format("%Y-%m-%d").to_string();
        }
        // Digits written directly: a strftime format is parsed anew on every call.
        let digit = |n: u32| char::from(b'0' + (n % 10) as u8);
        let y = y as u32;
        [
            digit(y / 1000),
            digit(y / 100),
            digit(y / 10),
            digit(y),
            '-',
            digit(m / 10),
            digit(m),
            '-',
            digit(d / 10),
            digit(d),
        ]
        .into_iter()
        .collect()
    }

    /// RFC 3339, as Atom, JSON Feed, sitemaps and `<time datetime>` want it.
    pub fn rfc3339(&self) -> String {
        self.at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    }

    /// RFC 2822, as RSS wants it.
    pub fn rfc2822(&self) -> String {
        self.at.to_rfc2822()
    }

    /// The year, for archives and copyright lines.
    pub fn year(&self) -> i32 {
        use chrono::Datelike;
        self.at.year()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_only() {
        let d = Date::parse("2024-05-14").unwrap();
        assert!(d.date_only);
        assert_eq!(d.rfc3339(), "2024-05-14T00:00:00Z");
        assert_eq!(d.ymd(), "2024-05-14");
        assert_eq!(d.rfc2822(), "Tue, 14 May 2024 00:00:00 +0000");
    }

    #[test]
    fn ymd_writes_what_the_strftime_format_writes() {
        use chrono::{Duration, TimeZone, Utc};
        let mut days = vec![
            Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(-1, 12, 31, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(7, 3, 9, 0, 0, 0).unwrap(),
        ];
        // Every day of 1999 to 2001 (leap days and all), at hours that cross midnight in
        // the offsets below.
        let start = Utc.with_ymd_and_hms(1999, 1, 1, 0, 0, 0).unwrap();
        days.extend((0..3 * 366).map(|k| start + Duration::hours(k * 24 + k % 24)));
        for utc in days {
            for offset in [0, 9 * 3600, -(5 * 3600 + 1800)] {
                let at = utc.with_timezone(&chrono::FixedOffset::east_opt(offset).unwrap());
                let d = Date {
                    at,
                    date_only: false,
                };
                assert_eq!(d.ymd(), at.format("%Y-%m-%d").to_string(), "{at}");
            }
        }
    }

    #[test]
    fn rfc3339_keeps_offset() {
        let d = Date::parse("2024-05-14T08:30:00+09:00").unwrap();
        assert_eq!(d.rfc3339(), "2024-05-14T08:30:00+09:00");
        assert_eq!(
            Date::parse("2018-08-21T01:51:00Z").unwrap().rfc3339(),
            "2018-08-21T01:51:00Z"
        );
        assert_eq!(
            Date::parse("2018-08-21 01:51:00").unwrap().rfc3339(),
            "2018-08-21T01:51:00Z"
        );
    }

    #[test]
    fn invalid_dates_are_refused() {
        for bad in [
            "2024-13-01",
            "2024-02-30",
            "yesterday",
            "10000-01-01",
            "",
            "2024-5-1",
            "24-05-01",
        ] {
            assert!(Date::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ordering_is_by_instant() {
        let a = Date::parse("2024-05-14T08:30:00+09:00").unwrap();
        let b = Date::parse("2024-05-14T00:00:00Z").unwrap();
        assert!(a < b);
    }
}
