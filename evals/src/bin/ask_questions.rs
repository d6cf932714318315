//! Writes `evals/ask.jsonl`, the questions `make eval-ask` asks, with expected
//! answers taken from the demo mailbox's ground truth (people, companies, fields and
//! message counts) and, for dates, periods and open threads, from the generated
//! messages' own headers (From/To/Cc, Date, thread). Nothing here runs the engine or
//! reads the database: expected answers are independent of what is being measured.
//!
//! Each fact is asked in several wordings written by hand below (possessives, word
//! order, synonyms, names without accents, first names, typos, "me and X", periods,
//! follow-ups in a conversation), each line tagged with its intent for the per-intent
//! figures.
//!
//! `cargo run --release -p evals --bin ask-questions > evals/ask.jsonl`

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, TimeZone, Utc};
use fakes::mailbox::{GroundTruth, Mailbox, MailboxSpec, MessageKind, PersonTruth};
use mail_parser::MessageParser;
use serde_json::{Value, json};

/// The demo's mailbox (`RAPPORT_DEMO_MESSAGES` default).
const MESSAGES: usize = 3_000;

/// What a ranking question ranks people by.
type Measure = fn(&PersonTruth) -> i64;
/// `[from, to)`
type Range = (DateTime<Utc>, DateTime<Utc>);

/// One person's mail as the headers show it.
#[derive(Default)]
struct Mail {
    /// (date, the owner sent it, thread, their address on it)
    messages: Vec<(DateTime<Utc>, bool, String, String)>,
}

impl Mail {
    fn last(&self, sent: Option<bool>) -> Option<DateTime<Utc>> {
        self.dates(sent).max()
    }

    fn first(&self, sent: Option<bool>) -> Option<DateTime<Utc>> {
        self.dates(sent).min()
    }

    fn dates(&self, sent: Option<bool>) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        self.messages
            .iter()
            .filter(move |(_, s, _, _)| sent.is_none_or(|want| *s == want))
            .map(|(at, _, _, _)| *at)
    }

    fn count_between(&self, from: DateTime<Utc>, to: DateTime<Utc>, sent: Option<bool>) -> usize {
        self.dates(sent)
            .filter(|at| from <= *at && *at < to)
            .count()
    }
}

