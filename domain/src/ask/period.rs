//! Relative dates in questions ("this week", "last quarter", "in the last 30 days",
//! "since March", "yesterday") as half-open UTC ranges, computed against a given `now`
//! so that answers and tests are reproducible.

use std::sync::LazyLock;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use regex::Regex;
use serde::{Deserialize, Serialize};

/// `[from, to)`, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Period {
    /// A range that is not empty and not inverted.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Option<Self> {
        (from < to).then_some(Self { from, to })
    }

    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.from <= at && at < self.to
    }
}

/// A period found in a question: the range and the words that named it, so the parser
/// can remove them before looking for names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundPeriod {
    pub period: Period,
    pub phrase: String,
    /// "in the last 90 days" also reads as a gap length ("haven't talked to in 90 days").
    pub days: Option<i64>,
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

static LAST_N: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:(?:in|over|during|within|for) )?(?:the )?(?:last|past|previous|over|more than) (\d{1,4}|a) (day|week|month|year)s?\b|\b(?:in|for|within) (\d{1,4}|a) (day|week|month|year)s?\b")
        .expect("valid regex")
});
static NAMED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(this|last|previous|past) (week|month|quarter|year)\b|\b(today|yesterday)\b")
        .expect("valid regex")
});
static SINCE_MONTH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(since|in|during) (january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)(?: (\d{4}))?\b")
        .expect("valid regex")
});
static SINCE_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(since|after|before|on) (\d{4})-(\d{2})-(\d{2})\b").expect("valid regex")
});
static QUARTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:(?:in|during|for) (?:the )?)?(?:q([1-4])|(first|second|third|fourth|1st|2nd|3rd|4th) quarter)(?: (?:of )?(\d{4}))?\b")
        .expect("valid regex")
});
static BETWEEN_DATES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:between|from) (\d{4})-(\d{2})-(\d{2}) (?:and|to|until|through) (\d{4})-(\d{2})-(\d{2})\b")
        .expect("valid regex")
});
static IN_YEAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(in|during|since|for|of|throughout) (20\d{2}|19\d{2})\b").expect("valid regex")
});

