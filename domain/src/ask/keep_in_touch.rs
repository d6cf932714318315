//! Ask about keeping in touch: "who should I reach out to?" (due reminders, then
//! suggestions), "who is overdue?", "what meetings do I have this week?" and "when did I
//! last meet Dana?". The parser here recognizes the questions (the offline engine asks it
//! before its own patterns); the answers read the reminders and the calendar through
//! the user's scope and cite every contact and meeting.

use std::sync::LazyLock;

use api::reminders::ReminderRow;
use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use regex::Regex;
use serde::Serialize;
use uuid::Uuid;

use super::answer::{AnswerValue, Person, contact_href, link};
use super::tools::MessageRef;
use crate::{DomainError, UserScope};

/// How many people an answer lists.
const LISTED: usize = 20;

/// A keep-in-touch question, as understood.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Question {
    /// "who should I reach out to?": due reminders, then suggestions.
    ReachOut,
    /// "who is overdue?"
    Overdue,
    /// "what meetings do I have this week?": the calendar's days `[from, to)`.
    Meetings {
        from: NaiveDate,
        to: NaiveDate,
        label: &'static str,
    },
    /// "when did I last meet Dana?"
    LastMeeting { person: String },
}

impl Question {
    /// The person named, as written: the engine resolves it before [`answer`].
    pub fn person(&self) -> Option<&str> {
        match self {
            Self::LastMeeting { person } => Some(person),
            _ => None,
        }
    }

    /// The question in one wording, as refusals offer it back.
    pub fn question(&self) -> String {
        match self {
            Self::ReachOut => "Who should I reach out to?".to_owned(),
            Self::Overdue => "Who is overdue?".to_owned(),
            Self::Meetings { label, .. } => format!("What meetings do I have {label}?"),
            Self::LastMeeting { person } => format!("When did I last meet {}?", title(person)),
        }
    }
}

/// "dana ito" -> "Dana Ito"
fn title(name: &str) -> String {
    name.split(' ')
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("valid regex")
}

static REACH_OUT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:who|whom) (?:should|do|must|could|can) i (?:reach out to|get in touch with|contact|catch up with|check in (?:on|with)|reconnect with|keep in touch with)(?: (?:today|now|next|soon))?$|^(?:who|whom) (?:do|should) i (?:need to|have to) (?:reach out to|contact|catch up with)$|^who (?:needs|deserves) (?:a|an) (?:call|message|email|check in|catch up)$|^(?:any|my) (?:keep in touch )?reminders$",
    )
});
static OVERDUE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:who(?:'s| is|s| am i)?|which (?:contacts|people) (?:are|am i)) overdue(?: (?:for|with) (?:a )?(?:call|catch up|check in|touch|reply|contact))?$|^who am i overdue (?:with|to contact|to reach out to)$|^(?:show|list) (?:my )?overdue (?:contacts|people|reminders)$|^overdue (?:contacts|people|reminders)$",
    )
});
static MEETINGS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:what|which|any) (?:meetings|events|appointments) (?:do i have|have i got|are there|am i in|are on my calendar|is on my calendar)(?: (this week|next week|today|tomorrow))?$|^(?:what is|what's|whats|what s) on my calendar(?: (this week|next week|today|tomorrow))?$|^(?:my )?(?:meetings|calendar|agenda) (this week|next week|today|tomorrow)$",
    )
});
static LAST_MEETING: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^when (?:did|have) i (?:last )?(?:meet|meet with|see|saw|met|met with) (.+?)(?: last)?$|^(?:when was )?(?:my )?last meeting with (.+?)(?: when)?$",
    )
});

/// The keep-in-touch question `text` asks (a question already normalized by the
/// offline parser: lowercase, no punctuation), as of `now`.
pub fn parse(text: &str, now: DateTime<Utc>) -> Option<Question> {
    let text = text.trim();
    if REACH_OUT.is_match(text) {
        return Some(Question::ReachOut);
    }
    if OVERDUE.is_match(text) {
        return Some(Question::Overdue);
    }
    if let Some(c) = MEETINGS.captures(text) {
        let when = c.iter().skip(1).flatten().next().map(|m| m.as_str());
        let (from, to, label) = meeting_range(when.unwrap_or("this week"), now);
        return Some(Question::Meetings { from, to, label });
    }
    if let Some(c) = LAST_MEETING.captures(text) {
        let name = c.iter().skip(1).flatten().next()?.as_str().trim();
        // "when did I last meet" with no one named is not this question.
        let name = name.strip_prefix("with ").unwrap_or(name).trim();
        if name.is_empty() || ["someone", "anyone", "them", "him", "her"].contains(&name) {
            return None;
        }
        return Some(Question::LastMeeting {
            person: name.to_owned(),
        });
    }
    None
}

