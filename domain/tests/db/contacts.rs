//! Contacts against a real PostgreSQL: stats on a hand-computed fixture, list queries,
//! profile provenance, merge and un-merge, and user scoping.

use api::contacts::ProfileValues;
use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::contacts::stats::{refresh, refresh_as_of};
use domain::contacts::strength::{self, StrengthInputs};
use domain::contacts::{
    COUNT_LIMIT, ContactQuery, ContactSort, ListTotal, MonthVolume, ProfileEdit,
};
use domain::{Db, DomainError, UserId};
use serde_json::Value;
use uuid::Uuid;

use crate::fixtures::ActivityBuilder;
use crate::helpers::{TestUser, fresh_db, user, wait_until};

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
}

/// A contact with the given name and email addresses, straight into the tables.
async fn contact(owner: &TestUser, name: &str, emails: &[&str]) -> Uuid {
    let mut contact = owner.contact(name);
    for email in emails {
        contact = contact.email(email);
    }
    contact.insert().await
}

/// One email in `thread` ("Subject <thread>"), inbound unless `.outbound()`.
fn email<'a>(owner: &'a TestUser, thread: &str, when: DateTime<Utc>) -> ActivityBuilder<'a> {
    owner
        .email(when)
        .thread(thread)
        .subject(&format!("Subject {thread}"))
}

struct Fixture {
    db: Db,
    me: UserId,
    account: Uuid,
    ada: Uuid,
    bob: Uuid,
}

const ADA: &str = "ada@engines.example";
const BOB: &str = "bob@engines.example";

/// Three threads with Ada (and Bob cc'd once); the expected values are worked out in
/// `stats_match_hand_computed_values`.
async fn fixture() -> Fixture {
    let db = fresh_db().await;
    let owner = TestUser::create(&db, "me@example.com").await;
    let (me, account) = (owner.id, owner.account);
    let ada = contact(&owner, "Ada Lovelace", &[ADA]).await;
    let bob = contact(&owner, "Bob Babbage", &[BOB]).await;
    let t0 = at(2026, 1, 10, 10);
    // T1: Ada writes, I reply in 2 h, she replies in 3 h, I reply in 4 h.
    email(&owner, "t1", t0).from(ADA, ada).insert().await;
    email(&owner, "t1", t0 + Duration::hours(2))
        .outbound()
        .to(ADA, ada)
        .insert()
        .await;
    email(&owner, "t1", t0 + Duration::hours(5))
        .from(ADA, ada)
        .insert()
        .await;
    email(&owner, "t1", t0 + Duration::hours(9))
        .outbound()
        .to(ADA, ada)
        .insert()
        .await;
    // T2: I write to Ada (Bob cc), she replies in 6 h; I never answer.
    let t2 = at(2026, 2, 3, 9);
    email(&owner, "t2", t2)
        .outbound()
        .to(ADA, ada)
        .person("cc", BOB, Some(bob))
        .insert()
        .await;
    email(&owner, "t2", t2 + Duration::hours(6))
        .from(ADA, ada)
        .insert()
        .await;
    // T3: Ada writes, no answer; her follow-up was deleted and must not count.
    email(&owner, "t3", at(2026, 2, 20, 12))
        .from(ADA, ada)
        .insert()
        .await;
    let deleted = email(&owner, "t3", at(2026, 2, 21, 12))
        .from(ADA, ada)
        .insert()
        .await;
    sqlx::query("update activities set deleted_at = now() where id = $1")
        .bind(deleted)
        .execute(db.pool())
        .await
        .unwrap();
    Fixture {
        db,
        me,
        account,
        ada,
        bob,
    }
}

impl Fixture {
    /// Me, to add contacts and mail as.
    fn owner(&self) -> TestUser {
        TestUser {
            db: self.db.clone(),
            id: self.me,
            account: self.account,
        }
    }
}

fn now() -> DateTime<Utc> {
    at(2026, 3, 1, 12)
}

async fn refresh_fixture(f: &Fixture) {
    let mut conn = f.db.pool().acquire().await.unwrap();
    refresh_as_of(&mut conn, f.me, &[f.ada, f.bob], now())
        .await
        .unwrap();
}