fn main() {
    let spec = MailboxSpec::demo(MESSAGES);
    let mailbox = Mailbox::generate(&spec);
    let truth = mailbox.truth();
    let now = spec.end;
    let mail = mail_by_person(&mailbox, &truth);
    let mut set = Questions::default();

    // Correspondents (contacts exist for people the owner wrote to), most mail first,
    // with a name no one else has.
    let name_counts = count_by(&truth.people, |p| p.name.to_lowercase());
    let mut known: Vec<&PersonTruth> = truth
        .people
        .iter()
        .filter(|p| p.owner_wrote_to && name_counts[&p.name.to_lowercase()] == 1)
        .collect();
    known.sort_by_key(|p| (std::cmp::Reverse(p.message_count), p.id));

    for p in known.iter().take(6) {
        set.ask(
            Kind::Count,
            format!("How many emails did I exchange with {}?", p.name),
            json!(p.sent_by_owner + p.received_by_owner),
        );
    }
    for p in known.iter().skip(6).take(4) {
        set.ask(
            Kind::Count,
            format!("How many emails did I send to {}?", p.name),
            json!(p.sent_by_owner),
        );
        set.ask(
            Kind::Count,
            format!("How many emails did {} send me?", p.name),
            json!(p.received_by_owner),
        );
    }
    for p in known.iter().filter(|p| p.phone_e164.is_some()).take(5) {
        set.ask(
            Kind::Field,
            format!("What's {}'s phone number?", p.name),
            json!(p.phone_e164),
        );
    }
    for p in known.iter().filter(|p| p.title.is_some()).skip(2).take(4) {
        set.ask(
            Kind::Field,
            format!("What is {}'s title?", p.name),
            json!(p.title),
        );
    }
    for p in known.iter().filter(|p| p.company.is_some()).skip(3).take(4) {
        set.ask(
            Kind::Field,
            format!("Where does {} work?", p.name),
            json!(p.company),
        );
    }
    for p in known.iter().skip(10).take(3) {
        set.ask(
            Kind::Field,
            format!("What is {}'s email address?", p.name),
            json!(p.emails),
        );
    }
    // First names that only one correspondent has: "who is Dana?" means them.
    let first = |p: &PersonTruth| p.name.split(' ').next().unwrap_or_default().to_lowercase();
    // Unique as a word of anyone's name: "Morgan" could also be someone's last name.
    let in_names = |word: &str| {
        truth
            .people
            .iter()
            .filter(|q| q.name.to_lowercase().split(' ').any(|w| w == word))
            .count()
    };
    for p in known.iter().filter(|p| in_names(&first(p)) == 1).take(4) {
        set.ask(
            Kind::WhoIs,
            format!("Who is {}?", p.name.split(' ').next().unwrap_or_default()),
            json!(p.emails[0]),
        );
    }
    // Shared first names are ambiguous among correspondents: the engine must ask back.
    let known_first = count_by(
        &truth
            .people
            .iter()
            .filter(|p| p.owner_wrote_to)
            .cloned()
            .collect::<Vec<_>>(),
        first,
    );
    let mut shared: Vec<&String> = known_first
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(f, _)| f)
        .collect();
    shared.sort();
    for name in shared.iter().take(2) {
        set.ask(
            Kind::Refusal,
            format!("When did I last talk to {}?", api::capitalize(name)),
            Value::Null,
        );
    }
    set.ask(
        Kind::Refusal,
        "Who is Zebulon Quartermaine?".into(),
        Value::Null,
    );
    set.ask(
        Kind::Refusal,
        "What's the weather like in Lisbon?".into(),
        Value::Null,
    );

    // Companies other than the owner's, by how many correspondents work there.
    let owner_domain = truth.owner.email.rsplit('@').next().unwrap_or_default();
    let people_by_id: HashMap<u32, &PersonTruth> = truth.people.iter().map(|p| (p.id, p)).collect();
    let mut companies: Vec<(&str, Vec<&PersonTruth>)> = truth
        .companies
        .iter()
        .filter(|c| c.domain != owner_domain)
        .map(|c| {
            let staff = c
                .people
                .iter()
                .map(|id| people_by_id[id])
                .filter(|p| p.owner_wrote_to && p.company_domain.as_deref() == Some(&c.domain))
                .collect::<Vec<_>>();
            (c.domain.as_str(), staff)
        })
        .filter(|(_, staff)| !staff.is_empty())
        .collect();
    companies.sort_by_key(|(domain, staff)| (std::cmp::Reverse(staff.len()), *domain));
    for (domain, staff) in companies.iter().take(5) {
        let emails: Vec<&str> = staff.iter().map(|p| p.emails[0].as_str()).collect();
        set.ask(Kind::PeopleAt, format!("Who at {domain}?"), json!(emails));
    }
    for (domain, staff) in companies.iter().skip(1).take(3) {
        set.ask(
            Kind::PeopleAt,
            format!("How many people do I know at {domain}?"),
            json!(staff.len()),
        );
    }
    for (domain, staff) in companies.iter().take(3) {
        if let Some(top) = unique_top(
            staff,
            |p| i64::from(p.sent_by_owner + p.received_by_owner),
            2,
        ) {
            set.ask(
                Kind::Top,
                format!("Top 2 people at {domain} by emails"),
                json!(top),
            );
        }
    }

    // Rankings over all time.
    let wrote_to: Vec<&PersonTruth> = truth.people.iter().filter(|p| p.owner_wrote_to).collect();
    let rankings: [(&str, Measure, usize); 5] = [
        (
            "Who did I email the most?",
            |p| i64::from(p.sent_by_owner),
            1,
        ),
        (
            "Who emailed me the most?",
            |p| i64::from(p.received_by_owner),
            1,
        ),
        (
            "Top 3 people by emails",
            |p| i64::from(p.sent_by_owner + p.received_by_owner),
            3,
        ),
        (
            "Top 5 people I sent the most emails to",
            |p| i64::from(p.sent_by_owner),
            5,
        ),
        (
            "Who are my top 4 contacts by emails received?",
            |p| i64::from(p.received_by_owner),
            4,
        ),
    ];
    for (question, metric, n) in rankings {
        if let Some(top) = unique_top(&wrote_to, metric, n) {
            set.ask(Kind::Top, question.into(), json!(top));
        }
    }

    // Dates and periods, from the headers.
    let day = |at: DateTime<Utc>| at.format("%Y-%m-%d").to_string();
    for p in known.iter().take(4) {
        if let Some(at) = mail[&p.id].last(Some(true)) {
            set.ask(
                Kind::Interaction,
                format!("When did I last email {}?", p.name),
                json!(day(at)),
            );
        }
    }
    for p in known.iter().skip(4).take(3) {
        if let Some(at) = mail[&p.id].first(Some(true)) {
            set.ask(
                Kind::Interaction,
                format!("When did I first email {}?", p.name),
                json!(day(at)),
            );
        }
    }
    for p in known.iter().skip(7).take(3) {
        if let Some(at) = mail[&p.id].last(Some(false)) {
            set.ask(
                Kind::Interaction,
                format!("When did {} last email me?", p.name),
                json!(day(at)),
            );
        }
    }
    for p in known.iter().skip(10).take(3) {
        if let Some(at) = mail[&p.id].last(None) {
            set.ask(
                Kind::Interaction,
                format!("When did I last talk to {}?", p.name),
                json!(day(at)),
            );
        }
    }
    for p in known.iter().skip(13).take(2) {
        if let Some(at) = mail[&p.id].first(None) {
            set.ask(
                Kind::Interaction,
                format!("When was my first interaction with {}?", p.name),
                json!(day(at)),
            );
        }
    }
    let may = (at(2025, 5, 1), at(2025, 6, 1));
    let quarter = (at(2025, 4, 1), now + chrono::Duration::seconds(1));
    for p in known.iter().take(3) {
        set.ask(
            Kind::Count,
            format!("How many emails did I exchange with {} last month?", p.name),
            json!(mail[&p.id].count_between(may.0, may.1, None)),
        );
    }
    for p in known.iter().skip(3).take(2) {
        set.ask(
            Kind::Count,
            format!("How many emails did I send to {} this quarter?", p.name),
            json!(mail[&p.id].count_between(quarter.0, quarter.1, Some(true))),
        );
    }
    let mail = &mail;
    let in_period = |range: Range, sent: Option<bool>| {
        move |p: &PersonTruth| mail[&p.id].count_between(range.0, range.1, sent) as i64
    };
    let periodic: [(&str, Range, Option<bool>, usize); 3] = [
        ("Who emailed me most last month?", may, Some(false), 1),
        ("Who did I email most this quarter?", quarter, Some(true), 1),
        ("Top 3 people by emails last month", may, None, 3),
    ];
    for (question, range, sent, n) in periodic {
        if let Some(top) = unique_top(&wrote_to, in_period(range, sent), n) {
            set.ask(Kind::Top, question.into(), json!(top));
        }
    }

    phrasings(&mut set, &truth, &known, mail, now);
    for line in set.lines {
        println!("{line}");
    }
}

