//! One calendar object (an `.ics` resource) into the event instances inside a window:
//! pure, no I/O. Lines are unfolded and split by the `icalendar` crate's parser;
//! recurrences are expanded by `rrule` in the event's own time zone, so a weekly 10:00
//! in Europe/Berlin stays 10:00 local across a DST change.
//!
//! Time zones: a `TZID` that is an IANA name (also the tail of a
//! `/vendor/…/Europe/Berlin` path, or a `VTIMEZONE`'s `X-LIC-LOCATION`) is resolved with
//! chrono-tz; a zone known only by its `VTIMEZONE` rules is an error for that event.
//! Floating times (no zone) are read as UTC. A local time that falls in a DST gap moves
//! forward by the gap (RFC 5545 §3.3.5); an ambiguous one takes the first instant.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Months, NaiveDate, NaiveDateTime, TimeZone, Utc};
use icalendar::parser::{Component, Property};

/// Most instances one recurring event contributes to a window.
const MAX_INSTANCES: u16 = 1_000;

/// The part of time a sync looks at: 3 months back to 12 months ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Window {
    pub fn around(now: DateTime<Utc>) -> Self {
        Self {
            start: now.checked_sub_months(Months::new(3)).unwrap_or(now),
            end: now.checked_add_months(Months::new(12)).unwrap_or(now),
        }
    }

    fn overlaps(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
        start < self.end && end.max(start) >= self.start
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventStatus {
    Confirmed,
    Tentative,
    Cancelled,
}

impl EventStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirmed => "confirmed",
            Self::Tentative => "tentative",
            Self::Cancelled => "cancelled",
        }
    }
}

/// An organizer or attendee. `address` is the lower-cased email (`mailto:` removed), or
/// the calendar user address as given when it is not mail.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CalendarPerson {
    pub address: String,
    pub name: Option<String>,
    /// ATTENDEE `PARTSTAT` (`ACCEPTED`, `DECLINED`, `NEEDS-ACTION`, ...).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub partstat: Option<String>,
    /// ATTENDEE `ROLE` (`REQ-PARTICIPANT`, `OPT-PARTICIPANT`, `CHAIR`, ...).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub role: Option<String>,
    #[serde(default)]
    pub rsvp: bool,
}

impl CalendarPerson {
    /// Whether the address is mail (so it can be a contact identity).
    pub fn is_email(&self) -> bool {
        self.address.contains('@') && !self.address.contains(':')
    }
}

/// One occurrence of an event, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventInstance {
    pub uid: String,
    /// The original start of this occurrence of a recurring event (`RECURRENCE-ID`);
    /// `None` for a single event.
    pub recurrence_id: Option<DateTime<Utc>>,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub location: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub all_day: bool,
    pub organizer: Option<CalendarPerson>,
    pub attendees: Vec<CalendarPerson>,
    pub sequence: i32,
    pub status: EventStatus,
}

