//! Ingestion channels against Postgres: keys (hash only, rotation, disabling), storing
//! webhook activities as `raw` rows with participants and the raw payload, idempotent
//! retries, the blocklist, and user scoping.

use chrono::Utc;
use domain::channels::providers::parse_webhook;
use domain::channels::{
    BlockEntry, Channel, ChannelDefaults, ChannelError, ChannelProvider, Direction, IngestOutcome,
    NewChannel,
};
use domain::{Db, DomainError};
use uuid::Uuid;

use crate::helpers::{fresh_db, user};

fn sms_channel(name: &str) -> NewChannel {
    NewChannel {
        name: name.to_owned(),
        provider: ChannelProvider::Generic,
        defaults: ChannelDefaults {
            channel: Channel::Sms,
            direction: Direction::Inbound,
        },
    }
}

fn sms(id: &str, from: &str) -> Vec<u8> {
    serde_json::json!({"external_id": id, "from": {"phone": from, "name": "Dana"},
                       "to": {"phone": "+14155550100"}, "text": "hello"})
    .to_string()
    .into_bytes()
}

async fn deliver(
    db: &Db,
    channel: Uuid,
    key: &str,
    body: &[u8],
) -> Result<IngestOutcome, ChannelError> {
    let auth = db.authorize_channel(channel, key).await?;
    let parsed = parse_webhook(auth.provider, auth.defaults, body, Utc::now())?;
    db.ingest_webhook(&auth, &parsed).await
}

async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db.pool()).await.unwrap()
}

#[tokio::test]
async fn a_webhook_becomes_a_raw_activity_with_participants_and_payload() {
    let db = fresh_db().await;
    let alex = db.for_user(user(&db, "alex@example.com").await);
    let (channel, key) = alex.channels().create(&sms_channel("Phone")).await.unwrap();
    let stored: Vec<u8> = sqlx::query_scalar("select key_sha256 from ingestion_channels")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(stored.len(), 32);
    assert!(
        !String::from_utf8_lossy(&stored).contains(key.expose()),
        "only the hash is kept"
    );

    let outcome = deliver(&db, channel.id, key.expose(), &sms("m-1", "+14155552671"))
        .await
        .unwrap();
    let IngestOutcome::Stored(id) = outcome else {
        panic!("stored, got {outcome:?}")
    };
    let row: (String, String, String, String, serde_json::Value, String) = sqlx::query_as(
        "select state, channel, direction, body_text, raw_payload, a.provider
         from activities join accounts a on a.id = activities.account_id where activities.id = $1",
    )
    .bind(id)
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(
        (
            row.0.as_str(),
            row.1.as_str(),
            row.2.as_str(),
            row.3.as_str()
        ),
        ("raw", "sms", "inbound", "hello")
    );
    assert_eq!(row.4["external_id"], "m-1");
    assert_eq!(row.5, "generic");
    let people: Vec<(String, String, String)> = sqlx::query_as(
        "select role, address_kind, address from activity_participants where activity_id = $1 order by role",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert_eq!(
        people,
        vec![
            ("from".into(), "phone".into(), "+14155552671".into()),
            ("to".into(), "phone".into(), "+14155550100".into()),
        ]
    );
    let summary = alex.channels().get(channel.id).await.unwrap().unwrap();
    assert_eq!(summary.received, 1);
    assert!(summary.last_received_at.is_some());
}

#[tokio::test]
async fn retries_do_not_duplicate() {
    let db = fresh_db().await;
    let alex = db.for_user(user(&db, "alex@example.com").await);
    let (channel, key) = alex.channels().create(&sms_channel("Phone")).await.unwrap();
    let body = sms("m-1", "+14155552671");
    let first = deliver(&db, channel.id, key.expose(), &body).await.unwrap();
    let (a, b) = tokio::join!(
        deliver(&db, channel.id, key.expose(), &body),
        deliver(&db, channel.id, key.expose(), &body)
    );
    let IngestOutcome::Stored(id) = first else {
        panic!()
    };
    assert_eq!(a.unwrap(), IngestOutcome::Duplicate(id));
    assert_eq!(b.unwrap(), IngestOutcome::Duplicate(id));
    assert_eq!(count(&db, "select count(*) from activities").await, 1);
    assert_eq!(
        count(&db, "select count(*) from activity_participants").await,
        2
    );
    let summary = alex.channels().get(channel.id).await.unwrap().unwrap();
    assert_eq!((summary.received, summary.duplicates), (1, 2));
}

#[tokio::test]
async fn concurrent_webhooks_are_all_counted_and_wake_the_processors_after_commit() {
    let db = fresh_db().await;
    let alex = db.for_user(user(&db, "alex@example.com").await);
    let (channel, key) = alex.channels().create(&sms_channel("Phone")).await.unwrap();
    let mut listener = sqlx::postgres::PgListener::connect_with(db.pool())
        .await
        .unwrap();
    listener.listen("rapport_activities").await.unwrap();

    // Many connections at once: the counts are kept per connection shard and summed.
    let bodies: Vec<Vec<u8>> = (0..40)
        .map(|i| sms(&format!("m-{i}"), "+14155552671"))
        .collect();
    let outcomes = futures::future::join_all(
        bodies
            .iter()
            .map(|body| deliver(&db, channel.id, key.expose(), body)),
    )
    .await;
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, Ok(IngestOutcome::Stored(_)))),
        "{outcomes:?}"
    );
    deliver(&db, channel.id, key.expose(), &bodies[0])
        .await
        .unwrap();
    let summary = alex.channels().get(channel.id).await.unwrap().unwrap();
    assert_eq!((summary.received, summary.duplicates), (40, 1));
    let shards = count(&db, "select count(*) from ingestion_channel_counts").await;
    assert!(shards > 1, "one row for every connection: {shards}");

    // The processors are woken (after the commit: the insert trigger stays quiet inside
    // a webhook's transaction).
    let woken = tokio::time::timeout(std::time::Duration::from_secs(5), listener.recv())
        .await
        .expect("a notification")
        .unwrap();
    assert_eq!(woken.channel(), "rapport_activities");
    let claimable = count(&db, "select count(*) from activities where state = 'raw'").await;
    assert_eq!(claimable, 40);
}

