//! `make eval-enrich`: the demo mailbox through the real pipeline, then every contact
//! enriched by every provider (the user's own data and the fakes of People Data Labs,
//! Clearbit and X, whose world is built from the same mailbox). Prints the fields
//! filled per contact before and after, and the precision of each filled field against
//! the generator's ground truth (graded where the truth knows the field), as one JSON
//! object and then a table.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use domain::UserId;
use domain::enrichment::{ApiAccess, EnrichmentConfig, EnrichmentSettings};
use domain::jobs::WorkerId;
use domain::processing::{Processor, ProcessorOptions, RefreshContactsTouched};
use evals::seeded::EvalDb;
use fakes::enrichment::{CLEARBIT_KEY, EnrichmentWorld, FakeEnrichment, PDL_KEY, X_TOKEN};
use fakes::mailbox::{Mailbox, MailboxSpec, PersonTruth};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

/// The fields counted; the first five are graded against the truth.
const FIELDS: [&str; 9] = [
    "display_name",
    "title",
    "company",
    "linkedin",
    "twitter",
    "website",
    "location",
    "company_industry",
    "company_size",
];

#[derive(Debug, Default, Serialize)]
struct FieldScore {
    filled_before: usize,
    filled_after: usize,
    graded: usize,
    correct: usize,
    precision: Option<f64>,
}

#[derive(Debug, Serialize)]
struct Report {
    seed: u64,
    messages: usize,
    contacts: usize,
    fields_per_contact_before: f64,
    fields_per_contact_after: f64,
    lookups: usize,
    found: usize,
    enrich_seconds: f64,
    fields: BTreeMap<&'static str, FieldScore>,
}

/// A contact's values of [`FIELDS`] and its email addresses.
type Snapshot = HashMap<Uuid, (BTreeMap<&'static str, String>, Vec<String>)>;

fn normalize(field: &str, value: &str) -> String {
    let v = value.trim().to_lowercase();
    match field {
        "linkedin" | "website" => v
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_start_matches("www.")
            .trim_end_matches('/')
            .to_owned(),
        "twitter" => domain::enrichment::x::handle_of(&v).unwrap_or(v),
        _ => v,
    }
}

fn truth_of<'a>(person: &'a PersonTruth, field: &str) -> Option<&'a str> {
    match field {
        "display_name" => Some(&person.name),
        "title" => person.title.as_deref(),
        "company" => person.company.as_deref(),
        "linkedin" => person.linkedin.as_deref(),
        "twitter" => person.twitter.as_deref(),
        "website" => person.website.as_deref(),
        _ => None,
    }
}

/// A contact as the eval reads it: id, name, title, company, links, addresses.
type ContactRow = (
    Uuid,
    Option<String>,
    Option<String>,
    Option<String>,
    serde_json::Value,
    Vec<String>,
);

