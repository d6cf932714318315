//! The user's calendar as an RFC 5545 iCalendar object, for calendar apps that subscribe
//! to the feed. Every event keeps its `uid`; `SEQUENCE` is the event's change count; a
//! cancelled event stays in the feed as `STATUS:CANCELLED` so subscribers drop it.
//! Times are UTC (`Z`), the zone they are entered in; an all-day event is a `DATE`
//! from its day to the next. Lines end in CRLF and are folded at 75 octets.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::FeedEvent;
use api::interactions::EventStatus;

/// The longest line before folding, in octets (RFC 5545 §3.1).
const FOLD_OCTETS: usize = 75;

/// TEXT value escaping (RFC 5545 §3.3.11).
fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A parameter value, quoted when it holds `:`, `;` or `,`; quotes are dropped.
fn param(value: &str) -> String {
    let clean: String = value
        .chars()
        .filter(|c| *c != '"' && !c.is_control())
        .collect();
    if clean.contains([':', ';', ',']) {
        format!("\"{clean}\"")
    } else {
        clean
    }
}

/// Appends one content line, folded (a CRLF and a space before each continuation).
fn line(out: &mut String, content: &str) {
    let mut used = 0;
    for c in content.chars() {
        let len = c.len_utf8();
        if used + len > FOLD_OCTETS {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += len;
    }
    out.push_str("\r\n");
}

fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

fn date(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

/// The whole feed. Times are UTC (every client shows them on its own clock); `zone`
/// (the user's, an IANA name) names the calendar's zone for clients that ask.
pub fn render(name: &str, zone: &str, events: &[FeedEvent]) -> String {
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, "PRODID:-//Rapport//Interactions//EN");
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(&mut out, &format!("X-WR-CALNAME:{}", text(name)));
    line(&mut out, &format!("X-WR-TIMEZONE:{}", text(zone)));
    for event in events {
        render_event(&mut out, event);
    }
    line(&mut out, "END:VCALENDAR");
    out
}

fn render_event(out: &mut String, e: &FeedEvent) {
    line(out, "BEGIN:VEVENT");
    line(out, &format!("UID:{}", text(&e.uid)));
    line(out, &format!("DTSTAMP:{}", utc(e.updated_at)));
    line(out, &format!("CREATED:{}", utc(e.created_at)));
    line(out, &format!("LAST-MODIFIED:{}", utc(e.updated_at)));
    line(out, &format!("SEQUENCE:{}", e.sequence.max(0)));
    if e.all_day {
        line(out, &format!("DTSTART;VALUE=DATE:{}", date(e.event_date)));
        let next = e.event_date + Duration::days(1);
        line(out, &format!("DTEND;VALUE=DATE:{}", date(next)));
    } else {
        line(out, &format!("DTSTART:{}", utc(e.start_time)));
        if let Some(end) = e.end_time {
            line(out, &format!("DTEND:{}", utc(end)));
        }
    }
    line(out, &format!("SUMMARY:{}", text(&e.title)));
    if let Some(description) = &e.description {
        line(out, &format!("DESCRIPTION:{}", text(description)));
    }
    if let Some(location) = &e.location {
        line(out, &format!("LOCATION:{}", text(location)));
    }
    line(out, &format!("CATEGORIES:{}", text(&e.event_type)));
    let status = match e.status {
        EventStatus::Cancelled => "CANCELLED",
        EventStatus::Scheduled | EventStatus::Completed => "CONFIRMED",
    };
    line(out, &format!("STATUS:{status}"));
    line(out, "TRANSP:OPAQUE");
    for person in &e.attendees {
        let cn = person
            .name
            .as_deref()
            .map(|n| format!(";CN={}", param(n)))
            .unwrap_or_default();
        line(out, &format!("ATTENDEE{cn}:mailto:{}", person.email));
    }
    line(out, "END:VEVENT");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_long_lines_folded_on_char_boundaries() {
        assert_eq!(text("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
        let mut out = String::new();
        line(&mut out, &format!("SUMMARY:{}", "é".repeat(60)));
        for physical in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(physical.len() <= FOLD_OCTETS, "{physical:?}");
        }
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded, format!("SUMMARY:{}\r\n", "é".repeat(60)));
        assert_eq!(param("Lovelace, Ada"), "\"Lovelace, Ada\"");
        assert_eq!(param("Ada \"A\""), "Ada A");
    }
}
