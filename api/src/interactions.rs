//! Logged interactions (a visit, a call, a meeting...) on a contact or a company, and the
//! calendar events they become. The form arrives as text ([`InteractionForm`]) and is
//! parsed once into an [`InteractionDraft`] whose fields are all valid; a bad field
//! names itself in a [`FieldError`].

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Direction;
use crate::closed_set::closed_set;

/// The longest subject accepted, in characters.
pub const MAX_SUBJECT_CHARS: usize = 300;
/// The longest location or outcome accepted, in characters.
pub const MAX_SHORT_CHARS: usize = 500;
/// The longest description or private notes accepted, in characters.
pub const MAX_LONG_CHARS: usize = 20_000;
/// The longest duration accepted: one week, in minutes.
pub const MAX_DURATION_MINUTES: u32 = 7 * 24 * 60;

closed_set! {
    /// What kind of interaction was logged (`interactions.kind`).
    InteractionKind, "interaction type" {
        Meeting = "meeting",
        Visit = "visit",
        Phone = "phone",
        Video = "video",
        Lunch = "lunch",
        Event = "event",
        Other = "other",
    }
}

impl InteractionKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Meeting => "Meeting",
            Self::Visit => "Visit",
            Self::Phone => "Phone call",
            Self::Video => "Video call",
            Self::Lunch => "Lunch",
            Self::Event => "Event",
            Self::Other => "Other",
        }
    }
}

closed_set! {
    /// How the interaction happened (`interactions.medium`).
    Medium, "medium" {
        InPerson = "in_person",
        Phone = "phone",
        Video = "video",
        Email = "email",
        Chat = "chat",
        Other = "other",
    }
}

impl Medium {
    pub fn label(self) -> &'static str {
        match self {
            Self::InPerson => "In person",
            Self::Phone => "Phone",
            Self::Video => "Video",
            Self::Email => "Email",
            Self::Chat => "Chat",
            Self::Other => "Other",
        }
    }
}

closed_set! {
    /// How the interaction went (`interactions.sentiment`).
    Sentiment, "sentiment" {
        Positive = "positive",
        Neutral = "neutral",
        Negative = "negative",
    }
}

closed_set! {
    /// Where a calendar event stands (`calendar_events.status`).
    EventStatus, "event status" {
        Scheduled = "scheduled",
        Completed = "completed",
        Cancelled = "cancelled",
    }
}

closed_set! {
    /// What one calendar sync did (`calendar_sync_log.action`).
    SyncAction, "sync action" {
        Create = "create",
        Update = "update",
        Cancel = "cancel",
        Delete = "delete",
        /// Not on the calendar (no date, no subject, older than 30 days): nothing written.
        Skip = "skip",
    }
}

/// Importance from 1 (low) to 5 (high).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Importance(u8);

impl Importance {
    pub fn new(value: u8) -> Result<Self, FieldError> {
        if (1..=5).contains(&value) {
            Ok(Self(value))
        } else {
            Err(FieldError::new(
                "importance",
                "must be a whole number from 1 to 5",
            ))
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Importance {
    type Error = FieldError;
    fn try_from(value: u8) -> Result<Self, FieldError> {
        Self::new(value)
    }
}

impl From<Importance> for u8 {
    fn from(value: Importance) -> u8 {
        value.0
    }
}

/// A field the form got wrong, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// The interaction form as submitted: every field text, empty when left blank.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionForm {
    pub kind: String,
    #[serde(default)]
    pub subject: String,
    /// `YYYY-MM-DD`, on the user's clock.
    #[serde(default)]
    pub date: String,
    /// `HH:MM` on the user's clock; blank means the start of the day.
    #[serde(default)]
    pub time: String,
    /// Whole minutes; blank means an all-day interaction.
    #[serde(default)]
    pub duration_minutes: String,
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub direction: String,
    #[serde(default)]
    pub medium: String,
    #[serde(default)]
    pub outcome: String,
    #[serde(default)]
    pub sentiment: String,
    #[serde(default)]
    pub importance: String,
    #[serde(default)]
    pub private_notes: String,
}

/// A valid interaction, ready to store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionDraft {
    pub kind: InteractionKind,
    pub subject: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
    /// `None`: all day.
    pub duration_minutes: Option<u32>,
    pub location: Option<String>,
    pub description: Option<String>,
    pub direction: Direction,
    pub medium: Medium,
    pub outcome: Option<String>,
    pub sentiment: Option<Sentiment>,
    pub importance: Option<Importance>,
    pub private_notes: Option<String>,
}

fn optional_text(
    field: &'static str,
    value: &str,
    max: usize,
) -> Result<Option<String>, FieldError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let chars = value.chars().count();
    if chars > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters (it has {chars})"),
        ));
    }
    Ok(Some(value.to_owned()))
}

