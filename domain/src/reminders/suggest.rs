//! "Keep in touch?" suggestions: strong relationships whose silence is long for them.
//!
//! A person's rhythm is the median gap between the days you interacted (either way, any
//! channel): a weekly correspondent has a rhythm of about 7 days, a twice-a-year one of
//! about 180. Someone is going quiet when the days since the last interaction are at
//! least [`QUIET_FACTOR`] times that rhythm (and at least [`MIN_QUIET_DAYS`]); only
//! contacts with strength [`MIN_STRENGTH`] or more, with [`MIN_DAYS`] interaction days
//! or more (fewer is no rhythm), without a frequency of their own or from a tag, and not
//! dismissed are offered. The proposed frequency is the cadence just above the rhythm.

use api::reminders::{ContactSetting, Frequency, SuggestionRow};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::effective_frequency;
use crate::DomainError;
use crate::db::scopes::RemindersScope;

/// The least strength (0-100) a suggested relationship has.
pub const MIN_STRENGTH: i16 = 30;
/// The fewest days with an interaction that make a rhythm.
pub const MIN_DAYS: usize = 5;
/// How many rhythms of silence count as going quiet.
pub const QUIET_FACTOR: f64 = 3.0;
/// The shortest silence ever suggested about, in days.
pub const MIN_QUIET_DAYS: i64 = 14;

/// A person's usual rhythm and current silence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rhythm {
    /// The median gap between interaction days, in days.
    pub median_gap_days: f64,
    pub last_day: NaiveDate,
    /// Days from the last interaction day to `today`.
    pub quiet_days: i64,
}

/// The rhythm of `days` (sorted, distinct) as of `today`; `None` with fewer than
/// [`MIN_DAYS`] of them.
pub fn rhythm(days: &[NaiveDate], today: NaiveDate) -> Option<Rhythm> {
    if days.len() < MIN_DAYS {
        return None;
    }
    let mut gaps: Vec<i64> = days.windows(2).map(|w| (w[1] - w[0]).num_days()).collect();
    gaps.sort_unstable();
    let mid = gaps.len() / 2;
    let median = if gaps.len() % 2 == 1 {
        gaps[mid] as f64
    } else {
        (gaps[mid - 1] + gaps[mid]) as f64 / 2.0
    };
    let last_day = *days.last()?;
    Some(Rhythm {
        median_gap_days: median,
        last_day,
        quiet_days: (today - last_day).num_days(),
    })
}

/// Whether a relationship with this rhythm is going quiet, and the frequency to propose.
pub fn suggestion(rhythm: &Rhythm) -> Option<Frequency> {
    let quiet = rhythm.quiet_days as f64;
    (rhythm.quiet_days >= MIN_QUIET_DAYS && quiet >= QUIET_FACTOR * rhythm.median_gap_days)
        .then(|| Frequency::for_rhythm(rhythm.median_gap_days))
}

