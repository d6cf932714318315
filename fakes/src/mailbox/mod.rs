//! Deterministic synthetic Gmail mailbox.
//!
//! A [`Mailbox`] is planned cheaply up front (people, companies and a
//! 16-byte record per thread) and renders any message on demand from
//! per-thread random streams, so a fake Gmail API can serve a million
//! messages without holding their bytes, and any single message can be
//! reproduced in isolation. [`Mailbox::truth`] reports exactly what the
//! generated mail reveals, for scoring contact extraction.

pub(crate) mod calendar;
mod companies;
mod compose;
mod content;
mod encode;
mod malformed;
mod mime;
mod names;
mod people;
mod phone;
mod plan;
mod render;
pub(crate) mod rng;
mod senders;
mod signature;
mod takeout;
mod threads;
mod truth;

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

pub use takeout::write_takeout_message;
pub use truth::{CompanyTruth, GroundTruth, OwnerTruth, PersonTruth};

use plan::{HISTORY_DAYS, MsgRef, PersonStats};
use rng::{Cumulative, Stream, stream};
use threads::{Cast, ThreadKind, ThreadPlan, expand};

/// Largest supported mailbox; Gmail ids embed the index in 20 bits.
pub const MAX_MESSAGES: usize = 1_000_000;

/// What to generate. Identical specs always produce identical mailboxes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxSpec {
    pub seed: u64,
    /// Exact number of messages, `2..=1_000_000` (realism targets assume ≥ 100).
    pub messages: usize,
    /// Number of contacts to invent (at least one is used).
    pub people: usize,
    /// Number of companies besides the owner's employer.
    pub companies: usize,
    pub owner_name: String,
    pub owner_email: String,
    /// Date of the newest possible message; history spans two years before it.
    pub end: DateTime<Utc>,
    /// Moves every date by this many seconds once the mail is planned. The plan depends
    /// on `end` (which days are weekends), so this is how a caller places the newest
    /// message exactly without getting other mail.
    #[serde(default)]
    pub moved_secs: i64,
}

impl MailboxSpec {
    /// Sensible defaults scaled to the message count. The end date is fixed
    /// rather than "now" so demo data never changes between runs.
    pub fn demo(messages: usize) -> Self {
        let people = (messages / 25).clamp(20, 5000);
        MailboxSpec {
            seed: 42,
            messages,
            people,
            companies: (people / 6).max(1),
            owner_name: "Alex Morgan".to_string(),
            owner_email: "alex.morgan@brightwater-labs.com".to_string(),
            end: Utc
                .with_ymd_and_hms(2025, 6, 30, 17, 0, 0)
                .single()
                .expect("valid demo end date"),
            moved_secs: 0,
        }
    }
}

/// What a message is, for tests and for scoring filters that should skip
/// non-person mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MessageKind {
    /// Written by or to a contact (including the prompt-injection message).
    Personal,
    /// Newsletter or mailing-list post.
    Bulk,
    /// Automated notification from a noreply-style sender.
    Notification,
    /// Meeting invitation with a text/calendar part and .ics attachment.
    CalendarInvite,
    /// Junk that Gmail filed as SPAM.
    Spam,
    /// Deliberately broken bytes.
    Malformed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedMessage {
    pub index: usize,
    /// Gmail-style id: 16 lowercase hex digits, time-ordered like Gmail's.
    pub id: String,
    /// The id of the thread's first message, as Gmail does.
    pub thread_id: String,
    pub internal_date: DateTime<Utc>,
    pub label_ids: Vec<String>,
    /// Complete RFC 5322 message with CRLF line endings (except some
    /// deliberately malformed ones).
    pub raw: Vec<u8>,
    pub kind: MessageKind,
    pub from_owner: bool,
}

/// A planned mailbox. Holds people, companies and a compact thread plan,
/// never rendered bytes.
pub struct Mailbox {
    spec: MailboxSpec,
    origin: DateTime<Utc>,
    cast: Cast,
    threads: Vec<ThreadPlan>,
    order: Vec<MsgRef>,
    stats: Vec<PersonStats>,
}

