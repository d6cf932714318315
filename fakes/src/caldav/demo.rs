//! The demo calendars: meetings with the people of the demo Gmail mailbox (so the same
//! contacts appear across channels) around the demo's end date, including what real
//! calendars hold: a weekly series in a named time zone with an excluded and a moved
//! instance, an all-day event, a cancelled meeting and parameters on LOCATION.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};

use super::{CalDavAccount, CalDavCalendar, CalDavEvent};
use crate::mailbox::PersonTruth;
use crate::mailbox::calendar::{fold, stamp, text};
use crate::mailbox::rng::hash;

const LONDON: &str = "BEGIN:VTIMEZONE\nTZID:Europe/London\nBEGIN:DAYLIGHT\nTZOFFSETFROM:+0000\n\
TZOFFSETTO:+0100\nTZNAME:BST\nDTSTART:19810329T010000\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\n\
END:DAYLIGHT\nBEGIN:STANDARD\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0000\nTZNAME:GMT\n\
DTSTART:19961027T020000\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\nEND:STANDARD\nEND:VTIMEZONE";

const MEETINGS: [(&str, &str); 8] = [
    ("Project kickoff", "Meeting room 2"),
    ("Quarterly review", "Board room"),
    ("Coffee catch-up", "Cafe Nero, High Street"),
    ("Contract walkthrough", "Video call"),
    ("Design review", "Meeting room 1"),
    ("Intro call", "Video call"),
    ("Pricing discussion", "Video call"),
    ("Lunch", "The Ivy, West Street"),
];

struct Person<'a> {
    name: &'a str,
    email: &'a str,
}

fn attendee(person: &Person<'_>, partstat: &str) -> String {
    format!(
        "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT={partstat};RSVP=TRUE;CN=\"{}\":mailto:{}",
        person.name.replace('"', "'"),
        person.email
    )
}

fn organizer(person: &Person<'_>) -> String {
    format!(
        "ORGANIZER;CN=\"{}\":mailto:{}",
        person.name.replace('"', "'"),
        person.email
    )
}

/// A VCALENDAR around the given VEVENT blocks (lines without CRLF), folded.
fn calendar(events: &[Vec<String>], timezone: bool) -> String {
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//Rapport Demo//CalDAV 1.0//EN".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
    ];
    if timezone {
        lines.extend(LONDON.lines().map(str::to_owned));
    }
    for event in events {
        lines.push("BEGIN:VEVENT".to_owned());
        lines.extend(event.iter().cloned());
        lines.push("END:VEVENT".to_owned());
    }
    lines.push("END:VCALENDAR".to_owned());
    let mut out = String::new();
    for line in &lines {
        fold(line, &mut out);
    }
    out.replace('\n', "\r\n")
}

fn local(date: NaiveDate, hour: u32, minute: u32) -> String {
    format!("{}T{hour:02}{minute:02}00", date.format("%Y%m%d"))
}

