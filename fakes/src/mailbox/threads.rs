//! Conversation planning.
//!
//! A thread is stored as a tiny [`ThreadPlan`]; everything else about it
//! (participants, who replies when, CCs, forwards) is re-derived on demand by
//! [`expand`] from a per-thread random stream. Expanding is sequential, so
//! expanding with a smaller `limit` yields an exact prefix: that is what lets
//! the planner cut threads at the mailbox's end date or message budget and
//! still render identical messages later.

use rand::Rng;

use super::companies::Company;
use super::people::Person;
use super::rng::{Cumulative, Gen, Stream, chance, pick, stream, weighted};
use super::senders::BulkSender;

/// Sentinel person index meaning "the mailbox owner".
pub(crate) const OWNER: u32 = u32::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ThreadKind {
    Personal,
    /// The single prompt-injection message (rendered as personal mail).
    Injection,
    Calendar,
    /// Newsletter, mailing list or notification; sender from the bulk pool.
    Broadcast,
    Spam,
    Malformed,
}

/// The compact per-thread record kept in memory (16 bytes).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ThreadPlan {
    /// Seconds after the start of the history window.
    pub(crate) start_s: u32,
    /// Main counterpart: a person index, or a bulk-pool index for broadcasts.
    pub(crate) actor: u32,
    /// Global (chronological) index of the thread's first message.
    pub(crate) first_index: u32,
    pub(crate) len: u16,
    pub(crate) kind: ThreadKind,
}

/// A participant: a person (or [`OWNER`]) and which of their addresses is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Who {
    pub(crate) person: u32,
    pub(crate) addr: u8,
}

impl Who {
    pub(crate) const OWNER: Who = Who {
        person: OWNER,
        addr: 0,
    };

    pub(crate) fn is_owner(self) -> bool {
        self.person == OWNER
    }
}

/// One message of an expanded thread.
#[derive(Clone, Debug)]
pub(crate) struct Step {
    /// Milliseconds after the start of the history window.
    pub(crate) at_ms: i64,
    pub(crate) from: Who,
    pub(crate) to: Vec<Who>,
    pub(crate) cc: Vec<Who>,
    pub(crate) bcc: Vec<Who>,
    /// Whether the sender's full signature block is included.
    pub(crate) signed: bool,
    /// Sent from a phone: "Sent from my iPhone" instead of a signature.
    pub(crate) from_phone: bool,
    /// The owner forwards the previous message to someone new.
    pub(crate) forward: bool,
}

impl Step {
    fn single(at_ms: i64, from: Who) -> Step {
        Step {
            at_ms,
            from,
            to: vec![Who::OWNER],
            cc: Vec::new(),
            bcc: Vec::new(),
            signed: false,
            from_phone: false,
            forward: false,
        }
    }

    /// Every distinct non-owner person on the message.
    pub(crate) fn people(&self) -> Vec<Who> {
        let mut out: Vec<Who> = Vec::new();
        for w in std::iter::once(&self.from)
            .chain(&self.to)
            .chain(&self.cc)
            .chain(&self.bcc)
        {
            if !w.is_owner() && !out.iter().any(|o| o.person == w.person) {
                out.push(*w);
            }
        }
        out
    }
}

/// Everyone and everything a thread can involve.
pub(crate) struct Cast {
    pub(crate) owner: Person,
    pub(crate) people: Vec<Person>,
    pub(crate) companies: Vec<Company>,
    /// People per company, for realistic same-company CC lists.
    pub(crate) members: Vec<Vec<u32>>,
    pub(crate) popularity: Cumulative,
    pub(crate) bulk: Vec<BulkSender>,
    pub(crate) bulk_popularity: Cumulative,
}

impl Cast {
    pub(crate) fn person(&self, who: Who) -> &Person {
        if who.is_owner() {
            &self.owner
        } else {
            &self.people[who.person as usize]
        }
    }

    pub(crate) fn address(&self, who: Who) -> &str {
        &self.person(who).emails[who.addr as usize]
    }

    fn participant(&self, rng: &mut Gen, person: u32) -> Who {
        let alt = self.people[person as usize].emails.len() > 1 && chance(rng, 250);
        Who {
            person,
            addr: u8::from(alt),
        }
    }

    /// A colleague of `anchor` most of the time, otherwise anyone popular.
    fn companion(&self, rng: &mut Gen, anchor: u32) -> u32 {
        if let Some(c) = self.people[anchor as usize].company {
            let members = &self.members[c as usize];
            if members.len() > 1 && chance(rng, 700) {
                return pick(rng, members);
            }
        }
        self.popularity.sample(rng) as u32
    }
}

/// Heavy-tailed reply delay: most replies within hours, some after weeks.
fn delay_ms(rng: &mut Gen) -> i64 {
    const BUCKETS: [(i64, i64); 6] = [
        (60, 1_800),
        (1_800, 14_400),
        (14_400, 86_400),
        (86_400, 345_600),
        (345_600, 1_209_600),
        (1_209_600, 3_888_000),
    ];
    let (lo, hi) = BUCKETS[weighted(rng, &[15, 30, 25, 18, 9, 3])];
    rng.random_range(lo..hi) * 1000 + rng.random_range(0..1000)
}

