//! `contact_stats`: per-contact counts, reply times, unanswered mail, monthly volume and
//! scores, recomputed from `activities` for a set of contacts in two set-based queries.
//!
//! A contact's emails are the outbound ones it received (to, cc or bcc) and the inbound
//! ones it sent (from). Deleted activities do not count. A reply is a message in the same
//! thread whose previous message with this contact went the other way; its reply time
//! is the gap between the two. An unanswered inbound is a thread whose last message from
//! the contact has no later outbound message in the thread.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use super::strength::{self, StrengthInputs};
use crate::db::scopes::ContactsScope;
use crate::{DomainError, UserId, UserScope};

/// How many contacts `recompute_all` refreshes per statement.
const RECOMPUTE_BATCH: usize = 2_000;
/// `refresh` pauses this long when rows it needs are locked, doubling each round; after
/// the round that paused `REFRESH_LAST_PAUSE` (about 5 s in all) it waits for them.
const REFRESH_FIRST_PAUSE: Duration = Duration::from_millis(10);
const REFRESH_LAST_PAUSE: Duration = Duration::from_millis(2_560);

/// Sent and received emails in one calendar month (UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthVolume {
    /// "2026-03"
    pub month: String,
    pub sent: i64,
    pub received: i64,
}

/// A contact's stored stats.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactStats {
    pub sent_count: i32,
    pub received_count: i32,
    pub first_interaction_at: Option<DateTime<Utc>>,
    pub last_interaction_at: Option<DateTime<Utc>>,
    pub last_sent_at: Option<DateTime<Utc>>,
    pub last_received_at: Option<DateTime<Utc>>,
    pub my_reply_median_secs: Option<f64>,
    pub my_reply_mean_secs: Option<f64>,
    pub my_reply_count: i32,
    pub their_reply_median_secs: Option<f64>,
    pub their_reply_mean_secs: Option<f64>,
    pub their_reply_count: i32,
    pub unanswered_inbound: i32,
    pub sent_90d: i32,
    pub received_90d: i32,
    /// The strength's weights as of `computed_at` (see [`StrengthInputs`]).
    pub sent_weight: f64,
    pub received_weight: f64,
    pub recent_weight: f64,
    pub monthly: Vec<MonthVolume>,
    pub frequency_score: i16,
    pub strength: i16,
    pub computed_at: DateTime<Utc>,
}

impl ContactStats {
    fn strength_inputs(&self, now: DateTime<Utc>) -> StrengthInputs {
        StrengthInputs {
            sent_90d: non_negative(self.sent_90d),
            received_90d: non_negative(self.received_90d),
            sent_total: non_negative(self.sent_count),
            received_total: non_negative(self.received_count),
            sent_weight: self.sent_weight,
            received_weight: self.received_weight,
            recent_weight: self.recent_weight,
            days_since_last: self
                .last_interaction_at
                .map(|at| (now - at).num_seconds() as f64 / 86_400.0),
            my_reply_median_secs: self.my_reply_median_secs,
            their_reply_median_secs: self.their_reply_median_secs,
        }
    }

    /// The strength in plain words, as of `now`.
    pub fn explanation(&self, now: DateTime<Utc>) -> String {
        strength::explain(&self.strength_inputs(now))
    }
}

