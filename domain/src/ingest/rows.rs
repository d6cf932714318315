//! Pure preparation of a batch: parse each message and shape the rows that one
//! statement per table will write. Kept apart from the SQL so it is testable alone.

use api::Direction;
use serde::Serialize;
use serde_json::json;

use super::{EmailContent, IncomingEmail, IngestFilter};
use crate::EmailAddress;
use crate::mail::{Mailbox, ParsedEmail, direction_of, parse_email};

/// One `activities` row, serialized into the `jsonb_to_recordset` input.
#[derive(Debug, Serialize)]
pub(super) struct ActivityRow {
    pub(super) external_id: String,
    pub(super) direction: &'static str,
    pub(super) occurred_at: chrono::DateTime<chrono::Utc>,
    pub(super) thread_key: Option<String>,
    pub(super) subject: Option<String>,
    pub(super) snippet: String,
    pub(super) body_text: Option<String>,
    pub(super) body_html: Option<String>,
    pub(super) labels: Vec<String>,
    pub(super) headers: serde_json::Value,
    pub(super) attachments: serde_json::Value,
    /// Hex; decoded to bytea in SQL.
    pub(super) content_sha256: String,
    pub(super) size_bytes: i64,
    pub(super) parse_problems: Vec<String>,
    /// For the duplicate check; the stored copy is in `headers`.
    #[serde(skip)]
    pub(super) message_id: Option<String>,
}

pub(super) struct ParticipantRow {
    pub(super) external_id: String,
    pub(super) role: &'static str,
    pub(super) address: String,
    pub(super) display_name: Option<String>,
    pub(super) occurred_at: chrono::DateTime<chrono::Utc>,
}

/// The decision for one incoming message before anything is written.
pub(super) enum Prepared {
    Store(Box<ActivityRow>, Vec<ParticipantRow>),
    Filtered { external_id: String, rule: String },
    Failed { external_id: String, error: String },
}

pub(super) fn prepare(
    email: &IncomingEmail,
    filter: &IngestFilter,
    owner: &[EmailAddress],
) -> Prepared {
    if let Some(rule) = filter.rule_for(email) {
        return Prepared::Filtered {
            external_id: email.external_id.clone(),
            rule,
        };
    }
    let parsed_here;
    let parsed: &ParsedEmail = match &email.content {
        EmailContent::Raw(raw) => {
            parsed_here = parse_email(raw, email.received_at);
            &parsed_here
        }
        EmailContent::Parsed(parsed) => parsed,
    };
    if parsed
        .problems
        .contains(&crate::mail::ParseProblem::Unparseable)
    {
        return Prepared::Failed {
            external_id: email.external_id.clone(),
            error: "not a readable message".to_owned(),
        };
    }
    let direction = direction_of(parsed, &email.labels, owner);
    let participants = participants(&email.external_id, parsed);
    Prepared::Store(Box::new(activity(email, parsed, direction)), participants)
}

/// Postgres text cannot hold NUL; mail occasionally does.
fn pg(text: &str) -> String {
    text.replace('\0', "")
}

fn pg_opt(text: Option<&str>) -> Option<String> {
    text.map(pg)
}

fn activity(email: &IncomingEmail, parsed: &ParsedEmail, direction: Direction) -> ActivityRow {
    let mailboxes = |list: &[Mailbox]| {
        list.iter()
            .map(|m| json!({"name": m.name.as_deref().map(pg), "address": m.address.as_str()}))
            .collect::<Vec<_>>()
    };
    // What threading, bulk-mail detection and reply tracking need later.
    let headers = json!({
        "message_id": pg_opt(parsed.message_id.as_deref()),
        "in_reply_to": parsed.in_reply_to.iter().map(|s| pg(s)).collect::<Vec<_>>(),
        "references": parsed.references.iter().map(|s| pg(s)).collect::<Vec<_>>(),
        "list_id": pg_opt(parsed.list_id.as_deref()),
        "list_unsubscribe": parsed.list_unsubscribe.iter().map(|s| pg(s)).collect::<Vec<_>>(),
        "precedence": pg_opt(parsed.precedence.as_deref()),
        "auto_submitted": pg_opt(parsed.auto_submitted.as_deref()),
        "reply_to": mailboxes(&parsed.reply_to),
        "date_source": parsed.date_source,
        "received_at": email.received_at,
        "calendar": parsed.calendar,
    });
    let attachments = serde_json::to_value(
        parsed
            .attachments
            .iter()
            .map(|a| {
                json!({
                    "filename": pg_opt(a.filename.as_deref()),
                    "content_type": pg(&a.content_type),
                    "size": a.size,
                    "content_id": pg_opt(a.content_id.as_deref()),
                    "inline": a.inline,
                })
            })
            .collect::<Vec<_>>(),
    )
    .unwrap_or_default();
    ActivityRow {
        external_id: email.external_id.clone(),
        direction: direction.as_str(),
        occurred_at: parsed.date,
        thread_key: pg_opt(email.thread_id.as_deref()),
        subject: pg_opt(parsed.subject.as_deref()),
        snippet: pg(&parsed.snippet),
        body_text: pg_opt(parsed.text.as_deref()),
        body_html: pg_opt(parsed.html.as_deref()),
        labels: email.labels.iter().map(|l| pg(l)).collect(),
        headers,
        attachments,
        content_sha256: parsed.sha256.iter().map(|b| format!("{b:02x}")).collect(),
        size_bytes: i64::try_from(parsed.size).unwrap_or(i64::MAX),
        parse_problems: parsed.problems.iter().map(|p| pg(&p.to_string())).collect(),
        message_id: pg_opt(parsed.message_id.as_deref()),
    }
}

fn participants(external_id: &str, parsed: &ParsedEmail) -> Vec<ParticipantRow> {
    let roles: [(&'static str, &[Mailbox]); 4] = [
        ("from", &parsed.from),
        ("to", &parsed.to),
        ("cc", &parsed.cc),
        ("bcc", &parsed.bcc),
    ];
    roles
        .into_iter()
        .flat_map(|(role, list)| {
            list.iter().map(move |m| ParticipantRow {
                external_id: external_id.to_owned(),
                role,
                address: m.address.as_str().to_owned(),
                display_name: m.name.as_deref().map(pg),
                occurred_at: parsed.date,
            })
        })
        .collect()
}