#[tokio::test]
async fn stats_match_hand_computed_values() {
    let f = fixture().await;
    refresh_fixture(&f).await;
    let scope = f.db.for_user(f.me);
    let ada = scope.contacts().stats(f.ada).await.unwrap();
    assert_eq!((ada.sent_count, ada.received_count), (3, 4));
    assert_eq!(ada.first_interaction_at, Some(at(2026, 1, 10, 10)));
    assert_eq!(ada.last_interaction_at, Some(at(2026, 2, 20, 12)));
    assert_eq!(ada.last_sent_at, Some(at(2026, 2, 3, 9)));
    assert_eq!(ada.last_received_at, Some(at(2026, 2, 20, 12)));
    // My replies: 2 h and 4 h. Hers: 3 h and 6 h.
    assert_eq!(ada.my_reply_count, 2);
    assert_eq!(ada.my_reply_median_secs, Some(3.0 * 3600.0));
    assert_eq!(ada.my_reply_mean_secs, Some(3.0 * 3600.0));
    assert_eq!(ada.their_reply_count, 2);
    assert_eq!(ada.their_reply_median_secs, Some(4.5 * 3600.0));
    assert_eq!(ada.their_reply_mean_secs, Some(4.5 * 3600.0));
    // T2 and T3 end with Ada's message; T1 ends with mine.
    assert_eq!(ada.unanswered_inbound, 2);
    assert_eq!(
        ada.monthly,
        vec![
            MonthVolume {
                month: "2026-01".into(),
                sent: 2,
                received: 2
            },
            MonthVolume {
                month: "2026-02".into(),
                sent: 1,
                received: 2
            },
        ]
    );
    assert_eq!((ada.sent_90d, ada.received_90d), (3, 4));
    // Each email weighs 0.5^(age in days / 180); all seven are within 90 days.
    let weight = |ages: &[f64]| -> f64 { ages.iter().map(|&d| strength::message_weight(d)).sum() };
    let sent_weight = weight(&[50.0, 49.0 + 17.0 / 24.0, 26.0 + 3.0 / 24.0]);
    let received_weight = weight(&[
        50.0 + 2.0 / 24.0,
        49.0 + 21.0 / 24.0,
        25.0 + 21.0 / 24.0,
        9.0,
    ]);
    assert!((ada.sent_weight - sent_weight).abs() < 1e-9, "{ada:?}");
    assert!(
        (ada.received_weight - received_weight).abs() < 1e-9,
        "{ada:?}"
    );
    assert!((ada.recent_weight - (sent_weight + received_weight)).abs() < 1e-9);
    let inputs = StrengthInputs {
        sent_90d: 3,
        received_90d: 4,
        sent_total: 3,
        received_total: 4,
        sent_weight,
        received_weight,
        recent_weight: sent_weight + received_weight,
        days_since_last: Some(9.0),
        my_reply_median_secs: Some(3.0 * 3600.0),
        their_reply_median_secs: Some(4.5 * 3600.0),
    };
    // Volume 2 × min(2.55, 3.52) + 0.01 × 0.97 = 5.12: strength 100 × ln 6.12 / ln 151 = 36.
    assert_eq!(ada.strength, 36);
    assert_eq!(ada.strength, i16::from(strength::strength(&inputs)));
    assert_eq!(ada.frequency_score, i16::from(strength::frequency_score(7)));
    assert_eq!(
        ada.explanation(now()),
        "Mostly the last 90 days (100 % of the weight): 7 emails both ways in 90 days, 7 in all, \
         you reply in 3 h, they reply in 5 h, last contact 9 days ago"
    );

    let bob = scope.contacts().stats(f.bob).await.unwrap();
    assert_eq!((bob.sent_count, bob.received_count), (1, 0));
    assert_eq!(bob.unanswered_inbound, 0);
    assert_eq!(bob.my_reply_count + bob.their_reply_count, 0);
}

async fn sent_count(db: &Db, contact: Uuid) -> i32 {
    sqlx::query_scalar("select sent_count from contact_stats where contact_id = $1")
        .bind(contact)
        .fetch_one(db.pool())
        .await
        .unwrap()
}

/// A processing transaction locks stats rows in its own order (its triggers copy names
/// and search text into them). A refresh that held one row while waiting for another
/// deadlocked with it; now it refreshes what is free and comes back for the rest.
#[tokio::test]
async fn a_refresh_works_around_rows_a_transaction_holds() {
    let f = fixture().await;
    let (first, second) = if f.ada < f.bob {
        (f.ada, f.bob)
    } else {
        (f.bob, f.ada)
    };
    let mut processing = f.db.pool().begin().await.unwrap();
    let rename = "update contacts set display_name = display_name || '.' where id = $1";
    sqlx::query(rename)
        .bind(second)
        .execute(&mut *processing)
        .await
        .unwrap();

    let refreshing = tokio::spawn({
        let (db, me) = (f.db.clone(), f.me);
        async move { refresh(db.for_user(me), &[first, second]).await }
    });
    wait_until(
        "the free row refreshed while the other is held",
        std::time::Duration::from_secs(5),
        async || match sent_count(&f.db, first).await {
            0 => Err("sent_count 0"),
            _ => Ok(()),
        },
    )
    .await;
    assert_eq!(sent_count(&f.db, second).await, 0, "the held row waits");

    // A refresh waiting on `second` while holding `first` would deadlock here.
    sqlx::query(rename)
        .bind(first)
        .execute(&mut *processing)
        .await
        .unwrap();
    processing.commit().await.unwrap();
    refreshing.await.unwrap().unwrap();
    let scope = f.db.for_user(f.me);
    let sent = |id| if id == f.ada { 3 } else { 1 };
    for id in [first, second] {
        assert_eq!(
            scope.contacts().stats(id).await.unwrap().sent_count,
            sent(id)
        );
    }
}

#[tokio::test]
async fn a_new_contact_has_empty_stats_and_a_later_reply_updates_them() {
    let f = fixture().await;
    let scope = f.db.for_user(f.me);
    let fresh = scope.contacts().stats(f.ada).await.unwrap();
    assert_eq!(
        (fresh.sent_count, fresh.strength),
        (0, 0),
        "the row exists before any refresh"
    );
    refresh_fixture(&f).await;
    // I answer T3: one fewer unanswered thread.
    email(&f.owner(), "t3", at(2026, 2, 22, 8))
        .outbound()
        .to(ADA, f.ada)
        .insert()
        .await;
    refresh(scope, &[f.ada]).await.unwrap();
    let after = scope.contacts().stats(f.ada).await.unwrap();
    assert_eq!(after.unanswered_inbound, 1);
    assert_eq!(after.sent_count, 4);
}

