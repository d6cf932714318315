//! Split a plain-text body into the author's own text and the quoted or
//! forwarded messages below it.
//!
//! Only the own text describes the sender, but quoted parts carry their own
//! sender (from the embedded header block), so they are returned as
//! segments too: a pipeline can mine them for that sender's signature.

use std::sync::LazyLock;

use regex::Regex;

use crate::extract::lexicon;
use crate::extract::names::{DisplayName, clean_display_name};

/// Where a segment came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentKind {
    /// Text written by the message's sender.
    Own,
    /// A quoted earlier message ("On ... wrote:", Original Message, `>`).
    Reply,
    /// A forwarded message.
    Forward,
}

/// Sender of a quoted message, as far as its header block tells.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuotedSender {
    pub name: Option<DisplayName>,
    pub email: Option<String>,
    /// Organisation line some clients (Lotus Notes) print above `From:`.
    pub organisation: Option<String>,
}

/// One part of the body with quote markers removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub kind: SegmentKind,
    pub sender: Option<QuotedSender>,
    /// Zero-based line index in the original body where the text starts.
    pub first_line: usize,
    pub text: String,
}

/// The author's own text: everything above the first quote/forward marker,
/// without `>`-quoted lines.
pub fn own_text(body: &str) -> String {
    segments(body)
        .into_iter()
        .next()
        .map(|s| s.text)
        .unwrap_or_default()
}

/// Split the body into the own segment followed by quoted segments in order.
/// The own segment is always present (possibly empty).
pub fn segments(body: &str) -> Vec<Segment> {
    let lines: Vec<QLine> = body.lines().map(QLine::new).collect();
    let mut bounds = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let fresh = bounds.last().is_some_and(|b: &Boundary| b.body_start == i);
        if let Some(b) = boundary_at(&lines, i, fresh) {
            i = b.body_start.max(i + 1);
            bounds.push(b);
        } else {
            i += 1;
        }
    }
    let mut out = Vec::new();
    let own_end = bounds.first().map_or(lines.len(), |b| b.start);
    out.push(Segment {
        kind: SegmentKind::Own,
        sender: None,
        first_line: 0,
        text: join(&lines[..own_end]),
    });
    for (n, b) in bounds.iter().enumerate() {
        let end = bounds.get(n + 1).map_or(lines.len(), |next| next.start);
        let start = b.body_start.min(end);
        out.push(Segment {
            kind: b.kind,
            sender: b.sender.clone(),
            first_line: start,
            text: join(&lines[start..end]),
        });
    }
    out
}

/// A body line with its quote depth and the text after the markers.
struct QLine<'a> {
    depth: usize,
    text: &'a str,
}

impl<'a> QLine<'a> {
    fn new(raw: &'a str) -> Self {
        let mut depth = 0;
        let mut rest = raw;
        loop {
            let t = rest.trim_start_matches([' ', '\t']);
            match t.strip_prefix('>') {
                Some(r) => {
                    depth += 1;
                    rest = r.strip_prefix(' ').unwrap_or(r);
                }
                None => break,
            }
        }
        QLine {
            depth,
            text: if depth == 0 { raw } else { rest },
        }
    }

    fn trimmed(&self) -> &'a str {
        self.text.trim()
    }
}

fn join(lines: &[QLine]) -> String {
    lines.iter().map(|l| l.text).collect::<Vec<_>>().join("\n")
}

struct Boundary {
    start: usize,
    body_start: usize,
    kind: SegmentKind,
    sender: Option<QuotedSender>,
}

static SEPARATOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^[-_=*\s]{2,}\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original|messaggio originale|mensagem original|oorspronkelijk bericht|reply separator)\s*[-_=*\s]*$")
        .expect("valid regex")
});
static FORWARD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:[-_=*\s]{2,}\s*(forwarded message|weitergeleitete nachricht|message transféré|mensaje reenviado|forwarded by\b.*)|begin forwarded message:)")
        .expect("valid regex")
});
static WROTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?is)^(on|am|le|el|il|em|op|den|på)\s.{4,250}?\s(wrote|writes|schrieb|a écrit|escribió|ha scritto|escreveu|schreef|skrev)(\s[^:]{0,120})?\s*:\s*$")
        .expect("valid regex")
});
static FROM_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\*?(from|von|de|da|van|från)\s*:\*?\s*(.*)$").expect("valid regex")
});
static HEADER_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\*?(sent|date|to|cc|bcc|subject|gesendet|datum|an|betreff|envoyé|objet|à|enviado|para|asunto|reply-to|importance)\s*:").expect("valid regex")
});
/// cc:Mail's sender field, printed below "Subject:" after its "Reply Separator".
static AUTHOR_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^author\s*:\s*(.*)$").expect("valid regex"));
static SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\*?(subject|betreff|objet|asunto|oggetto|assunto)\s*:").expect("valid regex")
});
static TO_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^\*?(to|an|à|para)\s*:").expect("valid regex"));
static DATE_TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\d{1,2}/\d{1,2}/\d{2,4}|\d{1,2}:\d{2}(:\d{2})?\s*(am|pm)?|\b(mon|tue|wed|thu|fri|sat|sun)[a-z]*,")
        .expect("valid regex")
});
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+").expect("valid regex")
});

/// `fresh` is true on the first body line of the previous boundary, where
/// quoted lines belong to that boundary instead of starting a new one.
fn boundary_at(lines: &[QLine], i: usize, fresh: bool) -> Option<Boundary> {
    let t = lines[i].trimmed();
    if SEPARATOR.is_match(t) {
        let (body_start, sender) = header_block(lines, i + 1).unwrap_or((i + 1, None));
        return Some(Boundary {
            start: i,
            body_start,
            kind: SegmentKind::Reply,
            sender,
        });
    }
    if FORWARD.is_match(t) {
        let (body_start, sender) = header_block(lines, i + 1).unwrap_or((i + 1, None));
        return Some(Boundary {
            start: i,
            body_start,
            kind: SegmentKind::Forward,
            sender,
        });
    }
    if let Some((end, sender)) = wrote_line(lines, i) {
        return Some(Boundary {
            start: i,
            body_start: end,
            kind: SegmentKind::Reply,
            sender: Some(sender),
        });
    }
    if FROM_LINE.is_match(t)
        && let Some((body_start, sender)) = header_block(lines, i)
    {
        let start = organisation_above(lines, i);
        let sender = sender.map(|mut s| {
            s.organisation = (start < i).then(|| lines[start].trimmed().to_string());
            s
        });
        return Some(Boundary {
            start,
            body_start,
            kind: SegmentKind::Reply,
            sender,
        });
    }
    if TO_LINE.is_match(t)
        && let Some((body_start, _)) = header_block(lines, i)
    {
        let start = sender_lines_above(lines, i);
        let sender = (start < i).then(|| parse_sender_value(lines[start].trimmed()));
        return Some(Boundary {
            start,
            body_start,
            kind: SegmentKind::Reply,
            sender,
        });
    }
    let entering_quote = !fresh && lines[i].depth > 0 && (i == 0 || lines[i - 1].depth == 0);
    entering_quote.then_some(Boundary {
        start: i,
        body_start: i,
        kind: SegmentKind::Reply,
        sender: None,
    })
}

/// "On Tue, 3 May 2022 at 10:14, Jane Doe <jane@acme.com> wrote:", possibly
/// wrapped over up to three lines.
fn wrote_line(lines: &[QLine], i: usize) -> Option<(usize, QuotedSender)> {
    let first = lines[i].trimmed();
    if !WROTE.is_match(first)
        && !first.split_whitespace().next().is_some_and(|w| {
            matches!(
                w.to_lowercase().as_str(),
                "on" | "am" | "le" | "el" | "il" | "em" | "op" | "den" | "på"
            )
        })
    {
        return None;
    }
    let mut joined = String::new();
    for (k, l) in lines.iter().enumerate().skip(i).take(3) {
        if !joined.is_empty() {
            joined.push(' ');
        }
        joined.push_str(l.trimmed());
        if WROTE.is_match(&joined) {
            return Some((k + 1, sender_from_wrote(&joined)));
        }
    }
    None
}

