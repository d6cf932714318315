//! What is due: one contact's keep-in-touch state, and every contact overdue or due
//! within the week, computed from the stats' last interaction at the time of asking.

use api::reminders::{ContactSetting, KeepInTouch, LastInteraction, ReminderRow, TagDefault};
use api::{Channel, Direction};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::store::read_setting;
use super::{days_overdue, due_at, effective_frequency, window_end};
use crate::DomainError;
use crate::db::scopes::RemindersScope;

/// A contact with a frequency, before the due date is worked out.
struct Candidate {
    id: Uuid,
    name: String,
    email: Option<String>,
    tags: Vec<String>,
    setting: ContactSetting,
    set_at: Option<DateTime<Utc>>,
    snoozed_until: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
    strength: i16,
}

impl Candidate {
    /// The frequency, the tag it comes from, and the due date; `None` without one.
    fn state(
        &self,
        defaults: &[TagDefault],
        tag_since: impl Fn(&str) -> Option<DateTime<Utc>>,
    ) -> Option<(api::reminders::Frequency, Option<String>, DateTime<Utc>)> {
        let (frequency, tag) = effective_frequency(self.setting, &self.tags, defaults)?;
        // With no interaction ever, a reminder is due from when the frequency began to
        // apply: set on the contact, or the tag default created.
        let since = match &tag {
            Some(tag) => tag_since(tag),
            None => self.set_at,
        }
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let due = due_at(frequency, self.last, since, self.snoozed_until);
        Some((frequency, tag, due))
    }
}

/// A candidate as read: the columns both candidate statements select.
struct CandidateRow {
    id: Uuid,
    name: String,
    email: Option<String>,
    tags: Vec<String>,
    setting: Option<String>,
    every_days: Option<i32>,
    set_at: Option<DateTime<Utc>>,
    snoozed_until: Option<DateTime<Utc>>,
    last_interaction_at: Option<DateTime<Utc>>,
    strength: i16,
}

impl From<CandidateRow> for Candidate {
    fn from(r: CandidateRow) -> Self {
        Self {
            id: r.id,
            name: r.name,
            email: r.email,
            tags: r.tags,
            setting: read_setting(r.setting.as_deref(), r.every_days),
            set_at: r.set_at,
            snoozed_until: r.snoozed_until,
            last: r.last_interaction_at,
            strength: r.strength,
        }
    }
}

