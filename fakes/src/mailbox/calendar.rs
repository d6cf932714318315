//! iCalendar (RFC 5545) invitations as Google Calendar and Outlook send them.

use chrono::{DateTime, Duration, Utc};

/// One attendee as written into the VEVENT.
pub(crate) struct Attendee<'a> {
    pub(crate) name: &'a str,
    pub(crate) email: &'a str,
}

pub(crate) struct Invite<'a> {
    pub(crate) uid: String,
    pub(crate) summary: &'a str,
    pub(crate) location: &'a str,
    pub(crate) sent: DateTime<Utc>,
    pub(crate) start: DateTime<Utc>,
    pub(crate) minutes: i64,
    pub(crate) organizer: Attendee<'a>,
    pub(crate) attendees: Vec<Attendee<'a>>,
}

pub(crate) fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Escapes TEXT values per RFC 5545 section 3.3.11.
pub(crate) fn text(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace('\n', "\\n")
}

/// Content lines longer than 75 octets are folded with a leading space,
/// never splitting a UTF-8 sequence.
pub(crate) fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push('\n');
}

/// The VCALENDAR text with LF line endings (converted to CRLF on the wire).
pub(crate) fn ics(invite: &Invite<'_>) -> String {
    let end = invite.start + Duration::minutes(invite.minutes);
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_string(),
        "PRODID:-//Rapport Fakes//Calendar 1.0//EN".to_string(),
        "VERSION:2.0".to_string(),
        "CALSCALE:GREGORIAN".to_string(),
        "METHOD:REQUEST".to_string(),
        "BEGIN:VEVENT".to_string(),
        format!("DTSTART:{}", stamp(invite.start)),
        format!("DTEND:{}", stamp(end)),
        format!("DTSTAMP:{}", stamp(invite.sent)),
        format!(
            "ORGANIZER;CN={}:mailto:{}",
            text(invite.organizer.name),
            invite.organizer.email
        ),
        format!("UID:{}", invite.uid),
    ];
    for a in &invite.attendees {
        lines.push(format!(
            "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN={}:mailto:{}",
            text(a.name),
            a.email
        ));
    }
    lines.extend([
        format!("CREATED:{}", stamp(invite.sent)),
        format!(
            "DESCRIPTION:{}",
            text("Agenda: updates, open questions, next steps.")
        ),
        format!("LOCATION:{}", text(invite.location)),
        "SEQUENCE:0".to_string(),
        "STATUS:CONFIRMED".to_string(),
        format!("SUMMARY:{}", text(invite.summary)),
        "TRANSP:OPAQUE".to_string(),
        "END:VEVENT".to_string(),
        "END:VCALENDAR".to_string(),
    ]);
    let mut out = String::new();
    for line in &lines {
        fold(line, &mut out);
    }
    out
}