impl EventInstance {
    /// The activity's external id: the UID, plus the recurrence id for an occurrence
    /// of a recurring event. Stable when an occurrence is moved (its recurrence id
    /// stays) or a single event is rescheduled (its UID stays).
    pub fn external_id(&self) -> String {
        match self.recurrence_id {
            Some(rid) => format!("{}/{}", self.uid, rid.format("%Y%m%dT%H%M%SZ")),
            None => self.uid.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IcalError {
    #[error("not iCalendar: {0}")]
    Syntax(String),
    #[error("the object has no VEVENT")]
    NoEvent,
    #[error("a VEVENT has no UID")]
    MissingUid,
    #[error("event {uid}: no DTSTART")]
    MissingStart { uid: String },
    #[error("event {uid}: {property} has a bad value {value:?}")]
    BadValue {
        uid: String,
        property: &'static str,
        value: String,
    },
    #[error("event {uid}: unknown time zone {tzid:?}")]
    UnknownTimeZone { uid: String, tzid: String },
    #[error("event {uid}: bad RRULE: {reason}")]
    BadRule { uid: String, reason: String },
}

/// The instances of every event in `ics` that overlap `window`, ordered by start.
/// CANCELLED instances are included (the store marks stored ones cancelled).
pub fn parse_object(ics: &str, window: &Window) -> Result<Vec<EventInstance>, IcalError> {
    let unfolded = icalendar::parser::unfold(ics);
    let calendar = icalendar::parser::read_calendar(&unfolded)
        .map_err(|e| IcalError::Syntax(first_line(&e)))?;
    let zones = Zones::from(&calendar.components);
    let mut by_uid: BTreeMap<String, Vec<&Component<'_>>> = BTreeMap::new();
    for event in calendar
        .components
        .iter()
        .filter(|c| c.name.as_str().eq_ignore_ascii_case("VEVENT"))
    {
        let uid = text(event, "UID").ok_or(IcalError::MissingUid)?;
        by_uid.entry(uid).or_default().push(event);
    }
    if by_uid.is_empty() {
        return Err(IcalError::NoEvent);
    }
    let mut instances = Vec::new();
    for (uid, events) in by_uid {
        instances.extend(expand_uid(&uid, &events, &zones, window)?);
    }
    instances.sort_by(|a, b| a.starts_at.cmp(&b.starts_at).then(a.uid.cmp(&b.uid)));
    Ok(instances)
}

/// The master event and its overridden occurrences (same UID, with RECURRENCE-ID).
fn expand_uid(
    uid: &str,
    events: &[&Component<'_>],
    zones: &Zones,
    window: &Window,
) -> Result<Vec<EventInstance>, IcalError> {
    let mut overrides: BTreeMap<DateTime<Utc>, &Component<'_>> = BTreeMap::new();
    let mut master = None;
    for event in events {
        match event.find_prop("RECURRENCE-ID") {
            Some(rid) => {
                let rid = zones.instant(uid, "RECURRENCE-ID", rid)?;
                overrides.insert(rid.utc, event);
            }
            None => master = master.or(Some(*event)),
        }
    }
    let mut out = Vec::new();
    if let Some(master) = master {
        let base = EventBase::read(uid, master, zones)?;
        let rules: Vec<&Property<'_>> = props(master, "RRULE").collect();
        if rules.is_empty() && props(master, "RDATE").next().is_none() {
            let instance = base.instance(None, base.start.utc);
            if window.overlaps(instance.starts_at, instance.ends_at) {
                out.push(instance);
            }
        } else {
            for start in occurrences(uid, master, &base, &rules, zones, window)? {
                match overrides.remove(&start) {
                    Some(event) => {
                        let moved = EventBase::read(uid, event, zones)?;
                        let instance = moved.instance(Some(start), moved.start.utc);
                        if window.overlaps(instance.starts_at, instance.ends_at) {
                            out.push(instance);
                        }
                    }
                    None => out.push(base.instance(Some(start), start)),
                }
            }
        }
    }
    // Overrides whose original time is outside the window (or that came without their
    // master, as a single-occurrence invitation) count where they now are.
    for (rid, event) in overrides {
        let base = EventBase::read(uid, event, zones)?;
        let instance = base.instance(Some(rid), base.start.utc);
        if window.overlaps(instance.starts_at, instance.ends_at) {
            out.push(instance);
        }
    }
    Ok(out)
}

/// The starts (UTC) of a recurring master inside the window: RRULEs and RDATEs minus
/// EXDATEs, computed in the DTSTART's zone.
fn occurrences(
    uid: &str,
    master: &Component<'_>,
    base: &EventBase,
    rules: &[&Property<'_>],
    zones: &Zones,
    window: &Window,
) -> Result<Vec<DateTime<Utc>>, IcalError> {
    let tz = base.start.zone;
    let local = |t: DateTime<Utc>| t.with_timezone(&tz);
    let bad_rule = |e: rrule::RRuleError| IcalError::BadRule {
        uid: uid.to_owned(),
        reason: e.to_string(),
    };
    let mut set = rrule::RRuleSet::new(local(base.start.utc));
    for rule in rules {
        let parsed: rrule::RRule<rrule::Unvalidated> =
            rule.val.as_str().parse().map_err(bad_rule)?;
        set = set.rrule(parsed.validate(local(base.start.utc)).map_err(bad_rule)?);
    }
    for rdate in props(master, "RDATE") {
        for t in zones.instants(uid, "RDATE", rdate)? {
            set = set.rdate(local(t));
        }
    }
    for exdate in props(master, "EXDATE") {
        for t in zones.instants(uid, "EXDATE", exdate)? {
            set = set.exdate(local(t));
        }
    }
    // An occurrence that began before the window but is still going counts too.
    let span = base.duration;
    let result = set
        .after(local(window.start - span))
        .before(local(window.end))
        .all(MAX_INSTANCES);
    Ok(result
        .dates
        .into_iter()
        .map(|d| d.with_timezone(&Utc))
        .filter(|start| window.overlaps(*start, *start + span))
        .collect())
}

/// What one VEVENT says, its start resolved.
struct EventBase {
    uid: String,
    start: Instant,
    duration: Duration,
    summary: Option<String>,
    description: Option<String>,
    location: Option<String>,
    organizer: Option<CalendarPerson>,
    attendees: Vec<CalendarPerson>,
    sequence: i32,
    status: EventStatus,
}

impl EventBase {
    fn read(uid: &str, event: &Component<'_>, zones: &Zones) -> Result<Self, IcalError> {
        let start_prop = event
            .find_prop("DTSTART")
            .ok_or_else(|| IcalError::MissingStart {
                uid: uid.to_owned(),
            })?;
        let start = zones.instant(uid, "DTSTART", start_prop)?;
        let duration = match (event.find_prop("DTEND"), event.find_prop("DURATION")) {
            (Some(end), _) => zones.instant(uid, "DTEND", end)?.utc - start.utc,
            (None, Some(d)) => {
                parse_duration(d.val.as_str()).ok_or_else(|| IcalError::BadValue {
                    uid: uid.to_owned(),
                    property: "DURATION",
                    value: d.val.as_str().to_owned(),
                })?
            }
            // RFC 5545 §3.6.1: a date lasts one day, a date-time no time at all.
            (None, None) if start.all_day => Duration::days(1),
            (None, None) => Duration::zero(),
        };
        let sequence = match event.find_prop("SEQUENCE") {
            None => 0,
            Some(p) => p
                .val
                .as_str()
                .trim()
                .parse()
                .map_err(|_| IcalError::BadValue {
                    uid: uid.to_owned(),
                    property: "SEQUENCE",
                    value: p.val.as_str().to_owned(),
                })?,
        };
        let status = match text(event, "STATUS")
            .map(|s| s.to_ascii_uppercase())
            .as_deref()
        {
            Some("CANCELLED") => EventStatus::Cancelled,
            Some("TENTATIVE") => EventStatus::Tentative,
            _ => EventStatus::Confirmed,
        };
        Ok(Self {
            uid: uid.to_owned(),
            start,
            duration: duration.max(Duration::zero()),
            summary: text(event, "SUMMARY"),
            description: text(event, "DESCRIPTION"),
            location: text(event, "LOCATION"),
            organizer: event.find_prop("ORGANIZER").and_then(person),
            attendees: props(event, "ATTENDEE").filter_map(person).collect(),
            sequence,
            status,
        })
    }

    fn instance(
        &self,
        recurrence_id: Option<DateTime<Utc>>,
        start: DateTime<Utc>,
    ) -> EventInstance {
        EventInstance {
            uid: self.uid.clone(),
            recurrence_id,
            summary: self.summary.clone(),
            description: self.description.clone(),
            location: self.location.clone(),
            starts_at: start,
            ends_at: start + self.duration,
            all_day: self.start.all_day,
            organizer: self.organizer.clone(),
            attendees: self.attendees.clone(),
            sequence: self.sequence,
            status: self.status,
        }
    }
}

/// A DATE or DATE-TIME value: its instant, the zone it was written in, and whether it
/// is a whole day.
#[derive(Debug, Clone, Copy)]
struct Instant {
    utc: DateTime<Utc>,
    zone: rrule::Tz,
    all_day: bool,
}

/// The VTIMEZONEs of the object: TZID -> IANA name, where one is given.
struct Zones {
    locations: BTreeMap<String, String>,
}

impl Zones {
    fn from(components: &[Component<'_>]) -> Self {
        let locations = components
            .iter()
            .filter(|c| c.name.as_str().eq_ignore_ascii_case("VTIMEZONE"))
            .filter_map(|c| Some((text(c, "TZID")?, text(c, "X-LIC-LOCATION")?)))
            .collect();
        Self { locations }
    }

    fn resolve(&self, uid: &str, tzid: &str) -> Result<chrono_tz::Tz, IcalError> {
        let tzid = tzid.trim().trim_matches('"');
        let candidates = [
            Some(tzid.to_owned()),
            self.locations.get(tzid).cloned(),
            iana_tail(tzid),
        ];
        candidates
            .into_iter()
            .flatten()
            .find_map(|name| name.parse::<chrono_tz::Tz>().ok())
            .ok_or_else(|| IcalError::UnknownTimeZone {
                uid: uid.to_owned(),
                tzid: tzid.to_owned(),
            })
    }

    fn instant(
        &self,
        uid: &str,
        name: &'static str,
        prop: &Property<'_>,
    ) -> Result<Instant, IcalError> {
        let mut all = self.instants_with_zone(uid, name, prop)?;
        if all.len() != 1 {
            return Err(bad(uid, name, prop.val.as_str()));
        }
        Ok(all.remove(0))
    }

    fn instants(
        &self,
        uid: &str,
        name: &'static str,
        prop: &Property<'_>,
    ) -> Result<Vec<DateTime<Utc>>, IcalError> {
        Ok(self
            .instants_with_zone(uid, name, prop)?
            .into_iter()
            .map(|i| i.utc)
            .collect())
    }

    /// A value list (EXDATE and RDATE may hold several, comma-separated).
    fn instants_with_zone(
        &self,
        uid: &str,
        name: &'static str,
        prop: &Property<'_>,
    ) -> Result<Vec<Instant>, IcalError> {
        let zone = match param(prop, "TZID") {
            Some(tzid) => Some(self.resolve(uid, &tzid)?),
            None => None,
        };
        let date_only = param(prop, "VALUE").is_some_and(|v| v.eq_ignore_ascii_case("DATE"));
        prop.val
            .as_str()
            .split(',')
            .map(|value| {
                parse_date_time(value.trim(), zone, date_only).ok_or_else(|| bad(uid, name, value))
            })
            .collect()
    }
}

fn bad(uid: &str, property: &'static str, value: &str) -> IcalError {
    IcalError::BadValue {
        uid: uid.to_owned(),
        property,
        value: value.to_owned(),
    }
}

/// `/freeassociation.sourceforge.net/Tzfile/Europe/Berlin` -> `Europe/Berlin`.
fn iana_tail(tzid: &str) -> Option<String> {
    let parts: Vec<&str> = tzid.split('/').filter(|p| !p.is_empty()).collect();
    (parts.len() >= 2).then(|| parts[parts.len() - 2..].join("/"))
}

/// `20261020`, `20261020T100000` (in `zone`, else floating: UTC) or `20261020T080000Z`.
fn parse_date_time(value: &str, zone: Option<chrono_tz::Tz>, date_only: bool) -> Option<Instant> {
    if date_only || value.len() == 8 {
        let date = NaiveDate::parse_from_str(value, "%Y%m%d").ok()?;
        return Some(Instant {
            utc: date.and_hms_opt(0, 0, 0)?.and_utc(),
            zone: rrule::Tz::UTC,
            all_day: true,
        });
    }
    if let Some(utc) = value.strip_suffix('Z') {
        let naive = NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S").ok()?;
        return Some(Instant {
            utc: naive.and_utc(),
            zone: zone.map_or(rrule::Tz::UTC, rrule::Tz::Tz),
            all_day: false,
        });
    }
    let naive = NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S").ok()?;
    match zone {
        None => Some(Instant {
            utc: naive.and_utc(),
            zone: rrule::Tz::UTC,
            all_day: false,
        }),
        Some(tz) => Some(Instant {
            utc: local_to_utc(tz, naive)?,
            zone: rrule::Tz::Tz(tz),
            all_day: false,
        }),
    }
}

/// A wall-clock time in `tz`: the first instant when ambiguous; inside a DST gap, read
/// with the offset in force before the gap (so 02:30 becomes 03:30 summer time).
fn local_to_utc(tz: chrono_tz::Tz, naive: NaiveDateTime) -> Option<DateTime<Utc>> {
    use chrono::{LocalResult, Offset};
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t.with_timezone(&Utc)),
        LocalResult::None => {
            let before = tz
                .offset_from_local_datetime(&(naive - Duration::hours(6)))
                .earliest()?
                .fix();
            Some((naive - Duration::seconds(i64::from(before.local_minus_utc()))).and_utc())
        }
    }
}

/// RFC 5545 §3.3.6: `[+-]P[nW]` or `[+-]P[nD][T[nH][nM][nS]]`.
pub fn parse_duration(value: &str) -> Option<Duration> {
    let value = value.trim();
    let (sign, rest) = match value.as_bytes().first()? {
        b'-' => (-1, &value[1..]),
        b'+' => (1, &value[1..]),
        _ => (1, value),
    };
    let rest = rest.strip_prefix('P')?;
    let mut total = Duration::zero();
    let mut number = String::new();
    let mut in_time = false;
    let mut any = false;
    for c in rest.chars() {
        match c {
            '0'..='9' => number.push(c),
            'T' if number.is_empty() && !in_time => in_time = true,
            unit => {
                let n: i64 = number.parse().ok()?;
                number.clear();
                any = true;
                total += match (unit, in_time) {
                    ('W', false) => Duration::try_weeks(n)?,
                    ('D', false) => Duration::try_days(n)?,
                    ('H', true) => Duration::try_hours(n)?,
                    ('M', true) => Duration::try_minutes(n)?,
                    ('S', true) => Duration::try_seconds(n)?,
                    _ => return None,
                };
            }
        }
    }
    (any && number.is_empty()).then_some(total * sign)
}

fn props<'a, 'b>(
    c: &'a Component<'b>,
    name: &'static str,
) -> impl Iterator<Item = &'a Property<'b>> {
    c.properties
        .iter()
        .filter(move |p| p.name.as_str().eq_ignore_ascii_case(name))
}

/// A text property's value (unescaped by the parser), parameters such as LANGUAGE
/// dropped; `None` when absent or blank.
fn text(c: &Component<'_>, name: &'static str) -> Option<String> {
    props(c, name)
        .next()
        .map(|p| p.val.as_str().trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn param(p: &Property<'_>, key: &str) -> Option<String> {
    p.params
        .iter()
        .find(|x| x.key.as_str().eq_ignore_ascii_case(key))
        .and_then(|x| x.val.as_ref())
        .map(|v| v.as_str().trim().trim_matches('"').to_owned())
        .filter(|v| !v.is_empty())
}

/// ORGANIZER or ATTENDEE: `mailto:` address with CN, PARTSTAT, ROLE and RSVP.
fn person(p: &Property<'_>) -> Option<CalendarPerson> {
    let value = p.val.as_str().trim();
    let address = match value.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("mailto:") => value[7..].trim().to_lowercase(),
        _ => value.to_owned(),
    };
    if address.is_empty() {
        return None;
    }
    Some(CalendarPerson {
        address,
        name: param(p, "CN"),
        partstat: param(p, "PARTSTAT").map(|s| s.to_ascii_uppercase()),
        role: param(p, "ROLE").map(|s| s.to_ascii_uppercase()),
        rsvp: param(p, "RSVP").is_some_and(|v| v.eq_ignore_ascii_case("TRUE")),
    })
}

fn first_line(error: &str) -> String {
    error
        .lines()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(300)
        .collect()
}

#[cfg(test)]
mod tests;
