//! Enrichment against Postgres and the fake provider APIs over HTTP: each provider once
//! per new contact, user edits kept, 429s retried after `Retry-After`, 202s polled, a
//! slow provider not delaying the others, the daily budget, expiry, merges and user
//! scoping.

use std::sync::Arc;
use std::time::{Duration, Instant};

use api::ClosedSet;
use api::contacts::ProfileValues;
use api::enrichment::{EnrichedField, EnrichmentProvider, LookupStatus};
use domain::contacts::{NewContact, ProfileEdit};
use domain::enrichment::clearbit::Clearbit;
use domain::enrichment::own_data::{CalendarNames, Colleagues, MessengerNames};
use domain::enrichment::pdl::PeopleDataLabs;
use domain::enrichment::x::XApi;
use domain::enrichment::{Enricher, EnrichmentSettings, Source, enqueue_due};
use domain::{Db, DomainError, UserId};
use fakes::enrichment::{
    Api, CLEARBIT_KEY, EnrichmentWorld, FakeEnrichment, FakePerson, FakePost, FakeXUser, Fault,
    PDL_KEY, X_TOKEN,
};
use uuid::Uuid;

use crate::helpers::{TestUser, fresh_db};

const DANA: &str = "dana@acme.io";

fn world() -> EnrichmentWorld {
    let mut dana = FakePerson::new(DANA, "Dana Whitfield");
    dana.title = Some("Head of Partnerships".into());
    dana.company = Some("Acme".into());
    dana.company_domain = Some("acme.io".into());
    dana.location = Some("London, United Kingdom".into());
    dana.twitter = Some("danaw".into());
    dana.linkedin = Some("https://www.linkedin.com/in/dana-whitfield".into());
    let mut sam = FakePerson::new("sam@beta.io", "Sam Okafor");
    sam.title = Some("CTO".into());
    EnrichmentWorld {
        people: vec![dana, sam],
        x_users: vec![FakeXUser {
            id: "42".into(),
            username: "danaw".into(),
            name: "Dana W.".into(),
            description: "Partnerships at Acme".into(),
            location: None,
            posts: vec![FakePost {
                id: "4201".into(),
                text: "Excited about our new logistics partnership".into(),
                created_at: chrono::Utc::now() - chrono::Duration::days(1),
            }],
        }],
    }
}

fn settings() -> EnrichmentSettings {
    EnrichmentSettings {
        timeout: Duration::from_secs(1),
        paid_min_strength: 0,
        ..EnrichmentSettings::default()
    }
}

fn enricher(db: &Db, fake: &FakeEnrichment, settings: EnrichmentSettings) -> Enricher {
    let sources: Vec<Arc<dyn Source>> = vec![
        Arc::new(CalendarNames::new(db)),
        Arc::new(MessengerNames::new(db)),
        Arc::new(Colleagues::new(db)),
        Arc::new(PeopleDataLabs::new(fake.base_url(), PDL_KEY, 2)),
        Arc::new(
            Clearbit::new(fake.base_url(), CLEARBIT_KEY)
                .with_queued_retry(Duration::from_millis(100)),
        ),
        Arc::new(XApi::new(fake.base_url(), X_TOKEN)),
    ];
    Enricher::new(db, sources, settings)
}

async fn setup() -> (Db, TestUser, FakeEnrichment) {
    let db = fresh_db().await;
    let user = TestUser::create(&db, "me@mine.example").await;
    let fake = FakeEnrichment::start(world(), 0)
        .await
        .expect("fake starts");
    (db, user, fake)
}

async fn new_contact(db: &Db, user: UserId, name: &str, email: &str) -> Uuid {
    db.for_user(user)
        .contacts()
        .create(&NewContact::parse(name, email).unwrap())
        .await
        .unwrap()
}

async fn lookup_status(
    db: &Db,
    contact: Uuid,
    provider: EnrichmentProvider,
) -> Vec<(String, String, Option<String>)> {
    sqlx::query_as(
        "select request_key, status, error from enrichments where contact_id = $1 and provider = $2 order by request_key",
    )
    .bind(contact)
    .bind(provider.as_str())
    .fetch_all(db.pool())
    .await
    .unwrap()
}

async fn title(db: &Db, contact: Uuid) -> Option<String> {
    sqlx::query_scalar("select title from contacts where id = $1")
        .bind(contact)
        .fetch_one(db.pool())
        .await
        .unwrap()
}

