//! The user's time zone (`users.time_zone`, an IANA name): logged interactions are
//! entered and shown on its clock, and calendar days are its days. Until the user picks
//! one in Settings (`time_zone_chosen`), the browser's zone is adopted when it reports
//! one, so the first interaction someone logs is already at the time they meant.

use api::interactions::{LocalTime, WallClock};
use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::DomainError;
use crate::db::UserScope;

/// A time zone from the tz database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserZone(Tz);

impl UserZone {
    pub const UTC: UserZone = UserZone(Tz::UTC);

    /// An IANA name such as `Europe/Paris`.
    pub fn parse(name: &str) -> Result<Self, DomainError> {
        let name = name.trim();
        name.parse::<Tz>().map(Self).map_err(|_| {
            DomainError::invalid(
                "time_zone",
                format!(
                    "{name:?} is not a time zone name such as Europe/Paris or America/New_York"
                ),
            )
        })
    }

    /// A stored name: parsed on the way in, so only one a later tz database dropped
    /// fails, and it reads as UTC.
    pub(crate) fn parse_stored(name: &str) -> Self {
        Self::parse(name).unwrap_or(Self::UTC)
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// Every zone the user can pick, by name.
    pub fn names() -> impl Iterator<Item = &'static str> {
        chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
    }

    /// What the user's clock reads at `at`.
    pub fn local(self, at: DateTime<Utc>) -> LocalTime {
        let there = at.with_timezone(&self.0);
        LocalTime {
            at: there.naive_local(),
            zone: there.format("%Z").to_string(),
        }
    }

    /// The user's date at `at`.
    pub fn date(self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.0).date_naive()
    }

    /// When the user's `day` begins: midnight, or the first minute after the clocks
    /// skipped it (a few zones change at midnight).
    pub fn start_of(self, day: NaiveDate) -> DateTime<Utc> {
        let midnight = day.and_time(NaiveTime::MIN);
        (0..=24 * 4)
            .find_map(|quarter| {
                self.0
                    .from_local_datetime(&(midnight + Duration::minutes(15 * quarter)))
                    .earliest()
            })
            .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
    }
}

impl WallClock for UserZone {
    fn instant(&self, local: NaiveDateTime) -> Result<DateTime<Utc>, String> {
        match self.0.from_local_datetime(&local) {
            LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
            // A reading the clocks show twice (they went back): the first, as calendars do.
            LocalResult::Ambiguous(first, _) => Ok(first.with_timezone(&Utc)),
            LocalResult::None => Err(format!(
                "{} does not exist on {} in {} (the clocks go forward then); pick a later time",
                local.format("%H:%M"),
                local.format("%Y-%m-%d"),
                self.name(),
            )),
        }
    }
}

impl UserScope<'_> {
    /// The user's time zone (UTC until one is known).
    pub async fn time_zone(self) -> Result<UserZone, DomainError> {
        Ok(self.time_zone_setting().await?.0)
    }

    /// The user's time zone, and whether they picked it (else it is the browser's).
    pub async fn time_zone_setting(self) -> Result<(UserZone, bool), DomainError> {
        let row = sqlx::query!(
            "select time_zone, time_zone_chosen from users where id = $1",
            self.user.0
        )
        .fetch_optional(self.pool)
        .await?
        .ok_or(DomainError::NotFound("user"))?;
        Ok((UserZone::parse_stored(&row.time_zone), row.time_zone_chosen))
    }

    /// The zone the user picked in Settings; the browser's no longer replaces it.
    pub async fn choose_time_zone(self, zone: UserZone) -> Result<(), DomainError> {
        sqlx::query!(
            "update users set time_zone = $2, time_zone_chosen = true where id = $1",
            self.user.0,
            zone.name(),
        )
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// The browser's zone, taken unless the user picked one; whether it changed anything.
    pub async fn adopt_browser_time_zone(self, zone: UserZone) -> Result<bool, DomainError> {
        let changed = sqlx::query!(
            r#"update users set time_zone = $2
               where id = $1 and not time_zone_chosen and time_zone <> $2"#,
            self.user.0,
            zone.name(),
        )
        .execute(self.pool)
        .await?
        .rows_affected();
        Ok(changed > 0)
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn reading(day: (i32, u32, u32), h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(day.0, day.1, day.2)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
    }

    #[test]
    fn names_parse_and_nonsense_names_itself() {
        assert_eq!(
            UserZone::parse(" Europe/Paris ").unwrap().name(),
            "Europe/Paris"
        );
        let error = UserZone::parse("Mars/Olympus").unwrap_err().to_string();
        assert!(
            error.contains("time_zone") && error.contains("Mars/Olympus"),
            "{error}"
        );
        assert!(UserZone::names().any(|n| n == "America/New_York"));
    }

    #[test]
    fn the_clock_reads_local_time_across_daylight_saving() {
        let paris = UserZone::parse("Europe/Paris").unwrap();
        // Winter: UTC+1; summer: UTC+2.
        let winter = paris.instant(reading((2026, 12, 8), 10, 30)).unwrap();
        assert_eq!(winter.to_rfc3339(), "2026-12-08T09:30:00+00:00");
        let summer = paris.instant(reading((2027, 7, 8), 10, 30)).unwrap();
        assert_eq!(summer.to_rfc3339(), "2027-07-08T08:30:00+00:00");
        let shown = paris.local(winter);
        assert_eq!(
            (shown.at, shown.zone.as_str()),
            (reading((2026, 12, 8), 10, 30), "CET")
        );
        // 28 March 2027, 02:30 does not exist in Paris; 31 October 2027, 02:30 exists twice.
        let gap = paris.instant(reading((2027, 3, 28), 2, 30)).unwrap_err();
        assert!(
            gap.contains("does not exist") && gap.contains("Europe/Paris"),
            "{gap}"
        );
        let twice = paris.instant(reading((2027, 10, 31), 2, 30)).unwrap();
        assert_eq!(twice.to_rfc3339(), "2027-10-31T00:30:00+00:00");
    }

    #[test]
    fn days_start_at_the_users_midnight() {
        let tokyo = UserZone::parse("Asia/Tokyo").unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 12, 8).unwrap();
        assert_eq!(
            tokyo.start_of(day).to_rfc3339(),
            "2026-12-07T15:00:00+00:00"
        );
        assert_eq!(tokyo.date(tokyo.start_of(day)), day);
        // Santiago skips midnight when its clocks go forward (2026-09-06).
        let santiago = UserZone::parse("America/Santiago").unwrap();
        let skipped = NaiveDate::from_ymd_opt(2026, 9, 6).unwrap();
        assert_eq!(santiago.date(santiago.start_of(skipped)), skipped);
        assert_eq!(
            UserZone::UTC.start_of(day).to_rfc3339(),
            "2026-12-08T00:00:00+00:00"
        );
    }
}