const ATTRIBUTION_VERBS: &[&str] = &[
    "wrote",
    "writes",
    "schrieb",
    "a",
    "écrit",
    "escribió",
    "escreveu",
    "schreef",
    "skrev",
];

fn sender_from_wrote(s: &str) -> QuotedSender {
    let email = EMAIL.find(s).map(|m| m.as_str().to_ascii_lowercase());
    let core = s.rsplit_once(|c: char| c.is_whitespace()).map_or(s, |_| s);
    let cut = core.find('<').or_else(|| {
        email
            .as_ref()
            .and_then(|e| core.to_lowercase().find(e.as_str()))
    });
    let head = cut.map_or(core, |c| &core[..c]);
    // The name follows the date: after the last time ("10:14 AM") or comma.
    let name_part = DATE_TIME
        .find_iter(head)
        .last()
        .map_or(head, |m| &head[m.end()..]);
    let name_part = name_part.rsplit(',').next().unwrap_or(name_part);
    let name_part = name_part
        .split_whitespace()
        .filter(|w| !ATTRIBUTION_VERBS.contains(&w.to_lowercase().trim_end_matches(':')))
        .collect::<Vec<_>>()
        .join(" ");
    let name = if cut.is_some() {
        clean_display_name(&name_part)
    } else {
        None
    };
    QuotedSender {
        name,
        email,
        organisation: None,
    }
}

/// Longest quoted header block: Lotus Notes wraps long To/cc lists over a
/// dozen lines or more.
const HEADER_BLOCK_LINES: usize = 24;

/// Parse a header block beginning at `i` (From/Sent/To/Cc/Subject lines).
/// Needs a Subject line within [`HEADER_BLOCK_LINES`] lines to count as a
/// block; returns the first body line after it and the sender from the From
/// field.
fn header_block(lines: &[QLine], i: usize) -> Option<(usize, Option<QuotedSender>)> {
    let mut k = i;
    while k < lines.len() && lines[k].trimmed().is_empty() && k < i + 3 {
        k += 1;
    }
    let begin = k;
    let mut sender = None;
    let mut saw_field = false;
    while k < lines.len() && k < begin + HEADER_BLOCK_LINES {
        let t = lines[k].trimmed();
        if let Some(c) = FROM_LINE.captures(t) {
            sender = Some(parse_sender_value(&c[2]));
            saw_field = true;
        } else if SUBJECT.is_match(t) {
            // Gmail prints "To:" after "Subject:", cc:Mail its "Author:".
            let mut end = k + 1;
            while end < lines.len() {
                let t = lines[end].trimmed();
                if let Some(c) = AUTHOR_LINE.captures(t) {
                    sender = Some(parse_sender_value(&c[1]));
                } else if !HEADER_FIELD.is_match(t) {
                    break;
                }
                end += 1;
            }
            // Lotus Notes: "Name <addr> on 03/02/2001 09:15 AM" above "To:".
            let first = lines[begin].trimmed();
            let lotus = (!FROM_LINE.is_match(first) && !HEADER_FIELD.is_match(first))
                .then(|| parse_sender_value(first));
            let fields_below = end > k + 1;
            return (saw_field || k > begin || fields_below).then_some((end, sender.or(lotus)));
        } else if HEADER_FIELD.is_match(t) {
            saw_field = true;
        } else if t.is_empty() && !saw_field {
            return None;
        }
        k += 1;
    }
    None
}

