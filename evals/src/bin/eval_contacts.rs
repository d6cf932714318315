//! `make eval`: measures the contact-building pipeline end to end. Generates the demo's
//! synthetic mailbox, stores it through the real ingest path into a throwaway
//! PostgreSQL, processes every activity with the real processors (policy `sent`), and
//! compares the contacts with the mailbox's ground truth: who was created (the owner's
//! correspondents, never bulk, notification or spam senders) and each field's precision
//! and recall. Prints one JSON object, then a table.
//!
//! `cargo run --release -p evals --bin eval-contacts -- [messages] [seed]`

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use domain::UserId;
use domain::jobs::WorkerId;
use domain::processing::{BatchOutcome, Processor, ProcessorOptions};
use evals::seeded::EvalDb;
use fakes::mailbox::{GroundTruth, Mailbox, MailboxSpec, PersonTruth};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

/// A contact as the pipeline built it.
#[derive(Debug, Default)]
struct Built {
    emails: Vec<String>,
    name: Option<String>,
    title: Option<String>,
    company: Option<String>,
    company_domain: Option<String>,
    company_named_in_signature: bool,
    phones: Vec<String>,
    linkedin: Option<String>,
    twitter: Option<String>,
    website: Option<String>,
}

#[derive(Debug, Default, Clone, Copy, Serialize)]
struct Score {
    tp: usize,
    fp: usize,
    fn_: usize,
    precision: f64,
    recall: f64,
}

impl Score {
    fn finish(mut self) -> Self {
        let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
        self.precision = ratio(self.tp, self.tp + self.fp);
        self.recall = ratio(self.tp, self.tp + self.fn_);
        self
    }

    /// One field of one matched pair: a correct value is a true positive, a wrong one
    /// both a false positive and a false negative.
    fn field(&mut self, truth: Option<&str>, built: Option<&str>) {
        let norm = |s: &str| s.trim().to_lowercase();
        match (truth, built) {
            (Some(t), Some(b)) if norm(t) == norm(b) => self.tp += 1,
            (Some(_), Some(_)) => {
                self.fp += 1;
                self.fn_ += 1;
            }
            (Some(_), None) => self.fn_ += 1,
            (None, Some(_)) => self.fp += 1,
            (None, None) => {}
        }
    }
}

#[derive(Debug, Serialize)]
struct Report {
    messages: usize,
    seed: u64,
    ingest_seconds: f64,
    processing_seconds: f64,
    activities_per_second: f64,
    contacts: usize,
    expected_contacts: usize,
    /// Second contacts of one person (one per address) until the user merges them.
    duplicates_awaiting_merge: usize,
    /// Each such person's contacts: their addresses and names.
    duplicates: Vec<String>,
    /// Merges processing made on its own, by rule, and each one's explanation.
    automatic_merges: BTreeMap<String, usize>,
    automatic_merge_reasons: Vec<String>,
    bulk_or_spam_contacts: Vec<String>,
    unknown_contacts: Vec<String>,
    missed_people: Vec<String>,
    creation: Score,
    fields: BTreeMap<&'static str, Score>,
    mismatches: BTreeMap<&'static str, Vec<String>>,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let messages: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3_000);
    let mut spec = MailboxSpec::demo(messages);
    if let Some(seed) = args.next().and_then(|a| a.parse().ok()) {
        spec.seed = seed;
    }
    let mailbox = Mailbox::generate(&spec);
    let truth = mailbox.truth();

    let eval = EvalDb::fresh().await;
    let db = &eval.db;
    let (user, account) = eval.owner(&spec.owner_email).await;

    let started = Instant::now();
    eval.store(user, account, &mailbox).await;
    let ingest_seconds = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let processors: Vec<_> = (0..2)
        .map(|n| {
            let processor = Processor::new(
                db,
                WorkerId::new(format!("eval-{n}")),
                ProcessorOptions::default(),
            );
            tokio::spawn(async move { processor.drain().await.expect("process activities") })
        })
        .collect();
    let mut activities = 0;
    for processor in processors {
        let outcome: BatchOutcome = processor.await.expect("processor task");
        activities += outcome.completed;
        assert_eq!(
            outcome.failed + outcome.dead,
            0,
            "processing failures: {outcome:?}"
        );
    }
    let processing_seconds = started.elapsed().as_secs_f64();