/// A completed activity on `channel` with one participant carrying `name`.
async fn activity_with_name(
    user: &TestUser,
    channel: &str,
    role: &str,
    kind: &str,
    address: &str,
    name: &str,
    contact: Option<Uuid>,
) {
    let pool = user.db.pool();
    let id: Uuid = sqlx::query_scalar(
        "insert into activities (user_id, account_id, external_id, channel, direction, occurred_at, state, processed_at)
         values ($1, $2, gen_random_uuid()::text, $3, 'inbound', now(), 'completed', now()) returning id",
    )
    .bind(user.id.0)
    .bind(user.account)
    .bind(channel)
    .fetch_one(pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into activity_participants (user_id, activity_id, role, address_kind, address, display_name, contact_id, occurred_at)
         values ($1, $2, $3, $4, $5, $6, $7, now())",
    )
    .bind(user.id.0)
    .bind(id)
    .bind(role)
    .bind(kind)
    .bind(address)
    .bind(name)
    .bind(contact)
    .execute(pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn a_new_contact_is_enriched_once_by_each_enabled_provider() {
    let (db, user, fake) = setup().await;
    // Own data: a colleague at acme.io whose signature named the company, a
    // calendar invitation and a Messenger conversation.
    let acme = user.company("acme.io", Some("Acme Corporation")).await;
    sqlx::query("update companies set name_source = 'signature' where id = $1")
        .bind(acme)
        .execute(db.pool())
        .await
        .unwrap();
    user.contact("Lee")
        .email("lee@acme.io")
        .links(serde_json::json!({"website": "https://acme.io"}))
        .insert()
        .await;
    let dana = new_contact(&db, user.id, "", DANA).await;
    activity_with_name(
        &user,
        "meeting",
        "attendee",
        "email",
        DANA,
        "Dana Whitfield",
        None,
    )
    .await;
    activity_with_name(
        &user,
        "messenger",
        "from",
        "handle",
        "psid:77",
        "Dana W",
        Some(dana),
    )
    .await;

    // Created contacts are due: the sweep queues one job per contact, once.
    assert_eq!(enqueue_due(&db).await.unwrap(), 2, "Lee and Dana are due");
    assert_eq!(enqueue_due(&db).await.unwrap(), 0);
    let queued: i64 = sqlx::query_scalar(
        "select count(*) from jobs where kind = 'contact-enrichment' and payload ->> 'contact_id' = $1",
    )
    .bind(dana.to_string())
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(queued, 1);

    let enricher = enricher(&db, &fake, settings());
    let summary = enricher.enrich(user.id, dana, false).await.unwrap();
    assert_eq!(summary.errors, 0, "{summary:?}");
    for provider in EnrichmentProvider::ALL {
        let rows = lookup_status(&db, dana, *provider).await;
        assert_eq!(rows.len(), 1, "{provider}: {rows:?}");
        assert_eq!(rows[0].1, "found", "{provider}: {rows:?}");
    }
    assert_eq!(fake.requests(Api::PeopleDataLabs), 1);
    assert_eq!(fake.requests(Api::Clearbit), 1);
    assert_eq!(fake.requests(Api::X), 2, "the user, then the posts");

    let about = db.for_user(user.id).contacts().about(dana).await.unwrap();
    let field = |f: EnrichedField| about.fields.iter().find(|x| x.field == f).unwrap();
    let names: Vec<&str> = field(EnrichedField::DisplayName)
        .values
        .iter()
        .map(|v| v.source.as_str())
        .collect();
    for source in ["calendar", "messenger", "people_data_labs", "clearbit", "x"] {
        assert!(names.contains(&source), "{source} missing from {names:?}");
    }
    let company = field(EnrichedField::Company);
    assert!(
        company
            .values
            .iter()
            .any(|v| v.source == "colleagues" && v.value == "Acme Corporation")
    );
    assert!(
        field(EnrichedField::CompanyWebsite)
            .values
            .iter()
            .any(|v| v.source == "colleagues" && v.value == "https://acme.io")
    );
    assert_eq!(
        title(&db, dana).await.as_deref(),
        Some("Head of Partnerships")
    );
    assert_eq!(about.posts.len(), 1);
    assert!(about.posts[0].text.contains("logistics"));
    let sources: serde_json::Value =
        sqlx::query_scalar("select field_sources from contacts where id = $1")
            .bind(dana)
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert!(sources["title"]["at"].is_string(), "{sources}");
    assert!(
        ["people_data_labs", "clearbit"].contains(&sources["title"]["source"].as_str().unwrap())
    );

    // Ask's model reads the posts through its tool.
    let args = serde_json::json!({"contact_id": dana}).to_string();
    let posts = domain::ask::model_tools::run_tool(db.for_user(user.id), "recent_posts", &args)
        .await
        .unwrap();
    assert_eq!(posts["posts"][0]["handle"], "danaw", "{posts}");
    // So does the offline engine, with no model.
    let answer = domain::ask::offline::answer(
        db.for_user(user.id),
        "What has Dana been posting about lately?",
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    assert!(!answer.refused, "{answer:?}");
    assert!(answer.text.contains("(@danaw)"), "{}", answer.text);
    assert!(answer.text.contains("logistics"), "{}", answer.text);
    assert_eq!(
        answer.tools.last().map(String::as_str),
        Some("recent_posts")
    );

    // Nothing is asked twice while the answers are fresh.
    let again = enricher.enrich(user.id, dana, false).await.unwrap();
    assert_eq!(again.lookups, 0);
    assert_eq!(fake.requests(Api::PeopleDataLabs), 1);
}

#[tokio::test]
async fn a_users_edit_is_never_overwritten_and_alternatives_stay() {
    let (db, user, fake) = setup().await;
    let dana = new_contact(&db, user.id, "Dana", DANA).await;
    let form = ProfileValues {
        display_name: "Dana".into(),
        title: "Chief Dealmaker".into(),
        emails: DANA.into(),
        ..ProfileValues::default()
    };
    db.for_user(user.id)
        .contacts()
        .update_profile(dana, &ProfileEdit::parse(&form).unwrap())
        .await
        .unwrap();
    let enricher = enricher(&db, &fake, settings());
    enricher.enrich(user.id, dana, true).await.unwrap();
    enricher.enrich(user.id, dana, true).await.unwrap();
    assert_eq!(title(&db, dana).await.as_deref(), Some("Chief Dealmaker"));
    let name: Option<String> =
        sqlx::query_scalar("select display_name from contacts where id = $1")
            .bind(dana)
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(name.as_deref(), Some("Dana"));
    let about = db.for_user(user.id).contacts().about(dana).await.unwrap();
    let titles = &about
        .fields
        .iter()
        .find(|f| f.field == EnrichedField::Title)
        .unwrap()
        .values;
    assert!(titles.iter().any(|v| v.source == "user" && v.current));
    assert!(
        titles
            .iter()
            .any(|v| v.source == "people_data_labs" && !v.current)
    );

    // Picking an alternative is an edit of its own, kept by later runs.
    db.for_user(user.id)
        .contacts()
        .pick_enriched(dana, EnrichedField::Title, "people_data_labs")
        .await
        .unwrap();
    enricher.enrich(user.id, dana, true).await.unwrap();
    assert_eq!(
        title(&db, dana).await.as_deref(),
        Some("Head of Partnerships")
    );
    let sources: serde_json::Value =
        sqlx::query_scalar("select field_sources from contacts where id = $1")
            .bind(dana)
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(sources["title"]["source"], "user");
}

#[tokio::test]
async fn a_429_is_retried_after_its_retry_after() {
    let (db, user, fake) = setup().await;
    let dana = new_contact(&db, user.id, "", DANA).await;
    fake.push_fault(
        Api::PeopleDataLabs,
        Fault::RateLimited {
            retry_after_secs: 1,
        },
    );
    let started = Instant::now();
    enricher(&db, &fake, settings())
        .enrich(user.id, dana, false)
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(fake.requests(Api::PeopleDataLabs), 2);
    let rows = lookup_status(&db, dana, EnrichmentProvider::PeopleDataLabs).await;
    assert_eq!(rows[0].1, "found", "{rows:?}");
}

#[tokio::test]
async fn a_202_is_polled_until_found() {
    let (db, user, fake) = setup().await;
    let dana = new_contact(&db, user.id, "", DANA).await;
    fake.push_fault(Api::Clearbit, Fault::Queued);
    fake.push_fault(Api::Clearbit, Fault::Queued);
    enricher(&db, &fake, settings())
        .enrich(user.id, dana, false)
        .await
        .unwrap();
    assert_eq!(fake.requests(Api::Clearbit), 3);
    let rows = lookup_status(&db, dana, EnrichmentProvider::Clearbit).await;
    assert_eq!(rows[0].1, "found", "{rows:?}");

    // Still queued after every poll: stored as pending and due again soon.
    let sam = new_contact(&db, user.id, "", "sam@beta.io").await;
    for _ in 0..settings().max_requests {
        fake.push_fault(Api::Clearbit, Fault::Queued);
    }
    enricher(&db, &fake, settings())
        .enrich(user.id, sam, false)
        .await
        .unwrap();
    let rows = lookup_status(&db, sam, EnrichmentProvider::Clearbit).await;
    assert_eq!(rows[0].1, LookupStatus::Pending.as_str());
    let due_soon: bool = sqlx::query_scalar(
        "select due_at < now() + interval '1 minute' from enrichment_due where contact_id = $1",
    )
    .bind(sam)
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert!(due_soon);
}

#[tokio::test]
async fn a_provider_timing_out_does_not_delay_the_others() {
    let (db, user, fake) = setup().await;
    let dana = new_contact(&db, user.id, "", DANA).await;
    fake.stall_always(Api::Clearbit, Duration::from_secs(30));
    let started = Instant::now();
    enricher(&db, &fake, settings())
        .enrich(user.id, dana, false)
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    let rows = lookup_status(&db, dana, EnrichmentProvider::Clearbit).await;
    assert_eq!(rows[0].1, "error");
    assert!(
        rows[0].2.as_deref().unwrap().contains("no answer within"),
        "{rows:?}"
    );
    // People Data Labs' answer was stored before Clearbit gave up.
    let (pdl_at, clearbit_at): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as(
            "select (select fetched_at from enrichments where contact_id = $1 and provider = 'people_data_labs'),
                    (select fetched_at from enrichments where contact_id = $1 and provider = 'clearbit')",
        )
        .bind(dana)
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert!(
        clearbit_at - pdl_at > chrono::Duration::milliseconds(500),
        "{pdl_at} {clearbit_at}"
    );
    assert_eq!(
        title(&db, dana).await.as_deref(),
        Some("Head of Partnerships")
    );
}

#[tokio::test]
async fn the_daily_budget_stops_lookups_and_says_so() {
    let (db, user, fake) = setup().await;
    let dana = new_contact(&db, user.id, "", DANA).await;
    let sam = new_contact(&db, user.id, "", "sam@beta.io").await;
    let enricher = enricher(
        &db,
        &fake,
        EnrichmentSettings {
            daily_budget: 1,
            ..settings()
        },
    );
    enricher.enrich(user.id, dana, false).await.unwrap();
    enricher.enrich(user.id, sam, false).await.unwrap();
    assert_eq!(fake.requests(Api::PeopleDataLabs), 1);
    let rows = lookup_status(&db, sam, EnrichmentProvider::PeopleDataLabs).await;
    assert_eq!(rows[0].1, "error");
    assert!(
        rows[0].2.as_deref().unwrap().contains("daily budget of 1"),
        "{rows:?}"
    );
    let about = db.for_user(user.id).contacts().about(sam).await.unwrap();
    assert!(
        about
            .lookups
            .iter()
            .any(|l| l.error.as_deref().is_some_and(|e| e.contains("budget")))
    );
    // The free providers are not budgeted.
    assert_eq!(
        lookup_status(&db, sam, EnrichmentProvider::Messenger)
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn expired_results_are_refreshed() {
    let (db, user, fake) = setup().await;
    let dana = new_contact(&db, user.id, "", DANA).await;
    let enricher = enricher(&db, &fake, settings());
    enricher.enrich(user.id, dana, false).await.unwrap();
    let due_in_days: f64 = sqlx::query_scalar(
        "select (extract(epoch from due_at - now()) / 86400)::float8 from enrichment_due where contact_id = $1",
    )
    .bind(dana)
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert!(
        (89.0..=90.1).contains(&due_in_days),
        "due in {due_in_days} days"
    );
    fake.update_world(|w| w.people[0].title = Some("VP Partnerships".into()));
    // Ninety days pass.
    sqlx::query(
        "update enrichments set expires_at = now() - interval '1 second' where contact_id = $1",
    )
    .bind(dana)
    .execute(db.pool())
    .await
    .unwrap();
    sqlx::query(
        "update enrichment_due set due_at = now() - interval '1 second' where contact_id = $1",
    )
    .bind(dana)
    .execute(db.pool())
    .await
    .unwrap();
    sqlx::query("delete from jobs")
        .execute(db.pool())
        .await
        .unwrap();
    assert_eq!(enqueue_due(&db).await.unwrap(), 1);
    enricher.enrich(user.id, dana, false).await.unwrap();
    assert_eq!(fake.requests(Api::PeopleDataLabs), 2);
    assert_eq!(title(&db, dana).await.as_deref(), Some("VP Partnerships"));
}

#[tokio::test]
async fn a_merged_contact_keeps_both_sets_with_provenance() {
    let (db, user, fake) = setup().await;
    let dana = new_contact(&db, user.id, "", DANA).await;
    let other = new_contact(&db, user.id, "", "sam@beta.io").await;
    let enricher = enricher(&db, &fake, settings());
    enricher.enrich(user.id, dana, false).await.unwrap();
    enricher.enrich(user.id, other, false).await.unwrap();
    sqlx::query("update enrichment_due set due_at = now() + interval '1 day'")
        .execute(db.pool())
        .await
        .unwrap();
    let merge = db
        .for_user(user.id)
        .contacts()
        .merge(dana, other, None)
        .await
        .unwrap();
    let keys = lookup_status(&db, dana, EnrichmentProvider::PeopleDataLabs).await;
    let keys: Vec<&str> = keys.iter().map(|k| k.0.as_str()).collect();
    assert_eq!(keys, [DANA, "sam@beta.io"]);
    let about = db.for_user(user.id).contacts().about(dana).await.unwrap();
    let titles: Vec<(&str, &str)> = about
        .fields
        .iter()
        .find(|f| f.field == EnrichedField::Title)
        .unwrap()
        .values
        .iter()
        .map(|v| (v.value.as_str(), v.source.as_str()))
        .collect();
    assert!(
        titles.contains(&("Head of Partnerships", "people_data_labs")),
        "{titles:?}"
    );
    assert!(titles.contains(&("CTO", "people_data_labs")), "{titles:?}");
    // The merge makes the winner due, so it is looked up with everything it now has.
    assert_eq!(enqueue_due(&db).await.unwrap(), 1);

    // Undoing the merge gives each contact its own results back, and both are due.
    sqlx::query("update enrichment_due set due_at = now() + interval '1 day'")
        .execute(db.pool())
        .await
        .unwrap();
    db.for_user(user.id)
        .contacts()
        .unmerge(merge)
        .await
        .unwrap();
    let keys_of = |id| {
        let db = &db;
        async move {
            lookup_status(db, id, EnrichmentProvider::PeopleDataLabs)
                .await
                .into_iter()
                .map(|k| k.0)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(keys_of(dana).await, [DANA]);
    assert_eq!(keys_of(other).await, ["sam@beta.io"]);
    let titles_of = |id| {
        let db = &db;
        async move {
            db.for_user(user.id)
                .contacts()
                .about(id)
                .await
                .unwrap()
                .fields
                .into_iter()
                .filter(|f| f.field == EnrichedField::Title)
                .flat_map(|f| f.values)
                .map(|v| v.value)
                .collect::<Vec<_>>()
        }
    };
    assert!(!titles_of(dana).await.contains(&"CTO".to_owned()));
    assert!(titles_of(other).await.contains(&"CTO".to_owned()));
    let due: i64 = sqlx::query_scalar(
        "select count(*) from enrichment_due where due_at <= now() and contact_id = any($1)",
    )
    .bind(vec![dana, other])
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(due, 2, "both contacts are due again");
}

#[tokio::test]
async fn one_users_enrichment_is_invisible_to_another() {
    let (db, user, fake) = setup().await;
    let other = TestUser::create(&db, "other@else.example").await;
    let dana = new_contact(&db, user.id, "", DANA).await;
    enricher(&db, &fake, settings())
        .enrich(user.id, dana, false)
        .await
        .unwrap();
    let mine = db.for_user(user.id).contacts().about(dana).await.unwrap();
    assert!(!mine.fields.is_empty() && !mine.posts.is_empty());
    let theirs = db.for_user(other.id).contacts();
    assert!(matches!(
        theirs.about(dana).await,
        Err(DomainError::NotFound(_))
    ));
    assert!(theirs.recent_posts(dana, 10).await.unwrap().is_empty());
    assert!(matches!(
        theirs
            .pick_enriched(dana, EnrichedField::Title, "people_data_labs")
            .await,
        Err(DomainError::NotFound(_))
    ));
    assert!(matches!(
        theirs.refresh_enrichment(dana).await,
        Err(DomainError::NotFound(_))
    ));
    assert_eq!(theirs.refresh_enrichment_many(&[dana]).await.unwrap(), 0);
    // Enriching for the wrong user finds no contact and stores nothing.
    enricher(&db, &fake, settings())
        .enrich(other.id, dana, true)
        .await
        .unwrap();
    let rows: i64 = sqlx::query_scalar("select count(*) from enrichments where user_id = $1")
        .bind(other.id.0)
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(rows, 0);
}
