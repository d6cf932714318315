//! Test data straight into the tables, and waiting for background work: shared by the
//! domain tests (`domain/tests/db`) and the server's API tests (`server/tests/api`
//! includes this file), so there is one way to make a user, a contact or an email.
//! Each test binary uses part of it.
#![allow(dead_code)]

use std::fmt::Debug;
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::{Db, UserId};
use uuid::Uuid;

/// Calls `poll` every 100 ms until it returns `Ok(value)`, and returns the value.
/// `Err(seen)` is what it observed instead; after `timeout` the test fails with `what`
/// and the last thing seen.
pub async fn wait_until<T, S: Debug>(
    what: &str,
    timeout: Duration,
    mut poll: impl AsyncFnMut() -> Result<T, S>,
) -> T {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let seen = match poll().await {
            Ok(value) => return value,
            Err(seen) => seen,
        };
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}; last saw {seen:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A new user.
pub async fn user(db: &Db, email: &str) -> UserId {
    let id: Uuid = sqlx::query_scalar("insert into users (google_subject, email) values (gen_random_uuid()::text, $1) returning id")
        .bind(email)
        .fetch_one(db.pool())
        .await
        .expect("insert user");
    UserId(id)
}

/// A Gmail account of `user` whose address is `address`.
pub async fn gmail_account(db: &Db, user: UserId, address: &str) -> Uuid {
    sqlx::query_scalar(
        "insert into accounts (user_id, provider, external_id) values ($1, 'google', $2) returning id",
    )
    .bind(user.0)
    .bind(address)
    .fetch_one(db.pool())
    .await
    .expect("insert account")
}

/// A user and the account their mail comes from: the builders write as them.
#[derive(Clone)]
pub struct TestUser {
    pub db: Db,
    pub id: UserId,
    pub account: Uuid,
}

impl TestUser {
    /// A new user with a Gmail account at `email`.
    pub async fn create(db: &Db, email: &str) -> Self {
        let id = user(db, email).await;
        let account = gmail_account(db, id, email).await;
        Self {
            db: db.clone(),
            id,
            account,
        }
    }

    /// A company at `domain`, named `name`.
    pub async fn company(&self, domain: &str, name: Option<&str>) -> Uuid {
        sqlx::query_scalar(
            "insert into companies (user_id, domain, name) values ($1, $2, $3) returning id",
        )
        .bind(self.id.0)
        .bind(domain)
        .bind(name)
        .fetch_one(self.db.pool())
        .await
        .expect("insert company")
    }

    /// A contact named `name`; add addresses etc., then `.insert().await`.
    pub fn contact(&self, name: &str) -> ContactBuilder<'_> {
        ContactBuilder {
            user: self,
            name: name.to_owned(),
            emails: Vec::new(),
            company: None,
            links: None,
        }
    }

    /// An email at `when`, inbound unless `.outbound()`; then `.insert().await`.
    pub fn email(&self, when: DateTime<Utc>) -> ActivityBuilder<'_> {
        ActivityBuilder {
            user: self,
            when,
            direction: "inbound",
            external_id: None,
            thread: None,
            subject: None,
            snippet: None,
            body: None,
            state: None,
            people: Vec::new(),
        }
    }
}

pub struct ContactBuilder<'a> {
    user: &'a TestUser,
    name: String,
    emails: Vec<String>,
    company: Option<Uuid>,
    links: Option<serde_json::Value>,
}

impl ContactBuilder<'_> {
    /// An email address, as if seen in a header.
    pub fn email(mut self, address: &str) -> Self {
        self.emails.push(address.to_owned());
        self
    }

    pub fn company(mut self, company: Uuid) -> Self {
        self.company = Some(company);
        self
    }

    /// The profile's links, e.g. `{"linkedin": "https://…"}`.
    pub fn links(mut self, links: serde_json::Value) -> Self {
        self.links = Some(links);
        self
    }

    pub async fn insert(self) -> Uuid {
        let db = &self.user.db;
        let id: Uuid = sqlx::query_scalar(
            "insert into contacts (user_id, display_name, company_id, links)
             values ($1, $2, $3, coalesce($4, '{}')) returning id",
        )
        .bind(self.user.id.0)
        .bind(&self.name)
        .bind(self.company)
        .bind(self.links)
        .fetch_one(db.pool())
        .await
        .expect("insert contact");
        for email in &self.emails {
            sqlx::query("insert into contact_identities (user_id, contact_id, kind, value, source) values ($1, $2, 'email', $3, 'header')")
                .bind(self.user.id.0)
                .bind(id)
                .bind(email)
                .execute(db.pool())
                .await
                .expect("insert contact identity");
        }
        id
    }
}