fn one_line(field: &'static str, value: Option<String>) -> Result<Option<String>, FieldError> {
    match value {
        Some(v) if v.chars().any(char::is_control) => Err(FieldError::new(
            field,
            "must be one line without control characters",
        )),
        other => Ok(other),
    }
}

fn closed<T: crate::ClosedSet>(field: &'static str, value: &str) -> Result<T, FieldError> {
    T::parse(value.trim()).map_err(|e| {
        FieldError::new(
            field,
            format!("{:?} is not one of {}", e.value, e.expected.join(", ")),
        )
    })
}

/// The user's clock: turns the date and time they typed into an instant. The server
/// holds the time zone's rules (the browser bundle carries no time-zone database), so
/// forms are parsed there.
pub trait WallClock {
    /// The instant `local` names on this clock, or why there is none (the clocks skip it).
    fn instant(&self, local: NaiveDateTime) -> Result<DateTime<Utc>, String>;
}

/// UTC's clock: every reading names exactly one instant.
impl WallClock for Utc {
    fn instant(&self, local: NaiveDateTime) -> Result<DateTime<Utc>, String> {
        Ok(local.and_utc())
    }
}

/// A moment as the user's clock reads it, with the zone's abbreviation then ("CET").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalTime {
    pub at: NaiveDateTime,
    pub zone: String,
}

impl InteractionForm {
    /// Parses every field, the date and time on `clock`; the first bad one is the error.
    pub fn parse(&self, clock: &impl WallClock) -> Result<InteractionDraft, FieldError> {
        let kind: InteractionKind = closed("kind", &self.kind)?;
        let subject = one_line(
            "subject",
            optional_text("subject", &self.subject, MAX_SUBJECT_CHARS)?,
        )?;
        let occurred_at = parse_when(&self.date, &self.time, clock)?;
        let duration_minutes = match self.duration_minutes.trim() {
            "" => None,
            text => match text.parse::<u32>() {
                Ok(n) if (1..=MAX_DURATION_MINUTES).contains(&n) => Some(n),
                _ => {
                    return Err(FieldError::new(
                        "duration_minutes",
                        format!(
                            "must be a whole number of minutes from 1 to {MAX_DURATION_MINUTES}, or blank for all day"
                        ),
                    ));
                }
            },
        };
        let direction = match self.direction.trim() {
            "" => Direction::Outbound,
            text => closed("direction", text)?,
        };
        let medium = match self.medium.trim() {
            "" => kind.default_medium(),
            text => closed("medium", text)?,
        };
        let sentiment = match self.sentiment.trim() {
            "" => None,
            text => Some(closed("sentiment", text)?),
        };
        let importance = match self.importance.trim() {
            "" => None,
            text => Some(
                text.parse::<u8>()
                    .map_err(|_| {
                        FieldError::new("importance", "must be a whole number from 1 to 5")
                    })
                    .and_then(Importance::new)?,
            ),
        };
        Ok(InteractionDraft {
            kind,
            subject,
            occurred_at,
            duration_minutes,
            location: one_line(
                "location",
                optional_text("location", &self.location, MAX_SHORT_CHARS)?,
            )?,
            description: optional_text("description", &self.description, MAX_LONG_CHARS)?,
            direction,
            medium,
            outcome: optional_text("outcome", &self.outcome, MAX_SHORT_CHARS)?,
            sentiment,
            importance,
            private_notes: optional_text("private_notes", &self.private_notes, MAX_LONG_CHARS)?,
        })
    }
}

