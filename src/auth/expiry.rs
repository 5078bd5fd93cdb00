//! When an API token expires, from what its creator chose: a number of days
//! from now, or a calendar date (the token works through that day, UTC).

use jiff::civil::Date;

const DAY: i64 = 86_400;
/// Ten years: anything longer is "never", which is also allowed.
const MAX_DAYS: i64 = 3650;

/// The Unix second after which the token is refused, or `None` for a token
/// that lives until revoked.
pub fn token_expiry(
    days: Option<i64>,
    date: Option<&str>,
    now: i64,
) -> Result<Option<i64>, String> {
    let date = date.map(str::trim).filter(|d| !d.is_empty());
    match (days, date) {
        (None, None) => Ok(None),
        (Some(_), Some(_)) => Err("give the expiry in days or as a date, not both".into()),
        (Some(days), None) if (1..=MAX_DAYS).contains(&days) => Ok(Some(now + days * DAY)),
        (Some(_), None) => Err(format!("a token expires after 1 to {MAX_DAYS} days")),
        (None, Some(text)) => {
            let date: Date = text
                .parse()
                .map_err(|_| format!("{text:?} is not a date (YYYY-MM-DD)"))?;
            let end_of_day = date
                .tomorrow()
                .ok()
                .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
                .map(|z| z.timestamp().as_second())
                .ok_or_else(|| format!("{text:?} is out of range"))?;
            if end_of_day <= now {
                return Err("the expiry date has passed".into());
            }
            if end_of_day > now + (MAX_DAYS + 1) * DAY {
                return Err(format!("a token expires within {MAX_DAYS} days"));
            }
            Ok(Some(end_of_day))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::token_expiry;

    // 2026-11-18T11:06:40Z
    const NOW: i64 = 1_795_000_000;

    #[test]
    fn days_count_from_now_and_dates_run_through_their_day() {
        assert_eq!(token_expiry(None, None, NOW), Ok(None));
        assert_eq!(token_expiry(None, Some(" "), NOW), Ok(None));
        assert_eq!(
            token_expiry(Some(30), None, NOW),
            Ok(Some(NOW + 30 * 86_400))
        );
        // 2026-11-20 ends at 2026-11-21T00:00:00Z.
        assert_eq!(
            token_expiry(None, Some("2026-11-20"), NOW),
            Ok(Some(1_795_219_200))
        );
        assert_eq!(
            token_expiry(None, Some("2026-11-18"), NOW),
            Ok(Some(1_795_046_400)),
            "today still counts"
        );
    }

    #[test]
    fn past_dates_bad_counts_and_both_at_once_are_refused() {
        assert!(token_expiry(None, Some("2026-11-17"), NOW).is_err());
        assert!(token_expiry(None, Some("18/11/2026"), NOW).is_err());
        assert!(token_expiry(Some(0), None, NOW).is_err());
        assert!(token_expiry(Some(-5), None, NOW).is_err());
        assert!(token_expiry(Some(3651), None, NOW).is_err());
        assert!(token_expiry(Some(1), Some("2026-12-01"), NOW).is_err());
        assert!(token_expiry(None, Some("2040-01-01"), NOW).is_err());
    }
}
