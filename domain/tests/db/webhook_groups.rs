//! Webhooks stored a group at a time (group commit): a group leaves the same rows,
//! outcomes and counters as its webhooks stored one after another; the writer answers
//! each webhook with its own outcome, stores concurrent webhooks in few transactions,
//! and keeps one webhook's failure from failing the rest of its group.

use chrono::Utc;
use domain::Db;
use domain::channels::providers::{ParsedWebhook, parse_webhook};
use domain::channels::{
    BlockEntry, Channel, ChannelAuth, ChannelDefaults, ChannelError, ChannelProvider, Direction,
    IngestOutcome, NewChannel, WebhookWriter,
};
use uuid::Uuid;

use crate::helpers::{documents_the_triggers_build, fresh_db, search_documents, user};

fn channel(name: &str, provider: ChannelProvider) -> NewChannel {
    NewChannel {
        name: name.to_owned(),
        provider,
        defaults: ChannelDefaults {
            channel: Channel::Sms,
            direction: Direction::Inbound,
        },
    }
}

fn sms(id: &str, from: &str, text: &str) -> Vec<u8> {
    serde_json::json!({"external_id": id, "from": {"phone": from, "name": "Dana"},
                       "to": {"phone": "+14155550100"}, "text": text})
    .to_string()
    .into_bytes()
}

/// Two users, three channels (one a Twilio line), one blocklist entry, and one webhook
/// already stored; returns each channel's checked auth.
async fn arrange(db: &Db) -> [ChannelAuth; 3] {
    let alex = db.for_user(user(db, "alex@example.com").await);
    let sam = db.for_user(user(db, "sam@example.com").await);
    let (phone, phone_key) = alex
        .channels()
        .create(&channel("Phone", ChannelProvider::Generic))
        .await
        .unwrap();
    let (calls, calls_key) = alex
        .channels()
        .create(&channel("Calls", ChannelProvider::Twilio))
        .await
        .unwrap();
    let (sams, sams_key) = sam
        .channels()
        .create(&channel("Sam's phone", ChannelProvider::Generic))
        .await
        .unwrap();
    alex.channels()
        .add_to_blocklist(&BlockEntry::parse("+14155559999").unwrap())
        .await
        .unwrap();
    let auths = [
        db.authorize_channel(phone.id, phone_key.expose())
            .await
            .unwrap(),
        db.authorize_channel(calls.id, calls_key.expose())
            .await
            .unwrap(),
        db.authorize_channel(sams.id, sams_key.expose())
            .await
            .unwrap(),
    ];
    let earlier = parsed(&auths[0], &sms("m-0", "+14155552671", "earlier"));
    db.ingest_webhook(&auths[0], &earlier).await.unwrap();
    auths
}

fn parsed(auth: &ChannelAuth, body: &[u8]) -> ParsedWebhook {
    parse_webhook(auth.provider, auth.defaults, body, Utc::now()).unwrap()
}

/// A completed Twilio call that names its recording, as Twilio posts it.
fn twilio_call(sid: &str) -> Vec<u8> {
    format!(
        "CallSid={sid}&From=%2B14155552671&To=%2B14155550100&CallStatus=completed&\
         Direction=inbound&CallDuration=42&RecordingSid=RE0123456789abcdef0123456789abcdef&\
         RecordingUrl=https%3A%2F%2Fapi.twilio.com%2Frec%2FRE01&RecordingDuration=40"
    )
    .into_bytes()
}

/// One group's worth of webhooks: new ones for both users, a blocked sender, a retry of
/// the stored one, the same new id twice, a call with a recording.
fn mixed_group(auths: &[ChannelAuth; 3]) -> Vec<(ChannelAuth, ParsedWebhook)> {
    let [phone, calls, sams] = auths;
    [
        (phone, sms("m-1", "+14155552671", "first")),
        (sams, sms("m-1", "+14155552671", "same id, other user")),
        (phone, sms("m-2", "+14155559999", "blocked sender")),
        (phone, sms("m-0", "+14155552671", "retry of the stored one")),
        (phone, sms("m-3", "+14155552672", "new")),
        (phone, sms("m-3", "+14155552672", "retry inside the group")),
        (calls, twilio_call("CA0123456789abcdef0123456789abcdef")),
        (phone, sms("m-2", "+14155559999", "blocked again")),
    ]
    .into_iter()
    .map(|(auth, body)| (auth.clone(), parsed(auth, &body)))
    .collect()
}

/// The [`mixed_group`]'s outcomes, stored one after another or as a group.
const MIXED_OUTCOMES: [&str; 8] = [
    "stored m-1",
    "stored m-1",
    "dropped by +14155559999",
    "duplicate of m-0",
    "stored m-3",
    "duplicate of m-3",
    "stored CA0123456789abcdef0123456789abcdef",
    "dropped by +14155559999",
];