#[tokio::test]
async fn wrong_rotated_and_disabled_keys_are_refused() {
    let db = fresh_db().await;
    let alex = db.for_user(user(&db, "alex@example.com").await);
    let (channel, key) = alex.channels().create(&sms_channel("Phone")).await.unwrap();
    // Used a moment ago, so the endpoint has the channel at hand: the changes below
    // must still take effect at once.
    assert!(db.authorize_channel(channel.id, key.expose()).await.is_ok());
    assert!(matches!(
        db.authorize_channel(channel.id, "rk_wrong").await,
        Err(ChannelError::Unauthorized)
    ));
    assert!(matches!(
        db.authorize_channel(channel.id, "").await,
        Err(ChannelError::Unauthorized)
    ));
    assert!(matches!(
        db.authorize_channel(Uuid::new_v4(), key.expose()).await,
        Err(ChannelError::Unauthorized)
    ));

    let new_key = alex.channels().rotate_key(channel.id).await.unwrap();
    assert!(matches!(
        db.authorize_channel(channel.id, key.expose()).await,
        Err(ChannelError::Unauthorized)
    ));
    assert!(
        db.authorize_channel(channel.id, new_key.expose())
            .await
            .is_ok()
    );

    alex.channels()
        .set_enabled(channel.id, false)
        .await
        .unwrap();
    assert!(matches!(
        db.authorize_channel(channel.id, new_key.expose()).await,
        Err(ChannelError::Disabled)
    ));
    assert!(matches!(
        db.authorize_channel(channel.id, "rk_wrong").await,
        Err(ChannelError::Unauthorized)
    ));
    alex.channels().set_enabled(channel.id, true).await.unwrap();
    let auth = db
        .authorize_channel(channel.id, new_key.expose())
        .await
        .unwrap();

    // Deleting the channel's account (and its mail) ends the channel at once too.
    alex.accounts()
        .disconnect(auth.account, domain::accounts::SyncedData::Delete)
        .await
        .unwrap();
    assert!(matches!(
        db.authorize_channel(channel.id, new_key.expose()).await,
        Err(ChannelError::Unauthorized)
    ));
}

#[tokio::test]
async fn blocklisted_senders_are_dropped_and_counted() {
    let db = fresh_db().await;
    let alex = db.for_user(user(&db, "alex@example.com").await);
    let (channel, key) = alex.channels().create(&sms_channel("Phone")).await.unwrap();
    let phone = alex
        .channels()
        .add_to_blocklist(&BlockEntry::parse("+1 (415) 555-2671").unwrap())
        .await
        .unwrap();
    alex.channels()
        .add_to_blocklist(&BlockEntry::parse("*@spam.example").unwrap())
        .await
        .unwrap();
    assert!(matches!(
        alex.channels()
            .add_to_blocklist(&BlockEntry::parse("*@SPAM.example").unwrap())
            .await,
        Err(DomainError::Conflict(_))
    ));

    let dropped = deliver(&db, channel.id, key.expose(), &sms("m-1", "+14155552671"))
        .await
        .unwrap();
    assert_eq!(
        dropped,
        IngestOutcome::Dropped {
            entry: "+14155552671".into()
        }
    );
    let mail = serde_json::json!({"external_id": "e-1", "channel": "email",
        "from": {"email": "Promo@Spam.example"}})
    .to_string();
    let dropped = deliver(&db, channel.id, key.expose(), mail.as_bytes())
        .await
        .unwrap();
    assert_eq!(
        dropped,
        IngestOutcome::Dropped {
            entry: "*@spam.example".into()
        }
    );
    let kept = deliver(&db, channel.id, key.expose(), &sms("m-2", "+14155550199"))
        .await
        .unwrap();
    assert!(matches!(kept, IngestOutcome::Stored(_)));

    assert_eq!(count(&db, "select count(*) from activities").await, 1);
    let summary = alex.channels().get(channel.id).await.unwrap().unwrap();
    assert_eq!((summary.received, summary.dropped), (1, 2));
    let hits: Vec<(String, i64)> = alex
        .channels()
        .blocklist()
        .await
        .unwrap()
        .into_iter()
        .map(|b| (b.entry.display(), b.hits))
        .collect();
    assert_eq!(
        hits,
        vec![("*@spam.example".into(), 1), ("+14155552671".into(), 1)]
    );
    let ledger: i64 = count(
        &db,
        "select count(*) from sync_ledger where outcome = 'filtered' and rule like 'blocklist:%'",
    )
    .await;
    assert_eq!(ledger, 2, "drops are recorded, not silent");

    alex.channels().remove_from_blocklist(phone).await.unwrap();
    let now_kept = deliver(&db, channel.id, key.expose(), &sms("m-1", "+14155552671"))
        .await
        .unwrap();
    assert!(matches!(now_kept, IngestOutcome::Stored(_)));
}

