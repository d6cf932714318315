//! The user's keep-in-touch choices in Postgres: per contact (one or many at once), per
//! tag, snoozes and "done". Every query is bound to the acting user; a contact that is
//! not theirs is `NotFound`.

use api::Direction;
use api::interactions::{InteractionDraft, InteractionKind};
use api::reminders::{Cadence, ContactSetting, Frequency, Snooze, TagDefault};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::DomainError;
use crate::db::scopes::RemindersScope;
use crate::interactions::{Interaction, LoggedOn};

/// The subject of the interaction a "done" logs.
pub const DONE_SUBJECT: &str = "Kept in touch";

/// The stored `keep_in_touch.setting` of a choice, and its day count.
fn stored(setting: ContactSetting) -> (&'static str, Option<i32>) {
    match setting {
        ContactSetting::TagDefault => ("tag_default", None),
        ContactSetting::Off => ("none", None),
        ContactSetting::Set(f) => (f.cadence().as_str(), f.every_days().map(i32::from)),
    }
}

/// A stored setting read back; anything unreadable (never written here) is "nothing chosen".
pub(crate) fn read_setting(setting: Option<&str>, days: Option<i32>) -> ContactSetting {
    match setting {
        Some("none") => ContactSetting::Off,
        Some(other) => Cadence::parse(other)
            .ok()
            .and_then(|c| Frequency::from_stored(c, days))
            .map_or(ContactSetting::TagDefault, ContactSetting::Set),
        None => ContactSetting::TagDefault,
    }
}

impl RemindersScope<'_> {
    pub(crate) async fn contact_exists(self, contact: Uuid) -> Result<(), DomainError> {
        let exists = sqlx::query_scalar!(
            r#"select exists(select 1 from contacts where user_id = $1 and id = $2 and merged_into is null) as "exists!""#,
            self.user.0,
            contact,
        )
        .fetch_one(self.pool)
        .await?;
        exists.then_some(()).ok_or(DomainError::NotFound("contact"))
    }

    /// Sets one contact's choice. `NotFound` for a contact that is not the user's.
    pub async fn set(self, contact: Uuid, setting: ContactSetting) -> Result<(), DomainError> {
        if self.set_many(&[contact], setting).await? == 0 {
            return Err(DomainError::NotFound("contact"));
        }
        Ok(())
    }

    /// Sets the choice of each of `contacts` that is the user's (others are skipped,
    /// never touched); returns how many were set. A frequency that changes restarts
    /// `set_at` (when a contact with no interaction at all is first due); a snooze stays.
    pub async fn set_many(
        self,
        contacts: &[Uuid],
        setting: ContactSetting,
    ) -> Result<u64, DomainError> {
        let (name, days) = stored(setting);
        let done = sqlx::query!(
            r#"insert into keep_in_touch (user_id, contact_id, setting, every_days)
               select $1, c.id, $3, $4 from contacts c
               where c.user_id = $1 and c.id = any($2) and c.merged_into is null
               on conflict (user_id, contact_id) do update
                 set setting = excluded.setting, every_days = excluded.every_days,
                     set_at = case when (keep_in_touch.setting, keep_in_touch.every_days)
                                        is distinct from (excluded.setting, excluded.every_days)
                                   then now() else keep_in_touch.set_at end,
                     updated_at = now()"#,
            self.user.0,
            contacts,
            name,
            days,
        )
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Hides the contact's reminder until the snooze ends (or the next due date, if later).
    pub async fn snooze(
        self,
        contact: Uuid,
        snooze: Snooze,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, DomainError> {
        self.contact_exists(contact).await?;
        let until = snooze.until(now);
        sqlx::query!(
            r#"insert into keep_in_touch (user_id, contact_id, setting, snoozed_until)
               values ($1, $2, 'tag_default', $3)
               on conflict (user_id, contact_id) do update
                 set snoozed_until = excluded.snoozed_until, updated_at = now()"#,
            self.user.0,
            contact,
            until,
        )
        .execute(self.pool)
        .await?;
        Ok(until)
    }

    /// Marks the reminder done: logs an interaction now (with `note` as its
    /// description), which counts as the last interaction and so moves the due date,
    /// and ends any snooze.
    pub async fn done(
        self,
        contact: Uuid,
        note: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Interaction, DomainError> {
        self.contact_exists(contact).await?;
        let draft = InteractionDraft {
            kind: InteractionKind::Other,
            subject: Some(DONE_SUBJECT.to_owned()),
            occurred_at: Some(now),
            duration_minutes: None,
            location: None,
            description: note,
            direction: Direction::Outbound,
            medium: InteractionKind::Other.default_medium(),
            outcome: None,
            sentiment: None,
            importance: None,
            private_notes: None,
        };
        let logged = self
            .interactions()
            .create(LoggedOn::Contact(contact), &draft)
            .await?;
        sqlx::query!(
            "update keep_in_touch set snoozed_until = null, updated_at = now()
             where user_id = $1 and contact_id = $2",
            self.user.0,
            contact,
        )
        .execute(self.pool)
        .await?;
        Ok(logged)
    }

    /// The user's tag defaults, by tag.
    pub async fn tag_defaults(self) -> Result<Vec<TagDefault>, DomainError> {
        Ok(self
            .tag_defaults_since()
            .await?
            .into_iter()
            .map(|(default, _)| default)
            .collect())
    }

    /// The user's tag defaults, by tag, each with when it was set (a default counts
    /// from then for contacts it reaches), in one read.
    pub(super) async fn tag_defaults_since(
        self,
    ) -> Result<Vec<(TagDefault, DateTime<Utc>)>, DomainError> {
        let rows = sqlx::query!(
            "select tag, cadence, every_days, created_at from keep_in_touch_tag_defaults
             where user_id = $1 order by tag",
            self.user.0,
        )
        .fetch_all(self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let frequency =
                    Frequency::from_stored(Cadence::parse(&r.cadence).ok()?, r.every_days)?;
                Some((
                    TagDefault {
                        tag: r.tag,
                        frequency,
                    },
                    r.created_at,
                ))
            })
            .collect())
    }

    /// Sets (or with `None`, removes) the default frequency of `tag`.
    pub async fn set_tag_default(
        self,
        tag: &str,
        frequency: Option<Frequency>,
    ) -> Result<(), DomainError> {
        let tag = crate::contacts::profile::parse_tag(tag)?;
        match frequency {
            Some(f) => {
                sqlx::query!(
                    r#"insert into keep_in_touch_tag_defaults (user_id, tag, cadence, every_days)
                       values ($1, $2, $3, $4)
                       on conflict (user_id, tag) do update
                         set cadence = excluded.cadence, every_days = excluded.every_days"#,
                    self.user.0,
                    tag,
                    f.cadence().as_str(),
                    f.every_days().map(i32::from),
                )
                .execute(self.pool)
                .await?;
            }
            None => {
                sqlx::query!(
                    "delete from keep_in_touch_tag_defaults where user_id = $1 and tag = $2",
                    self.user.0,
                    tag,
                )
                .execute(self.pool)
                .await?;
            }
        }
        Ok(())
    }
}