    let built = built_contacts(&eval.sql, user).await;
    let mut report = score(&truth, &built);
    let merges: Vec<(String, String)> = sqlx::query_as(
        "select rule, coalesce(reason, '') from contact_merges where user_id = $1 and rule is not null order by reason",
    )
    .bind(user.0)
    .fetch_all(&eval.sql)
    .await
    .expect("read merges");
    for (rule, reason) in merges {
        *report.automatic_merges.entry(rule).or_default() += 1;
        report.automatic_merge_reasons.push(reason);
    }
    report.messages = truth.messages;
    report.seed = truth.seed;
    report.ingest_seconds = ingest_seconds;
    report.processing_seconds = processing_seconds;
    report.activities_per_second = activities as f64 / processing_seconds.max(1e-9);
    println!(
        "{}",
        serde_json::to_string(&report).expect("report serializes")
    );
    print_table(&report);
}

type ContactRow = (
    Uuid,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    serde_json::Value,
);

async fn built_contacts(sql: &PgPool, user: UserId) -> Vec<Built> {
    let rows: Vec<ContactRow> = sqlx::query_as(
        r#"select c.id, c.display_name, c.title, co.name, co.domain, co.name_source, c.links
           from contacts c left join companies co on co.id = c.company_id
           where c.user_id = $1 and c.merged_into is null"#,
    )
    .bind(user.0)
    .fetch_all(sql)
    .await
    .expect("read contacts");
    let identities: Vec<(Uuid, String, String)> = sqlx::query_as(
        "select contact_id, kind, value from contact_identities where user_id = $1 order by created_at",
    )
    .bind(user.0)
    .fetch_all(sql)
    .await
    .expect("read identities");
    let mut by_contact: HashMap<Uuid, Built> = rows
        .into_iter()
        .map(|(id, name, title, company, domain, name_source, links)| {
            let link = |k: &str| links.get(k).and_then(|v| v.as_str()).map(str::to_owned);
            (
                id,
                Built {
                    name,
                    title,
                    company,
                    company_domain: domain,
                    company_named_in_signature: name_source.as_deref() == Some("signature"),
                    linkedin: link("linkedin"),
                    twitter: link("twitter").and_then(|u| u.rsplit('/').next().map(str::to_owned)),
                    website: link("website"),
                    ..Built::default()
                },
            )
        })
        .collect();
    for (contact, kind, value) in identities {
        if let Some(b) = by_contact.get_mut(&contact) {
            match kind.as_str() {
                "email" => b.emails.push(value),
                "phone" => b.phones.push(value),
                _ => {}
            }
        }
    }
    by_contact.into_values().collect()
}