/// Stores each webhook in its own transaction, in order.
async fn one_after_another(
    db: &Db,
    webhooks: &[(ChannelAuth, ParsedWebhook)],
) -> Vec<IngestOutcome> {
    let mut outcomes = Vec::new();
    for (auth, webhook) in webhooks {
        outcomes.push(db.ingest_webhook(auth, webhook).await.unwrap());
    }
    outcomes
}

/// What a database holds after the webhooks, with ids replaced by provider ids.
async fn snapshot(db: &Db) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "select concat_ws(' | ', u.email, 'activity', a.external_id, a.state, a.body_text,
                 (select count(*) from activity_participants p where p.activity_id = a.id),
                 (select count(*) from call_recordings r where r.activity_id = a.id))
         from activities a join users u on u.id = a.user_id
         union all
         select concat_ws(' | ', u.email, 'ledger', l.external_id, l.outcome, l.rule,
                          l.activity_id is not null)
         from sync_ledger l join users u on u.id = l.user_id
         union all
         select concat_ws(' | ', c.name, 'counts', sum(n.received), sum(n.duplicates),
                          sum(n.dropped))
         from ingestion_channels c join ingestion_channel_counts n on n.channel_id = c.id
         group by c.name
         union all
         select concat_ws(' | ', 'blocklist', value, hits) from blocklist
         order by 1",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    rows.into_iter().map(|(row,)| row).collect()
}

/// The outcomes with activity ids replaced by their provider ids, comparable across
/// databases.
async fn named(db: &Db, outcomes: &[IngestOutcome]) -> Vec<String> {
    let mut named = Vec::new();
    for outcome in outcomes {
        let external = |id: Uuid| async move {
            sqlx::query_scalar::<_, String>("select external_id from activities where id = $1")
                .bind(id)
                .fetch_one(db.pool())
                .await
                .unwrap()
        };
        named.push(match outcome {
            IngestOutcome::Stored(id) => format!("stored {}", external(*id).await),
            IngestOutcome::Duplicate(id) => format!("duplicate of {}", external(*id).await),
            IngestOutcome::Dropped { entry } => format!("dropped by {entry}"),
        });
    }
    named
}

/// How many transactions wrote the activities stored after [`arrange`]'s.
async fn transactions_after_arranging(db: &Db) -> i64 {
    sqlx::query_scalar(
        "select count(distinct xmin::text) from activities where external_id <> 'm-0'",
    )
    .fetch_one(db.pool())
    .await
    .unwrap()
}

