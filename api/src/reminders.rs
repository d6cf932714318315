//! Keep-in-touch reminders: how often the user wants to hear from a contact
//! ([`Frequency`]), what is due ([`ReminderRow`]) and the suggestions offered for strong
//! relationships going quiet ([`SuggestionRow`]). The forms arrive as text and are parsed
//! once; a bad field names itself in a [`FieldError`].

use chrono::{DateTime, Days, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::closed_set::closed_set;
pub use crate::interactions::FieldError;

/// The longest "every N days" accepted: ten years.
pub const MAX_EVERY_DAYS: u16 = 3_650;
/// The longest note kept with a "done", in characters.
pub const MAX_NOTE_CHARS: usize = 2_000;

closed_set! {
    /// How often to keep in touch (`keep_in_touch.cadence`); `Days` carries its count in
    /// [`Frequency`].
    Cadence, "frequency" {
        Week = "week",
        TwoWeeks = "two_weeks",
        Month = "month",
        Quarter = "quarter",
        SixMonths = "six_months",
        Year = "year",
        Days = "days",
    }
}

impl Cadence {
    pub fn label(self) -> &'static str {
        match self {
            Self::Week => "Every week",
            Self::TwoWeeks => "Every 2 weeks",
            Self::Month => "Every month",
            Self::Quarter => "Every quarter",
            Self::SixMonths => "Every 6 months",
            Self::Year => "Every year",
            Self::Days => "Every N days",
        }
    }
}

/// A keep-in-touch frequency: a fixed cadence, or every N days (1 to [`MAX_EVERY_DAYS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Frequency {
    Every(Cadence),
    Days(u16),
}

impl Frequency {
    /// `cadence` is a [`Cadence`] name; `days` is read only for `days`.
    pub fn parse(cadence: &str, days: &str) -> Result<Self, FieldError> {
        let cadence = Cadence::parse(cadence.trim()).map_err(|e| {
            FieldError::new(
                "frequency",
                format!("{:?} is not one of {}", e.value, e.expected.join(", ")),
            )
        })?;
        if cadence != Cadence::Days {
            return Ok(Self::Every(cadence));
        }
        match days.trim().parse::<u16>() {
            Ok(n) if (1..=MAX_EVERY_DAYS).contains(&n) => Ok(Self::Days(n)),
            _ => Err(FieldError::new(
                "days",
                format!("must be a whole number of days from 1 to {MAX_EVERY_DAYS}"),
            )),
        }
    }

    /// From the stored columns (`cadence`, `every_days`).
    pub fn from_stored(cadence: Cadence, days: Option<i32>) -> Option<Self> {
        match cadence {
            Cadence::Days => days
                .and_then(|d| u16::try_from(d).ok())
                .filter(|d| (1..=MAX_EVERY_DAYS).contains(d))
                .map(Self::Days),
            other => Some(Self::Every(other)),
        }
    }

    pub fn cadence(self) -> Cadence {
        match self {
            Self::Every(c) => c,
            Self::Days(_) => Cadence::Days,
        }
    }

    /// The day count stored for `days` (none for the fixed cadences).
    pub fn every_days(self) -> Option<u16> {
        match self {
            Self::Every(_) => None,
            Self::Days(n) => Some(n),
        }
    }

    /// When the next interaction is due after one at `last` (months are calendar months).
    pub fn due_after(self, last: DateTime<Utc>) -> DateTime<Utc> {
        let months = |n| last.checked_add_months(Months::new(n));
        let days = |n| last.checked_add_days(Days::new(n));
        match self {
            Self::Every(Cadence::Week) => days(7),
            Self::Every(Cadence::TwoWeeks) => days(14),
            Self::Every(Cadence::Month) => months(1),
            Self::Every(Cadence::Quarter) => months(3),
            Self::Every(Cadence::SixMonths) => months(6),
            Self::Every(Cadence::Year) => months(12),
            Self::Every(Cadence::Days) => days(1),
            Self::Days(n) => days(u64::from(n)),
        }
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// About how many days apart (months as 30.4 days): to pick the shorter of two.
    pub fn approx_days(self) -> f64 {
        match self {
            Self::Every(Cadence::Week) => 7.0,
            Self::Every(Cadence::TwoWeeks) => 14.0,
            Self::Every(Cadence::Month) => 30.4,
            Self::Every(Cadence::Quarter) => 91.3,
            Self::Every(Cadence::SixMonths) => 182.6,
            Self::Every(Cadence::Year) => 365.2,
            Self::Every(Cadence::Days) => 1.0,
            Self::Days(n) => f64::from(n),
        }
    }

    /// The fixed cadence nearest above a usual gap of `days`: what a suggestion proposes.
    pub fn for_rhythm(days: f64) -> Self {
        [
            Cadence::Week,
            Cadence::TwoWeeks,
            Cadence::Month,
            Cadence::Quarter,
            Cadence::SixMonths,
        ]
        .into_iter()
        .map(Self::Every)
        .find(|f| days <= f.approx_days())
        .unwrap_or(Self::Every(Cadence::Year))
    }

    /// "Every month", "Every 10 days".
    pub fn label(self) -> String {
        match self {
            Self::Days(1) => "Every day".to_owned(),
            Self::Days(n) => format!("Every {n} days"),
            Self::Every(c) => c.label().to_owned(),
        }
    }
}

/// What the user chose for one contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContactSetting {
    /// Nothing chosen on the contact: a tag's default applies, if any.
    TagDefault,
    /// No reminders, whatever the tags say.
    Off,
    Set(Frequency),
}