/// Everything a merge may touch, to compare before and after an un-merge.
async fn merge_state(db: &Db) -> Vec<Value> {
    let mut state = Vec::new();
    for sql in [
        "select jsonb_agg(to_jsonb(c) - 'updated_at' order by id) from contacts c",
        "select jsonb_agg(to_jsonb(i) order by id) from contact_identities i",
        "select jsonb_agg(to_jsonb(p) order by activity_id, role, address) from activity_participants p",
        "select jsonb_agg(to_jsonb(n) - 'updated_at' order by id) from notes n",
        // The weights decay between refreshes, like computed_at moves.
        "select jsonb_agg(to_jsonb(s) - 'computed_at' - 'sent_weight' - 'received_weight'
                 - 'recent_weight' order by contact_id) from contact_stats s",
    ] {
        state.push(
            sqlx::query_scalar::<_, Option<Value>>(sql)
                .fetch_one(db.pool())
                .await
                .unwrap()
                .unwrap_or(Value::Null),
        );
    }
    state
}

#[tokio::test]
async fn merge_then_unmerge_restores_exactly() {
    let f = fixture().await;
    let scope = f.db.for_user(f.me);
    let ada_home = contact(&f.owner(), "Ada Lovelace", &["ada@home.example"]).await;
    sqlx::query("update contacts set title = 'Countess', tags = '{friend}' where id = $1")
        .bind(ada_home)
        .execute(f.db.pool())
        .await
        .unwrap();
    sqlx::query("insert into notes (user_id, contact_id, author_kind, author_name, body) values ($1, $2, 'user', 'me', 'Met at the salon')")
        .bind(f.me.0)
        .bind(ada_home)
        .execute(f.db.pool())
        .await
        .unwrap();
    email(&f.owner(), "t4", at(2026, 2, 25, 12))
        .from("ada@home.example", ada_home)
        .insert()
        .await;
    stats_for_all(&f).await;
    let before = merge_state(&f.db).await;

    let suggestions = scope.contacts().duplicate_suggestions(f.ada).await.unwrap();
    assert_eq!(suggestions.len(), 1);
    assert_eq!(suggestions[0].contact_id, ada_home);
    assert_eq!(
        suggestions[0].reasons,
        ["Same name, different email address"]
    );

    let merge = scope
        .contacts()
        .merge(f.ada, ada_home, Some("Same name"))
        .await
        .unwrap();
    let profile = scope.contacts().profile(f.ada).await.unwrap();
    assert_eq!(
        profile.title.as_deref(),
        Some("Countess"),
        "blank fields filled from the loser"
    );
    assert_eq!(profile.tags, ["friend"]);
    let identities: Vec<String> = scope
        .contacts()
        .identities(f.ada)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.value)
        .collect();
    assert_eq!(identities, [ADA, "ada@home.example"]);
    let stats = scope.contacts().stats(f.ada).await.unwrap();
    assert_eq!(stats.received_count, 5, "stats recomputed over both");
    assert_eq!(
        scope
            .contacts()
            .profile(ada_home)
            .await
            .unwrap()
            .merged_into,
        Some(f.ada)
    );
    let listed = scope
        .contacts()
        .list(&ContactQuery::default())
        .await
        .unwrap();
    assert_eq!(
        listed.total,
        ListTotal::Exactly(2),
        "the merged-away contact is not listed"
    );
    assert!(listed.contacts.iter().all(|c| c.id != ada_home));
    let log = scope.contacts().merge_log(f.ada).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].id, log[0].unmerged_at), (merge, None));

    scope.contacts().unmerge(merge).await.unwrap();
    assert_eq!(
        merge_state(&f.db).await,
        before,
        "un-merge restores every row"
    );
    assert!(
        scope.contacts().merge_log(f.ada).await.unwrap()[0]
            .unmerged_at
            .is_some()
    );
    assert!(matches!(
        scope.contacts().unmerge(merge).await,
        Err(DomainError::NotFound(_))
    ));
}

async fn stats_for_all(f: &Fixture) {
    domain::contacts::stats::recompute_all(f.db.for_user(f.me))
        .await
        .unwrap();
}

#[tokio::test]
async fn duplicates_by_phone_and_linkedin_are_suggested_with_reasons() {
    let f = fixture().await;
    let scope = f.db.for_user(f.me);
    let other = contact(&f.owner(), "A. King", &["countess@example.org"]).await;
    for (id, phone) in [(f.ada, "+442079460958"), (other, "+12079460958")] {
        sqlx::query("insert into contact_identities (user_id, contact_id, kind, value) values ($1, $2, 'phone', $3)")
            .bind(f.me.0)
            .bind(id)
            .bind(phone)
            .execute(f.db.pool())
            .await
            .unwrap();
    }
    sqlx::query("update contacts set links = '{\"linkedin\": \"https://linkedin.com/in/ada\"}' where id = any($1)")
        .bind(vec![f.ada, other])
        .execute(f.db.pool())
        .await
        .unwrap();
    let suggestions = scope.contacts().duplicate_suggestions(f.ada).await.unwrap();
    assert_eq!(suggestions.len(), 1);
    assert_eq!(
        suggestions[0].reasons,
        ["Same LinkedIn profile", "Same phone number (…0958)"]
    );
    assert_eq!(
        suggestions[0].primary_email.as_deref(),
        Some("countess@example.org")
    );
}

