//! A JMAP `Email` as the ingest layer's [`ParsedEmail`], and its Gmail-style labels, so
//! JMAP mail feeds contacts, stats and timelines exactly like Gmail mail. Pure.

use std::collections::HashMap;

use chrono::Utc;
use sha2::{Digest, Sha256};

use super::Email;
use super::types::{BodyPart, EmailAddress as JmapAddress};
use crate::EmailAddress;
use crate::mail::{
    AttachmentMeta, DateSource, Mailbox, ParseProblem, ParsedEmail, html_to_text, sanitize_html,
    snippet,
};

/// Gmail's label ids for what JMAP says with mailbox roles and keywords: `INBOX` and
/// `SENT` by the roles of the message's mailboxes, `UNREAD` without `$seen`, `STARRED`
/// with `$flagged`.
pub fn labels_of(email: &Email, roles: &HashMap<String, String>) -> Vec<String> {
    let mut labels: Vec<String> = email
        .mailbox_ids
        .iter()
        .filter(|(_, on)| **on)
        .filter_map(|(id, _)| match roles.get(id).map(String::as_str) {
            Some("inbox") => Some("INBOX"),
            Some("sent") => Some("SENT"),
            _ => None,
        })
        .map(str::to_owned)
        .collect();
    let keyword = |k: &str| email.keywords.get(k).copied().unwrap_or(false);
    if !keyword("$seen") {
        labels.push("UNREAD".to_owned());
    }
    if keyword("$flagged") {
        labels.push("STARRED".to_owned());
    }
    labels.sort();
    labels.dedup();
    labels
}