impl ContactSetting {
    /// The form's `frequency` (`tag_default`, `none` or a [`Cadence`]) and `days`.
    pub fn parse(frequency: &str, days: &str) -> Result<Self, FieldError> {
        match frequency.trim() {
            "tag_default" | "" => Ok(Self::TagDefault),
            "none" => Ok(Self::Off),
            other => Frequency::parse(other, days).map(Self::Set).map_err(|e| {
                if e.field == "frequency" {
                    FieldError::new(
                        "frequency",
                        format!(
                            "{other:?} is not one of tag_default, none, {}",
                            <Cadence as crate::ClosedSet>::NAMES.join(", ")
                        ),
                    )
                } else {
                    e
                }
            }),
        }
    }
}

/// How long to snooze a reminder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Snooze {
    Week,
    Month,
    Until(NaiveDate),
}

impl Snooze {
    /// `week`, `month`, or a date as `YYYY-MM-DD`, which must be after `today`.
    pub fn parse(text: &str, today: NaiveDate) -> Result<Self, FieldError> {
        match text.trim() {
            "week" => Ok(Self::Week),
            "month" => Ok(Self::Month),
            other => {
                let day = NaiveDate::parse_from_str(other, "%Y-%m-%d").map_err(|_| {
                    FieldError::new("until", "must be week, month or a date as YYYY-MM-DD")
                })?;
                if day <= today {
                    return Err(FieldError::new("until", "must be a day after today"));
                }
                Ok(Self::Until(day))
            }
        }
    }

    /// The moment the reminder comes back.
    pub fn until(self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Self::Week => now.checked_add_days(Days::new(7)),
            Self::Month => now.checked_add_months(Months::new(1)),
            Self::Until(day) => Some(day.and_time(chrono::NaiveTime::MIN).and_utc()),
        }
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

/// A "done" note: optional, one to [`MAX_NOTE_CHARS`] characters.
pub fn parse_note(text: &str) -> Result<Option<String>, FieldError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let chars = text.chars().count();
    if chars > MAX_NOTE_CHARS {
        return Err(FieldError::new(
            "note",
            format!("must be at most {MAX_NOTE_CHARS} characters (it has {chars})"),
        ));
    }
    Ok(Some(text.to_owned()))
}

/// The last interaction with a contact, as a row shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastInteraction {
    pub activity_id: Uuid,
    pub at: DateTime<Utc>,
    pub channel: crate::Channel,
    pub direction: Option<crate::Direction>,
    pub subject: Option<String>,
}

/// One contact's keep-in-touch state (the contact page's panel).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeepInTouch {
    pub contact: Uuid,
    pub setting: ContactSetting,
    /// What applies: the contact's own frequency, else the shortest of its tags' defaults.
    pub frequency: Option<Frequency>,
    /// The tag whose default applies, when it is one.
    pub from_tag: Option<String>,
    pub last_interaction_at: Option<DateTime<Utc>>,
    pub snoozed_until: Option<DateTime<Utc>>,
    /// When the next interaction is due (none without a frequency).
    pub due_at: Option<DateTime<Utc>>,
}