impl InteractionKind {
    /// The medium a kind implies when the form leaves it blank.
    pub fn default_medium(self) -> Medium {
        match self {
            Self::Phone => Medium::Phone,
            Self::Video => Medium::Video,
            Self::Other => Medium::Other,
            Self::Meeting | Self::Visit | Self::Lunch | Self::Event => Medium::InPerson,
        }
    }
}

fn parse_when(
    date: &str,
    time: &str,
    clock: &impl WallClock,
) -> Result<Option<DateTime<Utc>>, FieldError> {
    let (date, time) = (date.trim(), time.trim());
    if date.is_empty() {
        if !time.is_empty() {
            return Err(FieldError::new("date", "is needed when a time is given"));
        }
        return Ok(None);
    }
    let day = NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map_err(|_| FieldError::new("date", "must be a date as YYYY-MM-DD"))?;
    let at = if time.is_empty() {
        NaiveTime::MIN
    } else {
        NaiveTime::parse_from_str(time, "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(time, "%H:%M:%S"))
            .map_err(|_| FieldError::new("time", "must be a time as HH:MM (24-hour)"))?
    };
    let field = if time.is_empty() { "date" } else { "time" };
    clock
        .instant(NaiveDateTime::new(day, at))
        .map(Some)
        .map_err(|why| FieldError::new(field, why))
}

impl InteractionDraft {
    /// The form that shows this draft again (the edit form's initial values); `local` is
    /// when it took place on the user's clock.
    pub fn to_form(&self, local: Option<NaiveDateTime>) -> InteractionForm {
        InteractionForm {
            kind: self.kind.as_str().to_owned(),
            subject: self.subject.clone().unwrap_or_default(),
            date: local
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            time: local
                .map(|t| t.format("%H:%M").to_string())
                .unwrap_or_default(),
            duration_minutes: self
                .duration_minutes
                .map(|d| d.to_string())
                .unwrap_or_default(),
            location: self.location.clone().unwrap_or_default(),
            description: self.description.clone().unwrap_or_default(),
            direction: self.direction.as_str().to_owned(),
            medium: self.medium.as_str().to_owned(),
            outcome: self.outcome.clone().unwrap_or_default(),
            sentiment: self
                .sentiment
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            importance: self
                .importance
                .map(|i| i.get().to_string())
                .unwrap_or_default(),
            private_notes: self.private_notes.clone().unwrap_or_default(),
        }
    }
}

/// An interaction as the contact page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionRow {
    pub id: Uuid,
    pub contact_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    pub draft: InteractionDraft,
    /// When it took place on the user's clock.
    pub local: Option<LocalTime>,
    pub archived: bool,
    /// Its calendar event, when it is on the calendar.
    pub event: Option<EventSummary>,
    pub created_at: DateTime<Utc>,
}

/// Where an interaction's calendar event stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSummary {
    pub id: Uuid,
    pub status: EventStatus,
    /// Why it is not (yet) on the user's connected calendar, when writing it failed.
    pub write_back_error: Option<String>,
    /// When that write is tried again.
    pub next_retry_at: Option<DateTime<Utc>>,
}