#[tokio::test]
async fn channels_and_blocklists_belong_to_one_user() {
    let db = fresh_db().await;
    let alex = db.for_user(user(&db, "alex@example.com").await);
    let sam = db.for_user(user(&db, "sam@example.com").await);
    let (channel, key) = alex
        .channels()
        .create(&sms_channel("Alex phone"))
        .await
        .unwrap();
    sam.channels()
        .add_to_blocklist(&BlockEntry::parse("+14155552671").unwrap())
        .await
        .unwrap();

    assert!(sam.channels().list().await.unwrap().is_empty());
    assert!(sam.channels().get(channel.id).await.unwrap().is_none());
    assert!(matches!(
        sam.channels().rotate_key(channel.id).await,
        Err(DomainError::NotFound(_))
    ));
    assert!(matches!(
        sam.channels().set_enabled(channel.id, false).await,
        Err(DomainError::NotFound(_))
    ));
    assert!(alex.channels().blocklist().await.unwrap().is_empty());

    // Sam's blocklist does not apply to Alex's channel, and Alex's key writes for Alex.
    let outcome = deliver(&db, channel.id, key.expose(), &sms("m-1", "+14155552671"))
        .await
        .unwrap();
    assert!(matches!(outcome, IngestOutcome::Stored(_)));
    let owner: Uuid = sqlx::query_scalar("select user_id from activities")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(owner, alex.user().0);

    // A checked channel cannot be used through another user's scope.
    let auth = db
        .authorize_channel(channel.id, key.expose())
        .await
        .unwrap();
    let parsed = parse_webhook(
        auth.provider,
        auth.defaults,
        &sms("m-2", "+14155552672"),
        Utc::now(),
    )
    .unwrap();
    assert!(matches!(
        sam.channels().ingest_webhook(&auth, &parsed).await,
        Err(ChannelError::Unauthorized)
    ));
    assert_eq!(count(&db, "select count(*) from activities").await, 1);
}

#[tokio::test]
async fn channel_names_are_checked() {
    let db = fresh_db().await;
    let alex = db.for_user(user(&db, "alex@example.com").await);
    for bad in ["", "   ", &"x".repeat(81)] {
        assert!(matches!(
            alex.channels().create(&sms_channel(bad)).await,
            Err(DomainError::Invalid { .. })
        ));
    }
    assert_eq!(
        count(&db, "select count(*) from accounts").await,
        0,
        "nothing half-created"
    );
}

#[tokio::test]
async fn webhook_html_is_stored_sanitized_like_mail() {
    let db = fresh_db().await;
    let alex = db.for_user(user(&db, "alex@example.com").await);
    let hostile = r#"<p onclick="steal()">Hi<script>alert(1)</script><a href="javascript:x()">x</a><img src="https://track.example/p.gif"></p>"#;
    let generic = serde_json::json!({"external_id": "h-1", "from": {"email": "dana@example.com"},
                                     "text": "Hi", "html": hostile});
    let mut postmark: serde_json::Value =
        serde_json::from_str(include_str!("../fixtures/webhooks/postmark_inbound.json")).unwrap();
    postmark["HtmlBody"] = hostile.into();
    for (provider, body) in [
        (ChannelProvider::Generic, generic),
        (ChannelProvider::Postmark, postmark),
    ] {
        let (channel, key) = alex
            .channels()
            .create(&NewChannel {
                name: format!("{provider:?}"),
                provider,
                defaults: ChannelDefaults {
                    channel: Channel::Email,
                    direction: Direction::Inbound,
                },
            })
            .await
            .unwrap();
        let outcome = deliver(&db, channel.id, key.expose(), body.to_string().as_bytes())
            .await
            .unwrap();
        let IngestOutcome::Stored(id) = outcome else {
            panic!("stored, got {outcome:?}")
        };
        let html: String = sqlx::query_scalar("select body_html from activities where id = $1")
            .bind(id)
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert!(
            html.contains("Hi") && html.contains("data-remote-src"),
            "{provider:?}: {html}"
        );
        for banned in ["<script", "onclick", "javascript:", " src=\"https://track"] {
            assert!(!html.contains(banned), "{provider:?} kept {banned}: {html}");
        }
    }
}