fn score(truth: &GroundTruth, built: &[Built]) -> Report {
    let person_of: HashMap<&str, &PersonTruth> = truth
        .people
        .iter()
        .flat_map(|p| p.emails.iter().map(move |e| (e.as_str(), p)))
        .collect();
    let not_people: Vec<&str> = truth
        .bulk_senders
        .iter()
        .chain(&truth.spam_senders)
        .map(String::as_str)
        .collect();
    let expected: Vec<&PersonTruth> = truth.people.iter().filter(|p| p.owner_wrote_to).collect();
    let mut creation = Score::default();
    let mut fields: BTreeMap<&'static str, Score> = BTreeMap::new();
    let mut mismatches: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut bulk_or_spam = Vec::new();
    let mut unknown = Vec::new();
    let mut matched: HashMap<u32, usize> = HashMap::new();
    let owner_domain = truth
        .owner
        .email
        .rsplit_once('@')
        .and_then(|(_, host)| domain::extract::domains::registrable_domain(host));
    let mut by_person: BTreeMap<u32, Vec<&Built>> = BTreeMap::new();
    for contact in built {
        let person = contact
            .emails
            .iter()
            .find_map(|e| person_of.get(e.as_str()));
        if let Some(p) = person {
            by_person.entry(p.id).or_default().push(contact);
        }
        match person {
            Some(p) if p.owner_wrote_to => {
                creation.tp += 1;
                *matched.entry(p.id).or_default() += 1;
            }
            Some(p) => {
                creation.fp += 1;
                unknown.push(format!("{} (never written to)", p.emails[0]));
            }
            None => {
                creation.fp += 1;
                let email = contact.emails.first().cloned().unwrap_or_default();
                if not_people.contains(&email.as_str()) {
                    bulk_or_spam.push(email);
                } else {
                    unknown.push(email);
                }
            }
        }
    }
    let people_by_id: HashMap<u32, &PersonTruth> = truth.people.iter().map(|p| (p.id, p)).collect();
    let company_names: HashMap<&str, &str> = truth
        .companies
        .iter()
        .map(|c| (c.domain.as_str(), c.name.as_str()))
        .collect();
    let mut duplicates_list = Vec::new();
    for (id, contacts) in &by_person {
        let p = people_by_id[id];
        if contacts.len() > 1 && p.owner_wrote_to {
            let each: Vec<String> = contacts
                .iter()
                .map(|c| {
                    format!(
                        "{:?} {:?} {:?} {:?} {:?}",
                        c.emails, c.name, c.title, c.company, c.phones
                    )
                })
                .collect();
            duplicates_list.push(format!("{}: {}", p.name, each.join(" / ")));
        }
        // Until the user merges them, one person may have a contact per address;
        // score what a merge would show.
        let contact = merged(p, contacts);
        let contact = &contact;
        let mut check = |field: &'static str, t: Option<&str>, b: Option<&str>| {
            let entry = fields.entry(field).or_default();
            let before = (entry.fp, entry.fn_);
            entry.field(t, b);
            if (entry.fp, entry.fn_) != before {
                let list = mismatches.entry(field).or_default();
                if list.len() < 8 {
                    list.push(format!("{}: truth {t:?}, built {b:?}", p.emails[0]));
                }
            }
        };
        check("name", Some(&p.name), contact.name.as_deref());
        check("title", p.title.as_deref(), contact.title.as_deref());
        // The owner's own employer is never a company (colleagues are not leads), and
        // a name guessed from the domain claims nothing: company_domain scores it.
        let own_company = p.company_domain.as_deref() == owner_domain.as_deref();
        if !own_company {
            // A company's name read from a colleague's signature is the company's name.
            let expected = p.company.as_deref().or_else(|| {
                p.company_domain
                    .as_deref()
                    .filter(|_| contact.company_named_in_signature)
                    .and_then(|d| company_names.get(d).copied())
            });
            let claimed = contact
                .company
                .as_deref()
                .filter(|_| contact.company_named_in_signature || expected.is_some());
            check("company", expected, claimed);
            check(
                "company_domain",
                p.company_domain.as_deref(),
                contact.company_domain.as_deref(),
            );
        }
        check(
            "linkedin",
            p.linkedin.as_deref(),
            contact.linkedin.as_deref(),
        );
        check("twitter", p.twitter.as_deref(), contact.twitter.as_deref());
        check("website", p.website.as_deref(), contact.website.as_deref());
        let phones = fields.entry("phone").or_default();
        let truth_phones: Vec<&String> = p.phone_e164.iter().chain(&p.other_phones_e164).collect();
        for phone in &contact.phones {
            if truth_phones.contains(&phone) {
                phones.tp += 1;
            } else {
                phones.fp += 1;
            }
        }
        let missed: Vec<&&String> = truth_phones
            .iter()
            .filter(|t| !contact.phones.contains(t))
            .collect();
        phones.fn_ += missed.len();
        if !missed.is_empty() || contact.phones.iter().any(|c| !truth_phones.contains(&c)) {
            let list = mismatches.entry("phone").or_default();
            if list.len() < 8 {
                list.push(format!(
                    "{}: truth {truth_phones:?}, built {:?}",
                    p.emails[0], contact.phones
                ));
            }
        }
    }
    let missed: Vec<String> = expected
        .iter()
        .filter(|p| !matched.contains_key(&p.id))
        .map(|p| p.emails[0].clone())
        .collect();
    creation.fn_ = missed.len();
    // Two contacts for one person: the second is a duplicate, not a person found.
    let duplicates: usize = matched.values().map(|n| n - 1).sum();
    creation.tp -= duplicates;
    creation.fp += duplicates;
    Report {
        messages: 0,
        seed: 0,
        ingest_seconds: 0.0,
        processing_seconds: 0.0,
        activities_per_second: 0.0,
        contacts: built.len(),
        expected_contacts: expected.len(),
        duplicates_awaiting_merge: duplicates,
        duplicates: duplicates_list,
        automatic_merges: BTreeMap::new(),
        automatic_merge_reasons: Vec::new(),
        bulk_or_spam_contacts: bulk_or_spam,
        unknown_contacts: unknown.into_iter().take(20).collect(),
        missed_people: missed.into_iter().take(20).collect(),
        creation: creation.finish(),
        fields: fields.into_iter().map(|(k, v)| (k, v.finish())).collect(),
        mismatches,
    }
}

