use chrono::TimeZone;
use proptest::prelude::*;

use super::*;

fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

fn window() -> Window {
    Window::around(at(2026, 11, 1, 12, 0))
}

fn calendar(body: &str) -> String {
    format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{body}END:VCALENDAR\r\n")
        .replace('\n', "\r\n")
        .replace("\r\r\n", "\r\n")
}

#[test]
fn a_single_event_keeps_its_zone_people_and_strips_parameters() {
    let ics = calendar(
        "BEGIN:VEVENT\nUID:one@example.com\nDTSTAMP:20261001T000000Z\n\
         DTSTART;TZID=Europe/Berlin:20261103T093000\nDURATION:PT1H30M\n\
         SUMMARY:Quarterly review\nDESCRIPTION:Agenda:\\n1. numbers\\, plans\n\
         LOCATION;LANGUAGE=de:Büro\\, Raum 4\nSEQUENCE:2\nSTATUS:TENTATIVE\n\
         ORGANIZER;CN=\"Doe, Jane\":mailto:Jane@Example.com\n\
         ATTENDEE;CN=Bob Smith;PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:bob@example.org\n\
         ATTENDEE;PARTSTAT=NEEDS-ACTION;ROLE=OPT-PARTICIPANT:MAILTO:carol@example.net\n\
         END:VEVENT\n",
    );
    let events = parse_object(&ics, &window()).unwrap();
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e.external_id(), "one@example.com");
    assert_eq!(e.recurrence_id, None);
    assert_eq!(e.starts_at, at(2026, 11, 3, 8, 30));
    assert_eq!(e.ends_at, at(2026, 11, 3, 10, 0));
    assert!(!e.all_day);
    assert_eq!(e.summary.as_deref(), Some("Quarterly review"));
    assert_eq!(e.description.as_deref(), Some("Agenda:\n1. numbers, plans"));
    assert_eq!(e.location.as_deref(), Some("Büro, Raum 4"));
    assert_eq!(e.sequence, 2);
    assert_eq!(e.status, EventStatus::Tentative);
    let organizer = e.organizer.as_ref().unwrap();
    assert_eq!(organizer.address, "jane@example.com");
    assert_eq!(organizer.name.as_deref(), Some("Doe, Jane"));
    assert_eq!(e.attendees.len(), 2);
    assert_eq!(e.attendees[0].address, "bob@example.org");
    assert_eq!(e.attendees[0].name.as_deref(), Some("Bob Smith"));
    assert_eq!(e.attendees[0].partstat.as_deref(), Some("ACCEPTED"));
    assert_eq!(e.attendees[0].role.as_deref(), Some("REQ-PARTICIPANT"));
    assert!(e.attendees[0].rsvp);
    assert_eq!(e.attendees[1].address, "carol@example.net");
    assert!(!e.attendees[1].rsvp);
}

#[test]
fn all_day_events_last_a_day_and_utc_ends_are_read() {
    let ics = calendar(
        "BEGIN:VEVENT\nUID:day\nDTSTART;VALUE=DATE:20261110\nSUMMARY:Offsite\nEND:VEVENT\n\
         BEGIN:VEVENT\nUID:utc\nDTSTART:20261111T150000Z\nDTEND:20261111T153000Z\nSTATUS:CANCELLED\nEND:VEVENT\n",
    );
    let events = parse_object(&ics, &window()).unwrap();
    assert_eq!(events.len(), 2);
    assert!(events[0].all_day);
    assert_eq!(events[0].starts_at, at(2026, 11, 10, 0, 0));
    assert_eq!(events[0].ends_at, at(2026, 11, 11, 0, 0));
    assert_eq!(events[1].ends_at, at(2026, 11, 11, 15, 30));
    assert_eq!(events[1].status, EventStatus::Cancelled);
}