fn non_negative(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

/// Recomputes the stats of `contacts` (ids of `user`'s contacts; others are ignored) as
/// of now. The processing pipeline calls this after it links activities to contacts.
///
/// It never waits on a row lock. Processing transactions lock stats rows in whatever
/// order their triggers fire (a renamed contact, a new identity), so a refresh that
/// waited on one row while holding others deadlocked with them (86 times in one
/// benchmark run, each costing `deadlock_timeout`). Instead each round locks the rows
/// nobody holds (`skip locked`), refreshes and commits them, and comes back for the rest
/// after a short pause; the holders are short transactions.
pub async fn refresh(scope: UserScope<'_>, contacts: &[Uuid]) -> Result<(), DomainError> {
    let mut pending: Vec<Uuid> = contacts.to_vec();
    pending.sort_unstable();
    pending.dedup();
    let mut pause = REFRESH_FIRST_PAUSE;
    loop {
        let mut tx = scope.pool.begin().await?;
        let free = sqlx::query_scalar!(
            "select contact_id from contact_stats where user_id = $1 and contact_id = any($2)
             order by contact_id for no key update skip locked",
            scope.user.0,
            &pending,
        )
        .fetch_all(&mut *tx)
        .await?;
        refresh_as_of(&mut tx, scope.user, &free, Utc::now()).await?;
        tx.commit().await?;
        // What is left either has a stats row someone holds, or none at all (another
        // user's id, a deleted contact, one not committed yet): only the first kind waits.
        pending = sqlx::query_scalar!(
            "select contact_id from contact_stats
             where user_id = $1 and contact_id = any($2) and not contact_id = any($3)",
            scope.user.0,
            &pending,
            &free,
        )
        .fetch_all(scope.pool)
        .await?;
        if pending.is_empty() {
            return Ok(());
        }
        if pause > REFRESH_LAST_PAUSE {
            // Held for seconds: a long transaction, not a processing batch; wait for it
            // like any update would.
            let mut conn = scope.pool.acquire().await?;
            return refresh_as_of(&mut conn, scope.user, &pending, Utc::now()).await;
        }
        tokio::time::sleep(pause).await;
        pause *= 2;
    }
}

/// Refreshes `contacts` and the user's contacts queued as stale, on `conn` (the caller's
/// transaction, which must hold the user: processing does, see
/// [`crate::processing::ActivityQueue`]), inside a savepoint. A refresh that fails for
/// any reason is rolled back alone and its contacts are queued as stale, with the
/// caller's transaction, to be retried by the next call for this user; the error is
/// logged, and only a failure to queue them fails the caller.
pub async fn refresh_or_queue(
    conn: &mut PgConnection,
    user: UserId,
    contacts: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let mut savepoint = sqlx::Connection::begin(&mut *conn).await?;
    let refreshed = async {
        let stale = sqlx::query_scalar!(
            "delete from contact_stats_stale where user_id = $1 returning contact_id",
            user.0,
        )
        .fetch_all(&mut *savepoint)
        .await?;
        let mut ids: Vec<Uuid> = contacts.iter().copied().chain(stale).collect();
        ids.sort_unstable();
        ids.dedup();
        refresh_as_of(&mut savepoint, user, &ids, now).await
    }
    .await;
    match refreshed {
        Ok(()) => Ok(savepoint.commit().await?),
        Err(error) => {
            savepoint.rollback().await?;
            tracing::warn!(%user, %error, contacts = contacts.len(), "refreshing contact stats failed; queued to retry");
            sqlx::query!(
                "insert into contact_stats_stale (user_id, contact_id)
                 select user_id, id from contacts where user_id = $1 and id = any($2)
                 on conflict do nothing",
                user.0,
                contacts,
            )
            .execute(&mut *conn)
            .await?;
            Ok(())
        }
    }
}

/// Recomputes every contact of the user, in batches.
pub async fn recompute_all(scope: UserScope<'_>) -> Result<(), DomainError> {
    recompute_all_as_of(scope, Utc::now()).await
}

/// [`recompute_all`] as of `now` (evaluations run on a fixed clock).
pub async fn recompute_all_as_of(
    scope: UserScope<'_>,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let ids = sqlx::query_scalar!(
        "select id from contacts where user_id = $1 order by id",
        scope.user.0
    )
    .fetch_all(scope.pool)
    .await?;
    let mut conn = scope.pool.acquire().await?;
    for batch in ids.chunks(RECOMPUTE_BATCH) {
        refresh_as_of(&mut conn, scope.user, batch, now).await?;
    }
    Ok(())
}