impl RemindersScope<'_> {
    /// The user's contacts with a frequency: their own, or one of `default_tags`. The
    /// contacts page asks on every load, so each half is an index lookup whose cost
    /// follows the contacts with a frequency, not every contact.
    ///
    /// Two statements, not one with both halves: the tags must be a parameter (read
    /// inside the statement, Postgres planned the tag lookup for 1% of the contacts and
    /// scanned all of them, 43 ms a page at 100,000 contacts), and a statement whose
    /// shape depends on whether that parameter is empty is planned again on every call
    /// (0.6 ms of every contacts page). The own-setting half has only the user as a
    /// parameter and keeps one plan; the tag half runs only for users with tag defaults.
    async fn candidates(self, default_tags: &[String]) -> Result<Vec<Candidate>, DomainError> {
        let mut rows = sqlx::query_as!(
            CandidateRow,
            r#"select c.id, coalesce(c.display_name, e.value, 'Unnamed contact') as "name!",
                      e.value as "email?", c.tags, k.setting as "setting?", k.every_days,
                      k.set_at as "set_at?", k.snoozed_until, s.last_interaction_at, s.strength
               from keep_in_touch k
               join contacts c on c.user_id = k.user_id and c.id = k.contact_id
               join contact_stats s on s.user_id = c.user_id and s.contact_id = c.id
               left join lateral (select ci.value from contact_identities ci
                                  where ci.user_id = c.user_id and ci.contact_id = c.id and ci.kind = 'email'
                                  order by ci.created_at, ci.value limit 1) e on true
               where k.user_id = $1 and k.setting not in ('tag_default', 'none')
                 and c.merged_into is null"#,
            self.user.0,
        )
        .fetch_all(self.pool)
        .await?;
        if !default_tags.is_empty() {
            rows.extend(
                sqlx::query_as!(
                    CandidateRow,
                    r#"select c.id, coalesce(c.display_name, e.value, 'Unnamed contact') as "name!",
                              e.value as "email?", c.tags, k.setting as "setting?", k.every_days as "every_days?",
                              k.set_at as "set_at?", k.snoozed_until as "snoozed_until?",
                              s.last_interaction_at, s.strength
                       from contacts c
                       join contact_stats s on s.user_id = c.user_id and s.contact_id = c.id
                       left join keep_in_touch k on k.user_id = c.user_id and k.contact_id = c.id
                       left join lateral (select ci.value from contact_identities ci
                                          where ci.user_id = c.user_id and ci.contact_id = c.id and ci.kind = 'email'
                                          order by ci.created_at, ci.value limit 1) e on true
                       where c.user_id = $1 and c.merged_into is null and c.tags && $2
                         and (k.setting is null or k.setting = 'tag_default')"#,
                    self.user.0,
                    default_tags,
                )
                .fetch_all(self.pool)
                .await?,
            );
        }
        Ok(rows.into_iter().map(Candidate::from).collect())
    }

    /// The tag defaults, and when each was set (see `since_of`).
    async fn tag_defaults_and_created(
        self,
    ) -> Result<(Vec<TagDefault>, Vec<(String, DateTime<Utc>)>), DomainError> {
        Ok(self
            .tag_defaults_since()
            .await?
            .into_iter()
            .map(|(default, created)| {
                let tag = default.tag.clone();
                (default, (tag, created))
            })
            .unzip())
    }

    /// One contact's keep-in-touch state. `NotFound` for a contact that is not the user's.
    pub async fn for_contact(
        self,
        contact: Uuid,
        now: DateTime<Utc>,
    ) -> Result<KeepInTouch, DomainError> {
        let row = sqlx::query!(
            r#"select c.tags, k.setting as "setting?", k.every_days as "every_days?",
                      k.set_at as "set_at?", k.snoozed_until, s.last_interaction_at, s.strength
               from contacts c
               join contact_stats s on s.user_id = c.user_id and s.contact_id = c.id
               left join keep_in_touch k on k.user_id = c.user_id and k.contact_id = c.id
               where c.user_id = $1 and c.id = $2 and c.merged_into is null"#,
            self.user.0,
            contact,
        )
        .fetch_optional(self.pool)
        .await?
        .ok_or(DomainError::NotFound("contact"))?;
        let (defaults, created) = self.tag_defaults_and_created().await?;
        let candidate = Candidate {
            id: contact,
            name: String::new(),
            email: None,
            tags: row.tags,
            setting: read_setting(row.setting.as_deref(), row.every_days),
            set_at: row.set_at,
            snoozed_until: row.snoozed_until,
            last: row.last_interaction_at,
            strength: row.strength,
        };
        let state = candidate.state(&defaults, |tag| since_of(&created, tag));
        Ok(KeepInTouch {
            contact: candidate.id,
            setting: candidate.setting,
            frequency: state.as_ref().map(|s| s.0),
            from_tag: state.as_ref().and_then(|s| s.1.clone()),
            last_interaction_at: candidate.last,
            snoozed_until: candidate.snoozed_until.filter(|s| *s > now),
            due_at: state.map(|s| s.2),
        })
    }

    /// Every contact overdue or due within seven days of `now` and not snoozed: the most
    /// overdue first, then the strongest relationship. Up to `limit` rows.
    pub async fn due(
        self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ReminderRow>, DomainError> {
        let (defaults, created) = self.tag_defaults_and_created().await?;
        let end = window_end(now);
        let default_tags: Vec<String> = defaults.iter().map(|d| d.tag.clone()).collect();
        let mut rows: Vec<ReminderRow> = self
            .candidates(&default_tags)
            .await?
            .into_iter()
            // A snoozed reminder stays off the list until the snooze ends.
            .filter(|c| c.snoozed_until.is_none_or(|s| s <= now))
            .filter_map(|c| {
                let (frequency, _, due) = c.state(&defaults, |tag| since_of(&created, tag))?;
                (due <= end).then(|| ReminderRow {
                    contact: c.id,
                    name: c.name,
                    email: c.email,
                    frequency,
                    due_at: due,
                    days_overdue: days_overdue(due, now),
                    strength: c.strength,
                    last: None,
                    draft_url: None,
                })
            })
            .collect();
        rows.sort_by(|a, b| {
            a.due_at
                .cmp(&b.due_at)
                .then_with(|| b.strength.cmp(&a.strength))
                .then_with(|| a.contact.cmp(&b.contact))
        });
        rows.truncate(limit);
        let ids: Vec<Uuid> = rows.iter().map(|r| r.contact).collect();
        let mut last = self.last_interactions(&ids, now).await?;
        for row in &mut rows {
            row.last = last.remove(&row.contact);
        }
        Ok(rows)
    }

    /// Each contact's latest activity that counts as an interaction, as of `now`.
    pub async fn last_interactions(
        self,
        contacts: &[Uuid],
        now: DateTime<Utc>,
    ) -> Result<std::collections::HashMap<Uuid, LastInteraction>, DomainError> {
        // Most contacts pages have nothing due; Postgres plans this statement afresh on
        // every call (0.6 ms), so an empty list does not ask.
        if contacts.is_empty() {
            return Ok(Default::default());
        }
        let rows = sqlx::query!(
            r#"select distinct on (ap.contact_id) ap.contact_id as "contact!", a.id, a.occurred_at,
                      a.channel as "channel: Channel", a.direction as "direction: Direction", a.subject
               from activity_participants ap
               join activities a on a.user_id = ap.user_id and a.id = ap.activity_id
               where ap.user_id = $1 and ap.contact_id = any($2)
                 and a.deleted_at is null and a.occurred_at <= $3
                 and ((a.direction = 'outbound' and ap.role in ('to', 'cc', 'bcc'))
                   or (a.direction = 'inbound' and ap.role = 'from')
                   or (a.channel = 'meeting' and ap.role in ('attendee', 'organizer')))
               order by ap.contact_id, a.occurred_at desc, a.id"#,
            self.user.0,
            contacts,
            now,
        )
        .fetch_all(self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    r.contact,
                    LastInteraction {
                        activity_id: r.id,
                        at: r.occurred_at,
                        channel: r.channel,
                        direction: r.direction,
                        subject: r.subject,
                    },
                )
            })
            .collect())
    }
}

fn since_of(created: &[(String, DateTime<Utc>)], tag: &str) -> Option<DateTime<Utc>> {
    created.iter().find(|(t, _)| t == tag).map(|(_, at)| *at)
}