/// Names a company after its domain's first label ("brightwater-labs" →
/// "Brightwater Labs").
fn company_name_from_domain(domain: &str) -> String {
    let label = domain.split('.').next().unwrap_or(domain);
    label
        .split(['-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

const FREE_MAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "yahoo.com",
    "icloud.com",
    "proton.me",
    "gmx.de",
    "web.de",
];

impl Mailbox {
    /// Plans the whole mailbox. Cost is linear in `spec.messages` (~0.4 s per
    /// million in release builds) and the plan keeps ~20 bytes per message.
    ///
    /// # Panics
    /// If `spec.messages` is outside `2..=1_000_000`.
    pub fn generate(spec: &MailboxSpec) -> Mailbox {
        assert!(
            (2..=MAX_MESSAGES).contains(&spec.messages),
            "messages must be within 2..=1_000_000, got {}",
            spec.messages
        );
        let mut rng = stream(spec.seed, Stream::World, 0, 0);
        let planned_origin = spec.end - Duration::days(HISTORY_DAYS);
        let owner_domain = spec
            .owner_email
            .rsplit('@')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let mut company_list = Vec::new();
        let owner_company = (!FREE_MAIL_DOMAINS.contains(&owner_domain.as_str())).then(|| {
            company_list.push(companies::Company {
                name: format!("{} Inc.", company_name_from_domain(&owner_domain)),
                domain: owner_domain.clone(),
                mail_domain: owner_domain.clone(),
                country: phone::Country::Us,
                disclaimer: false,
            });
            0u32
        });
        company_list.extend(companies::generate(&mut rng, spec.companies, &owner_domain));
        let company_pick = Cumulative::zipf(company_list.len().max(1), 2);
        let mut taken = BTreeSet::from([spec.owner_email.clone()]);
        let mut world = people::World {
            companies: &company_list,
            company_pick: &company_pick,
            taken: &mut taken,
            history_ms: plan::HISTORY_MS,
        };
        let people: Vec<_> = (0..spec.people.max(1))
            .map(|_| people::generate_person(&mut rng, &mut world))
            .collect();
        let mut members = vec![Vec::new(); company_list.len()];
        for (i, p) in people.iter().enumerate() {
            if let Some(c) = p.company {
                members[c as usize].push(i as u32);
            }
        }
        let mut bulk = senders::pool(
            &mut rng,
            (spec.messages / 3000).clamp(6, 60),
            (spec.messages / 6000).clamp(3, 30),
        );
        bulk.shuffle(&mut rng);
        let owner = people::owner(&spec.owner_name, &spec.owner_email, owner_company, &mut rng);
        let cast = Cast {
            owner,
            popularity: Cumulative::zipf(people.len(), 5),
            people,
            companies: company_list,
            members,
            bulk_popularity: Cumulative::zipf(bulk.len(), 3),
            bulk,
        };
        let planned = plan::plan(spec.seed, spec.messages, planned_origin, &cast);
        Mailbox {
            spec: spec.clone(),
            origin: planned_origin + Duration::seconds(spec.moved_secs),
            cast,
            threads: planned.threads,
            order: planned.order,
            stats: planned.stats,
        }
    }

    pub fn spec(&self) -> &MailboxSpec {
        &self.spec
    }

    /// Always exactly `spec.messages`.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Never true: a mailbox holds at least two messages.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Number of planned conversations.
    pub fn thread_count(&self) -> usize {
        self.threads.len()
    }

    /// Gmail ids are `(epoch_ms << 20) | permuted index`: time-ordered like
    /// real ones and unique because the 20-bit permutation is a bijection
    /// and indices stay below 2^20.
    fn gmail_id(&self, at_ms: i64, index: usize) -> String {
        let abs_ms = (self.origin.timestamp_millis() + at_ms) as u64;
        let salt = rng::hash(&[self.spec.seed]) & 0xF_FFFF;
        let low = (index as u64).wrapping_mul(0x9_E3B5).wrapping_add(salt) & 0xF_FFFF;
        format!("{:016x}", (abs_ms << 20) | low)
    }

    /// Renders message `index` (chronological, oldest first). Work is
    /// proportional to the size of its thread; no state is shared or cached.
    ///
    /// # Panics
    /// If `index >= self.len()`.
    pub fn message(&self, index: usize) -> GeneratedMessage {
        let r = self.order[index];
        let plan = &self.threads[r.thread as usize];
        let steps = expand(
            self.spec.seed,
            r.thread,
            plan,
            &self.cast,
            plan.len as usize,
        );
        let pos = r.pos as usize;
        let ctx = render::Ctx {
            seed: self.spec.seed,
            cast: &self.cast,
            origin: self.origin,
            plan,
            thread: r.thread,
            steps: &steps,
        };
        let rendered = render::render(&ctx, pos);
        let from_owner = matches!(plan.kind, ThreadKind::Personal) && steps[pos].from.is_owner();
        GeneratedMessage {
            index,
            id: self.gmail_id(steps[pos].at_ms, index),
            thread_id: self.gmail_id(steps[0].at_ms, plan.first_index as usize),
            internal_date: ctx.at(pos),
            label_ids: rendered.labels,
            raw: rendered.raw,
            kind: rendered.kind,
            from_owner,
        }
    }

    /// All messages, oldest first.
    pub fn messages(&self) -> impl Iterator<Item = GeneratedMessage> + '_ {
        (0..self.len()).map(|i| self.message(i))
    }

    /// Gmail id of the first message of thread `t`.
    fn thread_first_id(&self, t: usize) -> String {
        let plan = &self.threads[t];
        let first = expand(self.spec.seed, t as u32, plan, &self.cast, 1);
        self.gmail_id(first[0].at_ms, plan.first_index as usize)
    }

    /// What the generated mail says about the owner's network.
    pub fn truth(&self) -> GroundTruth {
        let people: Vec<PersonTruth> = self
            .stats
            .iter()
            .enumerate()
            .filter(|(_, s)| s.message_count > 0)
            .map(|(i, s)| truth::person(&self.cast, i as u32, s, self.origin))
            .collect();
        let companies = self
            .cast
            .companies
            .iter()
            .enumerate()
            .filter_map(|(c, co)| {
                let ids: Vec<u32> = people
                    .iter()
                    .filter(|p| self.cast.people[p.id as usize].company == Some(c as u32))
                    .map(|p| p.id)
                    .collect();
                (!ids.is_empty()).then(|| CompanyTruth {
                    name: co.name.clone(),
                    domain: co.domain.clone(),
                    mail_domain: co.mail_domain.clone(),
                    people: ids,
                })
            })
            .collect();
        let mut bulk = BTreeSet::new();
        let mut spam = BTreeSet::new();
        let mut injections = Vec::new();
        let mut malformed = Vec::new();
        for (t, plan) in self.threads.iter().enumerate() {
            match plan.kind {
                ThreadKind::Broadcast => {
                    bulk.insert(self.cast.bulk[plan.actor as usize].address.clone());
                }
                ThreadKind::Spam => {
                    spam.insert(render::spam_sender(self.spec.seed, t as u32, plan.actor).1);
                }
                ThreadKind::Injection => injections.push(self.thread_first_id(t)),
                ThreadKind::Malformed => malformed.push(self.thread_first_id(t)),
                ThreadKind::Personal | ThreadKind::Calendar => {}
            }
        }
        malformed.sort();
        GroundTruth {
            seed: self.spec.seed,
            messages: self.len(),
            owner: truth::owner(&self.cast),
            people,
            companies,
            bulk_senders: bulk.into_iter().collect(),
            spam_senders: spam.into_iter().collect(),
            prompt_injection_message_ids: injections,
            malformed_message_ids: malformed,
        }
    }

    /// Writes [`Mailbox::truth`] as pretty JSON.
    pub fn write_truth(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(&self.truth()).map_err(std::io::Error::other)?;
        std::fs::write(path, json)
    }
}