/// The set-based recomputation, on a connection the caller may hold a transaction on.
/// `now` anchors the 90-day window and the strength's weights.
pub async fn refresh_as_of(
    conn: &mut PgConnection,
    user: UserId,
    contacts: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    if contacts.is_empty() {
        return Ok(());
    }
    let inputs = sqlx::query!(
        r#"with msgs as (
             select distinct ap.contact_id, a.id as activity_id, a.occurred_at, a.thread_key,
                    a.direction = 'outbound' as sent
             from activity_participants ap
             join activities a on a.user_id = ap.user_id and a.id = ap.activity_id
             where ap.user_id = $1 and ap.contact_id = any($2)
               and a.deleted_at is null
               and ((a.direction = 'outbound' and ap.role in ('to', 'cc', 'bcc'))
                 or (a.direction = 'inbound' and ap.role = 'from')
                 -- A meeting counts once it has begun, unless it was cancelled.
                 or (a.channel = 'meeting' and ap.role in ('attendee', 'organizer')
                     and a.occurred_at <= $3
                     and not exists (select 1 from caldav_instances ce
                                     where ce.user_id = a.user_id and ce.activity_id = a.id
                                       and ce.status = 'cancelled')))
           ),
           ordered as (
             select contact_id, sent, thread_key,
                    extract(epoch from occurred_at - lag(occurred_at) over w)::float8 as gap,
                    lag(sent) over w as prev_sent
             from msgs
             where thread_key is not null
             window w as (partition by contact_id, thread_key order by occurred_at, activity_id)
           ),
           replies as materialized (
             select contact_id,
                    percentile_cont(0.5) within group (order by gap) filter (where sent and not prev_sent) as my_median,
                    avg(gap) filter (where sent and not prev_sent) as my_mean,
                    count(*) filter (where sent and not prev_sent) as my_count,
                    percentile_cont(0.5) within group (order by gap) filter (where not sent and prev_sent) as their_median,
                    avg(gap) filter (where not sent and prev_sent) as their_mean,
                    count(*) filter (where not sent and prev_sent) as their_count
             from ordered
             where prev_sent is not null
             group by contact_id
           ),
           last_inbound as (
             select contact_id, thread_key, max(occurred_at) as at
             from msgs
             where not sent and thread_key is not null
             group by contact_id, thread_key
           ),
           unanswered as materialized (
             select contact_id, count(*) as n
             from last_inbound li
             where not exists (
               select 1 from activities o
               where o.user_id = $1 and o.thread_key = li.thread_key and o.direction = 'outbound'
                 and o.deleted_at is null and o.occurred_at > li.at)
             group by contact_id
           ),
           months as materialized (
             select contact_id, jsonb_agg(jsonb_build_object(
                      'month', to_char(month, 'YYYY-MM'), 'sent', sent, 'received', received)
                      order by month) as series
             from (select contact_id, date_trunc('month', occurred_at at time zone 'UTC') as month,
                          count(*) filter (where sent) as sent,
                          count(*) filter (where not sent) as received
                   from msgs group by 1, 2) m
             group by contact_id
           ),
           totals as materialized (
             select contact_id,
                    count(*) filter (where sent) as sent_count,
                    count(*) filter (where not sent) as received_count,
                    min(occurred_at) as first_at, max(occurred_at) as last_at,
                    max(occurred_at) filter (where sent) as last_sent_at,
                    max(occurred_at) filter (where not sent) as last_received_at,
                    count(*) filter (where sent and occurred_at > $3::timestamptz - interval '90 days') as sent_90d,
                    count(*) filter (where not sent and occurred_at > $3::timestamptz - interval '90 days') as received_90d,
                    coalesce(sum(weight) filter (where sent), 0) as sent_weight,
                    coalesce(sum(weight) filter (where not sent), 0) as received_weight,
                    coalesce(sum(weight) filter (where occurred_at > $3::timestamptz - interval '90 days'), 0) as recent_weight
             from (select *, power(0.5, greatest(extract(epoch from $3::timestamptz - occurred_at)::float8, 0)
                                         / 86400 / $4::float8) as weight
                   from msgs) w
             group by contact_id
           )
           select c.id as "contact_id!",
                  coalesce(t.sent_count, 0)::int4 as "sent_count!",
                  coalesce(t.received_count, 0)::int4 as "received_count!",
                  t.first_at, t.last_at, t.last_sent_at, t.last_received_at,
                  r.my_median::float8 as my_median, r.my_mean::float8 as my_mean,
                  coalesce(r.my_count, 0)::int4 as "my_count!",
                  r.their_median::float8 as their_median, r.their_mean::float8 as their_mean,
                  coalesce(r.their_count, 0)::int4 as "their_count!",
                  coalesce(u.n, 0)::int4 as "unanswered!",
                  coalesce(t.sent_90d, 0)::int4 as "sent_90d!",
                  coalesce(t.received_90d, 0)::int4 as "received_90d!",
                  coalesce(t.sent_weight, 0)::float8 as "sent_weight!",
                  coalesce(t.received_weight, 0)::float8 as "received_weight!",
                  coalesce(t.recent_weight, 0)::float8 as "recent_weight!",
                  coalesce(m.series, '[]'::jsonb) as "monthly!"
           from contacts c
           left join totals t on t.contact_id = c.id
           left join replies r on r.contact_id = c.id
           left join unanswered u on u.contact_id = c.id
           left join months m on m.contact_id = c.id
           where c.user_id = $1 and c.id = any($2)
           order by c.id"#,
        user.0,
        contacts,
        now,
        strength::HALF_LIFE_DAYS,
    )
    .fetch_all(&mut *conn)
    .await?;

    // The scores are computed here, so each stats row is written once (one new row
    // version and one entry per index), in contact order.
    let n = inputs.len();
    let mut ids = Vec::with_capacity(n);
    let (mut sent, mut received) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut first, mut last) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut last_sent, mut last_received) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut my_median, mut my_mean, mut my_count) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut their_median, mut their_mean, mut their_count) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let mut unanswered = Vec::with_capacity(n);
    let (mut sent_90d, mut received_90d) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut sent_weight, mut received_weight, mut recent_weight) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let mut monthly = Vec::with_capacity(n);
    let (mut frequencies, mut strengths) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for row in inputs {
        let scored = StrengthInputs {
            sent_90d: non_negative(row.sent_90d),
            received_90d: non_negative(row.received_90d),
            sent_total: non_negative(row.sent_count),
            received_total: non_negative(row.received_count),
            sent_weight: row.sent_weight,
            received_weight: row.received_weight,
            recent_weight: row.recent_weight,
            days_since_last: row
                .last_at
                .map(|at| (now - at).num_seconds() as f64 / 86_400.0),
            my_reply_median_secs: row.my_median,
            their_reply_median_secs: row.their_median,
        };
        frequencies.push(i16::from(strength::frequency_score(
            scored.sent_90d + scored.received_90d,
        )));
        strengths.push(i16::from(strength::strength(&scored)));
        ids.push(row.contact_id);
        sent.push(row.sent_count);
        received.push(row.received_count);
        first.push(row.first_at);
        last.push(row.last_at);
        last_sent.push(row.last_sent_at);
        last_received.push(row.last_received_at);
        my_median.push(row.my_median);
        my_mean.push(row.my_mean);
        my_count.push(row.my_count);
        their_median.push(row.their_median);
        their_mean.push(row.their_mean);
        their_count.push(row.their_count);
        unanswered.push(row.unanswered);
        sent_90d.push(row.sent_90d);
        received_90d.push(row.received_90d);
        sent_weight.push(row.sent_weight);
        received_weight.push(row.received_weight);
        recent_weight.push(row.recent_weight);
        monthly.push(row.monthly);
    }
    sqlx::query!(
        r#"insert into contact_stats as s (
             user_id, contact_id, sent_count, received_count, first_interaction_at,
             last_interaction_at, last_sent_at, last_received_at,
             my_reply_median_secs, my_reply_mean_secs, my_reply_count,
             their_reply_median_secs, their_reply_mean_secs, their_reply_count,
             unanswered_inbound, sent_90d, received_90d, sent_weight, received_weight,
             recent_weight, monthly, frequency_score, strength, computed_at)
           select $1, v.* , $24::timestamptz
           from unnest($2::uuid[], $3::int4[], $4::int4[], $5::timestamptz[], $6::timestamptz[],
                       $7::timestamptz[], $8::timestamptz[], $9::float8[], $10::float8[],
                       $11::int4[], $12::float8[], $13::float8[], $14::int4[], $15::int4[],
                       $16::int4[], $17::int4[], $18::float8[], $19::float8[], $20::float8[],
                       $21::jsonb[], $22::int2[], $23::int2[]) as v
           on conflict (user_id, contact_id) do update set
             sent_count = excluded.sent_count, received_count = excluded.received_count,
             first_interaction_at = excluded.first_interaction_at,
             last_interaction_at = excluded.last_interaction_at,
             last_sent_at = excluded.last_sent_at, last_received_at = excluded.last_received_at,
             my_reply_median_secs = excluded.my_reply_median_secs,
             my_reply_mean_secs = excluded.my_reply_mean_secs, my_reply_count = excluded.my_reply_count,
             their_reply_median_secs = excluded.their_reply_median_secs,
             their_reply_mean_secs = excluded.their_reply_mean_secs,
             their_reply_count = excluded.their_reply_count,
             unanswered_inbound = excluded.unanswered_inbound,
             sent_90d = excluded.sent_90d, received_90d = excluded.received_90d,
             sent_weight = excluded.sent_weight, received_weight = excluded.received_weight,
             recent_weight = excluded.recent_weight, monthly = excluded.monthly,
             frequency_score = excluded.frequency_score, strength = excluded.strength,
             computed_at = excluded.computed_at"#,
        user.0,
        &ids,
        &sent,
        &received,
        &first as &[Option<DateTime<Utc>>],
        &last as &[Option<DateTime<Utc>>],
        &last_sent as &[Option<DateTime<Utc>>],
        &last_received as &[Option<DateTime<Utc>>],
        &my_median as &[Option<f64>],
        &my_mean as &[Option<f64>],
        &my_count,
        &their_median as &[Option<f64>],
        &their_mean as &[Option<f64>],
        &their_count,
        &unanswered,
        &sent_90d,
        &received_90d,
        &sent_weight,
        &received_weight,
        &recent_weight,
        &monthly,
        &frequencies,
        &strengths,
        now,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl ContactsScope<'_> {
    /// The stored stats of one of the user's contacts.
    pub async fn stats(self, contact: Uuid) -> Result<ContactStats, DomainError> {
        let row = sqlx::query!(
            r#"select sent_count, received_count, first_interaction_at, last_interaction_at,
                      last_sent_at, last_received_at, my_reply_median_secs, my_reply_mean_secs,
                      my_reply_count, their_reply_median_secs, their_reply_mean_secs,
                      their_reply_count, unanswered_inbound, sent_90d, received_90d, sent_weight,
                      received_weight, recent_weight, monthly,
                      frequency_score, strength, computed_at
               from contact_stats where user_id = $1 and contact_id = $2"#,
            self.user.0,
            contact,
        )
        .fetch_optional(self.pool)
        .await?
        .ok_or(DomainError::NotFound("contact"))?;
        Ok(ContactStats {
            sent_count: row.sent_count,
            received_count: row.received_count,
            first_interaction_at: row.first_interaction_at,
            last_interaction_at: row.last_interaction_at,
            last_sent_at: row.last_sent_at,
            last_received_at: row.last_received_at,
            my_reply_median_secs: row.my_reply_median_secs,
            my_reply_mean_secs: row.my_reply_mean_secs,
            my_reply_count: row.my_reply_count,
            their_reply_median_secs: row.their_reply_median_secs,
            their_reply_mean_secs: row.their_reply_mean_secs,
            their_reply_count: row.their_reply_count,
            unanswered_inbound: row.unanswered_inbound,
            sent_90d: row.sent_90d,
            received_90d: row.received_90d,
            sent_weight: row.sent_weight,
            received_weight: row.received_weight,
            recent_weight: row.recent_weight,
            monthly: parse_monthly(row.monthly),
            frequency_score: row.frequency_score,
            strength: row.strength,
            computed_at: row.computed_at,
        })
    }
}

/// The stored series; a malformed value (never written by this module) reads as empty.
pub(crate) fn parse_monthly(value: serde_json::Value) -> Vec<MonthVolume> {
    serde_json::from_value(value).unwrap_or_default()
}