/// One email activity and its participants.
pub struct ActivityBuilder<'a> {
    user: &'a TestUser,
    when: DateTime<Utc>,
    direction: &'static str,
    external_id: Option<String>,
    thread: Option<String>,
    subject: Option<String>,
    snippet: Option<String>,
    body: Option<String>,
    state: Option<String>,
    people: Vec<(&'static str, String, Option<Uuid>)>,
}

impl ActivityBuilder<'_> {
    pub fn outbound(mut self) -> Self {
        self.direction = "outbound";
        self
    }

    /// `"inbound"` or `"outbound"`.
    pub fn direction(mut self, direction: &str) -> Self {
        self.direction = if direction == "outbound" {
            "outbound"
        } else {
            "inbound"
        };
        self
    }

    /// The provider's id (random unless given).
    pub fn external_id(mut self, id: &str) -> Self {
        self.external_id = Some(id.to_owned());
        self
    }

    pub fn thread(mut self, key: &str) -> Self {
        self.thread = Some(key.to_owned());
        self
    }

    pub fn subject(mut self, subject: &str) -> Self {
        self.subject = Some(subject.to_owned());
        self
    }

    pub fn snippet(mut self, snippet: &str) -> Self {
        self.snippet = Some(snippet.to_owned());
        self
    }

    pub fn body(mut self, body: &str) -> Self {
        self.body = Some(body.to_owned());
        self
    }

    /// The processing state (`raw` unless given); `completed` also sets `processed_at`.
    pub fn state(mut self, state: &str) -> Self {
        self.state = Some(state.to_owned());
        self
    }

    /// A participant: `role` is from, to, cc or bcc; `contact` the contact it resolved to.
    pub fn person(mut self, role: &'static str, address: &str, contact: Option<Uuid>) -> Self {
        self.people.push((role, address.to_owned(), contact));
        self
    }

    /// The sender, resolved to `contact`.
    pub fn from(self, address: &str, contact: Uuid) -> Self {
        self.person("from", address, Some(contact))
    }

    /// A recipient, resolved to `contact`.
    pub fn to(self, address: &str, contact: Uuid) -> Self {
        self.person("to", address, Some(contact))
    }

    pub async fn insert(self) -> Uuid {
        let (user, pool) = (self.user.id.0, self.user.db.pool());
        let id: Uuid = sqlx::query_scalar(
            "insert into activities (user_id, account_id, external_id, channel, direction, occurred_at,
                                     thread_key, subject, snippet, body_text, state, processed_at)
             values ($1, $2, coalesce($3, gen_random_uuid()::text), 'email', $4, $5, $6, $7, $8, $9,
                     coalesce($10, 'raw'), case when $10 = 'completed' then now() end)
             returning id",
        )
        .bind(user)
        .bind(self.user.account)
        .bind(self.external_id)
        .bind(self.direction)
        .bind(self.when)
        .bind(self.thread)
        .bind(self.subject)
        .bind(self.snippet)
        .bind(self.body)
        .bind(self.state)
        .fetch_one(pool)
        .await
        .expect("insert activity");
        for (role, address, contact) in self.people {
            sqlx::query(
                "insert into activity_participants (user_id, activity_id, role, address_kind, address, contact_id, occurred_at)
                 values ($1, $2, $3, 'email', $4, $5, $6)",
            )
            .bind(user)
            .bind(id)
            .bind(role)
            .bind(address)
            .bind(contact)
            .bind(self.when)
            .execute(pool)
            .await
            .expect("insert participant");
        }
        id
    }
}
