//! Processing in batches: the same contacts, links and stats as one activity at a time,
//! a user's batches applied one after another in claim order, and stats that converge
//! after a failed refresh.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use domain::ingest::{IncomingEmail, IngestFilter};
use domain::jobs::{LeasedTable, WorkerId};
use domain::processing::{Processor, ProcessorOptions};
use domain::{Db, UserId};
use fakes::mailbox::{Mailbox, MailboxSpec};

use crate::helpers::{fresh_db, gmail_account, user, wait_until};

/// The eval mailbox (the demo's synthetic mail, policy `sent`) stored raw for a new
/// user of `db`.
async fn eval_mailbox(db: &Db, messages: usize) -> UserId {
    let spec = MailboxSpec::demo(messages);
    let owner = user(db, &spec.owner_email).await;
    let account = gmail_account(db, owner, &spec.owner_email).await;
    let emails = demo_emails(&spec);
    // One message a transaction, so each has its own `next_attempt_at` and both
    // databases process them in the same order: which of two addresses a person's
    // signature links to the other depends on which came first, and ties within one
    // transaction would be broken by random ids.
    for email in emails.chunks(1) {
        db.for_user(owner)
            .mail()
            .store_emails(account, email, &IngestFilter::default())
            .await
            .unwrap();
    }
    owner
}

fn processor(db: &Db, name: &str, batch: i64) -> Processor {
    let options = ProcessorOptions {
        batch,
        ..ProcessorOptions::default()
    };
    Processor::new(db, WorkerId::new(name), options)
}

/// Each live contact by its sorted email addresses: its fields, phones and company, and
/// where each field came from (header, signature; not which message: the first of two
/// equally good header names wins, and that is a matter of processing order). A
/// contact merged automatically has no addresses left and is left out.
async fn contacts(db: &Db, user: UserId) -> BTreeMap<String, serde_json::Value> {
    let rows: Vec<(String, serde_json::Value)> = sqlx::query_as(
        r#"select (select string_agg(value, ' ' order by value) from contact_identities
                   where contact_id = c.id and kind = 'email'),
                  jsonb_build_object(
                    'name', c.display_name, 'title', c.title, 'links', c.links,
                    'merged', c.merged_into is not null,
                    'sources', (select jsonb_object_agg(key, value -> 'source')
                                from jsonb_each(c.field_sources)
                                where jsonb_typeof(value) = 'object' and key <> 'phones'),
                    'phones', (select jsonb_agg(value order by value) from contact_identities
                               where contact_id = c.id and kind = 'phone'),
                    'company', (select jsonb_build_array(co.domain, co.name, co.name_source)
                                from companies co where co.id = c.company_id))
           from contacts c where c.user_id = $1 and c.merged_into is null"#,
    )
    .bind(user.0)
    .fetch_all(db.pool())
    .await
    .unwrap();
    rows.into_iter().collect()
}

/// The stats that do not depend on when they were computed, by the live contact's
/// sorted email addresses.
async fn stats(db: &Db, user: UserId) -> BTreeMap<String, serde_json::Value> {
    let rows: Vec<(String, serde_json::Value)> = sqlx::query_as(
        r#"select (select string_agg(value, ' ' order by value) from contact_identities
                   where contact_id = s.contact_id and kind = 'email'),
                  to_jsonb(s) - 'user_id' - 'contact_id' - 'company_id' - 'computed_at' - 'sent_weight'
                    - 'received_weight' - 'recent_weight' - 'strength' - 'frequency_score'
           from contact_stats s where s.user_id = $1
             and exists (select 1 from contacts c
                         where c.id = s.contact_id and c.merged_into is null)"#,
    )
    .bind(user.0)
    .fetch_all(db.pool())
    .await
    .unwrap();
    rows.into_iter().collect()
}

/// Every participation with the contact it is linked to (by the contact's addresses).
async fn links(db: &Db, user: UserId) -> Vec<(String, String, String, Option<String>)> {
    sqlx::query_as(
        r#"select a.external_id, p.role, p.address,
                  (select string_agg(value, ' ' order by value) from contact_identities
                   where contact_id = p.contact_id and kind = 'email')
           from activity_participants p join activities a on a.id = p.activity_id
           where p.user_id = $1 order by 1, 2, 3"#,
    )
    .bind(user.0)
    .fetch_all(db.pool())
    .await
    .unwrap()
}