/// The whole of a named day or week (weeks run Monday to Sunday): meetings later this
/// week count, unlike "this week" in the other questions, which ends now.
fn meeting_range(when: &str, now: DateTime<Utc>) -> (NaiveDate, NaiveDate, &'static str) {
    let today = now.date_naive();
    let monday = today - Days::new(u64::from(today.weekday().num_days_from_monday()));
    let days = |n: u64| Days::new(n);
    match when {
        "today" => (today, today + days(1), "today"),
        "tomorrow" => (today + days(1), today + days(2), "tomorrow"),
        "next week" => (monday + days(7), monday + days(14), "next week"),
        _ => (monday, monday + days(7), "this week"),
    }
}

/// An answer: its text with links, its value, and the tools it read.
pub struct Answered {
    pub text: String,
    pub value: AnswerValue,
    pub tools: Vec<String>,
}

fn person_of(row: &ReminderRow) -> Person {
    Person {
        contact_ids: vec![row.contact],
        name: Some(row.name.clone()),
        emails: row.email.iter().cloned().collect(),
    }
}

fn overdue_words(days: i64) -> String {
    match days {
        1 => "1 day overdue".into(),
        d if d > 1 => format!("{d} days overdue"),
        0 => "due today".into(),
        d => format!("due in {} days", -d),
    }
}