/// The message as Rapport keeps it. Bodies come from `bodyValues`; the HTML is sanitized
/// like parsed mail; the content hash is of the raw message's `blobId` (its identity at
/// the server), since the raw bytes are never downloaded.
pub fn parse_jmap_email(email: &Email) -> ParsedEmail {
    let mut problems = Vec::new();
    let (date, date_source) = match email.sent_at {
        Some(sent) => (sent.with_timezone(&Utc), DateSource::Header),
        None => {
            problems.push(ParseProblem::MissingDate);
            (email.received_at, DateSource::Received)
        }
    };
    let mailboxes = |list: &Option<Vec<JmapAddress>>| -> Vec<Mailbox> {
        list.iter()
            .flatten()
            .filter_map(|a| {
                let address = EmailAddress::parse(a.email.as_deref()?).ok()?;
                Some(Mailbox {
                    name: a
                        .name
                        .as_deref()
                        .map(str::trim)
                        .filter(|n| !n.is_empty())
                        .map(str::to_owned),
                    address,
                })
            })
            .collect()
    };
    let values = |parts: &[BodyPart], subtype: &str| -> Option<String> {
        let joined: Vec<&str> = parts
            .iter()
            .filter(|p| {
                p.content_type
                    .as_deref()
                    .is_some_and(|t| t.eq_ignore_ascii_case(subtype))
            })
            .filter_map(|p| email.body_values.get(p.part_id.as_deref()?))
            .map(|v| v.value.as_str())
            .collect();
        (!joined.is_empty()).then(|| joined.join("\n"))
    };
    let html = values(&email.html_body, "text/html");
    let text = values(&email.text_body, "text/plain")
        .or_else(|| html.as_deref().and_then(|h| html_to_text(h).ok()))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    let attachments = email
        .attachments
        .iter()
        .map(|a| AttachmentMeta {
            filename: a.name.clone(),
            content_type: a
                .content_type
                .as_deref()
                .unwrap_or("application/octet-stream")
                .to_ascii_lowercase(),
            size: usize::try_from(a.size).unwrap_or(usize::MAX),
            content_id: a
                .cid
                .as_deref()
                .map(|c| c.trim_matches(['<', '>']).to_owned()),
            inline: a
                .disposition
                .as_deref()
                .is_some_and(|d| d.eq_ignore_ascii_case("inline")),
        })
        .collect();
    let identity = email.blob_id.as_deref().unwrap_or(&email.id);
    let clean = |ids: &Option<Vec<String>>| -> Vec<String> {
        ids.iter()
            .flatten()
            .map(|id| id.trim().trim_matches(['<', '>']).to_owned())
            .filter(|id| !id.is_empty())
            .collect()
    };
    ParsedEmail {
        message_id: clean(&email.message_id).into_iter().next(),
        in_reply_to: clean(&email.in_reply_to),
        references: clean(&email.references),
        list_id: email
            .list_id
            .as_deref()
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty()),
        list_unsubscribe: email.list_unsubscribe.clone().unwrap_or_default(),
        precedence: email.precedence.as_deref().map(|p| p.trim().to_lowercase()),
        auto_submitted: email
            .auto_submitted
            .as_deref()
            .map(|a| a.trim().to_lowercase()),
        date,
        date_source,
        subject: email.subject.as_deref().map(|s| s.trim().to_owned()),
        from: mailboxes(&email.from),
        to: mailboxes(&email.to),
        cc: mailboxes(&email.cc),
        bcc: mailboxes(&email.bcc),
        reply_to: mailboxes(&email.reply_to),
        snippet: match &text {
            Some(text) => snippet(text),
            None => email.preview.clone().unwrap_or_default(),
        },
        text,
        html: html.map(|h| sanitize_html(&h)),
        attachments,
        calendar: Vec::new(),
        sha256: Sha256::digest(identity.as_bytes()).into(),
        size: usize::try_from(email.size).unwrap_or(usize::MAX),
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(json: serde_json::Value) -> Email {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn labels_follow_gmail_conventions() {
        let roles: HashMap<String, String> = [("i", "inbox"), ("s", "sent"), ("x", "archive")]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .into();
        let read_starred = email(serde_json::json!({
            "id": "1", "receivedAt": "2025-01-01T00:00:00Z",
            "mailboxIds": {"i": true, "s": true}, "keywords": {"$seen": true, "$flagged": true}
        }));
        assert_eq!(
            labels_of(&read_starred, &roles),
            ["INBOX", "SENT", "STARRED"]
        );
        let unread = email(serde_json::json!({
            "id": "2", "receivedAt": "2025-01-01T00:00:00Z", "mailboxIds": {"x": true}
        }));
        assert_eq!(labels_of(&unread, &roles), ["UNREAD"]);
    }

    #[test]
    fn a_jmap_email_becomes_a_parsed_message() {
        let parsed = parse_jmap_email(&email(serde_json::json!({
            "id": "M1", "blobId": "B1", "receivedAt": "2025-01-02T10:00:00Z",
            "sentAt": "2025-01-02T11:00:00+01:00",
            "messageId": ["abc@example.com"], "inReplyTo": ["<p@example.com>"],
            "from": [{"name": " Ann ", "email": "Ann@Example.com"}],
            "to": [{"name": null, "email": "me@localhost.example"}, {"name": "x", "email": "not an address"}],
            "subject": " Hello ", "size": 1234,
            "textBody": [{"partId": "1", "type": "text/plain"}],
            "htmlBody": [{"partId": "2", "type": "text/html"}],
            "bodyValues": {"1": {"value": "Hi there"}, "2": {"value": "<p>Hi <script>x</script>there</p>"}},
            "attachments": [{"partId": "3", "blobId": "B3", "type": "Application/PDF", "name": "a.pdf", "size": 10, "disposition": "attachment"}],
            "header:List-Id:asText": null
        })));
        assert_eq!(parsed.message_id.as_deref(), Some("abc@example.com"));
        assert_eq!(parsed.in_reply_to, ["p@example.com"]);
        assert_eq!(parsed.date.to_rfc3339(), "2025-01-02T10:00:00+00:00");
        assert_eq!(parsed.date_source, DateSource::Header);
        assert_eq!(parsed.from[0].name.as_deref(), Some("Ann"));
        assert_eq!(parsed.from[0].address.as_str(), "ann@example.com");
        assert_eq!(parsed.to.len(), 1);
        assert_eq!(parsed.subject.as_deref(), Some("Hello"));
        assert_eq!(parsed.text.as_deref(), Some("Hi there"));
        assert!(!parsed.html.as_deref().unwrap().contains("script"));
        assert_eq!(parsed.attachments[0].content_type, "application/pdf");
        assert_eq!(parsed.size, 1234);
        assert!(parsed.problems.is_empty());
    }

    #[test]
    fn html_only_mail_gets_text_from_the_html() {
        let parsed = parse_jmap_email(&email(serde_json::json!({
            "id": "M2", "receivedAt": "2025-01-02T10:00:00Z",
            "htmlBody": [{"partId": "2", "type": "text/html"}],
            "bodyValues": {"2": {"value": "<p>Only html</p>"}}
        })));
        assert_eq!(parsed.text.as_deref(), Some("Only html"));
        assert_eq!(parsed.date_source, DateSource::Received);
        assert_eq!(parsed.problems, [ParseProblem::MissingDate]);
    }
}