/// Weekly at 10:00 Berlin from 12 October 2026 (summer time, UTC+2) over the 25 October
/// change to winter time (UTC+1): the second week is excluded, the fourth moved.
pub(super) const WEEKLY_BERLIN: &str = "BEGIN:VTIMEZONE\nTZID:Europe/Berlin\nEND:VTIMEZONE\n\
     BEGIN:VEVENT\nUID:weekly@example.com\nDTSTART;TZID=Europe/Berlin:20261012T100000\n\
     DTEND;TZID=Europe/Berlin:20261012T110000\nSUMMARY:Standup\n\
     RRULE:FREQ=WEEKLY;COUNT=5\nEXDATE;TZID=Europe/Berlin:20261019T100000\nEND:VEVENT\n\
     BEGIN:VEVENT\nUID:weekly@example.com\nRECURRENCE-ID;TZID=Europe/Berlin:20261102T100000\n\
     DTSTART;TZID=Europe/Berlin:20261103T140000\nDTEND;TZID=Europe/Berlin:20261103T150000\n\
     SUMMARY:Standup (moved)\nEND:VEVENT\n";

#[test]
fn a_weekly_rule_keeps_local_time_across_dst_with_exdate_and_override() {
    let events = parse_object(&calendar(WEEKLY_BERLIN), &window()).unwrap();
    let starts: Vec<_> = events.iter().map(|e| e.starts_at).collect();
    assert_eq!(
        starts,
        vec![
            at(2026, 10, 12, 8, 0),
            at(2026, 10, 26, 9, 0),
            at(2026, 11, 3, 13, 0),
            at(2026, 11, 9, 9, 0),
        ]
    );
    assert!(
        events
            .iter()
            .all(|e| e.ends_at - e.starts_at == Duration::hours(1))
    );
    let moved = &events[2];
    assert_eq!(moved.summary.as_deref(), Some("Standup (moved)"));
    assert_eq!(moved.recurrence_id, Some(at(2026, 11, 2, 9, 0)));
    assert_eq!(moved.external_id(), "weekly@example.com/20261102T090000Z");
    assert_eq!(
        events[0].external_id(),
        "weekly@example.com/20261012T080000Z"
    );
}

#[test]
fn instances_outside_the_window_are_left_out() {
    let ics = calendar(
        "BEGIN:VEVENT\nUID:old\nDTSTART:20250101T100000Z\nEND:VEVENT\n\
         BEGIN:VEVENT\nUID:far\nDTSTART:20290101T100000Z\nEND:VEVENT\n\
         BEGIN:VEVENT\nUID:daily\nDTSTART:20250101T100000Z\nDURATION:PT15M\nRRULE:FREQ=DAILY\nEND:VEVENT\n",
    );
    let events = parse_object(&ics, &window()).unwrap();
    assert!(events.iter().all(|e| e.uid == "daily"));
    let w = window();
    assert!(
        events
            .iter()
            .all(|e| e.starts_at >= w.start - Duration::minutes(15) && e.starts_at < w.end)
    );
    // 3 months back + 12 ahead of daily occurrences.
    assert!((455..=460).contains(&events.len()), "{}", events.len());
}

#[test]
fn zone_names_from_paths_and_vtimezone_locations_resolve() {
    let ics = calendar(
        "BEGIN:VTIMEZONE\nTZID:My Berlin\nX-LIC-LOCATION:Europe/Berlin\nEND:VTIMEZONE\n\
         BEGIN:VEVENT\nUID:a\nDTSTART;TZID=My Berlin:20261103T100000\nEND:VEVENT\n\
         BEGIN:VEVENT\nUID:b\nDTSTART;TZID=/freeassociation.sourceforge.net/Tzfile/Europe/Berlin:20261103T100000\nEND:VEVENT\n",
    );
    let events = parse_object(&ics, &window()).unwrap();
    assert!(events.iter().all(|e| e.starts_at == at(2026, 11, 3, 9, 0)));
}

#[test]
fn a_time_in_the_spring_gap_moves_forward() {
    let tz: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    let naive = NaiveDate::from_ymd_opt(2027, 3, 28)
        .unwrap()
        .and_hms_opt(2, 30, 0)
        .unwrap();
    assert_eq!(local_to_utc(tz, naive), Some(at(2027, 3, 28, 1, 30)));
}