/// The first period named in `text` (lowercase), as of `now`.
pub fn find_period(text: &str, now: DateTime<Utc>) -> Option<FoundPeriod> {
    if let Some(c) = LAST_N.captures(text) {
        let (n, unit) = match (c.get(1), c.get(2)) {
            (Some(n), Some(unit)) => (n.as_str(), unit.as_str()),
            _ => (c.get(3)?.as_str(), c.get(4)?.as_str()),
        };
        let n: i64 = if n == "a" { 1 } else { n.parse().ok()? };
        let days = match unit {
            "day" => n,
            "week" => n * 7,
            "month" => n * 30,
            _ => n * 365,
        };
        return Some(FoundPeriod {
            period: Period::new(now - Duration::days(days), now)?,
            phrase: c.get(0)?.as_str().to_owned(),
            days: Some(days),
        });
    }
    if let Some(c) = NAMED.captures(text) {
        let phrase = c.get(0)?.as_str().to_owned();
        let period = match (c.get(1).map(|m| m.as_str()), c.get(2).map(|m| m.as_str())) {
            (Some(which), Some(unit)) => named(unit, which == "this", now)?,
            _ if phrase == "today" => Period::new(start_of_day(now), now + Duration::seconds(1))?,
            _ => Period::new(start_of_day(now) - Duration::days(1), start_of_day(now))?,
        };
        return Some(FoundPeriod {
            period,
            phrase,
            days: None,
        });
    }
    if let Some(c) = BETWEEN_DATES.captures(text) {
        let day = |y: &str, m: &str, d: &str| -> Option<DateTime<Utc>> {
            let date = NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)?;
            Some(Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0)?))
        };
        let from = day(&c[1], &c[2], &c[3])?;
        // The end day is included: "between March 1 and March 31" covers the 31st.
        let to = day(&c[4], &c[5], &c[6])? + Duration::days(1);
        return Some(FoundPeriod {
            period: Period::new(from, to)?,
            phrase: c[0].to_owned(),
            days: None,
        });
    }
    if let Some(c) = QUARTER.captures(text) {
        let n: u32 = match (c.get(1), c.get(2)) {
            (Some(n), _) => n.as_str().parse().ok()?,
            (_, Some(word)) => match &word.as_str()[..2] {
                "fi" | "1s" => 1,
                "se" | "2n" => 2,
                "th" | "3r" => 3,
                _ => 4,
            },
            _ => return None,
        };
        let first_month = (n - 1) * 3 + 1;
        let year = match c.get(3) {
            Some(y) => y.as_str().parse().ok()?,
            // The most recent such quarter that has started.
            None if first_month <= now.month() => now.year(),
            None => now.year() - 1,
        };
        let start = month_start(year, first_month)?;
        let end = next_month(next_month(next_month(start)?)?)?;
        return Some(FoundPeriod {
            // The current quarter ends now, like "this quarter".
            period: Period::new(start, end.min(now + Duration::seconds(1)))?,
            phrase: c[0].to_owned(),
            days: None,
        });
    }
    if let Some(c) = SINCE_DATE.captures(text) {
        let date =
            NaiveDate::from_ymd_opt(c[2].parse().ok()?, c[3].parse().ok()?, c[4].parse().ok()?)?;
        let day = Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0)?);
        let period = match &c[1] {
            "before" => Period::new(DateTime::<Utc>::MIN_UTC, day)?,
            "on" => Period::new(day, day + Duration::days(1))?,
            _ => Period::new(day, now)?,
        };
        return Some(FoundPeriod {
            period,
            phrase: c[0].to_owned(),
            days: None,
        });
    }
    if let Some(c) = SINCE_MONTH.captures(text) {
        let name = &c[2];
        let month = MONTHS.iter().position(|m| m.starts_with(name))? as u32 + 1;
        let year = match c.get(3) {
            Some(y) => y.as_str().parse().ok()?,
            // The most recent such month that has started.
            None if month <= now.month() => now.year(),
            None => now.year() - 1,
        };
        let start = month_start(year, month)?;
        let period = if &c[1] == "since" {
            Period::new(start, now)?
        } else {
            Period::new(start, next_month(start)?)?
        };
        return Some(FoundPeriod {
            period,
            phrase: c[0].to_owned(),
            days: None,
        });
    }
    if let Some(c) = IN_YEAR.captures(text) {
        let year: i32 = c[2].parse().ok()?;
        let start = month_start(year, 1)?;
        let end = if &c[1] == "since" {
            now
        } else {
            month_start(year + 1, 1)?
        };
        return Some(FoundPeriod {
            period: Period::new(start, end)?,
            phrase: c[0].to_owned(),
            days: None,
        });
    }
    None
}

/// "this week" runs from Monday 00:00 to now; "last week" is the whole week before.
/// Months, quarters and years alike.
fn named(unit: &str, current: bool, now: DateTime<Utc>) -> Option<Period> {
    let today = start_of_day(now);
    let (start, previous_start) = match unit {
        "week" => {
            let start = today - Duration::days(i64::from(now.weekday().num_days_from_monday()));
            (start, start - Duration::days(7))
        }
        "month" => {
            let start = month_start(now.year(), now.month())?;
            (start, previous_months(start, 1)?)
        }
        "quarter" => {
            let first_month = (now.month() - 1) / 3 * 3 + 1;
            let start = month_start(now.year(), first_month)?;
            (start, previous_months(start, 3)?)
        }
        _ => {
            let start = month_start(now.year(), 1)?;
            (start, month_start(now.year() - 1, 1)?)
        }
    };
    if current {
        Period::new(start, now + Duration::seconds(1))
    } else {
        Period::new(previous_start, start)
    }
}

fn start_of_day(at: DateTime<Utc>) -> DateTime<Utc> {
    Utc.from_utc_datetime(
        &at.date_naive()
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists"),
    )
}

fn month_start(year: i32, month: u32) -> Option<DateTime<Utc>> {
    let date = NaiveDate::from_ymd_opt(year, month, 1)?;
    Some(Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0)?))
}

fn next_month(start: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if start.month() == 12 {
        month_start(start.year() + 1, 1)
    } else {
        month_start(start.year(), start.month() + 1)
    }
}