/// The person's contact holding their primary address, with what their other contacts
/// know filled in.
fn merged(person: &PersonTruth, contacts: &[&Built]) -> Built {
    let mut ordered: Vec<&Built> = contacts.to_vec();
    ordered.sort_by_key(|c| !c.emails.contains(&person.emails[0]));
    let mut out = Built::default();
    for c in ordered {
        out.emails.extend(c.emails.iter().cloned());
        out.name = out.name.take().or_else(|| c.name.clone());
        out.title = out.title.take().or_else(|| c.title.clone());
        if out.company.is_none() {
            out.company = c.company.clone();
            out.company_named_in_signature = c.company_named_in_signature;
        }
        out.company_domain = out
            .company_domain
            .take()
            .or_else(|| c.company_domain.clone());
        out.phones.extend(
            c.phones
                .iter()
                .filter(|p| !out.phones.contains(p))
                .cloned()
                .collect::<Vec<_>>(),
        );
        out.linkedin = out.linkedin.take().or_else(|| c.linkedin.clone());
        out.twitter = out.twitter.take().or_else(|| c.twitter.clone());
        out.website = out.website.take().or_else(|| c.website.clone());
    }
    out
}

fn print_table(report: &Report) {
    println!();
    println!(
        "{} messages (seed {}): ingest {:.1}s, processing {:.1}s ({:.0} activities/s); {} contacts, {} expected, {} duplicates awaiting merge",
        report.messages,
        report.seed,
        report.ingest_seconds,
        report.processing_seconds,
        report.activities_per_second,
        report.contacts,
        report.expected_contacts,
        report.duplicates_awaiting_merge
    );
    println!(
        "{:<16} {:>6} {:>6} {:>6} {:>10} {:>8}",
        "field", "tp", "fp", "fn", "precision", "recall"
    );
    let rows = std::iter::once(("contacts", &report.creation))
        .chain(report.fields.iter().map(|(k, v)| (*k, v)));
    for (name, s) in rows {
        println!(
            "{:<16} {:>6} {:>6} {:>6} {:>9.1}% {:>7.1}%",
            name,
            s.tp,
            s.fp,
            s.fn_,
            s.precision * 100.0,
            s.recall * 100.0
        );
    }
    println!("automatic merges: {:?}", report.automatic_merges);
    for reason in &report.automatic_merge_reasons {
        println!("  {reason}");
    }
    if !report.bulk_or_spam_contacts.is_empty() {
        println!(
            "bulk/spam senders made contacts: {:?}",
            report.bulk_or_spam_contacts
        );
    }
    for (field, list) in &report.mismatches {
        println!("{field} mismatches (first {}):", list.len());
        for m in list {
            println!("  {m}");
        }
    }
    if !report.duplicates.is_empty() {
        println!("people with more than one contact:");
        for d in &report.duplicates {
            println!("  {d}");
        }
    }
    if !report.missed_people.is_empty() {
        println!("missed people (first 20): {:?}", report.missed_people);
    }
    if !report.unknown_contacts.is_empty() {
        println!(
            "contacts not expected (first 20): {:?}",
            report.unknown_contacts
        );
    }
}