/// Lotus Notes puts "Name <addr> on 05/01/2001 10:00 AM" or a name line and
/// a date line above "To:"; include them in the boundary.
fn sender_lines_above(lines: &[QLine], i: usize) -> usize {
    let mut k = i;
    // One blank (often whitespace-only) line may separate them from "To:".
    if k > 0 && lines[k - 1].trimmed().is_empty() {
        k -= 1;
    }
    let mut start = i;
    for j in (k.saturating_sub(3)..k).rev() {
        let t = lines[j].trimmed();
        if t.is_empty() || t.len() > 120 {
            break;
        }
        start = j;
    }
    start
}

/// Lotus Notes prints the sender's organisation two lines above "From:".
fn organisation_above(lines: &[QLine], i: usize) -> usize {
    match i.checked_sub(2) {
        Some(k) if lines[i - 1].trimmed().is_empty() && looks_like_org_line(lines[k].trimmed()) => {
            k
        }
        _ => i,
    }
}

fn looks_like_org_line(t: &str) -> bool {
    t.len() <= 60 && !t.contains(':') && lexicon::looks_like_company(t)
}

/// Sender from a From-like value: `"Doe, Jane" <j@x.com>`, `Jane Doe
/// [mailto:j@x.com]`, `Jane Doe @ ACME  01/18/2001 11:45 AM`,
/// `Jane Doe/HOU/ACME@ACME`, `Jane Doe <j@x.com> on 05/01/2001 10:00 AM`.
pub fn parse_sender_value(v: &str) -> QuotedSender {
    let email = EMAIL
        .find(v)
        .map(|m| m.as_str().trim_end_matches('.').to_ascii_lowercase());
    let mut name = v.to_string();
    for cut in [" on ", "[mailto:", "<", " @ ", "/", "\t", "   "] {
        if let Some(p) = name.find(cut).filter(|&p| p > 0) {
            name.truncate(p);
        }
    }
    if let Some(m) = DATE_TIME.find(&name) {
        name.truncate(m.start());
    }
    QuotedSender {
        name: clean_display_name(&name),
        email,
        organisation: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmail_style_reply_multiline_and_languages() {
        let body = "Sounds good, see you then.\n\nOn Tue, Mar 5, 2024 at 9:12 AM Jane Doe <jane@acme.com>\nwrote:\n> Can we meet Thursday?\n> Jane";
        let s = segments(body);
        assert_eq!(s[0].text.trim(), "Sounds good, see you then.");
        assert_eq!(
            s[1].sender.as_ref().unwrap().email.as_deref(),
            Some("jane@acme.com")
        );
        assert_eq!(
            s[1].sender
                .as_ref()
                .unwrap()
                .name
                .as_ref()
                .unwrap()
                .as_str(),
            "Jane Doe"
        );
        assert_eq!(s[1].text, "Can we meet Thursday?\nJane");
        let de = "Passt.\n\nAm 05.03.2024 um 09:12 schrieb Jürgen Müller <jm@firma.de>:\n> Hallo";
        assert_eq!(own_text(de).trim(), "Passt.");
        let fr =
            "Merci !\n\nLe mar. 5 mars 2024 à 09:12, Élodie <e@exemple.fr> a écrit :\n> Bonjour";
        assert_eq!(own_text(fr).trim(), "Merci !");
    }

    #[test]
    fn outlook_original_message_and_header_block() {
        let body = "Approved.\n\nBob\n\n-----Original Message-----\nFrom: Smith, Jane [mailto:jane.smith@globex.com]\nSent: Monday, March 4, 2024 5:01 PM\nTo: Bob Lee\nSubject: PO 1234\n\nPlease approve.\n";
        let s = segments(body);
        assert_eq!(s[0].text.trim(), "Approved.\n\nBob");
        let q = s[1].sender.as_ref().unwrap();
        assert_eq!(q.name.as_ref().unwrap().as_str(), "Jane Smith");
        assert_eq!(q.email.as_deref(), Some("jane.smith@globex.com"));
        assert_eq!(s[1].text.trim(), "Please approve.");

        // cc:Mail prints its own separator line above the quoted message.
        let ccmail = "Fine by me.\n\nLena Ortiz\nAnalyst\n\n____________________Reply Separator____________________\nSubject:    Plan\nDate:       03/23/2001 2:40 PM\n\nShall we meet?";
        assert_eq!(
            own_text(ccmail).trim(),
            "Fine by me.\n\nLena Ortiz\nAnalyst"
        );

        let bare = "Will do.\n\nFrom: Ann Kim <ann@initech.com>\nSent: Friday, May 3, 2024 8:00 AM\nTo: Team\nSubject: Q2\n\nHi all";
        assert_eq!(own_text(bare).trim(), "Will do.");
    }

    #[test]
    fn forwarded_blocks() {
        let body = "FYI\n\n---------- Forwarded message ---------\nFrom: Ravi Kumar <ravi@infosys.co.in>\nDate: Mon, 4 Mar 2024\nSubject: Visit\nTo: <a@b.com>\n\nDetails below.";
        let s = segments(body);
        assert_eq!(s[0].text.trim(), "FYI");
        assert_eq!(s[1].kind, SegmentKind::Forward);
        assert_eq!(
            s[1].sender.as_ref().unwrap().email.as_deref(),
            Some("ravi@infosys.co.in")
        );
        assert_eq!(s[1].text.trim(), "Details below.");
    }

    #[test]
    fn lotus_notes_forward_and_inline_header() {
        let body = "See below.\n\n---------------------- Forwarded by Pat Lo/HOU/ACME on 03/04/2001 10:00 AM ---------------------------\n\n\nTom Reyes <treyes@globex.com> on 03/02/2001 09:15:22 AM\nTo: Pat Lo/HOU/ACME@ACME\ncc: \nSubject: Rates\n\nNew rates attached.";
        let s = segments(body);
        assert_eq!(s[0].text.trim(), "See below.");
        let last = s.last().unwrap();
        assert_eq!(last.text.trim(), "New rates attached.");
        assert_eq!(
            last.sender.as_ref().unwrap().email.as_deref(),
            Some("treyes@globex.com")
        );

        let org = "Thanks.\n\n\tGlobex Trading Corp.\n\t\n\tFrom:  Hal Moss @ GLOBEX                           01/18/2001 11:45 AM\n\t\n\nTo: Pat Lo/HOU/ACME@ACME\ncc:  \nSubject: Merit\n\nDeadline moved.";
        let s = segments(org);
        assert_eq!(s[0].text.trim(), "Thanks.");
        let q = s[1].sender.as_ref().unwrap();
        assert_eq!(q.name.as_ref().unwrap().as_str(), "Hal Moss");
        assert_eq!(q.organisation.as_deref(), Some("Globex Trading Corp."));
    }

    #[test]
    fn cc_mail_reply_separator_names_its_author() {
        let body = "Works for me.

____________________Reply Separator____________________
Subject:    Meeting for Group Project
Author: \"Vavrek; Carolyn (US - San Francisco)\" <SMTP:cvavrek@deloitte.com>
Date:       03/23/2001 2:40 PM

When would everyone like to get together?";
        let s = segments(body);
        assert_eq!(s[0].text.trim(), "Works for me.");
        let quoted = s.last().unwrap();
        assert_eq!(
            quoted.text.trim(),
            "When would everyone like to get together?"
        );
        let sender = quoted.sender.as_ref().unwrap();
        assert_eq!(sender.name.as_ref().unwrap().as_str(), "Carolyn Vavrek");
        assert_eq!(sender.email.as_deref(), Some("cvavrek@deloitte.com"));
    }

    #[test]
    fn angle_quotes_without_attribution() {
        let body = "Agreed.\n> old text\n> more";
        let s = segments(body);
        assert_eq!(s[0].text, "Agreed.");
        assert_eq!(s[1].text, "old text\nmore");
    }

    #[test]
    fn no_quote_keeps_everything() {
        let body = "Hi Sam,\n\nOn the other hand we could meet at 10.\n\nBest,\nLee";
        assert_eq!(own_text(body), body);
    }
}
