//! UTC timestamps without a date crate: the civil-from-days algorithm (Howard Hinnant).

use std::time::{SystemTime, UNIX_EPOCH};

fn parts(time: SystemTime) -> (i64, u32, u32, u64, u64, u64) {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Now as RFC 3339 UTC, e.g. `2026-11-26T00:40:12Z`.
pub fn utc_now() -> String {
    utc_at(SystemTime::now())
}

/// A time as RFC 3339 UTC.
pub fn utc_at(time: SystemTime) -> String {
    let (y, mo, d, h, mi, s) = parts(time);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// Now as a file-name-safe stamp, e.g. `2026-11-26T00-40-12Z`.
pub fn utc_stamp_for_file() -> String {
    utc_now().replace(':', "-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn known_dates() {
        assert_eq!(parts(UNIX_EPOCH), (1970, 1, 1, 0, 0, 0));
        // 2024-02-29T12:34:56Z
        let leap = UNIX_EPOCH + Duration::from_secs(1_709_210_096);
        assert_eq!(parts(leap), (2024, 2, 29, 12, 34, 56));
    }
}
