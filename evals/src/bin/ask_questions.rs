//! Writes `evals/ask.jsonl`, the questions `make eval-ask` asks, with expected
//! answers taken from the demo mailbox's ground truth (people, companies, fields and
//! message counts) and, for dates and periods, from the generated messages' own
//! headers (From/To/Cc, Date). Nothing here runs the engine or reads the database:
//! expected answers are independent of what is being measured.
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
    /// (date, the owner sent it)
    messages: Vec<(DateTime<Utc>, bool)>,
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
            .filter(move |(_, s)| sent.is_none_or(|want| *s == want))
            .map(|(at, _)| *at)
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
    let mut out: Vec<(String, Value)> = Vec::new();
    let mut ask = |q: String, expected: Value| out.push((q, expected));

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
        ask(
            format!("How many emails did I exchange with {}?", p.name),
            json!(p.sent_by_owner + p.received_by_owner),
        );
    }
    for p in known.iter().skip(6).take(4) {
        ask(
            format!("How many emails did I send to {}?", p.name),
            json!(p.sent_by_owner),
        );
        ask(
            format!("How many emails did {} send me?", p.name),
            json!(p.received_by_owner),
        );
    }
    for p in known.iter().filter(|p| p.phone_e164.is_some()).take(5) {
        ask(
            format!("What's {}'s phone number?", p.name),
            json!(p.phone_e164),
        );
    }
    for p in known.iter().filter(|p| p.title.is_some()).skip(2).take(4) {
        ask(format!("What is {}'s title?", p.name), json!(p.title));
    }
    for p in known.iter().filter(|p| p.company.is_some()).skip(3).take(4) {
        ask(format!("Where does {} work?", p.name), json!(p.company));
    }
    for p in known.iter().skip(10).take(3) {
        ask(
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
        ask(
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
        ask(
            format!("When did I last talk to {}?", api::capitalize(name)),
            Value::Null,
        );
    }
    ask("Who is Zebulon Quartermaine?".into(), Value::Null);
    ask("What's the weather like in Lisbon?".into(), Value::Null);

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
        ask(format!("Who at {domain}?"), json!(emails));
    }
    for (domain, staff) in companies.iter().skip(1).take(3) {
        ask(
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
            ask(format!("Top 2 people at {domain} by emails"), json!(top));
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
            ask(question.into(), json!(top));
        }
    }

    // Dates and periods, from the headers.
    let day = |at: DateTime<Utc>| at.format("%Y-%m-%d").to_string();
    for p in known.iter().take(4) {
        if let Some(at) = mail[&p.id].last(Some(true)) {
            ask(format!("When did I last email {}?", p.name), json!(day(at)));
        }
    }
    for p in known.iter().skip(4).take(3) {
        if let Some(at) = mail[&p.id].first(Some(true)) {
            ask(
                format!("When did I first email {}?", p.name),
                json!(day(at)),
            );
        }
    }
    for p in known.iter().skip(7).take(3) {
        if let Some(at) = mail[&p.id].last(Some(false)) {
            ask(
                format!("When did {} last email me?", p.name),
                json!(day(at)),
            );
        }
    }
    for p in known.iter().skip(10).take(3) {
        if let Some(at) = mail[&p.id].last(None) {
            ask(
                format!("When did I last talk to {}?", p.name),
                json!(day(at)),
            );
        }
    }
    for p in known.iter().skip(13).take(2) {
        if let Some(at) = mail[&p.id].first(None) {
            ask(
                format!("When was my first interaction with {}?", p.name),
                json!(day(at)),
            );
        }
    }
    let may = (at(2025, 5, 1), at(2025, 6, 1));
    let quarter = (at(2025, 4, 1), now + chrono::Duration::seconds(1));
    for p in known.iter().take(3) {
        ask(
            format!("How many emails did I exchange with {} last month?", p.name),
            json!(mail[&p.id].count_between(may.0, may.1, None)),
        );
    }
    for p in known.iter().skip(3).take(2) {
        ask(
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
            ask(question.into(), json!(top));
        }
    }

    for (question, expected) in out {
        println!("{}", json!({"question": question, "expected": expected}));
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
            let mut ids: Vec<u32> = [parsed.to(), parsed.cc(), parsed.bcc()]
                .into_iter()
                .flat_map(addresses)
                .filter_map(|a| by_address.get(a.as_str()).copied())
                .collect();
            ids.sort_unstable();
            ids.dedup();
            for id in ids {
                mail.get_mut(&id)
                    .expect("known person")
                    .messages
                    .push((date, true));
            }
        } else if let Some(id) = addresses(parsed.from())
            .first()
            .and_then(|a| by_address.get(a.as_str()))
        {
            mail.get_mut(id)
                .expect("known person")
                .messages
                .push((date, false));
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