async fn states(db: &Db) -> Vec<(String, i64)> {
    sqlx::query_as("select state, count(*) from activities group by state order by state")
        .fetch_all(db.pool())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_and_concurrent_processors_build_what_one_at_a_time_builds() {
    let (one_db, batch_db) = (fresh_db().await, fresh_db().await);
    let (one, batched) = tokio::join!(eval_mailbox(&one_db, 1_200), eval_mailbox(&batch_db, 1_200));

    processor(&one_db, "alone", 1).drain().await.unwrap();
    let (first, second) = (
        processor(&batch_db, "a", 250),
        processor(&batch_db, "b", 250),
    );
    let (a, b) = tokio::join!(first.drain(), second.drain());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!((a.failed + b.failed, a.dead + b.dead), (0, 0));

    assert_eq!(states(&one_db).await, states(&batch_db).await);
    assert_eq!(states(&batch_db).await.len(), 1, "all completed");
    let built = contacts(&one_db, one).await;
    assert!(
        built.len() > 20,
        "the mailbox makes contacts: {}",
        built.len()
    );
    assert_eq!(built, contacts(&batch_db, batched).await);
    assert_eq!(links(&one_db, one).await, links(&batch_db, batched).await);
    let one_stats = stats(&one_db, one).await;
    assert_eq!(one_stats, stats(&batch_db, batched).await);

    // And the stats are what a recount from scratch gives.
    domain::contacts::stats::recompute_all(batch_db.for_user(batched))
        .await
        .unwrap();
    assert_eq!(one_stats, stats(&batch_db, batched).await);
}

/// A refresh that fails (here a trigger aborts the first stats write) leaves the batch
/// committed and the contacts queued; they are refreshed until it succeeds, and end up
/// as a recount from scratch says.
#[tokio::test]
async fn a_failed_stats_refresh_is_retried_until_the_stats_match_a_recount() {
    let db = fresh_db().await;
    let owner = eval_mailbox(&db, 300).await;
    for sql in [
        "create sequence stats_writes",
        "create function abort_first_stats_write() returns trigger language plpgsql as $$
         begin
           if nextval('stats_writes') = 1 then
             raise exception 'simulated refresh failure';
           end if;
           return new;
         end $$",
        "create trigger abort_first_stats_write before update on contact_stats
         for each row when (old.computed_at is distinct from new.computed_at)
         execute function abort_first_stats_write()",
    ] {
        sqlx::query(sql).execute(db.pool()).await.unwrap();
    }
    let outcome = processor(&db, "w", 1_000).drain().await.unwrap();
    assert_eq!((outcome.failed, outcome.dead), (0, 0));
    let states = states(&db).await;
    assert!(
        states.len() == 1 && states[0].0 == "completed",
        "{states:?}"
    );
    let failed_once: i64 = sqlx::query_scalar("select last_value from stats_writes")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert!(failed_once > 1, "the refresh failed, then ran again");
    let stale: i64 = sqlx::query_scalar("select count(*) from contact_stats_stale")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(stale, 0, "nothing left stale");

    let refreshed = stats(&db, owner).await;
    assert!(
        refreshed.values().any(|s| s["sent_count"] != 0),
        "{refreshed:?}"
    );
    sqlx::query("drop trigger abort_first_stats_write on contact_stats")
        .execute(db.pool())
        .await
        .unwrap();
    domain::contacts::stats::recompute_all(db.for_user(owner))
        .await
        .unwrap();
    assert_eq!(refreshed, stats(&db, owner).await);
}

/// Workers take users nobody holds first; when every user with due mail is held, a
/// worker claims the next batch of a user one other worker holds (it is applied after
/// that worker's), never of a user two others hold, and a worker that can take nothing
/// is told nothing is due.
#[tokio::test]
async fn free_users_come_first_and_at_most_two_workers_hold_a_user() {
    let db = fresh_db().await;
    let (alex, sam) = tokio::join!(
        eval_mailbox(&db, 40),
        demo_mailbox(&db, "sam@example.org", 40)
    );
    let queue = db.activity_queue();
    let lease = Duration::from_secs(60);
    let claim = async |worker: &str| {
        let claimed = queue.claim(&WorkerId::new(worker), 5, lease).await.unwrap();
        let users: Vec<UserId> = claimed.iter().map(|c| c.user).collect();
        assert!(users.windows(2).all(|w| w[0] == w[1]), "one user per claim");
        users.first().copied()
    };
    assert!(queue.next_due().await.unwrap().is_some());
    let first = claim("a").await.expect("a claims");
    let second = claim("b").await.expect("b claims");
    assert_ne!(first, second, "the user nobody holds first");
    assert!([alex, sam].contains(&first) && [alex, sam].contains(&second));
    let third = claim("c").await.expect("c claims a held user's next batch");
    let fourth = claim("d")
        .await
        .expect("d claims the other held user's next batch");
    assert_ne!(third, fourth, "never a third worker on a user");
    assert_eq!(claim("e").await, None, "both users are held by two workers");
    assert_eq!(
        queue.next_due().await.unwrap(),
        None,
        "nothing a claim could take: idle workers sleep until woken"
    );
    // A holder claims more of its own user (one other worker holds it too).
    let held_by_a_and_another = claim("a").await;
    assert_eq!(held_by_a_and_another, Some(first));
}

/// Two workers with batches of one user: the later batch is applied only once the
/// earlier one has committed, whatever order the workers get there in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_users_batches_are_applied_one_after_another_in_claim_order() {
    let db = fresh_db().await;
    let owner = eval_mailbox(&db, 60).await;
    // The first worker holds its batch's transaction open a while before committing.
    let slow = Processor::new(
        &db,
        WorkerId::new("slow"),
        ProcessorOptions {
            batch: 30,
            pause_before_commit: Duration::from_millis(1500),
            ..ProcessorOptions::default()
        },
    );
    let fast = processor(&db, "fast", 30);
    let first = tokio::spawn(async move { slow.process_batch().await.unwrap() });
    wait_until(
        "the slow worker to claim its batch",
        Duration::from_secs(10),
        async || {
            let claimed: i64 = sqlx::query_scalar(
                "select count(*) from activities where state = 'processing' and claimed_by = 'slow'",
            )
            .fetch_one(db.pool())
            .await
            .unwrap();
            if claimed == 30 { Ok(()) } else { Err(claimed) }
        },
    )
    .await;
    let second = fast.process_batch().await.unwrap();
    assert!(
        second.completed > 0 && second.completed == second.claimed,
        "the rest of the same user's mail: {second:?}"
    );
    let earlier_open: i64 = sqlx::query_scalar(
        "select count(*) from activities where user_id = $1 and state <> 'completed'",
    )
    .bind(owner.0)
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(
        earlier_open, 0,
        "the earlier batch committed before the later one"
    );
    assert_eq!(first.await.unwrap().completed, 30);
}

