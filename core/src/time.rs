//! UTC timestamps in the exact form JavaScript's `Date.prototype.toISOString` prints
//! (`2025-09-08T15:14:28.688Z`), and back, without a date-time dependency.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, like `Date.now()`.
pub fn now_ms() -> i64 {
    to_ms(SystemTime::now())
}

pub fn to_ms(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i64,
        Err(e) => -(e.duration().as_millis() as i64),
    }
}

pub fn from_ms(ms: i64) -> SystemTime {
    if ms >= 0 {
        UNIX_EPOCH + Duration::from_millis(ms as u64)
    } else {
        UNIX_EPOCH - Duration::from_millis(ms.unsigned_abs())
    }
}

/// `new Date(ms).toISOString()`.
pub fn iso8601(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

/// The current time as `toISOString()` prints it.
pub fn now_iso() -> String {
    iso8601(now_ms())
}

/// The legacy file-name form of a timestamp: the ISO string with `:` and `.` turned into `-`.
pub fn file_stamp(ms: i64) -> String {
    iso8601(ms).replace([':', '.'], "-")
}

/// Parse `YYYY-MM-DDTHH:MM:SS(.mmm)?Z`, and the file-name form with `-` separators, into ms.
pub fn parse_iso8601(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b.last() != Some(&b'Z') {
        return None;
    }
    let num = |from: usize, len: usize| -> Option<i64> {
        let s = text.get(from..from + len)?;
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let sep_ok = b[4] == b'-' && b[7] == b'-' && b[10] == b'T';
    let time_sep = |i: usize| b[i] == b':' || b[i] == b'-';
    if !sep_ok || !time_sep(13) || !time_sep(16) {
        return None;
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (h, mi, s) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    let millis = match b.len() {
        20 => 0,
        24 if b[19] == b'.' || b[19] == b'-' => num(20, 3)?,
        _ => return None,
    };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    Some(days * 86_400_000 + h * 3_600_000 + mi * 60_000 + s * 1000 + millis)
}

// Howard Hinnant's civil calendar algorithms (public domain).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_to_iso_string() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_757_344_468_688), "2025-09-08T15:14:28.688Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn file_stamp_replaces_colons_and_dots() {
        assert_eq!(file_stamp(1_757_344_468_688), "2025-09-08T15-14-28-688Z");
    }

    #[test]
    fn parses_both_forms_back() {
        for ms in [0, 1_757_344_468_688, 951_782_400_000, 4_102_444_799_999] {
            assert_eq!(parse_iso8601(&iso8601(ms)), Some(ms));
            assert_eq!(parse_iso8601(&file_stamp(ms)), Some(ms));
        }
        assert_eq!(
            parse_iso8601("2025-09-08T15:14:28Z"),
            Some(1_757_344_468_000)
        );
        assert_eq!(parse_iso8601("not a date"), None);
        assert_eq!(parse_iso8601("2025-13-08T15:14:28.688Z"), None);
    }

    /// The calendar by the plain rules (a day at a time, leap years by the Gregorian rule),
    /// against Hinnant's arithmetic: every day of 1601..2399 (two 400-year eras, so every
    /// century rule, and negative day numbers before 1970), both ways.
    #[test]
    fn the_calendar_matches_counting_day_by_day() {
        let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let month_days = |y: i64, m: i64| match m {
            2 if leap(y) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        // 1601-01-01 is 134_774 days before 1970-01-01
        let (mut y, mut m, mut d, mut z) = (1601, 1, 1, -134_774);
        while y < 2400 {
            assert_eq!(civil_from_days(z), (y, m, d), "day {z}");
            assert_eq!(days_from_civil(y, m, d), z, "{y}-{m}-{d}");
            z += 1;
            d += 1;
            if d > month_days(y, m) {
                (m, d) = (m + 1, 1);
            }
            if m > 12 {
                (y, m) = (y + 1, 1);
            }
        }
    }

    /// Every field of the printed time, before and after 1970 (`new Date(-1).toISOString()`
    /// is the last millisecond of 1969).
    #[test]
    fn each_field_of_the_time_is_printed_in_its_place() {
        assert_eq!(iso8601(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(iso8601(-86_400_000), "1969-12-31T00:00:00.000Z");
        let ms = ((((20_000 * 24 + 13) * 60 + 47) * 60 + 5) * 1000) + 9;
        assert_eq!(iso8601(ms), "2024-10-04T13:47:05.009Z");
        assert_eq!(file_stamp(ms), "2024-10-04T13-47-05-009Z");
        assert_eq!(parse_iso8601("2024-10-04T13:47:05.009Z"), Some(ms));
        assert_eq!(parse_iso8601("1969-12-31T23:59:59.999Z"), Some(-1));
    }

    /// What the parser takes: each field at its bounds, and nothing else (a wrong length,
    /// separator, digit or range).
    #[test]
    fn the_parser_takes_each_field_within_its_bounds_only() {
        let base = parse_iso8601("2024-01-01T00:00:00.000Z").unwrap();
        for (text, after) in [
            ("2024-12-31T23:59:59.999Z", 365 * 86_400_000 + 86_399_999),
            ("2024-01-31T00:00:00Z", 30 * 86_400_000),
            // a leap second reads as the next minute's first
            ("2024-01-01T00:00:60Z", 60_000),
            ("2024-01-01T00-00-00-001Z", 1),
        ] {
            assert_eq!(parse_iso8601(text), Some(base + after), "{text}");
        }
        for text in [
            "2024-01-01T00:00:00.000",
            "2024-01-01T00:00:00.000z",
            "2024-01-01T00:00:0Z",
            "2024-01-01T00:00:00.0Z",
            "2024-01-01T00:00:00.00Z",
            "2024-01-01T00:00:00.0000Z",
            "2024-01-01T00:00:00+000Z",
            "2024/01-01T00:00:00Z",
            "2024-01/01T00:00:00Z",
            "2024-01-01 00:00:00Z",
            "2024-01-01T00.00:00Z",
            "2024-01-01T00:00.00Z",
            "2024-00-01T00:00:00Z",
            "2024-01-00T00:00:00Z",
            "2024-01-32T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:60:00Z",
            "2024-01-01T00:00:61Z",
            "2024-01-01T00:00:00.+01Z",
            "20x4-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_iso8601(text), None, "{text}");
        }
    }

    #[test]
    fn system_times_convert_to_ms_and_back_on_both_sides_of_1970() {
        let epoch = UNIX_EPOCH;
        for ms in [-1_500, -1, 0, 1, 1_500, 1_757_344_468_688] {
            let time = from_ms(ms);
            assert_eq!(to_ms(time), ms);
            let offset = Duration::from_millis(ms.unsigned_abs());
            let expected = if ms < 0 {
                epoch - offset
            } else {
                epoch + offset
            };
            assert_eq!(time, expected, "{ms}");
        }
        let now = now_ms();
        let parsed = parse_iso8601(&now_iso()).unwrap();
        assert!((now..now + 60_000).contains(&parsed), "{now} {parsed}");
    }
}