impl RemindersScope<'_> {
    /// Strong relationships going quiet as of `now`, the quietest for their rhythm first.
    pub async fn suggestions(
        self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<SuggestionRow>, DomainError> {
        let defaults = self.tag_defaults().await?;
        let candidates = sqlx::query!(
            r#"select c.id, coalesce(c.display_name, (select ci.value from contact_identities ci
                        where ci.user_id = c.user_id and ci.contact_id = c.id
                        order by ci.created_at, ci.value limit 1), 'Unnamed contact') as "name!",
                      c.tags, s.strength, k.setting as "setting?"
               from contacts c
               join contact_stats s on s.user_id = c.user_id and s.contact_id = c.id
               left join keep_in_touch k on k.user_id = c.user_id and k.contact_id = c.id
               where c.user_id = $1 and c.merged_into is null and s.strength >= $2
                 and not exists (select 1 from keep_in_touch_dismissals d
                                 where d.user_id = c.user_id and d.contact_id = c.id)"#,
            self.user.0,
            MIN_STRENGTH,
        )
        .fetch_all(self.pool)
        .await?;
        let open: Vec<_> = candidates
            .into_iter()
            .filter(|c| {
                // Only "nothing chosen": a contact with its own frequency, or one who
                // chose none, was already decided about.
                matches!(c.setting.as_deref(), None | Some("tag_default"))
                    && effective_frequency(ContactSetting::TagDefault, &c.tags, &defaults).is_none()
            })
            .collect();
        let ids: Vec<Uuid> = open.iter().map(|c| c.id).collect();
        let days = self.interaction_days(&ids, now).await?;
        let today = now.date_naive();
        let mut rows: Vec<(f64, SuggestionRow)> = open
            .into_iter()
            .filter_map(|c| {
                let r = rhythm(days.get(&c.id)?, today)?;
                let proposed = suggestion(&r)?;
                let row = SuggestionRow {
                    contact: c.id,
                    name: c.name,
                    strength: c.strength,
                    rhythm_days: r.median_gap_days,
                    quiet_days: r.quiet_days,
                    last_interaction_at: r.last_day.and_time(chrono::NaiveTime::MIN).and_utc(),
                    proposed,
                };
                Some((r.quiet_days as f64 / r.median_gap_days.max(1.0), row))
            })
            .collect();
        rows.sort_by(|(a, x), (b, y)| {
            b.total_cmp(a)
                .then_with(|| y.strength.cmp(&x.strength))
                .then_with(|| x.contact.cmp(&y.contact))
        });
        Ok(rows.into_iter().take(limit).map(|(_, row)| row).collect())
    }

    /// The distinct UTC days on or before `now` each of `contacts` had an interaction
    /// that counts in the stats (mail either way, any channel, meetings once begun).
    async fn interaction_days(
        self,
        contacts: &[Uuid],
        now: DateTime<Utc>,
    ) -> Result<std::collections::HashMap<Uuid, Vec<NaiveDate>>, DomainError> {
        let rows = sqlx::query!(
            r#"select ap.contact_id as "contact!",
                      array_agg(distinct (a.occurred_at at time zone 'UTC')::date) as "days!"
               from activity_participants ap
               join activities a on a.user_id = ap.user_id and a.id = ap.activity_id
               where ap.user_id = $1 and ap.contact_id = any($2)
                 and a.deleted_at is null and a.occurred_at <= $3
                 and ((a.direction = 'outbound' and ap.role in ('to', 'cc', 'bcc'))
                   or (a.direction = 'inbound' and ap.role = 'from')
                   or (a.channel = 'meeting' and ap.role in ('attendee', 'organizer')))
               group by ap.contact_id"#,
            self.user.0,
            contacts,
            now,
        )
        .fetch_all(self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let mut days = r.days;
                days.sort_unstable();
                (r.contact, days)
            })
            .collect())
    }

    /// Never offers `contact` again. `NotFound` for a contact that is not the user's.
    pub async fn dismiss(self, contact: Uuid) -> Result<(), DomainError> {
        let done = sqlx::query!(
            "insert into keep_in_touch_dismissals (user_id, contact_id)
             select $1, id from contacts where user_id = $1 and id = $2
             on conflict do nothing",
            self.user.0,
            contact,
        )
        .execute(self.pool)
        .await?;
        if done.rows_affected() == 0 {
            self.contact_exists(contact).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(offsets: &[i64]) -> Vec<NaiveDate> {
        let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        offsets
            .iter()
            .map(|d| start + chrono::Duration::days(*d))
            .collect()
    }

    #[test]
    fn the_rhythm_is_the_median_gap_between_interaction_days() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let r = rhythm(&days(&[0, 7, 14, 20, 28, 35]), today).unwrap();
        assert_eq!(r.median_gap_days, 7.0);
        assert_eq!(r.quiet_days, (today - days(&[35])[0]).num_days());
        let even = rhythm(&days(&[0, 2, 6, 12, 20]), today).unwrap();
        assert_eq!(even.median_gap_days, 5.0, "gaps 2, 4, 6, 8");
        assert_eq!(rhythm(&days(&[0, 7, 14, 21]), today), None, "too few days");
    }

    #[test]
    fn quiet_means_well_above_the_persons_own_rhythm() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        // Weekly, silent for 25 days: going quiet, propose weekly.
        let weekly = rhythm(&days(&[0, 7, 14, 21, 28, 35]), today).unwrap();
        assert_eq!(weekly.quiet_days, 24);
        assert_eq!(
            suggestion(&weekly),
            Some(Frequency::Every(api::reminders::Cadence::Week))
        );
        // Monthly, silent for 24 days: that is their rhythm.
        let monthly = rhythm(&days(&[-90, -60, -30, 0, 35]), today).unwrap();
        assert_eq!(suggestion(&monthly), None);
        // Daily, silent for 10 days: far above the rhythm but under two weeks.
        let daily = rhythm(&days(&[46, 47, 48, 49, 50]), today).unwrap();
        assert_eq!(daily.quiet_days, 9);
        assert_eq!(suggestion(&daily), None);
    }
}