fn listed(rows: &[ReminderRow]) -> String {
    rows.iter()
        .take(LISTED)
        .map(|r| {
            format!(
                "{} ({}, {})",
                link(&r.name, &contact_href(r.contact)),
                overdue_words(r.days_overdue),
                r.frequency.label().to_lowercase()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Answers `question`; `person` is the one it names ([`Question::person`]), resolved.
pub async fn answer(
    scope: UserScope<'_>,
    question: &Question,
    person: Option<&Person>,
    now: DateTime<Utc>,
) -> Result<Answered, DomainError> {
    Ok(match question {
        Question::ReachOut => {
            let due = scope.reminders().due(now, LISTED).await?;
            let suggestions = scope.reminders().suggestions(now, 5).await?;
            let mut people: Vec<Person> = due.iter().map(person_of).collect();
            let mut parts = Vec::new();
            if !due.is_empty() {
                parts.push(format!("Due to keep in touch: {}.", listed(&due)));
            }
            if !suggestions.is_empty() {
                let quiet: Vec<String> = suggestions
                    .iter()
                    .map(|s| {
                        format!(
                            "{} (usually every {:.0} days, quiet for {})",
                            link(&s.name, &contact_href(s.contact)),
                            s.rhythm_days,
                            s.quiet_days
                        )
                    })
                    .collect();
                parts.push(format!(
                    "Gone quiet for longer than usual: {}.",
                    quiet.join(", ")
                ));
                people.extend(suggestions.iter().map(|s| Person {
                    contact_ids: vec![s.contact],
                    name: Some(s.name.clone()),
                    emails: Vec::new(),
                }));
            }
            let text = if parts.is_empty() {
                "Nobody is due, and no strong relationship has gone quiet. Set a keep-in-touch frequency on a contact to get reminders.".to_owned()
            } else {
                parts.join(" ")
            };
            Answered {
                text,
                value: AnswerValue::People(people),
                tools: vec!["due_reminders".into(), "keep_in_touch_suggestions".into()],
            }
        }
        Question::Overdue => {
            let due: Vec<ReminderRow> = scope
                .reminders()
                .due(now, 1_000)
                .await?
                .into_iter()
                .filter(|r| r.days_overdue > 0)
                .collect();
            let text = if due.is_empty() {
                "Nobody is overdue.".to_owned()
            } else {
                format!(
                    "{} overdue (most overdue first): {}.",
                    due.len(),
                    listed(&due)
                )
            };
            Answered {
                text,
                value: AnswerValue::People(due.iter().map(person_of).collect()),
                tools: vec!["due_reminders".into()],
            }
        }
        Question::Meetings { from, to, label } => {
            let zone = scope.time_zone().await?;
            let items = scope.calendar().between(zone, *from, *to).await?;
            let items: Vec<_> = items
                .into_iter()
                .filter(|i| i.status != api::interactions::EventStatus::Cancelled)
                .collect();
            let text = if items.is_empty() {
                format!("You have no meetings {label}.")
            } else {
                let shown: Vec<String> = items
                    .iter()
                    .map(|i| {
                        let local = &i.starts_local;
                        let when = if i.all_day {
                            local.at.format("%a %Y-%m-%d").to_string()
                        } else {
                            format!("{} {}", local.at.format("%a %Y-%m-%d %H:%M"), local.zone)
                        };
                        let with = match &i.contact {
                            Some((id, name)) => format!(" with {}", link(name, &contact_href(*id))),
                            None => String::new(),
                        };
                        format!("{when}: {}{with}", i.title)
                    })
                    .collect();
                format!(
                    "{} meeting{} {label}: {}.",
                    items.len(),
                    if items.len() == 1 { "" } else { "s" },
                    shown.join("; ")
                )
            };
            let mut seen = Vec::new();
            let people = items
                .iter()
                .filter_map(|i| i.contact.clone())
                .filter(|(id, _)| {
                    let new = !seen.contains(id);
                    seen.push(*id);
                    new
                })
                .map(|(id, name)| Person {
                    contact_ids: vec![id],
                    name: Some(name),
                    emails: Vec::new(),
                })
                .collect();
            Answered {
                text,
                value: AnswerValue::People(people),
                tools: vec!["calendar".into()],
            }
        }
        Question::LastMeeting { person: name } => match person {
            Some(person) => last_meeting(scope, person, now).await?,
            None => Answered {
                text: format!("I couldn't find anyone called “{name}”."),
                value: AnswerValue::Nothing,
                tools: Vec::new(),
            },
        },
    })
}

/// "When did I last meet …": the latest meeting (logged or synced, already begun) with
/// any of `person`'s contacts; with none, the latest exchange on any channel, so the
/// answer still says when they were last in touch.
async fn last_meeting(
    scope: UserScope<'_>,
    person: &Person,
    now: DateTime<Utc>,
) -> Result<Answered, DomainError> {
    let zone = scope.time_zone().await?;
    let day = |at: DateTime<Utc>| zone.date(at).format("%Y-%m-%d").to_string();
    let cited = |m: &MessageRef, fallback: &str| {
        let href = super::answer::message_href(m).unwrap_or_else(|| person.href());
        link(m.subject.as_deref().unwrap_or(fallback), &href)
    };
    let (text, value) = if let Some(m) = latest_with(scope, person, now, true).await? {
        (
            format!(
                "You last met {} on {}: {}.",
                person.link(),
                day(m.at),
                cited(&m, "a meeting")
            ),
            AnswerValue::Date(m.at),
        )
    } else if let Some(m) = latest_with(scope, person, now, false).await? {
        (
            format!(
                "You have no meeting with {} on record. You were last in touch on {} ({}): {}.",
                person.link(),
                day(m.at),
                m.channel.label(),
                cited(&m, "a message")
            ),
            AnswerValue::Nothing,
        )
    } else {
        (
            format!(
                "You have no meeting or exchange with {} on record.",
                person.link()
            ),
            AnswerValue::Nothing,
        )
    };
    Ok(Answered {
        text,
        value,
        tools: vec!["timeline".into()],
    })
}

/// The latest activity with any of `person`'s contacts up to `now`: only meetings, or
/// any channel.
async fn latest_with(
    scope: UserScope<'_>,
    person: &Person,
    now: DateTime<Utc>,
    meetings_only: bool,
) -> Result<Option<MessageRef>, DomainError> {
    Ok(sqlx::query_as!(
        MessageRef,
        r#"select a.id as activity_id, a.thread_key, ap.contact_id as "contact_id?", a.occurred_at as at,
                  a.channel as "channel: api::Channel", a.direction as "direction: api::Direction",
                  a.subject, a.snippet
           from activity_participants ap
           join activities a on a.user_id = ap.user_id and a.id = ap.activity_id
           where ap.user_id = $1 and ap.contact_id = any($2) and a.deleted_at is null
             and (not $4 or a.channel = 'meeting') and a.occurred_at <= $3
           order by a.occurred_at desc, a.id
           limit 1"#,
        scope.user.0,
        &person.contact_ids as &[Uuid],
        now,
        meetings_only,
    )
    .fetch_optional(scope.pool)
    .await?)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn now() -> DateTime<Utc> {
        // A Thursday.
        Utc.with_ymd_and_hms(2026, 12, 3, 15, 0, 0).unwrap()
    }

    #[test]
    fn the_questions_are_recognized_in_their_usual_wordings() {
        for q in [
            "who should i reach out to",
            "who should i get in touch with",
            "who do i need to catch up with",
        ] {
            assert_eq!(parse(q, now()), Some(Question::ReachOut), "{q}");
        }
        for q in [
            "who is overdue",
            "whos overdue",
            "which contacts are overdue",
        ] {
            assert_eq!(parse(q, now()), Some(Question::Overdue), "{q}");
        }
        let Some(Question::Meetings { from, to, label }) =
            parse("what meetings do i have this week", now())
        else {
            panic!("meetings")
        };
        assert_eq!(label, "this week");
        assert_eq!(from, NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        assert_eq!(to, NaiveDate::from_ymd_opt(2026, 12, 7).unwrap());
        assert!(matches!(
            parse("whats on my calendar tomorrow", now()),
            Some(Question::Meetings {
                label: "tomorrow",
                ..
            })
        ));
        assert_eq!(
            parse("when did i last meet dana", now()),
            Some(Question::LastMeeting {
                person: "dana".into()
            })
        );
        assert_eq!(
            parse("when did i last meet with dana ito", now()),
            Some(Question::LastMeeting {
                person: "dana ito".into()
            })
        );
    }

    #[test]
    fn other_questions_are_left_alone() {
        for q in [
            "who should i follow up with",
            "when did i last talk to dana",
            "when did i last email dana",
            "how do i reach dana",
            "who have i lost touch with",
            "what is danas phone",
        ] {
            assert_eq!(parse(q, now()), None, "{q}");
        }
    }
}

/// The model engine's keep-in-touch tools: name, description and JSON schema.
pub fn tool_schemas() -> Vec<(&'static str, &'static str, serde_json::Value)> {
    use serde_json::json;
    vec![
        (
            "due_reminders",
            "Contacts the user wants to keep in touch with who are overdue or due within 7 days (most overdue first), with their frequency and last interaction; and strong relationships gone quiet for longer than their usual rhythm (suggestions). Use it for 'who should I reach out to?' and 'who is overdue?'.",
            json!({"type": "object", "properties": {}, "additionalProperties": false}),
        ),
        (
            "calendar",
            "The user's meetings (logged interactions and synced calendar events) starting in a date range, with the contact each is with.",
            json!({"type": "object", "properties": {
                    "from": {"type": "string", "description": "YYYY-MM-DD (UTC)"},
                    "to": {"type": "string", "description": "YYYY-MM-DD (UTC), exclusive"}},
                   "required": ["from", "to"], "additionalProperties": false}),
        ),
    ]
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NoArguments {}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarArguments {
    from: String,
    to: String,
}

/// Runs keep-in-touch tool `name` with the model's JSON arguments as of `now`; `None`
/// when `name` is not one of these tools.
pub async fn run_tool(
    scope: UserScope<'_>,
    name: &str,
    raw: &str,
    now: DateTime<Utc>,
) -> Option<Result<serde_json::Value, DomainError>> {
    let raw = if raw.trim().is_empty() { "{}" } else { raw };
    let bad = |e: serde_json::Error| DomainError::invalid("arguments", e.to_string());
    Some(match name {
        "due_reminders" => {
            async {
                serde_json::from_str::<NoArguments>(raw).map_err(bad)?;
                let due = scope.reminders().due(now, LISTED).await?;
                let suggestions = scope.reminders().suggestions(now, 5).await?;
                Ok(serde_json::json!({"due": due, "suggestions": suggestions}))
            }
            .await
        }
        "calendar" => {
            async {
                let a: CalendarArguments = serde_json::from_str(raw).map_err(bad)?;
                let day = |field: &'static str, text: &str| {
                    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
                        DomainError::invalid(field, format!("{text:?} is not a date as YYYY-MM-DD"))
                    })
                };
                let (from, to) = (day("from", &a.from)?, day("to", &a.to)?);
                if to <= from {
                    return Err(DomainError::invalid("to", "must be after from"));
                }
                let zone = scope.time_zone().await?;
                let items = scope.calendar().between(zone, from, to).await?;
                Ok(serde_json::to_value(items).unwrap_or(serde_json::Value::Null))
            }
            .await
        }
        _ => return None,
    })
}
