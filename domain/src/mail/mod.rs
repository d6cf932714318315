//! Email parsing: RFC 822 bytes in, a [`ParsedEmail`] out. Pure (no I/O) so that the
//! sync, the mbox import and the tests share one parser, and so a parse can never fail:
//! broken mail still yields whatever could be read plus a list of [`ParseProblem`]s,
//! because dropping a message silently would be worse than storing it imperfectly.

mod addresses;
mod attachments;
mod body;
pub mod frame;
pub mod mbox;
mod problems;
pub mod quotes;
pub mod thread;

use api::Direction;
use chrono::{DateTime, TimeZone, Utc};
use mail_parser::{HeaderValue, MessageParser};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::EmailAddress;

pub use addresses::Mailbox;
pub use attachments::{AttachmentMeta, CalendarPart};
pub use body::{REMOTE_IMAGE_ATTRIBUTE, frame_html, html_to_text, sanitize_html, snippet};
pub use problems::ParseProblem;

/// Where [`ParsedEmail::date`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateSource {
    /// The message's own `Date` header.
    Header,
    /// The provider's receive time (Gmail `internalDate`), used when `Date` is missing
    /// or unreadable.
    Received,
}

/// Whether the mailbox owner sent or received `email`: outbound when the provider filed
/// it as sent, or when it is from one of the owner's own addresses (mail sent from
/// another client, or an mbox without labels).
pub fn direction_of(email: &ParsedEmail, labels: &[String], owner: &[EmailAddress]) -> Direction {
    let sent_label = labels.iter().any(|l| l == "SENT");
    let from_owner = email.from.iter().any(|m| owner.contains(&m.address));
    if sent_label || from_owner {
        Direction::Outbound
    } else {
        Direction::Inbound
    }
}

/// Everything Rapport keeps from one message. Bodies are decoded to UTF-8; the HTML is
/// already sanitized and safe to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedEmail {
    /// Without angle brackets.
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub list_id: Option<String>,
    pub list_unsubscribe: Vec<String>,
    pub precedence: Option<String>,
    pub auto_submitted: Option<String>,
    pub date: DateTime<Utc>,
    pub date_source: DateSource,
    pub subject: Option<String>,
    pub from: Vec<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub bcc: Vec<Mailbox>,
    pub reply_to: Vec<Mailbox>,
    /// The plain-text body, or the HTML body converted to text when there is no text part.
    pub text: Option<String>,
    /// The sanitized HTML body (see [`sanitize_html`]).
    pub html: Option<String>,
    pub snippet: String,
    pub attachments: Vec<AttachmentMeta>,
    pub calendar: Vec<CalendarPart>,
    pub sha256: [u8; 32],
    pub size: usize,
    pub problems: Vec<ParseProblem>,
}

/// Parses one message. `received_at` is the provider's receive time, the fallback when
/// the `Date` header is missing or unreadable.
pub fn parse_email(raw: &[u8], received_at: DateTime<Utc>) -> ParsedEmail {
    let sha256: [u8; 32] = Sha256::digest(raw).into();
    let mut problems = problems::scan_header_block(raw);
    let parser = MessageParser::default();
    let Some(message) = parser.parse(raw).filter(|m| !m.parts.is_empty()) else {
        problems.push(ParseProblem::Unparseable);
        problems.push(ParseProblem::MissingDate);
        return ParsedEmail {
            message_id: None,
            in_reply_to: Vec::new(),
            references: Vec::new(),
            list_id: None,
            list_unsubscribe: Vec::new(),
            precedence: None,
            auto_submitted: None,
            date: received_at,
            date_source: DateSource::Received,
            subject: None,
            from: Vec::new(),
            to: Vec::new(),
            cc: Vec::new(),
            bcc: Vec::new(),
            reply_to: Vec::new(),
            text: None,
            html: None,
            snippet: String::new(),
            attachments: Vec::new(),
            calendar: Vec::new(),
            sha256,
            size: raw.len(),
            problems,
        };
    };

    let (date, date_source) = match message.date().filter(|d| d.is_valid()) {
        Some(d) => match Utc.timestamp_opt(d.to_timestamp(), 0).single() {
            Some(at) => (at, DateSource::Header),
            None => {
                problems.push(ParseProblem::UnreadableDate(d.to_rfc3339()));
                (received_at, DateSource::Received)
            }
        },
        None => {
            problems.push(match message.header_raw("Date") {
                Some(value) => ParseProblem::UnreadableDate(value.trim().to_owned()),
                None => ParseProblem::MissingDate,
            });
            (received_at, DateSource::Received)
        }
    };

    let mut addresses = |field: &'static str, value: Option<&mail_parser::Address<'_>>| {
        addresses::mailboxes(field, value, &mut problems)
    };
    let from = addresses("From", message.from());
    let to = addresses("To", message.to());
    let cc = addresses("Cc", message.cc());
    let bcc = addresses("Bcc", message.bcc());
    let reply_to = addresses("Reply-To", message.reply_to());

    let bodies = body::extract(&message, &mut problems);
    let (attachments, calendar) = attachments::collect(&message);
    problems.extend(problems::scan_parts(&message));

    ParsedEmail {
        message_id: message.message_id().map(clean_id),
        in_reply_to: ids(message.in_reply_to()),
        references: ids(message.references()),
        list_id: text(message.list_id()),
        list_unsubscribe: list_urls(message.list_unsubscribe()),
        precedence: message
            .header_raw("Precedence")
            .map(|v| v.trim().to_lowercase()),
        auto_submitted: message
            .header_raw("Auto-Submitted")
            .map(|v| v.trim().to_lowercase()),
        date,
        date_source,
        subject: message.subject().map(|s| s.trim().to_owned()),
        from,
        to,
        cc,
        bcc,
        reply_to,
        snippet: snippet(bodies.text.as_deref().unwrap_or_default()),
        text: bodies.text,
        html: bodies.html,
        attachments,
        calendar,
        sha256,
        size: raw.len(),
        problems,
    }
}

fn clean_id(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned()
}

/// Message-ID lists (`In-Reply-To`, `References`), brackets removed.
fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(id) => vec![clean_id(id)],
        HeaderValue::TextList(list) => list.iter().map(|id| clean_id(id)).collect(),
        _ => Vec::new(),
    }
    .into_iter()
    .filter(|id| !id.is_empty())
    .collect()
}

fn text(value: &HeaderValue<'_>) -> Option<String> {
    match value {
        HeaderValue::Text(t) => Some(t.trim().to_owned()),
        HeaderValue::TextList(list) => Some(list.join(" ")),
        HeaderValue::Address(a) => a
            .first()
            .and_then(|addr| addr.address().or(addr.name()))
            .map(str::to_owned),
        _ => None,
    }
}

/// `List-Unsubscribe` holds `<mailto:...>, <https://...>`; mail-parser reads it as an
/// address list whose "addresses" are the URLs.
fn list_urls(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Address(a) => a
            .iter()
            .filter_map(|addr| addr.address())
            .map(str::to_owned)
            .collect(),
        HeaderValue::Text(t) => vec![t.trim().to_owned()],
        HeaderValue::TextList(list) => list.iter().map(|t| t.trim().to_owned()).collect(),
        _ => Vec::new(),
    }
}