/// A batch claimed later waits for one claimed earlier by another worker even when it
/// gets to applying first: here the earlier batch's worker never applies, so the later
/// one is applied only once that claim's lease has run out.
#[tokio::test]
async fn a_later_batch_waits_for_an_earlier_claim_of_the_same_user() {
    let db = fresh_db().await;
    eval_mailbox(&db, 40).await;
    let stalled = db
        .activity_queue()
        .claim(&WorkerId::new("stalled"), 10, Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(stalled.len(), 10);
    let later = processor(&db, "later", 10).process_batch().await.unwrap();
    assert_eq!(later.completed, 10);
    let (lease_ended, applied): (DateTime<Utc>, DateTime<Utc>) = sqlx::query_as(
        "select (select max(lease_expires_at) from activities where claimed_by = 'stalled'),
                (select min(processed_at) from activities where state = 'completed')",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert!(
        applied >= lease_ended,
        "applied at {applied}, before the earlier claim ended at {lease_ended}"
    );
}

fn demo_emails(spec: &MailboxSpec) -> Vec<IncomingEmail> {
    Mailbox::generate(spec)
        .messages()
        .map(IncomingEmail::from)
        .collect()
}

/// The demo mailbox stored raw, in one transaction, for a new user `email`.
async fn demo_mailbox(db: &Db, email: &str, messages: usize) -> UserId {
    let owner = user(db, email).await;
    let account = gmail_account(db, owner, email).await;
    let emails = demo_emails(&MailboxSpec::demo(messages));
    db.for_user(owner)
        .mail()
        .store_emails(account, &emails, &IngestFilter::default())
        .await
        .unwrap();
    owner
}

/// Of the users no worker holds, the one whose due mail has waited longest is served
/// first, whichever it is.
#[tokio::test]
async fn the_user_whose_mail_waited_longest_is_claimed_first() {
    let db = fresh_db().await;
    let (alex, sam) = tokio::join!(
        demo_mailbox(&db, "alex@example.org", 10),
        demo_mailbox(&db, "sam@example.org", 10)
    );
    for longest in [alex, sam] {
        // Everything due again, the one user's mail an hour longer.
        sqlx::query(
            "update activities set state = 'raw', claimed_by = null, lease_expires_at = null,
                    next_attempt_at = now() - case when user_id = $1 then interval '2 hours'
                                                   else interval '1 hour' end",
        )
        .bind(longest.0)
        .execute(db.pool())
        .await
        .unwrap();
        let claimed = db
            .activity_queue()
            .claim(&WorkerId::generate(), 3, Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(claimed.len(), 3);
        assert!(
            claimed.iter().all(|c| c.user == longest),
            "the longest-waiting user's mail first"
        );
    }
}