/// Each person's messages with the owner: sent (owner in From, them in To/Cc/Bcc) or
/// received (them in From), person-to-person mail only.
fn mail_by_person(mailbox: &Mailbox, truth: &GroundTruth) -> HashMap<u32, Mail> {
    let by_address: HashMap<&str, u32> = truth
        .people
        .iter()
        .flat_map(|p| p.emails.iter().map(move |e| (e.as_str(), p.id)))
        .collect();
    let mut mail: HashMap<u32, Mail> = truth
        .people
        .iter()
        .map(|p| (p.id, Mail::default()))
        .collect();
    for m in mailbox.messages() {
        if matches!(
            m.kind,
            MessageKind::Bulk | MessageKind::Notification | MessageKind::Spam
        ) {
            continue;
        }
        let Some(parsed) = MessageParser::default().parse(&m.raw) else {
            continue;
        };
        let date = parsed
            .date()
            .filter(|d| d.is_valid())
            .and_then(|d| Utc.timestamp_opt(d.to_timestamp(), 0).single())
            .unwrap_or(m.internal_date);
        let addresses = |header: Option<&mail_parser::Address<'_>>| -> Vec<String> {
            header
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.address())
                        .map(str::to_lowercase)
                        .collect()
                })
                .unwrap_or_default()
        };
        if m.from_owner {
            let mut ids: Vec<(u32, String)> = [parsed.to(), parsed.cc(), parsed.bcc()]
                .into_iter()
                .flat_map(addresses)
                .filter_map(|a| by_address.get(a.as_str()).map(|id| (*id, a)))
                .collect();
            ids.sort_unstable();
            ids.dedup_by_key(|(id, _)| *id);
            for (id, address) in ids {
                mail.get_mut(&id).expect("known person").messages.push((
                    date,
                    true,
                    m.thread_id.clone(),
                    address,
                ));
            }
        } else if let Some(address) = addresses(parsed.from()).first()
            && let Some(id) = by_address.get(address.as_str())
        {
            mail.get_mut(id).expect("known person").messages.push((
                date,
                false,
                m.thread_id.clone(),
                address.clone(),
            ));
        }
    }
    for p in &truth.people {
        let sent = mail[&p.id].dates(Some(true)).count() as u32;
        let received = mail[&p.id].dates(Some(false)).count() as u32;
        assert_eq!(
            (sent, received),
            (p.sent_by_owner, p.received_by_owner),
            "headers and ground truth disagree on {}",
            p.emails[0]
        );
    }
    mail
}

/// The primary addresses of the `n` highest by `metric`, when the n-th is strictly
/// above the next (otherwise the answer would not be unique).
fn unique_top(
    people: &[&PersonTruth],
    metric: impl Fn(&PersonTruth) -> i64,
    n: usize,
) -> Option<Vec<String>> {
    let mut ranked: Vec<(i64, &PersonTruth)> = people.iter().map(|p| (metric(p), *p)).collect();
    ranked.sort_by_key(|(v, p)| (std::cmp::Reverse(*v), p.id));
    let nth = ranked.get(n - 1)?.0;
    let next = ranked.get(n).map(|r| r.0).unwrap_or(i64::MIN);
    (nth > 0 && nth > next).then(|| {
        ranked[..n]
            .iter()
            .map(|(_, p)| p.emails[0].clone())
            .collect()
    })
}

fn count_by(
    people: &[PersonTruth],
    key: impl Fn(&PersonTruth) -> String,
) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for p in people {
        *counts.entry(key(p)).or_default() += 1;
    }
    counts
}

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 0, 0, 0)
        .single()
        .expect("valid date")
}

