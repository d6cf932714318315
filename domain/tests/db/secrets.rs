//! OAuth tokens are bound to their account: a ciphertext copied into another account's
//! row does not decrypt (and that account must reconnect), and tokens stored before the
//! binding are re-sealed at startup and still open.

use chrono::{Duration, Utc};
use domain::accounts::TokenError;
use domain::crypto::{CryptoError, SecretBox};
use domain::google::{GoogleEndpoints, GoogleOAuth, GoogleProfile, TokenGrant};
use domain::{Db, UserId};
use uuid::Uuid;

use crate::helpers::fresh_db;

fn secrets() -> SecretBox {
    // Base64 of 32 zero bytes.
    SecretBox::from_base64(&format!("{}=", "A".repeat(43))).unwrap()
}

/// Never reached: every token in these tests is fresh, so nothing is refreshed.
fn oauth() -> GoogleOAuth {
    GoogleOAuth::new(
        "client",
        "secret",
        "http://127.0.0.1:9/cb",
        GoogleEndpoints::under("http://127.0.0.1:9"),
    )
    .unwrap()
}

/// A signed-in user with a Google account holding `access` and `refresh`.
async fn connected(db: &Db, name: &str, access: &str, refresh: &str) -> (UserId, Uuid) {
    let profile = GoogleProfile {
        subject: format!("g-{name}"),
        email: format!("{name}@example.com"),
        email_verified: true,
        name: None,
        picture: None,
    };
    let user = db.upsert_google_user(&profile).await.unwrap().id;
    let grant = TokenGrant {
        access_token: access.into(),
        refresh_token: Some(refresh.into()),
        expires_at: Utc::now() + Duration::hours(1),
        scopes: vec!["email".into()],
    };
    let account = db
        .for_user(user)
        .accounts()
        .connect_google(&profile, &grant, &secrets())
        .await
        .unwrap();
    (user, account)
}

async fn stored(db: &Db, account: Uuid) -> (Vec<u8>, Vec<u8>) {
    sqlx::query_as("select access_token_enc, refresh_token_enc from accounts where id = $1")
        .bind(account)
        .fetch_one(db.pool())
        .await
        .unwrap()
}

async fn store(db: &Db, account: Uuid, access: &[u8], refresh: &[u8]) {
    sqlx::query("update accounts set access_token_enc = $2, refresh_token_enc = $3 where id = $1")
        .bind(account)
        .bind(access)
        .bind(refresh)
        .execute(db.pool())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_token_copied_into_another_account_does_not_decrypt() {
    let db = fresh_db().await;
    let (alex, alex_account) = connected(&db, "alex", "alex-access", "alex-refresh").await;
    let (sam, sam_account) = connected(&db, "sam", "sam-access", "sam-refresh").await;
    let secrets = secrets();
    // Each opens for its own account.
    let own = db
        .for_user(alex)
        .accounts()
        .google_refresh_token(alex_account, &secrets)
        .await
        .unwrap();
    assert_eq!(own.as_deref(), Some("alex-refresh"));

    // Alex's ciphertexts pasted into Sam's row.
    let (alex_access, alex_refresh) = stored(&db, alex_account).await;
    store(&db, sam_account, &alex_access, &alex_refresh).await;
    let sam_scope = db.for_user(sam);
    let refresh = sam_scope
        .accounts()
        .google_refresh_token(sam_account, &secrets)
        .await;
    assert!(
        matches!(refresh, Err(TokenError::Crypto(CryptoError::Decrypt))),
        "{refresh:?}"
    );
    let access = sam_scope
        .accounts()
        .google_access_token(sam_account, &oauth(), &secrets)
        .await;
    let error = access.expect_err("Alex's token must not open for Sam's account");
    assert!(
        matches!(error, TokenError::Crypto(CryptoError::Decrypt)),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("could not be decrypted"),
        "{error}"
    );
    let (status, last_error): (String, Option<String>) =
        sqlx::query_as("select status::text, last_error from accounts where id = $1")
            .bind(sam_account)
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(status, "needs_reconnect");
    assert!(last_error.unwrap().contains("could not be decrypted"));
    // Alex is untouched.
    let alex_token = db
        .for_user(alex)
        .accounts()
        .google_access_token(alex_account, &oauth(), &secrets)
        .await
        .unwrap();
    assert_eq!(alex_token, "alex-access");
}

#[tokio::test]
async fn tokens_sealed_before_the_binding_are_upgraded_once_and_still_open() {
    let db = fresh_db().await;
    let (alex, account) = connected(&db, "alex", "new-access", "new-refresh").await;
    let secrets = secrets();
    // The legacy form: no version byte, no associated data.
    let legacy = (secrets.seal("old-access"), secrets.seal("old-refresh"));
    store(&db, account, &legacy.0, &legacy.1).await;

    assert_eq!(db.upgrade_token_encryption(&secrets).await.unwrap(), 1);
    let (access, refresh) = stored(&db, account).await;
    assert_ne!((&access, &refresh), (&legacy.0, &legacy.1), "re-sealed");
    assert_eq!(
        secrets.open_for(&refresh, account.as_bytes()).unwrap(),
        "old-refresh"
    );
    let scope = db.for_user(alex);
    assert_eq!(
        scope
            .accounts()
            .google_access_token(account, &oauth(), &secrets)
            .await
            .unwrap(),
        "old-access"
    );
    assert_eq!(
        scope
            .accounts()
            .google_refresh_token(account, &secrets)
            .await
            .unwrap()
            .as_deref(),
        Some("old-refresh")
    );
    // Idempotent: a second run finds nothing to do and changes nothing.
    assert_eq!(db.upgrade_token_encryption(&secrets).await.unwrap(), 0);
    assert_eq!(stored(&db, account).await, (access, refresh));
}