fn stored_ids(outcomes: &[IngestOutcome]) -> Vec<Uuid> {
    outcomes
        .iter()
        .filter_map(|o| match o {
            IngestOutcome::Stored(id) => Some(*id),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_group_stores_what_its_webhooks_stored_one_after_another_store() {
    let (one_by_one, grouped) = (fresh_db().await, fresh_db().await);
    let single_outcomes =
        one_after_another(&one_by_one, &mixed_group(&arrange(&one_by_one).await)).await;
    let group = mixed_group(&arrange(&grouped).await);
    let group_outcomes = grouped.ingest_webhook_group(&group).await.unwrap();

    let expected = MIXED_OUTCOMES;
    assert_eq!(named(&one_by_one, &single_outcomes).await, expected);
    assert_eq!(named(&grouped, &group_outcomes).await, expected);
    let state = snapshot(&grouped).await;
    assert_eq!(state, snapshot(&one_by_one).await);
    for line in [
        "Phone | counts | 3 | 2 | 2",
        "Calls | counts | 1 | 0 | 0",
        "blocklist | +14155559999 | 2",
        "alex@example.com | ledger | m-2 | filtered | blocklist:+14155559999 | f",
        "alex@example.com | activity | CA0123456789abcdef0123456789abcdef | raw | Call completed, 42 s | 2 | 1",
    ] {
        assert!(state.iter().any(|l| l == line), "{line} in {state:#?}");
    }
    assert_eq!(transactions_after_arranging(&grouped).await, 1);

    // The group writes each activity's search document whole; it is the one the triggers
    // build for other writers, people included.
    let stored = stored_ids(&group_outcomes);
    let written = search_documents(&grouped, &stored).await;
    assert!(
        written.iter().any(|l| l.contains(" f:dana ")),
        "{written:?}"
    );
    assert!(written.iter().any(|l| l.contains(" first ")), "{written:?}");
    assert_eq!(
        written,
        documents_the_triggers_build(&grouped, &stored).await
    );
}

#[tokio::test]
async fn the_writer_stores_a_group_without_calls_in_one_statement_as_one_after_another() {
    let (one_by_one, written) = (fresh_db().await, fresh_db().await);
    let without_calls = |auths: &[ChannelAuth; 3]| {
        let mut group = mixed_group(auths);
        group.retain(|(auth, _)| auth.provider != ChannelProvider::Twilio);
        group
    };
    let single_outcomes =
        one_after_another(&one_by_one, &without_calls(&arrange(&one_by_one).await)).await;
    let group = without_calls(&arrange(&written).await);
    let writer = WebhookWriter::start(&written);
    // Handed over together (the writer runs once this test's task waits), so one group.
    let outcomes: Vec<IngestOutcome> = futures::future::join_all(
        group
            .iter()
            .map(|(auth, webhook)| writer.store(auth.clone(), webhook.clone())),
    )
    .await
    .into_iter()
    .collect::<Result<_, _>>()
    .unwrap();

    let expected: Vec<&str> = MIXED_OUTCOMES
        .into_iter()
        .filter(|o| !o.contains("CA0123"))
        .collect();
    assert_eq!(named(&one_by_one, &single_outcomes).await, expected);
    assert_eq!(named(&written, &outcomes).await, expected);
    let state = snapshot(&written).await;
    assert_eq!(state, snapshot(&one_by_one).await);
    assert!(
        state.iter().any(|l| l == "Phone | counts | 3 | 2 | 2"),
        "{state:#?}"
    );
    assert_eq!(transactions_after_arranging(&written).await, 1);
    let stored = stored_ids(&outcomes);
    assert_eq!(
        search_documents(&written, &stored).await,
        documents_the_triggers_build(&written, &stored).await
    );
}

#[tokio::test]
async fn the_writer_answers_each_webhook_with_its_own_activity_in_few_transactions() {
    let db = fresh_db().await;
    let [phone, _, sams] = arrange(&db).await;
    let writer = WebhookWriter::start(&db);
    let mut live = sqlx::postgres::PgListener::connect_with(db.pool())
        .await
        .unwrap();
    live.listen("rapport_events").await.unwrap();
    let sent: Vec<(ChannelAuth, String)> = (0..60)
        .map(|i| {
            let auth = if i % 3 == 0 { &sams } else { &phone };
            (auth.clone(), format!("w-{i}"))
        })
        .collect();
    let outcomes = futures::future::join_all(sent.iter().map(|(auth, id)| {
        let webhook = parsed(auth, &sms(id, "+14155552671", id));
        writer.store(auth.clone(), webhook)
    }))
    .await;
    for ((auth, id), outcome) in sent.iter().zip(outcomes) {
        let Ok(IngestOutcome::Stored(activity)) = outcome else {
            panic!("{id}: {outcome:?}")
        };
        let (user, external_id, text): (Uuid, String, String) =
            sqlx::query_as("select user_id, external_id, body_text from activities where id = $1")
                .bind(activity)
                .fetch_one(db.pool())
                .await
                .unwrap();
        assert_eq!(
            (user, external_id.as_str(), text.as_str()),
            (auth.user.0, id.as_str(), id.as_str())
        );
    }
    // Handed over together, they are stored together (a transaction per webhook would
    // be 60).
    let transactions: i64 = sqlx::query_scalar(
        "select count(distinct xmin::text) from activities where external_id like 'w-%'",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert!(
        transactions <= 3,
        "{transactions} transactions for 60 webhooks"
    );

    // Both owners' live views hear of their new activities (notified after the commit,
    // not by the insert trigger inside it).
    let mut heard = std::collections::BTreeSet::new();
    while heard.len() < 2 {
        let note = tokio::time::timeout(std::time::Duration::from_secs(5), live.recv())
            .await
            .expect("a notification for each owner")
            .unwrap();
        heard.insert(note.payload().to_owned());
    }
    let owners =
        std::collections::BTreeSet::from([phone.user.0.to_string(), sams.user.0.to_string()]);
    assert_eq!(heard, owners);
}

#[tokio::test]
async fn a_webhook_that_cannot_be_stored_fails_alone_and_its_group_is_stored() {
    let db = fresh_db().await;
    let [phone, _, _] = arrange(&db).await;
    let writer = WebhookWriter::start(&db);
    // A channel whose account is gone between the key check and the write: the
    // activity's foreign key refuses it, which fails the whole group's transaction.
    let orphan = ChannelAuth {
        account: Uuid::new_v4(),
        ..phone.clone()
    };
    let mut webhooks: Vec<(ChannelAuth, ParsedWebhook)> = (0..10)
        .map(|i| {
            (
                phone.clone(),
                parsed(&phone, &sms(&format!("g-{i}"), "+14155552671", "hi")),
            )
        })
        .collect();
    webhooks.insert(
        5,
        (
            orphan.clone(),
            parsed(&orphan, &sms("lost", "+14155552671", "hi")),
        ),
    );
    let outcomes = futures::future::join_all(
        webhooks
            .iter()
            .map(|(auth, webhook)| writer.store(auth.clone(), webhook.clone())),
    )
    .await;
    for (i, outcome) in outcomes.iter().enumerate() {
        match (i, outcome) {
            (5, Err(ChannelError::Database(_))) => {}
            (5, other) => panic!("the orphan's webhook: {other:?}"),
            (_, Ok(IngestOutcome::Stored(_))) => {}
            (_, other) => panic!("webhook {i}: {other:?}"),
        }
    }
    let stored: i64 =
        sqlx::query_scalar("select count(*) from activities where external_id like 'g-%'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(stored, 10);
}
