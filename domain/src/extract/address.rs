//! Address-list parsing and sender classification.
//!
//! Contacts must only be created from people, so this module tells apart
//! person mailboxes, role/group mailboxes and machines, and recognises bulk
//! mail from its headers.

use crate::extract::names::{DisplayName, clean_display_name};

/// One mailbox from an address list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<DisplayName>,
    /// Lower-cased `local@domain`.
    pub email: String,
}

/// Parse an RFC 5322 address list (already RFC 2047-decoded): handles quoted
/// commas (`"Doe, Jane" <j@x>`), comments, groups (`Team: a@x, b@x;`) and
/// bare addresses. Entries without a syntactically plausible address are
/// dropped rather than guessed.
pub fn parse_address_list(value: &str) -> Vec<Mailbox> {
    split_top_level(value)
        .iter()
        .filter_map(|e| parse_mailbox(e))
        .collect()
}

/// Parse a single `Name <addr>` / `addr (Name)` / `addr` entry.
fn parse_mailbox(entry: &str) -> Option<Mailbox> {
    let entry = entry.trim();
    let (name_part, addr) = match (entry.rfind('<'), entry.rfind('>')) {
        (Some(l), Some(r)) if l < r => (
            format!("{} {}", &entry[..l], &entry[r + 1..]),
            &entry[l + 1..r],
        ),
        _ => {
            // "addr (Name)" legacy comment form, or a bare address.
            let addr = entry.split_whitespace().find(|t| t.contains('@'))?;
            let comment = entry.replacen(addr, "", 1);
            (
                comment
                    .trim()
                    .trim_start_matches('(')
                    .trim_end_matches(')')
                    .to_string(),
                addr,
            )
        }
    };
    let email = addr
        .trim()
        .trim_start_matches("mailto:")
        .to_ascii_lowercase();
    if !plausible_address(&email) {
        return None;
    }
    Some(Mailbox {
        name: clean_display_name(&name_part),
        email,
    })
}

fn plausible_address(a: &str) -> bool {
    let Some((local, host)) = a.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && host.contains('.')
        && !host.starts_with('.')
        && !a.contains(char::is_whitespace)
}

/// Split on commas that are outside quotes, comments and angle brackets;
/// group syntax `name: a, b;` contributes its members.
fn split_top_level(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut paren, mut angle, mut escaped) = (false, 0usize, false, false);
    for c in value.chars() {
        if escaped {
            cur.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => {
                escaped = true;
                cur.push(c);
            }
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            '(' if !quoted => {
                paren += 1;
                cur.push(c);
            }
            ')' if !quoted => {
                paren = paren.saturating_sub(1);
                cur.push(c);
            }
            '<' if !quoted => {
                angle = true;
                cur.push(c);
            }
            '>' if !quoted => {
                angle = false;
                cur.push(c);
            }
            // Group display name: "Team: " -> drop what came before.
            ':' if !quoted && paren == 0 && !angle => cur.clear(),
            ',' | ';' if !quoted && paren == 0 && !angle => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// What kind of mailbox an address is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenderKind {
    /// Likely a person: eligible to become a contact.
    Person,
    /// Shared role mailbox (info@, sales@): a company touchpoint, not a person.
    Group,
    /// Machine sender (noreply, notifications, bounces): never a contact.
    Automated,
}

/// Local-part markers of machine senders. Matched as substrings after
/// removing `-`, `_` and `.` so `no-reply`, `no_reply`, `noreply` all hit.
const AUTOMATED_MARKERS: &[&str] = &[
    "noreply",
    "donotreply",
    "dontreply",
    "notreply",
    "mailerdaemon",
    "postmaster",
    "notification",
    "bounce",
    "autoreply",
    "autoresponder",
    "automailer",
    "daemon",
    "alerts",
    "newsletter",
    "unsubscribe",
    "listserv",
    "majordomo",
];

/// Exact local parts used by machine senders where a substring test would
/// be too broad (e.g. `notify` inside a surname).
const AUTOMATED_EXACT: &[&str] = &[
    "notify", "alert", "news", "mailer", "system", "robot", "nobody", "calendar", "updates",
];

/// Shared role mailboxes.
pub(crate) const ROLE_ACCOUNTS: &[&str] = &[
    "info",
    "support",
    "help",
    "helpdesk",
    "sales",
    "contact",
    "contactus",
    "hello",
    "team",
    "office",
    "admin",
    "billing",
    "accounts",
    "accounting",
    "invoices",
    "finance",
    "hr",
    "jobs",
    "careers",
    "recruiting",
    "press",
    "media",
    "marketing",
    "service",
    "customerservice",
    "enquiries",
    "inquiries",
    "feedback",
    "orders",
    "legal",
    "privacy",
    "security",
    "webmaster",
    "reception",
    "bookings",
    "reservations",
];

/// True when the address belongs to a machine sender (noreply, bounces,
/// notification systems). Bounce addresses with VERP tags such as
/// `bounce+abc123@` are covered by the substring rule.
pub fn automated_sender(addr: &str) -> bool {
    classify_sender(addr) == SenderKind::Automated
}

/// Classify an address as person, role/group mailbox or machine.
pub fn classify_sender(addr: &str) -> SenderKind {
    let addr = addr.trim().trim_matches(['<', '>']).to_ascii_lowercase();
    let local = addr.rsplit_once('@').map_or(addr.as_str(), |(l, _)| l);
    let base = local.split('+').next().unwrap_or(local);
    let squashed: String = local
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '.'))
        .collect();
    if AUTOMATED_MARKERS.iter().any(|m| squashed.contains(m)) || AUTOMATED_EXACT.contains(&base) {
        return SenderKind::Automated;
    }
    if ROLE_ACCOUNTS.contains(&base) {
        return SenderKind::Group;
    }
    SenderKind::Person
}