#[tokio::test]
async fn user_edits_are_marked_with_user_provenance() {
    let f = fixture().await;
    let scope = f.db.for_user(f.me);
    let form = ProfileValues {
        display_name: "Ada King".into(),
        title: "Analyst".into(),
        company: "engines.example".into(),
        emails: format!("{ADA}\nada@new.example"),
        phones: "+44 20 7946 0958".into(),
        linkedin: "https://linkedin.com/in/ada".into(),
        tags: "vip".into(),
        notes: "Prefers mornings".into(),
        custom_fields: "City: London".into(),
        ..ProfileValues::default()
    };
    scope
        .contacts()
        .update_profile(f.ada, &ProfileEdit::parse(&form).unwrap())
        .await
        .unwrap();
    let profile = scope.contacts().profile(f.ada).await.unwrap();
    assert_eq!(profile.display_name.as_deref(), Some("Ada King"));
    assert_eq!(profile.company_domain.as_deref(), Some("engines.example"));
    assert_eq!(profile.custom_fields["City"], "London");
    let sources = profile.field_sources.as_object().unwrap();
    for field in [
        "display_name",
        "title",
        "company",
        "emails",
        "phones",
        "links",
        "tags",
        "notes",
        "custom_fields",
    ] {
        assert_eq!(sources[field]["source"], "user", "{field}");
        assert!(sources[field]["at"].is_string(), "{field} has a time");
    }
    let identities = scope.contacts().identities(f.ada).await.unwrap();
    assert_eq!(identities.len(), 3);

    // Saving again with one change marks only that field anew.
    let retitled = ProfileValues {
        title: "Engineer".into(),
        ..form
    };
    scope
        .contacts()
        .update_profile(f.ada, &ProfileEdit::parse(&retitled).unwrap())
        .await
        .unwrap();
    let again = scope.contacts().profile(f.ada).await.unwrap();
    assert_eq!(again.field_sources["title"]["source"], "user");
    assert_eq!(again.field_sources["notes"]["at"], sources["notes"]["at"]);

    // Bob's address cannot be taken over by Ada.
    let stolen = ProfileValues {
        emails: BOB.into(),
        ..ProfileValues::default()
    };
    let err = scope
        .contacts()
        .update_profile(f.ada, &ProfileEdit::parse(&stolen).unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Conflict(_)), "{err}");
}