/// The demo calendar account `username`/`password` for `owner`, with meetings with up
/// to a dozen of `people` from eight weeks before `end` to four weeks after it.
pub fn demo_account(
    username: &str,
    password: &str,
    owner_name: &str,
    owner_email: &str,
    people: &[PersonTruth],
    end: DateTime<Utc>,
) -> CalDavAccount {
    let owner = Person {
        name: owner_name,
        email: owner_email,
    };
    let mut cast: Vec<&PersonTruth> = people.iter().filter(|p| !p.emails.is_empty()).collect();
    cast.sort_by_key(|p| (std::cmp::Reverse(p.message_count), p.id));
    let cast: Vec<Person<'_>> = cast
        .iter()
        .take(13)
        .map(|p| Person {
            name: &p.name,
            email: &p.emails[0],
        })
        .collect();
    let stamp_at = stamp(end - Duration::days(70));
    let mut work = Vec::new();

    if let Some(first) = cast.first() {
        // A weekly 1:1 on Tuesdays at 10:00 London time across the October clock change,
        // with one week skipped and one moved to 11:00.
        let mut day = (end - Duration::weeks(10)).date_naive();
        while day.weekday() != Weekday::Tue {
            day += Duration::days(1);
        }
        let weeks = 20;
        let skipped = day + Duration::weeks(3);
        let moved = day + Duration::weeks(5);
        let uid = format!(
            "weekly-{}@demo.rapport",
            hash(&[1, first.email.len() as u64])
        );
        let series = vec![
            format!("UID:{uid}"),
            format!("DTSTAMP:{stamp_at}"),
            format!("DTSTART;TZID=Europe/London:{}", local(day, 10, 0)),
            format!("DTEND;TZID=Europe/London:{}", local(day, 10, 30)),
            format!("RRULE:FREQ=WEEKLY;COUNT={weeks}"),
            format!("EXDATE;TZID=Europe/London:{}", local(skipped, 10, 0)),
            format!(
                "SUMMARY:{}",
                text(&format!("1:1 {} / {}", owner.name, first.name))
            ),
            "DESCRIPTION:Weekly catch-up: priorities\\, blockers\\, next steps.".to_owned(),
            "LOCATION;LANGUAGE=en:Video call".to_owned(),
            organizer(&owner),
            attendee(&owner, "ACCEPTED"),
            attendee(first, "ACCEPTED"),
            "SEQUENCE:0".to_owned(),
            "STATUS:CONFIRMED".to_owned(),
        ];
        let overridden = vec![
            format!("UID:{uid}"),
            format!("DTSTAMP:{stamp_at}"),
            format!("RECURRENCE-ID;TZID=Europe/London:{}", local(moved, 10, 0)),
            format!("DTSTART;TZID=Europe/London:{}", local(moved, 11, 0)),
            format!("DTEND;TZID=Europe/London:{}", local(moved, 11, 30)),
            format!(
                "SUMMARY:{}",
                text(&format!("1:1 {} / {} (moved)", owner.name, first.name))
            ),
            organizer(&owner),
            attendee(&owner, "ACCEPTED"),
            attendee(first, "ACCEPTED"),
            "SEQUENCE:1".to_owned(),
            "STATUS:CONFIRMED".to_owned(),
        ];
        let first_start = day.and_hms_opt(9, 0, 0).expect("valid time").and_utc();
        work.push(CalDavEvent {
            uid,
            ics: calendar(&[series, overridden], true),
            first_start,
            last_end: Some(first_start + Duration::weeks(weeks) + Duration::hours(2)),
        });
    }

    for (i, person) in cast.iter().skip(1).enumerate() {
        let key = hash(&[2, i as u64]);
        let (summary, location) = MEETINGS[i % MEETINGS.len()];
        // Eight in the past eight weeks, the rest in the next four, in working hours.
        let days = if i < 8 {
            -(3 + (key % 53) as i64)
        } else {
            1 + (key % 27) as i64
        };
        let day = (end + Duration::days(days)).date_naive();
        let start = day
            .and_hms_opt(
                9 + (key % 8) as u32,
                if key.is_multiple_of(2) { 0 } else { 30 },
                0,
            )
            .expect("valid time")
            .and_utc();
        let minutes = [30, 45, 60][(key % 3) as usize];
        let uid = format!("meeting-{key:x}@demo.rapport");
        let mut event = vec![
            format!("UID:{uid}"),
            format!("DTSTAMP:{stamp_at}"),
            format!("DTSTART:{}", stamp(start)),
            format!("DTEND:{}", stamp(start + Duration::minutes(minutes))),
            format!(
                "SUMMARY:{}",
                text(&format!("{summary} with {}", person.name))
            ),
            format!("LOCATION:{}", text(location)),
            organizer(&owner),
            attendee(&owner, "ACCEPTED"),
            attendee(person, if days < 0 { "ACCEPTED" } else { "NEEDS-ACTION" }),
            "SEQUENCE:0".to_owned(),
        ];
        // One future meeting was called off: calendars keep it, marked cancelled.
        event.push(
            if i == 8 {
                "STATUS:CANCELLED"
            } else {
                "STATUS:CONFIRMED"
            }
            .to_owned(),
        );
        if let Some(colleague) = cast.get(i + 2).filter(|_| key.is_multiple_of(4)) {
            event.push(attendee(colleague, "TENTATIVE"));
        }
        work.push(CalDavEvent {
            uid,
            ics: calendar(&[event], false),
            first_start: start,
            last_end: Some(start + Duration::minutes(minutes)),
        });
    }

    // A two-day offsite next week, as an all-day event.
    let offsite = (end + Duration::days(8)).date_naive();
    let mut event = vec![
        "UID:offsite@demo.rapport".to_owned(),
        format!("DTSTAMP:{stamp_at}"),
        format!("DTSTART;VALUE=DATE:{}", offsite.format("%Y%m%d")),
        format!(
            "DTEND;VALUE=DATE:{}",
            (offsite + Duration::days(2)).format("%Y%m%d")
        ),
        "SUMMARY:Team offsite".to_owned(),
        "LOCATION:Lake District".to_owned(),
        organizer(&owner),
        "STATUS:CONFIRMED".to_owned(),
    ];
    event.extend(cast.iter().skip(2).take(3).map(|p| attendee(p, "ACCEPTED")));
    let offsite_start = offsite.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    work.push(CalDavEvent {
        uid: "offsite@demo.rapport".to_owned(),
        ics: calendar(&[event], false),
        first_start: offsite_start,
        last_end: Some(offsite_start + Duration::days(2)),
    });

    CalDavAccount {
        username: username.to_owned(),
        password: password.to_owned(),
        calendars: vec![
            CalDavCalendar {
                slug: "work".to_owned(),
                name: "Work".to_owned(),
                color: Some("#2563EBFF".to_owned()),
                events: work,
            },
            CalDavCalendar {
                slug: "personal".to_owned(),
                name: "Personal".to_owned(),
                color: Some("#16A34AFF".to_owned()),
                events: personal(&cast, end, &stamp_at),
            },
        ],
    }
}