/// What a question asks, for the per-intent figures of `make eval-ask`.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Count,
    Field,
    WhoIs,
    PeopleAt,
    Top,
    Interaction,
    Unanswered,
    Dormant,
    FollowUp,
    Refusal,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Count => "count",
            Kind::Field => "field",
            Kind::WhoIs => "who_is",
            Kind::PeopleAt => "people_at",
            Kind::Top => "top",
            Kind::Interaction => "interaction",
            Kind::Unanswered => "unanswered",
            Kind::Dormant => "dormant",
            Kind::FollowUp => "follow_up",
            Kind::Refusal => "refusal",
        }
    }
}

/// The question lines, in order.
#[derive(Default)]
struct Questions {
    lines: Vec<Value>,
}

impl Questions {
    fn ask(&mut self, kind: Kind, question: String, expected: Value) {
        self.lines
            .push(json!({"intent": kind.as_str(), "question": question, "expected": expected}));
    }

    /// A follow-up: `question` asked after `context` in the same conversation.
    fn after(&mut self, context: &[String], question: &str, expected: Value) {
        self.lines.push(json!({
            "intent": Kind::FollowUp.as_str(),
            "context": context,
            "question": question,
            "expected": expected,
        }));
    }
}

/// Ways people type a name: in full, without accents, the first or last name alone
/// when no one else's name has that word, and with a one-letter typo when no other
/// name word is that close. Each variant is meant to find only `p`.
struct Names<'a> {
    words: Vec<String>,
    truth: &'a GroundTruth,
}

impl<'a> Names<'a> {
    fn new(truth: &'a GroundTruth) -> Self {
        let words = truth
            .people
            .iter()
            .filter(|p| p.owner_wrote_to)
            .flat_map(|p| p.name.split(' ').map(fold).collect::<Vec<_>>())
            .collect();
        Names { words, truth }
    }

    /// How many correspondents' names contain `word` (folded).
    fn holders(&self, word: &str) -> usize {
        self.truth
            .people
            .iter()
            .filter(|p| p.owner_wrote_to && p.name.split(' ').any(|w| fold(w) == word))
            .count()
    }

    fn first(&self, p: &PersonTruth) -> Option<String> {
        let first = p.name.split(' ').next()?;
        (self.holders(&fold(first)) == 1).then(|| first.to_owned())
    }

    fn last(&self, p: &PersonTruth) -> Option<String> {
        let last = p.name.rsplit(' ').next()?;
        (self.holders(&fold(last)) == 1).then(|| last.to_owned())
    }

    /// The first name with its middle letter dropped ("Isaac" → "Isac"), when it is
    /// long enough to forgive a typo and no other name word is within one edit of it.
    fn typo(&self, p: &PersonTruth) -> Option<String> {
        let first = fold(p.name.split(' ').next()?);
        if first.chars().count() < 5 {
            return None;
        }
        let chars: Vec<char> = first.chars().collect();
        let middle = chars.len() / 2;
        let typo: String = chars
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != middle)
            .map(|(_, c)| *c)
            .collect();
        let close = self
            .words
            .iter()
            .filter(|w| **w != first && one_edit(w, &typo))
            .count();
        let rest = p.name.split(' ').skip(1).collect::<Vec<_>>().join(" ");
        (close == 0 && self.holders(&first) >= 1).then(|| capitalize(&format!("{typo} {rest}")))
    }
}

fn fold(s: &str) -> String {
    domain::ask::answer::name_key(s)
}