/// A contact on `/reminders`: overdue or due within the week.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReminderRow {
    pub contact: Uuid,
    pub name: String,
    pub email: Option<String>,
    pub frequency: Frequency,
    pub due_at: DateTime<Utc>,
    /// Whole days past due (negative: due in that many days).
    pub days_overdue: i64,
    pub strength: i16,
    pub last: Option<LastInteraction>,
    /// The relationship panel's template draft, opened in Gmail's compose window.
    pub draft_url: Option<String>,
}

/// "Keep in touch?": a strong relationship quieter than its usual rhythm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuggestionRow {
    pub contact: Uuid,
    pub name: String,
    pub strength: i16,
    /// The median gap between days with an interaction, in days.
    pub rhythm_days: f64,
    /// Days since the last interaction.
    pub quiet_days: i64,
    pub last_interaction_at: DateTime<Utc>,
    pub proposed: Frequency,
}

/// A tag's default frequency (Settings on `/reminders`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagDefault {
    pub tag: String,
    pub frequency: Frequency,
}

/// Everything `/reminders` shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemindersPage {
    pub due: Vec<ReminderRow>,
    pub suggestions: Vec<SuggestionRow>,
    pub tag_defaults: Vec<TagDefault>,
    /// Every tag the user has, for the tag-default form.
    pub tags: Vec<String>,
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 9, 0, 0).unwrap()
    }

    #[test]
    fn frequencies_parse_and_name_the_bad_field() {
        assert_eq!(
            Frequency::parse("month", ""),
            Ok(Frequency::Every(Cadence::Month))
        );
        assert_eq!(Frequency::parse("days", " 10 "), Ok(Frequency::Days(10)));
        assert_eq!(Frequency::parse("days", "0").unwrap_err().field, "days");
        assert_eq!(Frequency::parse("days", "3651").unwrap_err().field, "days");
        assert_eq!(
            Frequency::parse("fortnightly", "").unwrap_err().field,
            "frequency"
        );
        assert_eq!(ContactSetting::parse("none", ""), Ok(ContactSetting::Off));
        assert_eq!(
            ContactSetting::parse("tag_default", ""),
            Ok(ContactSetting::TagDefault)
        );
        let bad = ContactSetting::parse("daily", "").unwrap_err();
        assert!(bad.message.contains("tag_default, none, week"), "{bad}");
    }

    #[test]
    fn due_dates_add_calendar_months_and_days() {
        let last = at(2026, 1, 31);
        assert_eq!(
            Frequency::Every(Cadence::Month).due_after(last),
            at(2026, 2, 28)
        );
        assert_eq!(
            Frequency::Every(Cadence::Quarter).due_after(last),
            at(2026, 4, 30)
        );
        assert_eq!(Frequency::Days(10).due_after(last), at(2026, 2, 10));
        assert_eq!(
            Frequency::Every(Cadence::TwoWeeks).due_after(last),
            at(2026, 2, 14)
        );
    }

    #[test]
    fn the_proposed_frequency_is_the_cadence_just_above_the_rhythm() {
        assert_eq!(Frequency::for_rhythm(3.0), Frequency::Every(Cadence::Week));
        assert_eq!(
            Frequency::for_rhythm(9.0),
            Frequency::Every(Cadence::TwoWeeks)
        );
        assert_eq!(
            Frequency::for_rhythm(30.0),
            Frequency::Every(Cadence::Month)
        );
        assert_eq!(
            Frequency::for_rhythm(400.0),
            Frequency::Every(Cadence::Year)
        );
    }

    #[test]
    fn snoozes_parse_and_refuse_the_past() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        assert_eq!(Snooze::parse("week", today), Ok(Snooze::Week));
        assert_eq!(
            Snooze::parse("2026-12-25", today),
            Ok(Snooze::Until(
                NaiveDate::from_ymd_opt(2026, 12, 25).unwrap()
            ))
        );
        assert_eq!(
            Snooze::parse("2026-12-04", today).unwrap_err().message,
            "must be a day after today"
        );
        assert_eq!(Snooze::parse("soon", today).unwrap_err().field, "until");
        assert_eq!(Snooze::Month.until(at(2026, 1, 31)), at(2026, 2, 28));
    }

    #[test]
    fn notes_are_optional_and_bounded() {
        assert_eq!(parse_note("  "), Ok(None));
        assert_eq!(parse_note(" called "), Ok(Some("called".to_owned())));
        assert_eq!(
            parse_note(&"x".repeat(MAX_NOTE_CHARS + 1))
                .unwrap_err()
                .field,
            "note"
        );
    }
}