fn previous_months(start: DateTime<Utc>, months: u32) -> Option<DateTime<Utc>> {
    let index = start.year() * 12 + start.month() as i32 - 1 - months as i32;
    month_start(index.div_euclid(12), index.rem_euclid(12) as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Wednesday afternoon.
    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 5, 14, 15, 30, 0).unwrap()
    }

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
    }

    fn range(text: &str) -> (DateTime<Utc>, DateTime<Utc>) {
        let found = find_period(text, now()).unwrap_or_else(|| panic!("no period in {text:?}"));
        (found.period.from, found.period.to)
    }

    #[test]
    fn weeks_start_on_monday() {
        assert_eq!(range("who did i email this week").0, at(2025, 5, 12));
        assert_eq!(range("last week"), (at(2025, 5, 5), at(2025, 5, 12)));
    }

    #[test]
    fn months_quarters_and_years() {
        assert_eq!(range("this month").0, at(2025, 5, 1));
        assert_eq!(range("last month"), (at(2025, 4, 1), at(2025, 5, 1)));
        assert_eq!(range("this quarter").0, at(2025, 4, 1));
        assert_eq!(range("last quarter"), (at(2025, 1, 1), at(2025, 4, 1)));
        assert_eq!(range("last year"), (at(2024, 1, 1), at(2025, 1, 1)));
        assert_eq!(range("in 2024"), (at(2024, 1, 1), at(2025, 1, 1)));
        assert_eq!(
            range("email count for 2024"),
            (at(2024, 1, 1), at(2025, 1, 1))
        );
    }

    #[test]
    fn last_quarter_in_january_is_the_previous_years_fourth() {
        let january = Utc.with_ymd_and_hms(2025, 1, 20, 9, 0, 0).unwrap();
        let found = find_period("last quarter", january).unwrap();
        assert_eq!(found.period.from, at(2024, 10, 1));
        assert_eq!(found.period.to, at(2025, 1, 1));
    }

    #[test]
    fn counted_days_weeks_and_months() {
        assert_eq!(range("in the last 30 days").0, now() - Duration::days(30));
        assert_eq!(range("past 2 weeks").0, now() - Duration::days(14));
        let gap = find_period("people i haven't talked to in 90 days", now()).unwrap();
        assert_eq!(gap.days, Some(90));
        assert_eq!(gap.phrase, "in 90 days");
        assert_eq!(range("over the last 6 weeks").0, now() - Duration::days(42));
        assert_eq!(range("not in over 3 months").0, now() - Duration::days(90));
        assert_eq!(range("for more than a year").0, now() - Duration::days(365));
    }

    #[test]
    fn today_and_yesterday() {
        assert_eq!(range("today").0, at(2025, 5, 14));
        assert_eq!(range("yesterday"), (at(2025, 5, 13), at(2025, 5, 14)));
    }

    #[test]
    fn since_a_month_means_its_latest_occurrence() {
        assert_eq!(range("since march"), (at(2025, 3, 1), now()));
        assert_eq!(range("since september").0, at(2024, 9, 1));
        assert_eq!(range("in feb 2024"), (at(2024, 2, 1), at(2024, 3, 1)));
        assert_eq!(range("since 2025-02-10"), (at(2025, 2, 10), now()));
    }

    #[test]
    fn quarters_and_date_ranges() {
        assert_eq!(range("in q1"), (at(2025, 1, 1), at(2025, 4, 1)));
        assert_eq!(range("in q3"), (at(2024, 7, 1), at(2024, 10, 1)));
        assert_eq!(
            range("during the fourth quarter of 2023"),
            (at(2023, 10, 1), at(2024, 1, 1))
        );
        assert_eq!(range("q2 2025").0, at(2025, 4, 1));
        assert_eq!(
            range("between 2025-03-01 and 2025-03-31"),
            (at(2025, 3, 1), at(2025, 4, 1))
        );
    }

    #[test]
    fn no_period_is_none() {
        assert_eq!(find_period("who is dana", now()), None);
        assert_eq!(find_period("who works at acme.com", now()), None);
    }
}
