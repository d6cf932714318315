//! Mailbox-wide planning: lays out threads over the two-year history until
//! the exact message budget is met, sorts all messages chronologically and
//! tallies per-person statistics for the ground truth in the same pass.

use chrono::{DateTime, Datelike, Duration, Utc, Weekday};
use rand::Rng;

use super::phone::Zone;
use super::rng::{Gen, Stream, chance, stream, weighted};
use super::threads::{Cast, ThreadKind, ThreadPlan, expand};

/// Length of the generated history.
pub(crate) const HISTORY_DAYS: i64 = 730;
pub(crate) const HISTORY_MS: i64 = HISTORY_DAYS * 86_400_000;

/// Position of one message: which thread and where in it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MsgRef {
    pub(crate) thread: u32,
    pub(crate) pos: u16,
}

/// What the mail reveals about one person, accumulated while planning.
#[derive(Clone, Debug, Default)]
pub(crate) struct PersonStats {
    pub(crate) message_count: u32,
    pub(crate) sent_by_owner: u32,
    pub(crate) received_by_owner: u32,
    /// Bit `i` set when address `i` of the person appears in a header.
    pub(crate) addresses_used: u8,
    /// Send time of the newest message carrying their signature block.
    pub(crate) last_signed_ms: Option<i64>,
    /// Send time of every message the owner sent them or they sent the owner.
    pub(crate) exchanged_ms: Vec<i64>,
}

pub(crate) struct Planned {
    pub(crate) threads: Vec<ThreadPlan>,
    pub(crate) order: Vec<MsgRef>,
    pub(crate) stats: Vec<PersonStats>,
}

/// Number of deliberately malformed messages: about 0.2%, at least one.
pub(crate) fn malformed_count(messages: usize) -> usize {
    (messages / 500).max(1)
}

/// A thread start time, biased towards recent days, weekdays and the
/// sender's office hours.
fn start_time(rng: &mut Gen, origin: DateTime<Utc>, zone: Zone, office_hours: bool) -> u32 {
    let mut day = rng.random_range(0..HISTORY_DAYS);
    if chance(rng, 500) {
        // The mailbox grows over time: max of two uniforms skews recent.
        day = day.max(rng.random_range(0..HISTORY_DAYS));
    }
    let midnight = origin + Duration::days(day);
    let weekend = matches!(midnight.weekday(), Weekday::Sat | Weekday::Sun);
    if office_hours && weekend && chance(rng, 700) {
        day = (day + 2).min(HISTORY_DAYS - 1);
    }
    let local_s = if office_hours && chance(rng, 850) {
        rng.random_range(8 * 3600..18 * 3600)
    } else {
        rng.random_range(0..86_400)
    };
    let offset = i64::from(zone.offset_at(midnight).local_minus_utc());
    let s = day * 86_400 + local_s - offset;
    s.clamp(0, HISTORY_MS / 1000 - 1) as u32
}

pub(crate) fn plan(seed: u64, messages: usize, origin: DateTime<Utc>, cast: &Cast) -> Planned {
    let mut rng = stream(seed, Stream::Plan, 0, 0);
    let mut threads: Vec<ThreadPlan> = Vec::with_capacity(messages * 2 / 3 + 8);
    let mut times: Vec<(i64, u32, u16)> = Vec::with_capacity(messages);
    let mut stats = vec![PersonStats::default(); cast.people.len()];
    let mut remaining = messages;

    let mut add = |rng: &mut Gen, kind: ThreadKind, actor: u32, remaining: &mut usize| {
        let zone = match kind {
            ThreadKind::Personal | ThreadKind::Injection | ThreadKind::Calendar => {
                cast.people[actor as usize].zone
            }
            _ => cast.owner.zone,
        };
        let office = !matches!(kind, ThreadKind::Spam | ThreadKind::Malformed);
        let mut plan = ThreadPlan {
            start_s: start_time(rng, origin, zone, office),
            actor,
            first_index: 0,
            len: u16::MAX,
            kind,
        };
        let t = threads.len() as u32;
        let steps = expand(seed, t, &plan, cast, usize::MAX);
        let fits = steps.iter().take_while(|s| s.at_ms <= HISTORY_MS).count();
        let len = fits.min(*remaining);
        plan.len = len as u16;
        *remaining -= len;
        for (pos, step) in steps[..len].iter().enumerate() {
            times.push((step.at_ms, t, pos as u16));
            if !matches!(
                kind,
                ThreadKind::Personal | ThreadKind::Injection | ThreadKind::Calendar
            ) {
                continue;
            }
            for who in step.people() {
                let s = &mut stats[who.person as usize];
                s.message_count += 1;
                s.addresses_used |= 1 << who.addr;
                if step.from.is_owner() {
                    s.sent_by_owner += 1;
                    s.exchanged_ms.push(step.at_ms);
                } else if step.from.person == who.person {
                    s.received_by_owner += 1;
                    s.exchanged_ms.push(step.at_ms);
                    if step.signed {
                        s.last_signed_ms = s.last_signed_ms.max(Some(step.at_ms));
                    }
                }
            }
        }
        threads.push(plan);
    };

    let injector = cast.popularity.sample(&mut rng) as u32;
    add(&mut rng, ThreadKind::Injection, injector, &mut remaining);
    for i in 0..malformed_count(messages).min(remaining) {
        add(&mut rng, ThreadKind::Malformed, i as u32, &mut remaining);
    }
    while remaining > 0 {
        let (kind, actor) = match weighted(&mut rng, &[36, 4, 56, 3]) {
            0 => (
                ThreadKind::Personal,
                cast.popularity.sample(&mut rng) as u32,
            ),
            1 => (
                ThreadKind::Calendar,
                cast.popularity.sample(&mut rng) as u32,
            ),
            2 => (
                ThreadKind::Broadcast,
                cast.bulk_popularity.sample(&mut rng) as u32,
            ),
            _ => (ThreadKind::Spam, rng.random_range(0..u32::MAX)),
        };
        add(&mut rng, kind, actor, &mut remaining);
    }

    times.sort_unstable();
    let order = times
        .iter()
        .enumerate()
        .map(|(i, &(_, thread, pos))| {
            if pos == 0 {
                threads[thread as usize].first_index = i as u32;
            }
            MsgRef { thread, pos }
        })
        .collect();
    Planned {
        threads,
        order,
        stats,
    }
}