fn capitalize(s: &str) -> String {
    s.split(' ')
        .map(api::capitalize)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `a` becomes `b` by inserting or deleting at most one letter.
fn one_edit(a: &str, b: &str) -> bool {
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    if long.len() - short.len() > 1 {
        return false;
    }
    let long: Vec<char> = long.chars().collect();
    let short: Vec<char> = short.chars().collect();
    (0..long.len()).any(|skip| {
        let without: Vec<char> = long
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .map(|(_, c)| *c)
            .collect();
        without == short
    }) || long == short
}

/// The hand-written wordings: many per fact, filled from the ground truth.
fn phrasings(
    set: &mut Questions,
    truth: &GroundTruth,
    known: &[&PersonTruth],
    mail: &HashMap<u32, Mail>,
    now: DateTime<Utc>,
) {
    let names = Names::new(truth);
    let day = |at: DateTime<Utc>| at.format("%Y-%m-%d").to_string();
    let folded = |p: &PersonTruth| capitalize(&fold(&p.name));
    let end = now + chrono::Duration::seconds(1);

    // Counts, both ways, in words people use.
    let both: [fn(&str) -> String; 6] = [
        |n| format!("how many mails between me and {n}?"),
        |n| format!("How many messages have {n} and I exchanged"),
        |n| format!("number of emails with {n}"),
        |n| format!("{n} - how many emails in total?"),
        |n| format!("how many emails have me and {n} sent each other"),
        |n| format!("count of notes between {n} and me"),
    ];
    for (i, p) in known.iter().skip(2).take(12).enumerate() {
        let name = match i % 3 {
            0 => folded(p),
            1 => names.first(p).unwrap_or_else(|| p.name.clone()),
            _ => p.name.clone(),
        };
        set.ask(
            Kind::Count,
            both[i % both.len()](&name),
            json!(p.sent_by_owner + p.received_by_owner),
        );
    }
    let sent: [fn(&str) -> String; 3] = [
        |n| format!("how many times did I email {n}"),
        |n| format!("How many emails have I sent {n}?"),
        |n| format!("count of emails I wrote to {n}"),
    ];
    let received: [fn(&str) -> String; 3] = [
        |n| format!("how many emails have I received from {n}"),
        |n| format!("How many times has {n} emailed me?"),
        |n| format!("how many messages came from {n}"),
    ];
    for (i, p) in known.iter().skip(14).take(6).enumerate() {
        let name = if i % 2 == 0 {
            folded(p)
        } else {
            p.name.clone()
        };
        set.ask(Kind::Count, sent[i % 3](&name), json!(p.sent_by_owner));
        set.ask(
            Kind::Count,
            received[i % 3](&name),
            json!(p.received_by_owner),
        );
    }
    // Counts over explicit periods.
    let periods: [(&str, Range); 7] = [
        ("in March 2025", (at(2025, 3, 1), at(2025, 4, 1))),
        ("since January", (at(2025, 1, 1), end)),
        (
            "over the last 6 weeks",
            (now - chrono::Duration::days(42), now),
        ),
        ("in Q1", (at(2025, 1, 1), at(2025, 4, 1))),
        ("last year", (at(2024, 1, 1), at(2025, 1, 1))),
        ("in 2024", (at(2024, 1, 1), at(2025, 1, 1))),
        (
            "in the past two months",
            (now - chrono::Duration::days(60), now),
        ),
    ];
    let in_period: [fn(&str, &str) -> String; 7] = [
        |n, w| format!("How many emails did I exchange with {n} {w}?"),
        |n, w| format!("emails with {n} {w}: how many?"),
        |n, w| format!("how many messages between me and {n} {w}"),
        |n, w| format!("how many emails did {n} and I exchange {w}"),
        |n, w| format!("{w}, how many emails did I swap with {n}?"),
        |n, w| format!("number of mails with {n} {w}"),
        |n, w| format!("How many emails did I trade with {n} {w}?"),
    ];
    for (i, p) in known.iter().take(14).enumerate() {
        let (words, range) = periods[i % periods.len()];
        let name = if i % 2 == 0 {
            p.name.clone()
        } else {
            folded(p)
        };
        set.ask(
            Kind::Count,
            in_period[i % in_period.len()](&name, words),
            json!(mail[&p.id].count_between(range.0, range.1, None)),
        );
    }
    for (i, p) in known.iter().skip(3).take(4).enumerate() {
        let (words, range) = periods[(i + 3) % periods.len()];
        set.ask(
            Kind::Count,
            format!("how many times did {} email me {words}", p.name),
            json!(mail[&p.id].count_between(range.0, range.1, Some(false))),
        );
    }

    // Fields, however they are asked.
    let phone: [fn(&str) -> String; 8] = [
        |n| format!("{n}'s number"),
        |n| format!("number for {n}"),
        |n| format!("{n} phone"),
        |n| format!("how do I reach {n}?"),
        |n| format!("can you give me {n}'s mobile"),
        |n| format!("what is the phone number of {n}"),
        |n| format!("How can I call {n}?"),
        |n| format!("phone {n}"),
    ];
    let with_phone: Vec<&&PersonTruth> = known.iter().filter(|p| p.phone_e164.is_some()).collect();
    for (i, p) in with_phone.iter().take(16).enumerate() {
        let name = match i % 4 {
            0 => p.name.clone(),
            1 => folded(p),
            2 => names.first(p).unwrap_or_else(|| folded(p)),
            _ => names.typo(p).unwrap_or_else(|| p.name.clone()),
        };
        set.ask(
            Kind::Field,
            phone[i % phone.len()](&name),
            json!(p.phone_e164),
        );
    }
    let title: [fn(&str) -> String; 6] = [
        |n| format!("{n}'s role"),
        |n| format!("what's {n}'s job title"),
        |n| format!("what does {n} do?"),
        |n| format!("What position does {n} hold?"),
        |n| format!("{n} job"),
        |n| format!("title of {n}"),
    ];
    for (i, p) in known
        .iter()
        .filter(|p| p.title.is_some())
        .take(12)
        .enumerate()
    {
        let name = if i % 2 == 0 {
            folded(p)
        } else {
            p.name.clone()
        };
        set.ask(Kind::Field, title[i % title.len()](&name), json!(p.title));
    }
    let employer: [fn(&str) -> String; 6] = [
        |n| format!("who does {n} work for?"),
        |n| format!("What company is {n} at?"),
        |n| format!("{n}'s employer"),
        |n| format!("which company does {n} work for"),
        |n| format!("{n} company"),
        |n| format!("where is {n} employed?"),
    ];
    for (i, p) in known
        .iter()
        .filter(|p| p.company.is_some())
        .take(12)
        .enumerate()
    {
        let name = match i % 3 {
            0 => folded(p),
            1 => names.last(p).unwrap_or_else(|| p.name.clone()),
            _ => p.name.clone(),
        };
        set.ask(
            Kind::Field,
            employer[i % employer.len()](&name),
            json!(p.company),
        );
    }
    let address: [fn(&str) -> String; 4] = [
        |n| format!("email address for {n}"),
        |n| format!("{n}'s email"),
        |n| format!("what address does {n} use?"),
        |n| format!("what's the email of {n}"),
    ];
    for (i, p) in known.iter().skip(2).take(8).enumerate() {
        set.ask(
            Kind::Field,
            address[i % address.len()](&folded(p)),
            json!(p.emails),
        );
    }

    // Who is someone, by the part of the name people remember.
    let who: [fn(&str) -> String; 4] = [
        |n| format!("who's {n}"),
        |n| format!("tell me about {n}"),
        |n| format!("what do I know about {n}?"),
        |n| format!("{n}?"),
    ];
    let mut asked = 0;
    for p in known.iter() {
        let Some(name) = names.last(p).or_else(|| names.typo(p)) else {
            continue;
        };
        set.ask(
            Kind::WhoIs,
            who[asked % who.len()](&name),
            json!(p.emails[0]),
        );
        asked += 1;
        if asked == 8 {
            break;
        }
    }

    // Last and first interactions, either way.
    let last_both: [fn(&str) -> String; 4] = [
        |n| format!("last time me and {n} spoke"),
        |n| format!("when did {n} and I last talk?"),
        |n| format!("When was my last contact with {n}"),
        |n| format!("most recent email with {n}"),
    ];
    let last_sent: [fn(&str) -> String; 3] = [
        |n| format!("when did I last write to {n}"),
        |n| format!("last time I emailed {n}?"),
        |n| format!("When did I last send {n} an email?"),
    ];
    let last_received: [fn(&str) -> String; 3] = [
        |n| format!("when did I last hear from {n}?"),
        |n| format!("last email from {n}"),
        |n| format!("When did {n} last write to me?"),
    ];
    let first_any: [fn(&str) -> String; 3] = [
        |n| format!("when did I first talk to {n}"),
        |n| format!("first ever email with {n}"),
        |n| format!("When did {n} and I first exchange emails?"),
    ];
    for (i, p) in known.iter().skip(1).take(9).enumerate() {
        let name = match i % 3 {
            0 => folded(p),
            1 => names.first(p).unwrap_or_else(|| p.name.clone()),
            _ => p.name.clone(),
        };
        let m = &mail[&p.id];
        if let Some(at) = m.last(None) {
            set.ask(Kind::Interaction, last_both[i % 4](&name), json!(day(at)));
        }
        if let Some(at) = m.last(Some(true)) {
            set.ask(Kind::Interaction, last_sent[i % 3](&name), json!(day(at)));
        }
        if let Some(at) = m.last(Some(false)) {
            set.ask(
                Kind::Interaction,
                last_received[i % 3](&name),
                json!(day(at)),
            );
        }
        if let Some(at) = m.first(None) {
            set.ask(Kind::Interaction, first_any[i % 3](&name), json!(day(at)));
        }
    }

    // Companies by name or domain.
    let owner_domain = truth.owner.email.rsplit('@').next().unwrap_or_default();
    let people_by_id: HashMap<u32, &PersonTruth> = truth.people.iter().map(|p| (p.id, p)).collect();
    let at_company: [fn(&str) -> String; 4] = [
        |c| format!("who do I know at {c}?"),
        |c| format!("people at {c}"),
        |c| format!("list contacts from {c}"),
        |c| format!("Who works for {c}?"),
    ];
    let count_at: [fn(&str) -> String; 2] = [
        |c| format!("how many contacts at {c}"),
        |c| format!("How many people work at {c}?"),
    ];
    let mut companies: Vec<(String, Vec<&PersonTruth>)> = truth
        .companies
        .iter()
        .filter(|c| c.domain != owner_domain)
        .map(|c| {
            let staff: Vec<&PersonTruth> = c
                .people
                .iter()
                .map(|id| people_by_id[id])
                .filter(|p| p.owner_wrote_to && p.company_domain.as_deref() == Some(&c.domain))
                .collect();
            // "Silverpine Legal", as people say it, without the legal form.
            let short = c.name.split(' ').take(2).collect::<Vec<_>>().join(" ");
            (short, staff)
        })
        .filter(|(_, staff)| !staff.is_empty())
        .collect();
    companies.sort_by_key(|(name, staff)| (std::cmp::Reverse(staff.len()), name.clone()));
    for (i, (name, staff)) in companies.iter().take(8).enumerate() {
        let emails: Vec<&str> = staff.iter().map(|p| p.emails[0].as_str()).collect();
        set.ask(Kind::PeopleAt, at_company[i % 4](name), json!(emails));
        set.ask(Kind::PeopleAt, count_at[i % 2](name), json!(staff.len()));
    }

    // Rankings in other words.
    let wrote_to: Vec<&PersonTruth> = truth.people.iter().filter(|p| p.owner_wrote_to).collect();
    let rankings: [(&str, Measure, usize); 5] = [
        (
            "who do I email the most?",
            |p| i64::from(p.sent_by_owner),
            1,
        ),
        (
            "who writes to me most",
            |p| i64::from(p.received_by_owner),
            1,
        ),
        (
            "my top 3 contacts by email volume",
            |p| i64::from(p.sent_by_owner + p.received_by_owner),
            3,
        ),
        (
            "who are the 2 people I exchange the most emails with?",
            |p| i64::from(p.sent_by_owner + p.received_by_owner),
            2,
        ),
        (
            "Top three people I've received the most mail from",
            |p| i64::from(p.received_by_owner),
            3,
        ),
    ];
    for (question, metric, n) in rankings {
        if let Some(top) = unique_top(&wrote_to, metric, n) {
            set.ask(Kind::Top, question.into(), json!(top));
        }
    }

    // Open threads: who owes me a reply (follow up), whom I owe one.
    let open = open_threads(&wrote_to, mail);
    let their: Vec<(&str, Option<Range>)> = vec![
        ("Who should I follow up with?", None),
        ("who owes me a reply?", None),
        (
            "who should I follow up with this month?",
            Some((at(2025, 6, 1), end)),
        ),
        (
            "Who owes me an answer since May?",
            Some((at(2025, 5, 1), end)),
        ),
        (
            "which people haven't replied to me in the last 2 weeks",
            Some((now - chrono::Duration::days(14), now)),
        ),
        (
            "Who hasn't gotten back to me this month?",
            Some((at(2025, 6, 1), end)),
        ),
        (
            "who do I need to follow up with this week",
            Some((at(2025, 6, 30), end)),
        ),
        (
            "who am I still waiting on since June?",
            Some((at(2025, 6, 1), end)),
        ),
    ];
    for (question, range) in their {
        if let Some(people) = open.people(false, range) {
            set.ask(Kind::Unanswered, question.into(), json!(people));
        }
    }
    let mine: Vec<(&str, Option<Range>)> = vec![
        (
            "who haven't I answered yet this month",
            Some((at(2025, 6, 1), end)),
        ),
        (
            "Which emails do I still need to reply to this week?",
            Some((at(2025, 6, 30), end)),
        ),
        (
            "who is waiting for my reply since June",
            Some((at(2025, 6, 1), end)),
        ),
        ("who do I owe a reply?", None),
        (
            "Who haven't I replied to in the past 10 days?",
            Some((now - chrono::Duration::days(10), now)),
        ),
    ];
    for (question, range) in mine {
        if let Some(people) = open.people(true, range) {
            set.ask(Kind::Unanswered, question.into(), json!(people));
        }
    }

    // Lost touch: correspondents with no mail either way in the last 90 days (or
    // since a date).
    let quiet = |since: DateTime<Utc>| -> Vec<String> {
        // People with the same name are one person to the engine: quiet when all are.
        let last_by_name = latest_by_name(&wrote_to, |p| mail[&p.id].last(None));
        wrote_to
            .iter()
            .filter(|p| last_by_name[&p.name].is_some_and(|at| at < since))
            .map(|p| p.emails[0].clone())
            .collect::<Vec<String>>()
    };
    let ninety = now - chrono::Duration::days(90);
    for question in [
        "Who have I lost touch with?",
        "which contacts have gone quiet?",
        "people I haven't talked to in 3 months",
        "who have I fallen out of touch with",
    ] {
        set.ask(Kind::Dormant, question.into(), json!(quiet(ninety)));
    }
    set.ask(
        Kind::Dormant,
        "who haven't I been in touch with since January".into(),
        json!(quiet(at(2025, 1, 1))),
    );

    // Follow-ups in a conversation.
    for (i, p) in with_phone.iter().take(3).enumerate() {
        let opener = format!("When did I last talk to {}?", p.name);
        let question = ["and her phone?", "what's their number?", "and his mobile?"][i];
        set.after(&[opener], question, json!(p.phone_e164));
    }
    for (i, p) in known.iter().take(4).enumerate() {
        let opener = format!("How many emails did I exchange with {} this year?", p.name);
        let (question, range) = [
            ("what about last year?", (at(2024, 1, 1), at(2025, 1, 1))),
            ("and in 2023?", (at(2023, 1, 1), at(2024, 1, 1))),
            ("and last month?", (at(2025, 5, 1), at(2025, 6, 1))),
            ("what about in Q1", (at(2025, 1, 1), at(2025, 4, 1))),
        ][i];
        set.after(
            &[opener],
            question,
            json!(mail[&p.id].count_between(range.0, range.1, None)),
        );
    }
    for pair in known
        .iter()
        .filter(|p| p.title.is_some() && p.company.is_some())
        .collect::<Vec<_>>()
        .windows(2)
        .take(3)
    {
        let opener = format!("What's {}'s title?", pair[0].name);
        set.after(
            std::slice::from_ref(&opener),
            "and the company?",
            json!(pair[0].company),
        );
        set.after(
            &[opener],
            &format!("what about {}?", pair[1].name),
            json!(pair[1].title),
        );
    }
    if let [(first, _), (second, staff), ..] = companies.as_slice() {
        let emails: Vec<&str> = staff.iter().map(|p| p.emails[0].as_str()).collect();
        set.after(
            &[format!("Who works at {first}?")],
            &format!("and at {second}?"),
            json!(emails),
        );
    }

    // Names that fit several people or no one: ask back, never guess.
    for name in ["Zebulon", "Quinn Harlow", "Anaïs", "Arjun", "Patel"] {
        set.ask(
            Kind::Refusal,
            format!("what's {name}'s phone number?"),
            Value::Null,
        );
    }
    for question in [
        "Book a meeting with Tessa tomorrow",
        "write a poem",
        "what's the capital of France?",
    ] {
        set.ask(Kind::Refusal, question.into(), Value::Null);
    }
}

/// Threads waiting on a reply, as the headers show them: per correspondent and thread,
/// their latest message with no later one from the owner in the thread (awaiting the
/// owner), or the owner's latest to them with no later one from them (awaiting them).
struct OpenThreads {
    /// (awaiting the owner, at, person, their address on the thread)
    threads: Vec<(bool, DateTime<Utc>, u32, String)>,
}

impl OpenThreads {
    /// The people of the open threads in `range`, when there are no more than the
    /// engine lists (50; past it, which are listed depends on ties in time).
    fn people(&self, awaiting_owner: bool, range: Option<Range>) -> Option<Vec<String>> {
        let mut open: Vec<&(bool, DateTime<Utc>, u32, String)> = self
            .threads
            .iter()
            .filter(|t| t.0 == awaiting_owner && range.is_none_or(|r| r.0 <= t.1))
            .collect();
        if open.len() > 50 {
            return None;
        }
        open.sort_by_key(|t| std::cmp::Reverse(t.1));
        // Each person once, by the address of their newest open thread (the contact
        // the engine lists them by).
        let mut seen: Vec<u32> = Vec::new();
        let mut people: Vec<String> = Vec::new();
        for t in open {
            if !seen.contains(&t.2) {
                seen.push(t.2);
                people.push(t.3.clone());
            }
        }
        Some(people)
    }
}

fn open_threads(known: &[&PersonTruth], mail: &HashMap<u32, Mail>) -> OpenThreads {
    // The owner's messages by thread, to see whether they answered anyone in it.
    let mut owner_in: HashMap<&str, Vec<DateTime<Utc>>> = HashMap::new();
    for m in mail.values() {
        for (at, sent, thread, _) in &m.messages {
            if *sent {
                owner_in.entry(thread.as_str()).or_default().push(*at);
            }
        }
    }
    let mut threads = Vec::new();
    for p in known {
        // Per thread: the owner's latest message to them and theirs, with the address.
        type Latest<'m> = Option<(DateTime<Utc>, &'m str)>;
        let mut by_thread: BTreeMap<&str, (Latest, Latest)> = BTreeMap::new();
        for (at, sent, thread, address) in &mail[&p.id].messages {
            let entry = by_thread.entry(thread.as_str()).or_default();
            let slot = if *sent { &mut entry.0 } else { &mut entry.1 };
            if slot.is_none_or(|(s, _)| s < *at) {
                *slot = Some((*at, address.as_str()));
            }
        }
        for (thread, (to_them, from_them)) in by_thread {
            if let Some((theirs, address)) = from_them
                && !owner_in
                    .get(thread)
                    .is_some_and(|ats| ats.iter().any(|at| *at > theirs))
            {
                threads.push((true, theirs, p.id, address.to_owned()));
            }
            if let Some((mine, address)) = to_them
                && from_them.is_none_or(|(theirs, _)| theirs <= mine)
            {
                threads.push((false, mine, p.id, address.to_owned()));
            }
        }
    }
    OpenThreads { threads }
}

/// Each name's latest `at` among the people who have it.
fn latest_by_name(
    people: &[&PersonTruth],
    at: impl Fn(&PersonTruth) -> Option<DateTime<Utc>>,
) -> BTreeMap<String, Option<DateTime<Utc>>> {
    let mut latest: BTreeMap<String, Option<DateTime<Utc>>> = BTreeMap::new();
    for p in people {
        let entry = latest.entry(p.name.clone()).or_default();
        *entry = (*entry).max(at(p));
    }
    latest
}