/// Why a message is considered bulk mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkReason {
    ListId,
    ListUnsubscribe,
    /// `Precedence: bulk | list | junk`.
    Precedence(String),
    /// `Auto-Submitted` with any value other than `no` (RFC 3834).
    AutoSubmitted(String),
}

/// Detect bulk/list/automatic mail from headers (names case-insensitive).
/// Returns the first reason found so callers can log why a message was
/// skipped for contact creation.
pub fn is_bulk(headers: &[(String, String)]) -> Option<BulkReason> {
    for (name, value) in headers {
        let v = value.trim().to_ascii_lowercase();
        match name.trim().to_ascii_lowercase().as_str() {
            "list-id" if !v.is_empty() => return Some(BulkReason::ListId),
            "list-unsubscribe" if !v.is_empty() => return Some(BulkReason::ListUnsubscribe),
            "precedence" if matches!(v.as_str(), "bulk" | "list" | "junk") => {
                return Some(BulkReason::Precedence(v));
            }
            "auto-submitted" if !v.is_empty() && v != "no" => {
                return Some(BulkReason::AutoSubmitted(v));
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn parses_lists_with_quoted_commas_and_groups() {
        let l = parse_address_list(
            "\"Doe, Jane\" <Jane.Doe@Acme.com>, bob@globex.io, Team: a@x.org, \"B, C\" <b@x.org>;, Élodie Lefèvre <elodie@exemple.fr>",
        );
        let emails: Vec<&str> = l.iter().map(|m| m.email.as_str()).collect();
        assert_eq!(
            emails,
            [
                "jane.doe@acme.com",
                "bob@globex.io",
                "a@x.org",
                "b@x.org",
                "elodie@exemple.fr"
            ]
        );
        assert_eq!(l[0].name.as_ref().unwrap().as_str(), "Jane Doe");
        assert_eq!(l[1].name, None);
        assert_eq!(l[4].name.as_ref().unwrap().as_str(), "Élodie Lefèvre");
    }

    #[test]
    fn legacy_comment_form_and_garbage() {
        let l = parse_address_list(
            "jane@acme.com (Jane Doe), undisclosed-recipients:;, not an address",
        );
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].name.as_ref().unwrap().as_str(), "Jane Doe");
    }

    #[test]
    fn classifies_senders() {
        for a in [
            "no-reply@github.com",
            "noreply@x.com",
            "do_not_reply@bank.com",
            "MAILER-DAEMON@mx.x.com",
            "notifications@slack.com",
            "bounce+12ab@mg.shop.com",
            "calendar@x.com",
        ] {
            assert!(automated_sender(a), "{a}");
        }
        assert_eq!(classify_sender("info@acme.com"), SenderKind::Group);
        assert_eq!(classify_sender("support@acme.com"), SenderKind::Group);
        assert_eq!(classify_sender("jane.doe@acme.com"), SenderKind::Person);
        assert_eq!(classify_sender("infante@acme.com"), SenderKind::Person);
    }

    #[test]
    fn bulk_headers() {
        assert_eq!(
            is_bulk(&h(&[("List-Id", "<dev.lists.x.org>")])),
            Some(BulkReason::ListId)
        );
        assert_eq!(
            is_bulk(&h(&[("list-unsubscribe", "<mailto:u@x.com>")])),
            Some(BulkReason::ListUnsubscribe)
        );
        assert_eq!(
            is_bulk(&h(&[("Precedence", "Bulk")])),
            Some(BulkReason::Precedence("bulk".into()))
        );
        assert_eq!(
            is_bulk(&h(&[("Auto-Submitted", "auto-replied")])),
            Some(BulkReason::AutoSubmitted("auto-replied".into()))
        );
        assert_eq!(
            is_bulk(&h(&[
                ("Auto-Submitted", "no"),
                ("Precedence", "first-class")
            ])),
            None
        );
        assert_eq!(is_bulk(&h(&[("Subject", "hi")])), None);
    }
}