async fn snapshot(sql: &PgPool, user: UserId) -> Snapshot {
    let rows: Vec<ContactRow> = sqlx::query_as(
        r#"select c.id, c.display_name, c.title, co.name, c.links,
                      array(select value from contact_identities i
                            where i.contact_id = c.id and i.kind = 'email')
               from contacts c left join companies co on co.id = c.company_id
               where c.user_id = $1 and c.merged_into is null"#,
    )
    .bind(user.0)
    .fetch_all(sql)
    .await
    .expect("read contacts");
    let extra: Vec<(Uuid, String, String)> = sqlx::query_as(
        r#"select distinct on (contact_id, field) contact_id, field, value from enrichment_values
           where user_id = $1 order by contact_id, field, picked desc, confidence desc, fetched_at desc"#,
    )
    .bind(user.0)
    .fetch_all(sql)
    .await
    .expect("read enriched values");
    let mut out: Snapshot = HashMap::new();
    for (id, name, title, company, links, emails) in rows {
        let mut fields = BTreeMap::new();
        let mut put = |f: &'static str, v: Option<String>| {
            if let Some(v) = v.filter(|v| !v.trim().is_empty()) {
                fields.insert(f, v);
            }
        };
        put("display_name", name);
        put("title", title);
        put("company", company);
        for key in ["linkedin", "twitter", "website"] {
            put(
                key,
                links.get(key).and_then(|v| v.as_str()).map(str::to_owned),
            );
        }
        out.insert(id, (fields, emails));
    }
    for (id, field, value) in extra {
        if let (Some((fields, _)), Some(f)) =
            (out.get_mut(&id), FIELDS.iter().find(|f| **f == field))
        {
            // A company named only by a provider counts as filled.
            fields.entry(f).or_insert(value);
        }
    }
    out
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
    eval.store(user, account, &mailbox).await;
    let outcome = Processor::new(
        db,
        WorkerId::new("eval-enrich"),
        ProcessorOptions::default(),
    )
    .drain()
    .await
    .expect("process activities");
    let hook = RefreshContactsTouched::new(db);
    for (owner, contacts) in &outcome.touched {
        domain::processing::ContactsTouched::contacts_touched(&hook, *owner, contacts).await;
    }

    let fake = FakeEnrichment::start(EnrichmentWorld::from_truth(&truth, spec.end), 0)
        .await
        .expect("start the enrichment fakes");
    let access = |key: &str| {
        Some(ApiAccess {
            base_url: fake.base_url().to_owned(),
            key: key.to_owned(),
        })
    };
    let config = EnrichmentConfig {
        settings: EnrichmentSettings {
            paid_min_strength: 0,
            daily_budget: 1_000_000,
            per_minute: 0,
            timeout: Duration::from_secs(10),
            ..EnrichmentSettings::default()
        },
        people_data_labs: access(PDL_KEY),
        clearbit: access(CLEARBIT_KEY),
        x: access(X_TOKEN),
        ..EnrichmentConfig::default()
    };
    let enricher = config.enricher(db);

    let before = snapshot(&eval.sql, user).await;
    let started = Instant::now();
    let (mut lookups, mut found) = (0, 0);
    for id in before.keys() {
        let summary = enricher
            .enrich(user, *id, false)
            .await
            .expect("enrich a contact");
        lookups += summary.lookups;
        found += summary.found;
    }
    let enrich_seconds = started.elapsed().as_secs_f64();
    let after = snapshot(&eval.sql, user).await;

    let by_email: HashMap<&str, &PersonTruth> = truth
        .people
        .iter()
        .flat_map(|p| p.emails.iter().map(move |e| (e.as_str(), p)))
        .collect();
    let mut fields: BTreeMap<&'static str, FieldScore> =
        FIELDS.iter().map(|f| (*f, FieldScore::default())).collect();
    for (id, (values, emails)) in &after {
        let person = emails
            .iter()
            .find_map(|e| by_email.get(e.as_str()).copied());
        for field in FIELDS {
            let score = fields.get_mut(field).expect("every field is scored");
            if before.get(id).is_some_and(|(v, _)| v.contains_key(field)) {
                score.filled_before += 1;
            }
            let Some(value) = values.get(field) else {
                continue;
            };
            score.filled_after += 1;
            if let Some(expected) = person.and_then(|p| truth_of(p, field)) {
                score.graded += 1;
                if normalize(field, value) == normalize(field, expected) {
                    score.correct += 1;
                }
            }
        }
    }
    for score in fields.values_mut() {
        score.precision = (score.graded > 0).then(|| score.correct as f64 / score.graded as f64);
    }
    let contacts = after.len().max(1) as f64;
    let total =
        |pick: fn(&FieldScore) -> usize| fields.values().map(pick).sum::<usize>() as f64 / contacts;
    let report = Report {
        seed: truth.seed,
        messages: truth.messages,
        contacts: after.len(),
        fields_per_contact_before: total(|s| s.filled_before),
        fields_per_contact_after: total(|s| s.filled_after),
        lookups,
        found,
        enrich_seconds,
        fields,
    };
    println!(
        "{}",
        serde_json::to_string(&report).expect("report serializes")
    );
    println!(
        "\n{} contacts, {:.2} fields each before enrichment, {:.2} after ({} lookups, {} found, {:.1} s)",
        report.contacts,
        report.fields_per_contact_before,
        report.fields_per_contact_after,
        report.lookups,
        report.found,
        report.enrich_seconds
    );
    println!(
        "{:<18} {:>8} {:>8} {:>8} {:>10}",
        "field", "before", "after", "graded", "precision"
    );
    for (field, s) in &report.fields {
        let precision = s
            .precision
            .map_or_else(|| "—".to_owned(), |p| format!("{:.1}%", p * 100.0));
        println!(
            "{field:<18} {:>8} {:>8} {:>8} {:>10}",
            s.filled_before, s.filled_after, s.graded, precision
        );
    }
}