#[tokio::test]
async fn the_list_searches_filters_sorts_and_pages() {
    let f = fixture().await;
    let scope = f.db.for_user(f.me);
    for n in 0..58 {
        contact(
            &f.owner(),
            &format!("Person {n:02}"),
            &[&format!("p{n}@people.example")],
        )
        .await;
    }
    refresh_fixture(&f).await;
    sqlx::query("update contacts set tags = '{investor}' where id = $1")
        .bind(f.bob)
        .execute(f.db.pool())
        .await
        .unwrap();
    let company = f
        .owner()
        .company("analytical.example", Some("Analytical Engines"))
        .await;
    sqlx::query("update contacts set company_id = $2 where id = $1")
        .bind(f.ada)
        .bind(company)
        .execute(f.db.pool())
        .await
        .unwrap();

    let first = scope
        .contacts()
        .list(&ContactQuery::default())
        .await
        .unwrap();
    assert_eq!(
        (first.total, first.total.known_pages(), first.contacts.len()),
        (ListTotal::Exactly(60), 2, 50)
    );
    assert!(first.has_next());
    assert_eq!(first.contacts[0].id, f.ada, "strongest first");
    let second = scope
        .contacts()
        .list(&ContactQuery {
            page: 2,
            ..ContactQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(second.contacts.len(), 10);
    assert!(!second.has_next());
    assert!(
        second
            .contacts
            .iter()
            .all(|c| first.contacts.iter().all(|d| d.id != c.id))
    );

    let search = |text: &str| ContactQuery {
        search: Some(text.into()),
        ..ContactQuery::default()
    };
    let ids = |page: domain::contacts::ContactListPage| -> Vec<Uuid> {
        page.contacts.into_iter().map(|c| c.id).collect()
    };
    assert_eq!(
        ids(scope.contacts().list(&search("lovelace")).await.unwrap()),
        [f.ada]
    );
    assert_eq!(
        ids(scope.contacts().list(&search("BOB@ENGINES")).await.unwrap()),
        [f.bob]
    );
    assert_eq!(
        ids(scope.contacts().list(&search("analytical")).await.unwrap()),
        [f.ada]
    );
    assert_eq!(
        scope
            .contacts()
            .list(&search("person 1"))
            .await
            .unwrap()
            .total,
        ListTotal::Exactly(10)
    );
    assert_eq!(
        scope.contacts().list(&search("100%")).await.unwrap().total,
        ListTotal::Exactly(0)
    );
    // One or two characters match the start of a word: "bo" is Bob, "lo" is Lovelace,
    // not every name with an "o" inside (Person 00, …).
    assert_eq!(
        ids(scope.contacts().list(&search("Bo")).await.unwrap()),
        [f.bob]
    );
    assert_eq!(
        ids(scope.contacts().list(&search("lo")).await.unwrap()),
        [f.ada]
    );

    let filtered = |q: ContactQuery| async move { ids(scope.contacts().list(&q).await.unwrap()) };
    assert_eq!(
        filtered(ContactQuery {
            tag: Some("investor".into()),
            ..Default::default()
        })
        .await,
        [f.bob]
    );
    assert_eq!(
        filtered(ContactQuery {
            company: Some(company),
            ..Default::default()
        })
        .await,
        [f.ada]
    );
    assert_eq!(
        filtered(ContactQuery {
            unanswered: true,
            ..Default::default()
        })
        .await,
        [f.ada]
    );
    assert_eq!(
        filtered(ContactQuery {
            last_from: Some(at(2026, 2, 1, 0)),
            last_to: Some(at(2026, 2, 10, 0)),
            ..Default::default()
        })
        .await,
        [f.bob]
    );
    let by_name = scope
        .contacts()
        .list(&ContactQuery {
            sort: ContactSort::Name,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        by_name.contacts[0].display_name.as_deref(),
        Some("Ada Lovelace")
    );
    assert_eq!(
        by_name.contacts[1].display_name.as_deref(),
        Some("Bob Babbage")
    );
    let recent = scope
        .contacts()
        .list(&ContactQuery {
            sort: ContactSort::Recent,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(recent.contacts[0].id, f.ada);
    assert_eq!(recent.contacts[1].id, f.bob);
    let volume = scope
        .contacts()
        .list(&ContactQuery {
            sort: ContactSort::MostEmails,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(volume.contacts[0].email_count, 7);

    // Bob only had one email from me, never answered: one-way mail scores 0, so he is
    // not a top contact.
    let (top, menu) = scope.contacts().strip(8).await.unwrap();
    assert_eq!(top.iter().map(|c| c.id).collect::<Vec<_>>(), [f.ada]);
    assert_eq!(menu, scope.contacts().tags().await.unwrap());

    let tagged = scope
        .contacts()
        .tag(&[f.ada, f.bob], "Investor")
        .await
        .unwrap();
    assert_eq!(tagged, 1, "Bob had the tag already");
    assert_eq!(scope.contacts().tags().await.unwrap(), ["investor"]);
    let (_, menu) = scope.contacts().strip(8).await.unwrap();
    assert_eq!(
        menu,
        ["investor"],
        "the strip's statement reads the menu too"
    );
}

/// The tag menu is read from rows kept by triggers: tagging, editing tags, merging,
/// un-merging and deleting must each reach it, and another user's tags never do.
#[tokio::test]
async fn a_date_range_by_strength_reads_month_by_month_and_pages_like_one_sorted_list() {
    let f = fixture().await;
    let other = user(&f.db, "other@example.com").await;
    // 600 contacts of mine and 100 of another user's, last seen over eight months
    // (every 9 hours, so each month boundary has contacts on both sides), strengths
    // with many ties, a few no longer listed (merged away).
    for (owner, n) in [(f.me, 600), (other, 100)] {
        sqlx::query(
            "with made as (
               insert into contacts (user_id, display_name)
               select $1, 'Ranged ' || g from generate_series(1, $2::int8) g
               returning id, display_name)
             update contact_stats s
                set strength = (split_part(m.display_name, ' ', 2)::int * 37) % 23,
                    last_interaction_at = timestamptz '2026-01-01'
                      + split_part(m.display_name, ' ', 2)::int * interval '9 hours',
                    listed = split_part(m.display_name, ' ', 2)::int % 41 <> 0
               from made m
              where s.user_id = $1 and s.contact_id = m.id",
        )
        .bind(owner.0)
        .bind(n)
        .execute(f.db.pool())
        .await
        .unwrap();
    }
    let scope = f.db.for_user(f.me);
    for (from, to) in [
        (at(2026, 2, 14, 5), at(2026, 5, 3, 0)),
        (at(2026, 3, 1, 0), at(2026, 4, 1, 0)),
        (at(2026, 6, 20, 0), at(2026, 6, 21, 0)),
        (at(2025, 11, 1, 0), at(2026, 12, 1, 0)),
    ] {
        let expected: Vec<Uuid> = sqlx::query_scalar(
            "select contact_id from contact_stats
              where user_id = $1 and listed and last_interaction_at >= $2 and last_interaction_at < $3
              order by strength desc, contact_id",
        )
        .bind(f.me.0)
        .bind(from)
        .bind(to)
        .fetch_all(f.db.pool())
        .await
        .unwrap();
        let pages = (expected.len() as i64 + 49) / 50;
        let mut listed = Vec::new();
        for page in 1..=pages.max(1) {
            let list = scope
                .contacts()
                .list(&ContactQuery {
                    last_from: Some(from),
                    last_to: Some(to),
                    page,
                    ..ContactQuery::default()
                })
                .await
                .unwrap();
            assert_eq!(
                list.total,
                ListTotal::Exactly(expected.len() as i64),
                "{from}..{to} page {page}"
            );
            assert!(
                list.contacts
                    .windows(2)
                    .all(|pair| pair[0].strength >= pair[1].strength)
            );
            listed.extend(list.contacts.iter().map(|c| c.id));
        }
        assert_eq!(listed, expected, "{from}..{to}");
    }
}

#[tokio::test]
async fn tag_menu_follows_tagging_edits_merges_and_deletion() {
    let f = fixture().await;
    let scope = f.db.for_user(f.me);
    let pool = f.db.pool();
    // The menu, checked against the tags of the listed contacts, counted afresh.
    let menu = || async {
        let menu = scope.contacts().tags().await.unwrap();
        let recount: Vec<String> = sqlx::query_scalar(
            "select distinct unnest(tags) from contact_stats
             where user_id = $1 and listed order by 1",
        )
        .bind(f.me.0)
        .fetch_all(pool)
        .await
        .unwrap();
        assert_eq!(menu, recount);
        menu
    };
    assert!(menu().await.is_empty());

    scope.contacts().tag(&[f.ada], "Investor").await.unwrap();
    scope.contacts().tag(&[f.bob], "friend").await.unwrap();
    scope.contacts().tag(&[f.bob], "advisor").await.unwrap();
    assert_eq!(menu().await, ["advisor", "friend", "investor"], "A to Z");

    let stranger = TestUser::create(&f.db, "stranger@example.com").await;
    let theirs = contact(&stranger, "Their Contact", &["their@example.com"]).await;
    f.db.for_user(stranger.id)
        .contacts()
        .tag(&[theirs], "zebra")
        .await
        .unwrap();
    assert_eq!(
        menu().await,
        ["advisor", "friend", "investor"],
        "not theirs"
    );

    sqlx::query("update contacts set tags = '{advisor}' where id = $1")
        .bind(f.bob)
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(menu().await, ["advisor", "investor"], "friend edited away");

    let merge = scope.contacts().merge(f.ada, f.bob, None).await.unwrap();
    assert_eq!(menu().await, ["advisor", "investor"], "Ada has both now");
    sqlx::query("update contacts set tags = '{}' where id = $1")
        .bind(f.ada)
        .execute(pool)
        .await
        .unwrap();
    assert!(
        menu().await.is_empty(),
        "merged-away Bob's tags are not on the menu"
    );
    scope.contacts().unmerge(merge).await.unwrap();
    assert!(
        menu().await.contains(&"advisor".to_owned()),
        "Bob is listed again"
    );

    sqlx::query("delete from contacts where id = $1")
        .bind(f.bob)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("update contacts set tags = '{}' where id = $1")
        .bind(f.ada)
        .execute(pool)
        .await
        .unwrap();
    assert!(menu().await.is_empty(), "deleted");
    let rows: i64 = sqlx::query_scalar("select count(*) from contact_tags where user_id = $1")
        .bind(f.me.0)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(rows, 0, "no rows left behind");
}

/// The list's search reads a copy of names, addresses and company kept by triggers:
/// every way those change must reach it.
#[tokio::test]
async fn search_follows_names_addresses_companies_and_merges() {
    let f = fixture().await;
    let scope = f.db.for_user(f.me);
    let search = |text: &str| ContactQuery {
        search: Some(text.into()),
        ..ContactQuery::default()
    };
    let found = |text: &'static str| {
        let query = search(text);
        async move {
            scope
                .contacts()
                .list(&query)
                .await
                .unwrap()
                .contacts
                .into_iter()
                .map(|c| c.id)
                .collect::<Vec<Uuid>>()
        }
    };
    let pool = f.db.pool();

    sqlx::query("update contacts set display_name = 'Augusta King' where id = $1")
        .bind(f.ada)
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(found("augusta").await, [f.ada], "renamed");
    assert!(found("lovelace").await.is_empty(), "old name gone");

    sqlx::query("insert into contact_identities (user_id, contact_id, kind, value, source) values ($1, $2, 'phone', '+442071234567', 'signature')")
        .bind(f.me.0)
        .bind(f.ada)
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(found("2071234567").await, [f.ada], "new phone");

    let company = f.owner().company("difference.example", None).await;
    sqlx::query("update contacts set company_id = $2 where id = $1")
        .bind(f.bob)
        .bind(company)
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(found("difference.example").await, [f.bob], "company domain");
    sqlx::query("update companies set name = 'Difference Engines Ltd' where id = $1")
        .bind(company)
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(found("engines ltd").await, [f.bob], "company renamed");

    let merge = scope.contacts().merge(f.ada, f.bob, None).await.unwrap();
    assert_eq!(
        found("difference").await,
        [f.ada],
        "Bob is merged away; Ada, who had no company, takes his"
    );
    assert_eq!(found("bob@").await, [f.ada], "Bob's address moved to Ada");
    scope.contacts().unmerge(merge).await.unwrap();
    assert_eq!(found("bob@").await, [f.bob], "un-merged");
    assert_eq!(found("difference").await, [f.bob]);

    sqlx::query("delete from contact_identities where contact_id = $1 and kind = 'phone'")
        .bind(f.ada)
        .execute(pool)
        .await
        .unwrap();
    assert!(found("2071234567").await.is_empty(), "phone removed");
}

/// A full page needs the count: lists an index can count count in the page's own
/// statement, searches read one row ahead instead; all count only listed contacts, in
/// every sort.
#[tokio::test]
async fn full_pages_know_how_many_contacts_match_filtered_or_not() {
    let f = fixture().await;
    sqlx::query(
        "insert into contacts (user_id, display_name, tags)
         select $1, 'Many ' || g, case when g <= 60 then array['club'] else '{}' end
         from generate_series(1, 100) g",
    )
    .bind(f.me.0)
    .execute(f.db.pool())
    .await
    .unwrap();
    // Two of them no longer listed (as merged-away contacts are not).
    sqlx::query(
        "update contact_stats s set listed = false from contacts c
          where c.user_id = $1 and c.id = s.contact_id and c.display_name in ('Many 1', 'Many 99')",
    )
    .bind(f.me.0)
    .execute(f.db.pool())
    .await
    .unwrap();
    let scope = f.db.for_user(f.me);
    for sort in [
        ContactSort::Strength,
        ContactSort::Recent,
        ContactSort::MostEmails,
        ContactSort::Name,
    ] {
        let mut seen = Vec::new();
        for page in 1..=2 {
            let list = scope
                .contacts()
                .list(&ContactQuery {
                    sort,
                    page,
                    ..ContactQuery::default()
                })
                .await
                .unwrap();
            assert_eq!(list.total, ListTotal::Exactly(100), "{sort:?} page {page}");
            assert_eq!(list.has_next(), page == 1, "{sort:?} page {page}");
            seen.extend(list.contacts.iter().map(|c| c.id));
        }
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 100, "{sort:?}: 98 listed and the fixture's 2");
    }
    let club = scope
        .contacts()
        .list(&ContactQuery {
            tag: Some("club".into()),
            ..ContactQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(club.contacts.len(), 50);
    assert_eq!(
        club.total,
        ListTotal::Exactly(59),
        "60 tagged, one unlisted"
    );

    // Filters an index counts are counted in the page's statement: the count is the
    // recount's, listed contacts only.
    sqlx::query(
        "update contact_stats s
            set unanswered_inbound = 1, last_interaction_at = '2026-03-10T12:00:00Z'
           from contacts c
          where c.user_id = $1 and c.id = s.contact_id and c.display_name like 'Many %'
            and substr(c.display_name, 6)::int <= 70",
    )
    .bind(f.me.0)
    .execute(f.db.pool())
    .await
    .unwrap();
    let (me, pool) = (f.me, f.db.pool());
    let recount = |filter: &'static str| async move {
        sqlx::query_scalar::<_, i64>(&format!(
            "select count(*) from contact_stats where user_id = $1 and listed and {filter}"
        ))
        .bind(me.0)
        .fetch_one(pool)
        .await
        .unwrap()
    };
    let unanswered = scope
        .contacts()
        .list(&ContactQuery {
            unanswered: true,
            ..ContactQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        unanswered.total,
        ListTotal::Exactly(recount("unanswered_inbound > 0").await)
    );
    assert!(
        recount("unanswered_inbound > 0").await >= 69,
        "69 listed of 70"
    );
    let at = |y, m, d| chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, y, m, d, 0, 0, 0).unwrap();
    let in_march = ContactQuery {
        last_from: Some(at(2026, 3, 1)),
        last_to: Some(at(2026, 4, 1)),
        ..ContactQuery::default()
    };
    assert_eq!(
        scope.contacts().list(&in_march).await.unwrap().total,
        ListTotal::Exactly(
            recount("last_interaction_at >= '2026-03-01' and last_interaction_at < '2026-04-01'")
                .await
        )
    );

    // Searches (and a tag with other filters) are not counted: a row past the page says
    // whether another follows, and the last page gives the count.
    let searched = |text: &str, page: i64| ContactQuery {
        search: Some(text.into()),
        page,
        ..ContactQuery::default()
    };
    let first = scope.contacts().list(&searched("many", 1)).await.unwrap();
    assert_eq!(first.contacts.len(), 50);
    assert_eq!(first.total, ListTotal::MoreThan(50));
    assert!(first.has_next());
    let second = scope.contacts().list(&searched("many", 2)).await.unwrap();
    assert_eq!(
        (second.contacts.len(), second.total, second.has_next()),
        (48, ListTotal::Exactly(98), false),
        "98 listed"
    );
    let club_waiting = ContactQuery {
        tag: Some("club".into()),
        unanswered: true,
        ..ContactQuery::default()
    };
    let club_waiting = scope.contacts().list(&club_waiting).await.unwrap();
    assert_eq!(
        (club_waiting.contacts.len(), club_waiting.total),
        (50, ListTotal::MoreThan(50)),
        "59 listed in the club, all waiting"
    );
    // Exactly a page of matches: the page is the last, with nothing after it.
    sqlx::query(
        "update contact_stats s set listed = false from contacts c
          where c.user_id = $1 and c.id = s.contact_id and c.display_name like 'Many %'
            and substr(c.display_name, 6)::int between 51 and 98",
    )
    .bind(f.me.0)
    .execute(f.db.pool())
    .await
    .unwrap();
    let exactly = scope.contacts().list(&searched("many", 1)).await.unwrap();
    assert_eq!(
        (exactly.contacts.len(), exactly.total, exactly.has_next()),
        (50, ListTotal::Exactly(50), false)
    );
    let past_the_end = scope.contacts().list(&searched("many", 3)).await.unwrap();
    assert!(past_the_end.contacts.is_empty());
    assert_eq!(past_the_end.total, ListTotal::Exactly(50), "an old link");
}

/// Past [`COUNT_LIMIT`] matches the list stops counting; paging goes on by "next".
#[tokio::test]
async fn large_lists_count_up_to_the_limit() {
    let f = fixture().await;
    sqlx::query(
        "insert into contacts (user_id, display_name)
         select $1, 'Bulk ' || g from generate_series(1, $2::int8) g",
    )
    .bind(f.me.0)
    .bind(COUNT_LIMIT + 10)
    .execute(f.db.pool())
    .await
    .unwrap();
    let scope = f.db.for_user(f.me);
    let page = |n: i64| ContactQuery {
        page: n,
        ..ContactQuery::default()
    };
    let first = scope.contacts().list(&page(1)).await.unwrap();
    assert_eq!(first.total, ListTotal::MoreThan(COUNT_LIMIT));
    assert!(first.has_next());
    let last = scope.contacts().list(&page(21)).await.unwrap();
    assert_eq!(
        last.contacts.len(),
        12,
        "1,010 bulk contacts and the fixture's 2"
    );
    assert!(!last.has_next());
    assert_eq!(
        last.total,
        ListTotal::Exactly(COUNT_LIMIT + 12),
        "the last page knows the count"
    );
    let past_the_end = scope.contacts().list(&page(30)).await.unwrap();
    assert!(past_the_end.contacts.is_empty());
    assert_eq!(past_the_end.total, ListTotal::MoreThan(COUNT_LIMIT));
    let bulk = scope
        .contacts()
        .list(&ContactQuery {
            search: Some("bulk 100".into()),
            ..ContactQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        bulk.total,
        ListTotal::Exactly(11),
        "bulk 100 and 1000 to 1009"
    );
}

#[tokio::test]
async fn users_cannot_read_edit_or_merge_each_others_contacts() {
    let f = fixture().await;
    let other = TestUser::create(&f.db, "other@example.com").await;
    let theirs = f.db.for_user(other.id);
    let mine_too = contact(&other, "Ada Lovelace", &["ada@other.example"]).await;
    let not_found = |r: Result<(), DomainError>| matches!(r, Err(DomainError::NotFound(_)));

    assert!(not_found(
        theirs.contacts().profile(f.ada).await.map(|_| ())
    ));
    assert!(not_found(theirs.contacts().stats(f.ada).await.map(|_| ())));
    let edit = ProfileEdit::parse(&ProfileValues {
        display_name: "Hacked".into(),
        ..Default::default()
    })
    .unwrap();
    assert!(not_found(
        theirs.contacts().update_profile(f.ada, &edit).await
    ));
    assert!(not_found(
        theirs
            .contacts()
            .merge(mine_too, f.ada, None)
            .await
            .map(|_| ())
    ));
    assert!(not_found(
        f.db.for_user(f.me)
            .contacts()
            .merge(f.ada, mine_too, None)
            .await
            .map(|_| ())
    ));
    assert_eq!(theirs.contacts().tag(&[f.ada], "x").await.unwrap(), 0);
    assert!(
        theirs
            .contacts()
            .identities(f.ada)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        theirs
            .contacts()
            .recent_threads(f.ada, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        theirs
            .contacts()
            .duplicate_suggestions(mine_too)
            .await
            .unwrap()
            .is_empty(),
        "my Ada is not suggested to them"
    );
    let merge =
        f.db.for_user(f.me)
            .contacts()
            .merge(f.ada, f.bob, None)
            .await
            .unwrap();
    assert!(not_found(theirs.contacts().unmerge(merge).await));
    assert!(theirs.contacts().merge_log(f.ada).await.unwrap().is_empty());
    assert_eq!(
        theirs
            .contacts()
            .list(&ContactQuery::default())
            .await
            .unwrap()
            .total,
        ListTotal::Exactly(1)
    );
    let mine = f.db.for_user(f.me).contacts().profile(f.ada).await.unwrap();
    assert_eq!(
        mine.display_name.as_deref(),
        Some("Ada Lovelace"),
        "untouched"
    );
}

#[tokio::test]
async fn recent_threads_and_company_overview() {
    let f = fixture().await;
    refresh_fixture(&f).await;
    let scope = f.db.for_user(f.me);
    let threads = scope.contacts().recent_threads(f.ada, 10).await.unwrap();
    let keys: Vec<_> = threads
        .iter()
        .map(|t| t.thread_key.clone().unwrap())
        .collect();
    assert_eq!(
        keys,
        ["t3", "t2", "t1"],
        "newest first, deleted mail left out"
    );
    assert_eq!(threads[2].messages, 4);
    assert!(threads[0].from_gmail);

    let company = f.owner().company("engines.example", Some("Engines")).await;
    sqlx::query("update contacts set company_id = $2 where id = any($1)")
        .bind(vec![f.ada, f.bob])
        .bind(company)
        .execute(f.db.pool())
        .await
        .unwrap();
    let overview = scope.contacts().company_overview(company).await.unwrap();
    assert_eq!(overview.people_count, 2);
    assert_eq!((overview.sent_count, overview.received_count), (4, 4));
    assert_eq!(overview.unanswered_inbound, 2);
    assert_eq!(
        overview.monthly[1],
        MonthVolume {
            month: "2026-02".into(),
            sent: 2,
            received: 2
        }
    );
    assert!(matches!(
        f.db.for_user(user(&f.db, "x@example.com").await)
            .contacts()
            .company_overview(company)
            .await,
        Err(DomainError::NotFound(_))
    ));
}
