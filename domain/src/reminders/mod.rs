//! Keep-in-touch reminders: a frequency per contact (or a default per tag), due dates,
//! snoozes, "done", and suggestions for strong relationships going quiet.
//!
//! The due date is never stored. It is the contact's last interaction on any channel
//! (`contact_stats.last_interaction_at`: mail either way, WhatsApp, SMS, Messenger,
//! Instagram, calls, meetings and logged interactions, refreshed in the transaction that
//! processed or logged them) plus the frequency, or the snooze when that is later; so a
//! new interaction moves it as soon as it is counted. "Done" logs an interaction
//! ([`crate::interactions`]), which counts like any other.
//!
//! The rules are pure functions here ([`effective_frequency`], [`due_at`], [`rhythm`],
//! [`suggestion`]); [`store`] and [`due`] are their SQL.

pub mod due;
pub mod store;
pub mod suggest;

use api::reminders::{ContactSetting, Frequency, TagDefault};
use chrono::{DateTime, Utc};

pub use suggest::{Rhythm, rhythm, suggestion};

/// The frequency that applies to a contact: its own, else the shortest default among
/// its tags (with that tag's name); `None` when neither applies or the contact chose
/// none.
pub fn effective_frequency(
    setting: ContactSetting,
    tags: &[String],
    defaults: &[TagDefault],
) -> Option<(Frequency, Option<String>)> {
    match setting {
        ContactSetting::Off => None,
        ContactSetting::Set(f) => Some((f, None)),
        ContactSetting::TagDefault => defaults
            .iter()
            .filter(|d| tags.contains(&d.tag))
            .min_by(|a, b| {
                a.frequency
                    .approx_days()
                    .total_cmp(&b.frequency.approx_days())
                    .then_with(|| a.tag.cmp(&b.tag))
            })
            .map(|d| (d.frequency, Some(d.tag.clone()))),
    }
}

/// When the next interaction is due: `frequency` after the last one (or from `since`,
/// when the frequency started applying, if there was none), unless snoozed until later.
pub fn due_at(
    frequency: Frequency,
    last: Option<DateTime<Utc>>,
    since: DateTime<Utc>,
    snoozed_until: Option<DateTime<Utc>>,
) -> DateTime<Utc> {
    let due = last.map_or(since, |last| frequency.due_after(last));
    snoozed_until.map_or(due, |s| s.max(due))
}

/// Whole days from `due` to `now` (negative before it is due).
pub fn days_overdue(due: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (now - due).num_days()
}

/// The last day of the reminders' window: a reminder shows once it is due within the
/// next seven days.
pub fn window_end(now: DateTime<Utc>) -> DateTime<Utc> {
    now + chrono::Duration::days(7)
}

#[cfg(test)]
mod tests {
    use api::reminders::Cadence;
    use chrono::TimeZone;

    use super::*;

    fn at(m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, m, d, 12, 0, 0).unwrap()
    }

    fn defaults() -> Vec<TagDefault> {
        vec![
            TagDefault {
                tag: "family".into(),
                frequency: Frequency::Every(Cadence::Week),
            },
            TagDefault {
                tag: "investor".into(),
                frequency: Frequency::Every(Cadence::Quarter),
            },
        ]
    }

    #[test]
    fn the_contacts_own_choice_wins_over_its_tags() {
        let tags = vec!["investor".to_owned(), "family".to_owned()];
        assert_eq!(
            effective_frequency(ContactSetting::TagDefault, &tags, &defaults()),
            Some((Frequency::Every(Cadence::Week), Some("family".into()))),
            "the shortest tag default"
        );
        assert_eq!(
            effective_frequency(ContactSetting::Set(Frequency::Days(3)), &tags, &defaults()),
            Some((Frequency::Days(3), None))
        );
        assert_eq!(
            effective_frequency(ContactSetting::Off, &tags, &defaults()),
            None
        );
        assert_eq!(
            effective_frequency(ContactSetting::TagDefault, &["golf".into()], &defaults()),
            None
        );
    }

    #[test]
    fn due_is_the_last_interaction_plus_the_frequency_or_the_later_snooze() {
        let month = Frequency::Every(Cadence::Month);
        assert_eq!(due_at(month, Some(at(3, 10)), at(1, 1), None), at(4, 10));
        assert_eq!(due_at(month, None, at(1, 1), None), at(1, 1));
        assert_eq!(
            due_at(month, Some(at(3, 10)), at(1, 1), Some(at(5, 1))),
            at(5, 1)
        );
        assert_eq!(
            due_at(month, Some(at(3, 10)), at(1, 1), Some(at(3, 20))),
            at(4, 10),
            "a snooze ending before the due date changes nothing"
        );
        assert_eq!(days_overdue(at(4, 10), at(4, 25)), 15);
        assert_eq!(days_overdue(at(4, 10), at(4, 8)), -2);
    }
}