/// A dinner last week and a friend's birthday next week.
fn personal(cast: &[Person<'_>], end: DateTime<Utc>, stamp_at: &str) -> Vec<CalDavEvent> {
    let Some(friend) = cast.get(1) else {
        return Vec::new();
    };
    let dinner = (end - Duration::days(6))
        .date_naive()
        .and_hms_opt(19, 30, 0)
        .expect("valid time")
        .and_utc();
    let birthday = (end + Duration::days(5)).date_naive();
    let first = friend.name.split_whitespace().next().unwrap_or(friend.name);
    vec![
        CalDavEvent {
            uid: "dinner@demo.rapport".to_owned(),
            ics: calendar(
                &[vec![
                    "UID:dinner@demo.rapport".to_owned(),
                    format!("DTSTAMP:{stamp_at}"),
                    format!("DTSTART:{}", stamp(dinner)),
                    "DURATION:PT2H30M".to_owned(),
                    format!("SUMMARY:{}", text(&format!("Dinner with {first}"))),
                    "LOCATION:Dishoom\\, Kings Cross".to_owned(),
                    attendee(friend, "ACCEPTED"),
                    "STATUS:CONFIRMED".to_owned(),
                ]],
                false,
            ),
            first_start: dinner,
            last_end: Some(dinner + Duration::minutes(150)),
        },
        CalDavEvent {
            uid: "birthday@demo.rapport".to_owned(),
            ics: calendar(
                &[vec![
                    "UID:birthday@demo.rapport".to_owned(),
                    format!("DTSTAMP:{stamp_at}"),
                    format!("DTSTART;VALUE=DATE:{}", birthday.format("%Y%m%d")),
                    format!("SUMMARY:{}", text(&format!("{first}'s birthday"))),
                    "TRANSP:TRANSPARENT".to_owned(),
                ]],
                false,
            ),
            first_start: birthday.and_hms_opt(0, 0, 0).expect("midnight").and_utc(),
            last_end: Some(
                birthday.and_hms_opt(0, 0, 0).expect("midnight").and_utc() + Duration::days(1),
            ),
        },
    ]
}