/// One event on `/calendar`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarItem {
    pub id: Uuid,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    /// The start on the user's clock (an all-day item: its day, at midnight).
    pub starts_local: LocalTime,
    pub ends_local: Option<LocalTime>,
    pub all_day: bool,
    pub status: EventStatus,
    /// The interaction's type, or "meeting" for a synced calendar's meeting.
    pub kind_label: String,
    pub location: Option<String>,
    /// The contact it links to, with its name.
    pub contact: Option<(Uuid, String)>,
    /// The company it links to, with its name.
    pub company: Option<(Uuid, String)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> InteractionForm {
        InteractionForm {
            kind: "meeting".into(),
            subject: " Quarterly review ".into(),
            date: "2026-12-08".into(),
            time: "10:30".into(),
            duration_minutes: "45".into(),
            importance: "4".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_form_parses_with_defaults() {
        let draft = form().parse(&Utc).unwrap();
        assert_eq!(draft.subject.as_deref(), Some("Quarterly review"));
        assert_eq!(
            draft.occurred_at.unwrap().to_rfc3339(),
            "2026-12-08T10:30:00+00:00"
        );
        assert_eq!(draft.duration_minutes, Some(45));
        assert_eq!(draft.direction, Direction::Outbound);
        assert_eq!(draft.medium, Medium::InPerson);
        assert_eq!(draft.importance.map(Importance::get), Some(4));
        let local = draft.occurred_at.map(|t| t.naive_utc());
        assert_eq!(
            draft.to_form(local).parse(&Utc).unwrap(),
            draft,
            "round trip"
        );
    }

    #[test]
    fn bad_fields_name_themselves() {
        let field = |f: InteractionForm| f.parse(&Utc).unwrap_err().field;
        assert_eq!(
            field(InteractionForm {
                kind: "dance".into(),
                ..form()
            }),
            "kind"
        );
        assert_eq!(
            field(InteractionForm {
                date: "8/12/2026".into(),
                ..form()
            }),
            "date"
        );
        assert_eq!(
            field(InteractionForm {
                time: "25:00".into(),
                ..form()
            }),
            "time"
        );
        assert_eq!(
            field(InteractionForm {
                date: "".into(),
                ..form()
            }),
            "date",
            "a time without a date"
        );
        assert_eq!(
            field(InteractionForm {
                duration_minutes: "0".into(),
                ..form()
            }),
            "duration_minutes"
        );
        assert_eq!(
            field(InteractionForm {
                duration_minutes: "-5".into(),
                ..form()
            }),
            "duration_minutes"
        );
        assert_eq!(
            field(InteractionForm {
                importance: "6".into(),
                ..form()
            }),
            "importance"
        );
        assert_eq!(
            field(InteractionForm {
                sentiment: "meh".into(),
                ..form()
            }),
            "sentiment"
        );
        assert_eq!(
            field(InteractionForm {
                direction: "up".into(),
                ..form()
            }),
            "direction"
        );
        assert_eq!(
            field(InteractionForm {
                subject: "a\nb".into(),
                ..form()
            }),
            "subject"
        );
        assert_eq!(
            field(InteractionForm {
                subject: "x".repeat(301),
                ..form()
            }),
            "subject"
        );
        assert!(Importance::new(0).is_err() && Importance::new(5).is_ok());
    }

    /// A clock whose 10:30 on 8 December does not exist (as if the clocks went forward).
    struct SkippingClock;

    impl WallClock for SkippingClock {
        fn instant(&self, local: NaiveDateTime) -> Result<DateTime<Utc>, String> {
            if local.format("%m-%d %H:%M").to_string() == "12-08 10:30" {
                Err("10:30 does not exist on 2026-12-08 here".into())
            } else {
                Ok(local.and_utc() - chrono::Duration::hours(1))
            }
        }
    }

    #[test]
    fn the_date_and_time_are_read_on_the_users_clock() {
        let error = form().parse(&SkippingClock).unwrap_err();
        assert_eq!(error.field, "time");
        assert!(error.message.contains("does not exist"), "{error}");
        let draft = InteractionForm {
            time: "11:00".into(),
            ..form()
        }
        .parse(&SkippingClock)
        .unwrap();
        assert_eq!(
            draft.occurred_at.unwrap().to_rfc3339(),
            "2026-12-08T10:00:00+00:00"
        );
    }

    #[test]
    fn blank_duration_is_all_day_and_blank_date_is_none() {
        let draft = InteractionForm {
            duration_minutes: " ".into(),
            date: "".into(),
            time: "".into(),
            ..form()
        }
        .parse(&Utc)
        .unwrap();
        assert_eq!(draft.duration_minutes, None);
        assert_eq!(draft.occurred_at, None);
    }
}