#[test]
fn bad_events_get_precise_errors() {
    let cases = [
        (
            "BEGIN:VEVENT\nDTSTART:20261103T100000Z\nEND:VEVENT\n",
            IcalError::MissingUid,
        ),
        (
            "BEGIN:VEVENT\nUID:x\nEND:VEVENT\n",
            IcalError::MissingStart { uid: "x".into() },
        ),
        (
            "BEGIN:VEVENT\nUID:x\nDTSTART:2026-11-03\nEND:VEVENT\n",
            IcalError::BadValue {
                uid: "x".into(),
                property: "DTSTART",
                value: "2026-11-03".into(),
            },
        ),
        (
            "BEGIN:VEVENT\nUID:x\nDTSTART;TZID=Mars/Olympus:20261103T100000\nEND:VEVENT\n",
            IcalError::UnknownTimeZone {
                uid: "x".into(),
                tzid: "Mars/Olympus".into(),
            },
        ),
        (
            "BEGIN:VEVENT\nUID:x\nDTSTART:20261103T100000Z\nDURATION:1 hour\nEND:VEVENT\n",
            IcalError::BadValue {
                uid: "x".into(),
                property: "DURATION",
                value: "1 hour".into(),
            },
        ),
        ("BEGIN:VTODO\nUID:t\nEND:VTODO\n", IcalError::NoEvent),
    ];
    for (body, expected) in cases {
        assert_eq!(
            parse_object(&calendar(body), &window()).unwrap_err(),
            expected,
            "{body}"
        );
    }
    let rule = calendar(
        "BEGIN:VEVENT\nUID:x\nDTSTART:20261103T100000Z\nRRULE:FREQ=SOMETIMES\nEND:VEVENT\n",
    );
    assert!(matches!(
        parse_object(&rule, &window()),
        Err(IcalError::BadRule { .. })
    ));
    assert!(matches!(
        parse_object("not a calendar", &window()),
        Err(IcalError::Syntax(_) | IcalError::NoEvent)
    ));
}

#[test]
fn durations_follow_rfc_5545() {
    assert_eq!(parse_duration("PT1H30M"), Some(Duration::minutes(90)));
    assert_eq!(parse_duration("P1D"), Some(Duration::days(1)));
    assert_eq!(parse_duration("P2W"), Some(Duration::weeks(2)));
    assert_eq!(parse_duration("-PT15M"), Some(Duration::minutes(-15)));
    assert_eq!(parse_duration("P1DT2H"), Some(Duration::hours(26)));
    for bad in [
        "",
        "P",
        "PT",
        "1H",
        "PT1",
        "P1H",
        "PTH",
        "P99999999999999999999D",
    ] {
        assert_eq!(parse_duration(bad), None, "{bad}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_text_gives_events_or_an_error_never_a_panic(text in "\\PC{0,400}") {
        let _ = parse_object(&text, &window());
    }

    #[test]
    fn damaged_calendars_give_events_or_an_error(cut in 0usize..900, insert in "[A-Z:;=,/0-9T\\n-]{0,12}") {
        let ics = calendar(WEEKLY_BERLIN);
        let cut = cut.min(ics.len());
        let cut = (0..=cut).rev().find(|i| ics.is_char_boundary(*i)).unwrap_or(0);
        let damaged = format!("{}{}{}", &ics[..cut], insert, &ics[cut..]);
        let _ = parse_object(&damaged, &window());
    }

    #[test]
    fn rule_values_never_panic(rule in "FREQ=(DAILY|WEEKLY|MONTHLY|YEARLY|SECONDLY)(;[A-Z]{2,8}=[0-9A-Z,+-]{0,10}){0,3}") {
        let ics = calendar(&format!("BEGIN:VEVENT\nUID:p\nDTSTART;TZID=Europe/Berlin:20261012T100000\nRRULE:{rule}\nEND:VEVENT\n"));
        let _ = parse_object(&ics, &window());
    }
}