/// Expands a thread into at most `limit` messages.
pub(crate) fn expand(seed: u64, t: u32, plan: &ThreadPlan, cast: &Cast, limit: usize) -> Vec<Step> {
    let mut rng = stream(seed, Stream::Thread, u64::from(t), 0);
    let start_ms = i64::from(plan.start_s) * 1000 + rng.random_range(0..1000);
    let actor = Who {
        person: plan.actor,
        addr: 0,
    };
    match plan.kind {
        ThreadKind::Personal => personal(&mut rng, plan.actor, cast, start_ms, limit),
        ThreadKind::Injection => {
            let mut step = Step::single(start_ms, actor);
            step.signed = cast.people[plan.actor as usize].signature.is_some();
            vec![step]
        }
        ThreadKind::Calendar => {
            let mut step = Step::single(start_ms, actor);
            for _ in 0..rng.random_range(0..4) {
                let p = cast.companion(&mut rng, plan.actor);
                if p != plan.actor && !step.to.iter().any(|w| w.person == p) {
                    step.to.push(Who { person: p, addr: 0 });
                }
            }
            vec![step]
        }
        ThreadKind::Broadcast | ThreadKind::Spam | ThreadKind::Malformed => {
            vec![Step::single(start_ms, actor)]
        }
    }
}

fn personal(rng: &mut Gen, p: u32, cast: &Cast, start_ms: i64, limit: usize) -> Vec<Step> {
    let planned = match weighted(rng, &[40, 24, 14, 13, 7, 2]) {
        0 => 1,
        1 => 2,
        2 => 3,
        3 => rng.random_range(4..=6),
        4 => rng.random_range(7..=15),
        _ => rng.random_range(16..=40),
    };
    let mut group = vec![cast.participant(rng, p)];
    let extra = match weighted(rng, &[60, 20, 15, 5]) {
        0 => 0,
        1 => 1,
        2 => rng.random_range(2..=3),
        _ => rng.random_range(4..=6),
    };
    for _ in 0..extra {
        let c = cast.companion(rng, p);
        if !group.iter().any(|w| w.person == c) {
            let who = cast.participant(rng, c);
            group.push(who);
        }
    }
    let owner_starts = chance(rng, 280);
    let mut steps: Vec<Step> = Vec::with_capacity(planned.min(limit));
    let mut at = start_ms;
    let mut prev: Option<Who> = None;
    for pos in 0..planned.min(limit) {
        let from = match prev {
            None if owner_starts => Who::OWNER,
            None => group[0],
            Some(prev) => next_sender(rng, prev, &group),
        };
        if pos > 0 {
            at += delay_ms(rng);
        }
        let (mut to, mut cc) = recipients(rng, from, prev, &group);
        let mut bcc = Vec::new();
        if from.is_owner() && pos == 0 && chance(rng, 50) {
            let b = cast.popularity.sample(rng) as u32;
            if !group.iter().any(|w| w.person == b) {
                bcc.push(Who { person: b, addr: 0 });
            }
        }
        let mut forward = from.is_owner() && pos > 0 && chance(rng, 50);
        if forward {
            let f = cast.companion(rng, p);
            // Forwarding to someone already on the thread would be pointless.
            forward = !group.iter().any(|w| w.person == f);
            if forward {
                to = vec![Who { person: f, addr: 0 }];
                cc.clear();
            }
        }
        let first_from_sender = !steps.iter().any(|s| s.from == from);
        let person = cast.person(from);
        let from_phone = person.mobile_replies && chance(rng, 350);
        let signed = person.signature.is_some()
            && !from_phone
            && chance(rng, if first_from_sender { 900 } else { 550 });
        steps.push(Step {
            at_ms: at,
            from,
            to,
            cc,
            bcc,
            signed,
            from_phone,
            forward,
        });
        if forward {
            break;
        }
        prev = Some(from);
    }
    steps
}

fn next_sender(rng: &mut Gen, prev: Who, group: &[Who]) -> Who {
    if prev.is_owner() {
        if group.len() > 1 && chance(rng, 250) {
            pick(rng, group)
        } else {
            group[0]
        }
    } else if chance(rng, 150) {
        // Nobody answered, so the same person nudges ("Following up…").
        prev
    } else if group.len() > 1 && chance(rng, 250) {
        let others: Vec<Who> = group.iter().copied().filter(|w| *w != prev).collect();
        pick(rng, &others)
    } else {
        Who::OWNER
    }
}

/// To/Cc for a message: new threads address the counterpart, replies
/// address the previous sender and usually keep everyone else in Cc.
fn recipients(rng: &mut Gen, from: Who, prev: Option<Who>, group: &[Who]) -> (Vec<Who>, Vec<Who>) {
    let everyone: Vec<Who> = std::iter::once(Who::OWNER)
        .chain(group.iter().copied())
        .collect();
    let to = match prev {
        Some(prev) if prev != from => vec![prev],
        Some(_) => vec![Who::OWNER],
        None if from.is_owner() => {
            let mut to = vec![group[0]];
            if group.len() > 2 && chance(rng, 300) {
                to.push(group[1]);
            }
            to
        }
        None => vec![Who::OWNER],
    };
    let reply_all = prev.is_none() || chance(rng, 850);
    let mut cc: Vec<Who> = if reply_all {
        everyone
            .into_iter()
            .filter(|w| *w != from && !to.contains(w))
            .collect()
    } else {
        Vec::new()
    };
    if !from.is_owner() && !to.contains(&Who::OWNER) && !cc.contains(&Who::OWNER) {
        cc.push(Who::OWNER);
    }
    (to, cc)
}
