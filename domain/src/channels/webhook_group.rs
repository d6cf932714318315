//! Storing webhooks a group at a time. Webhooks that arrive together are stored by one
//! set-based statement (the blocklist, the activities, then everything that follows from
//! their outcomes: participants, search documents, ledger and counters), so the commit's
//! flush and the statement's fixed cost (parse, plan, executor start, the tables' check
//! constraints and statement triggers) are paid once per group: stored one per
//! transaction, a webhook took thirteen round trips and ~1.6 ms of Postgres CPU. A group
//! is stored whole or not at all, and each webhook is answered only after it commits. The
//! rare ones (a retry, a call with recordings) finish one by one after the statement.

use std::collections::{HashMap, HashSet};

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::providers::ParsedWebhook;
use super::store::{ChannelAuth, IngestOutcome};
use super::{Address, BlockEntry, ChannelError, ChannelProvider};
use crate::processing::wake_after_commit;

/// One webhook of a group: its checked channel and its parsed payload.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Incoming<'a> {
    pub auth: &'a ChannelAuth,
    pub webhook: &'a ParsedWebhook,
}

/// The session settings of a connection that writes groups: the insert triggers'
/// NOTIFYs would hold the notify lock through each commit's flush, so the processors and
/// live views are woken after the commit instead ([`wake_owners`]); the search documents
/// are written whole with the participants, not by the triggers in two steps.
/// And their statements are planned once per connection: planned afresh for each group
/// (Postgres kept choosing custom plans), the statement that follows the outcomes spent
/// 0.48 ms planning (inlining the search document functions) for 0.64 ms running. Every
/// statement a writer runs reads by a key it is given, which a generic plan does as well.
pub(crate) const WRITER_SETTINGS: [(&str, &str); 3] = [
    ("rapport.wake_later", "on"),
    ("rapport.search_docs_by_writer", "on"),
    ("plan_cache_mode", "force_generic_plan"),
];

/// Stores the group in one transaction on a connection of the shared pool and wakes the
/// owners' processors and live views; the outcomes are in the group's order, each as if
/// the webhooks had been stored one after another in that order.
pub(crate) async fn store_group(
    pool: &PgPool,
    group: &[Incoming<'_>],
) -> Result<Vec<IngestOutcome>, ChannelError> {
    let mut tx = pool.begin().await?;
    // The writers' settings, for this transaction only.
    let (names, values): (Vec<&str>, Vec<&str>) = WRITER_SETTINGS.iter().copied().unzip();
    sqlx::query!(
        "select count(set_config(s.name, s.value, true)) as \"settings!\"
         from unnest($1::text[], $2::text[]) as s(name, value)",
        &names as &[&str],
        &values as &[&str],
    )
    .fetch_one(&mut *tx)
    .await?;
    let outcomes = write_group(&mut tx, group).await?;
    tx.commit().await?;
    wake_owners(pool, &owners(group, &outcomes)).await;
    Ok(outcomes)
}

/// Writes the group on a connection with [`WRITER_SETTINGS`], in the caller's
/// transaction when [`needs_transaction`] says so; the caller commits, then wakes the
/// [`owners`]. Outside a transaction the group is still stored whole or not at all (one
/// statement), and a failed group stored again finds what it stored (a retry).
pub(crate) async fn write_group(
    conn: &mut PgConnection,
    group: &[Incoming<'_>],
) -> Result<Vec<IngestOutcome>, ChannelError> {
    let outcomes = store_statement(conn, group).await?;
    let outcomes = resolve_duplicates(conn, group, outcomes).await?;
    attach_recordings(conn, group, &outcomes).await?;
    Ok(outcomes)
}

/// Whether the group must be written in a transaction: a call's recordings are attached
/// after the statement, and a call is stored with them or not at all.
pub(crate) fn needs_transaction(group: &[Incoming<'_>]) -> bool {
    group
        .iter()
        .any(|w| w.auth.provider == ChannelProvider::Twilio)
}

/// The users with a newly stored activity, each once.
pub(crate) fn owners(group: &[Incoming<'_>], outcomes: &[IngestOutcome]) -> Vec<Uuid> {
    let mut owners: Vec<Uuid> = group
        .iter()
        .zip(outcomes)
        .filter(|(_, o)| matches!(o, IngestOutcome::Stored(_)))
        .map(|(w, _)| w.auth.user.0)
        .collect();
    owners.sort_unstable();
    owners.dedup();
    owners
}

/// Wakes the processors and the owners' live views once their webhooks are committed.
/// The webhooks are stored: a failed wake-up must not report them lost (their senders
/// would retry, as duplicates). Processors and live views also poll.
pub(crate) async fn wake_owners(pool: &PgPool, owners: &[Uuid]) {
    if owners.is_empty() {
        return;
    }
    if let Err(error) = wake_after_commit(pool, owners).await {
        tracing::warn!(%error, "stored webhooks, but could not notify processors and live views");
    }
}

/// The senders as the blocklist stores them (emails, their domains, phone numbers), each
/// key once.
fn sender_keys<'a>(senders: impl Iterator<Item = &'a Address>) -> Vec<(&'static str, String)> {
    let mut keys = Vec::new();
    for sender in senders {
        match sender {
            Address::Email(e) => {
                keys.push(("email", e.as_str().to_owned()));
                keys.push(("domain", e.domain().to_owned()));
            }
            Address::Phone(p) => keys.push(("phone", p.as_str().to_owned())),
            Address::Handle(_) => {}
        }
    }
    let mut seen = HashSet::new();
    keys.retain(|key| seen.insert(key.clone()));
    keys
}

/// A webhook's outcome as [`store_statement`] leaves it: stored, dropped, or not yet
/// known (its provider id was already an activity's: a duplicate, resolved after).
type Written = Option<IngestOutcome>;

/// The whole group in one statement: the blocklist's hits (the webhooks a sender's entry
/// drops), the activities of the others, and everything that follows from the outcomes:
/// the new activities' people, their search documents (content and people, as the
/// triggers would build them for any other writer), the ledger lines and the channels'
/// counters (as [`count_deliveries`] adds them). Known contacts (email, or phone in
/// E.164) are linked at once, so the activity shows on their timelines while it waits
/// for processing. One statement, not one per step in a transaction: each step's round
/// trip, and BEGIN's and COMMIT's, cost more of the machine than the step itself.
///
/// Webhooks are numbered from 1 in the group's order; of two with the same provider id
/// the first is stored and the later one is its duplicate, and the later one's ledger
/// line stands, as if they had been stored one after the other.
async fn store_statement(
    conn: &mut PgConnection,
    group: &[Incoming<'_>],
) -> Result<Vec<Written>, ChannelError> {
    let numbered = || (1_i64..).zip(group);
    let mut keys = KeyColumns::default();
    for (n, w) in numbered() {
        for (kind, value) in sender_keys(w.webhook.activity.senders()) {
            keys.entry.push(
                BlockEntry::from_stored(kind, &value)
                    .map_or_else(|| value.clone(), |e| e.display()),
            );
            keys.n.push(n);
            keys.kind.push(kind.to_owned());
            keys.value.push(value);
        }
    }
    let people: Vec<(i64, &super::Participant)> = numbered()
        .flat_map(|(n, w)| w.webhook.activity.participants.iter().map(move |p| (n, p)))
        .collect();
    let column = |f: &dyn Fn(&Incoming) -> Option<String>| -> Vec<Option<String>> {
        group.iter().map(|w| f(w).as_deref().map(pg)).collect()
    };
    let written = sqlx::query!(
        r#"with w as (
             select * from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[],
               $6::timestamptz[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],
               $12::jsonb[], $13::jsonb[], $14::jsonb[], $15::int8[], $16::uuid[])
               with ordinality as w(user_id, account_id, external_id, channel, direction,
                 occurred_at, thread_key, subject, snippet, body_text, body_html, headers,
                 attachments, raw_payload, size_bytes, ingestion_channel, n)
           ),
           keys as (
             select k.n, w.user_id, k.kind, k.value, k.entry, k.place
             from unnest($17::int8[], $18::text[], $19::text[], $20::text[])
               with ordinality as k(n, kind, value, entry, place)
             join w on w.n = k.n
           ),
           hits as (
             update blocklist b set hits = b.hits + k.webhooks
             from (select user_id, kind, value, count(*) as webhooks
                   from keys group by user_id, kind, value) k
             where b.user_id = k.user_id and b.kind = k.kind and b.value = k.value
             returning b.user_id, b.kind, b.value
           ),
           dropped as (
             select distinct on (k.n) k.n, k.entry
             from keys k
             join hits h on h.user_id = k.user_id and h.kind = k.kind and h.value = k.value
             order by k.n, k.place
           ),
           kept as (
             select * from w where not exists (select 1 from dropped d where d.n = w.n)
           ),
           inserted as (
             insert into activities (user_id, account_id, external_id, channel, direction,
               occurred_at, thread_key, subject, snippet, body_text, body_html, headers,
               attachments, raw_payload, size_bytes)
             select user_id, account_id, external_id, channel, direction, occurred_at,
                    thread_key, subject, snippet, body_text, body_html, headers, attachments,
                    raw_payload, size_bytes
             from kept order by n
             on conflict (account_id, external_id) do nothing
             returning id, account_id, external_id
           ),
           stored as (
             select distinct on (i.id) i.id, k.*
             from inserted i
             join kept k on k.account_id = i.account_id and k.external_id = i.external_id
             order by i.id, k.n
           ),
           people as (
             insert into activity_participants
               (user_id, activity_id, role, address_kind, address, display_name, occurred_at,
                contact_id)
             select s.user_id, s.id, p.role, p.kind, p.address, p.display_name, s.occurred_at,
                    (select coalesce(c.merged_into, c.id)
                     from contact_identities ci
                     join contacts c on c.user_id = ci.user_id and c.id = ci.contact_id
                     where ci.user_id = s.user_id and ci.kind = p.kind
                       and ci.value = p.address)
             from unnest($21::int8[], $22::text[], $23::text[], $24::text[], $25::text[])
               as p(n, role, kind, address, display_name)
             join stored s on s.n = p.n
             on conflict do nothing
             returning activity_id, role, display_name, address
           ),
           documents as (
             insert into activity_search (activity_id, user_id, occurred_at, doc)
             select s.id, s.user_id, s.occurred_at,
                    search_content_doc(s.channel, s.subject, s.body_text, s.attachments)
                      || coalesce(d.doc, '')
             from stored s
             left join (
               select activity_id,
                      search_people_doc(array_agg(role), array_agg(display_name),
                                        array_agg(address)) as doc
               from people group by activity_id
             ) d on d.activity_id = s.id
           ),
           ledger as (
             insert into sync_ledger (user_id, account_id, external_id, outcome, rule,
                                      activity_id)
             select distinct on (l.account_id, l.external_id)
                    l.user_id, l.account_id, l.external_id, l.outcome, l.rule, l.activity_id
             from (select s.n, s.user_id, s.account_id, s.external_id, 'imported' as outcome,
                          null::text as rule, s.id as activity_id
                   from stored s
                   union all
                   select w.n, w.user_id, w.account_id, w.external_id, 'filtered',
                          'blocklist:' || d.entry, null::uuid
                   from dropped d join w on w.n = d.n) l
             order by l.account_id, l.external_id, l.n desc
             on conflict (account_id, external_id) do update
               set outcome = excluded.outcome, rule = excluded.rule,
                   activity_id = coalesce(excluded.activity_id, sync_ledger.activity_id)
           ),
           tallies as (
             select w.ingestion_channel, count(s.id) as received, count(d.n) as dropped,
                    count(*) - count(s.id) - count(d.n) as duplicates
             from w
             left join stored s on s.n = w.n
             left join dropped d on d.n = w.n
             group by w.ingestion_channel
           )
           select
             (select count_channel_deliveries(array_agg(ingestion_channel),
                       array_agg(received), array_agg(duplicates), array_agg(dropped))
              from tallies) as "channels!",
             coalesce((select array_agg(n order by n) from stored), '{}') as "stored_n!: Vec<i64>",
             coalesce((select array_agg(id order by n) from stored), '{}')
               as "stored_id!: Vec<Uuid>",
             coalesce((select array_agg(n order by n) from dropped), '{}') as "dropped_n!: Vec<i64>",
             coalesce((select array_agg(entry order by n) from dropped), '{}')
               as "dropped_entry!: Vec<String>""#,
        &group.iter().map(|w| w.auth.user.0).collect::<Vec<_>>(),
        &group.iter().map(|w| w.auth.account).collect::<Vec<_>>(),
        &group
            .iter()
            .map(|w| w.webhook.activity.external_id.clone())
            .collect::<Vec<_>>(),
        &group
            .iter()
            .map(|w| w.webhook.activity.channel.as_str().to_owned())
            .collect::<Vec<_>>(),
        &group
            .iter()
            .map(|w| w.webhook.activity.direction.as_str().to_owned())
            .collect::<Vec<_>>(),
        &group
            .iter()
            .map(|w| w.webhook.activity.occurred_at)
            .collect::<Vec<_>>(),
        &column(&|w| w.webhook.activity.conversation_key()) as &[Option<String>],
        &column(&|w| w.webhook.activity.subject.clone()) as &[Option<String>],
        &column(&|w| w.webhook.activity.snippet()) as &[Option<String>],
        &column(&|w| w.webhook.activity.text.clone()) as &[Option<String>],
        &column(&|w| w.webhook.activity.html.clone()) as &[Option<String>],
        &group
            .iter()
            .map(|w| w.webhook.activity.headers.clone())
            .collect::<Vec<_>>(),
        &group.iter().map(|w| attachments(w)).collect::<Vec<_>>(),
        &group
            .iter()
            .map(|w| w.webhook.raw.clone())
            .collect::<Vec<_>>(),
        &group
            .iter()
            .map(|w| i64::try_from(w.webhook.raw.to_string().len()).unwrap_or(i64::MAX))
            .collect::<Vec<_>>(),
        &group.iter().map(|w| w.auth.channel).collect::<Vec<_>>(),
        &keys.n,
        &keys.kind,
        &keys.value,
        &keys.entry,
        &people.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        &people
            .iter()
            .map(|(_, p)| p.role.as_str().to_owned())
            .collect::<Vec<_>>(),
        &people
            .iter()
            .map(|(_, p)| p.address.kind().as_str().to_owned())
            .collect::<Vec<_>>(),
        &people
            .iter()
            .map(|(_, p)| pg(p.address.value()))
            .collect::<Vec<_>>(),
        &people
            .iter()
            .map(|(_, p)| p.display_name.as_deref().map(pg))
            .collect::<Vec<_>>() as &[Option<String>],
    )
    .fetch_one(&mut *conn)
    .await?;
    let mut outcomes: Vec<Written> = group.iter().map(|_| None).collect();
    let mut set = |n: i64, outcome: IngestOutcome| {
        if let Some(slot) = usize::try_from(n - 1)
            .ok()
            .and_then(|i| outcomes.get_mut(i))
        {
            *slot = Some(outcome);
        }
    };
    for (n, id) in written.stored_n.into_iter().zip(written.stored_id) {
        set(n, IngestOutcome::Stored(id));
    }
    for (n, entry) in written.dropped_n.into_iter().zip(written.dropped_entry) {
        set(n, IngestOutcome::Dropped { entry });
    }
    Ok(outcomes)
}

/// The blocklist keys of a group's webhooks, a column each; `entry` is how the user sees
/// the entry a key would match (the drop's reason).
#[derive(Default)]
struct KeyColumns {
    n: Vec<i64>,
    kind: Vec<String>,
    value: Vec<String>,
    entry: Vec<String>,
}

/// The webhooks the statement neither stored nor dropped are duplicates: of an earlier
/// webhook of the group with the same provider id, or of an activity stored before.
async fn resolve_duplicates(
    conn: &mut PgConnection,
    group: &[Incoming<'_>],
    outcomes: Vec<Written>,
) -> Result<Vec<IngestOutcome>, ChannelError> {
    let key = |w: &Incoming<'_>| (w.auth.account, w.webhook.activity.external_id.clone());
    let mut known: HashMap<(Uuid, String), Uuid> = group
        .iter()
        .zip(&outcomes)
        .filter_map(|(w, o)| match o {
            Some(IngestOutcome::Stored(id)) => Some((key(w), *id)),
            _ => None,
        })
        .collect();
    let earlier: Vec<&Incoming> = group
        .iter()
        .zip(&outcomes)
        .filter(|(w, o)| o.is_none() && !known.contains_key(&key(w)))
        .map(|(w, _)| w)
        .collect();
    if !earlier.is_empty() {
        let existing = sqlx::query!(
            r#"select a.account_id, a.external_id, a.id
               from activities a
               join unnest($1::uuid[], $2::uuid[], $3::text[]) as w(user_id, account_id, external_id)
                 on a.user_id = w.user_id and a.account_id = w.account_id
                and a.external_id = w.external_id"#,
            &earlier.iter().map(|w| w.auth.user.0).collect::<Vec<_>>(),
            &earlier.iter().map(|w| w.auth.account).collect::<Vec<_>>(),
            &earlier
                .iter()
                .map(|w| w.webhook.activity.external_id.clone())
                .collect::<Vec<_>>(),
        )
        .fetch_all(&mut *conn)
        .await?;
        known.extend(
            existing
                .into_iter()
                .map(|r| ((r.account_id, r.external_id), r.id)),
        );
    }
    group
        .iter()
        .zip(outcomes)
        .map(|(w, outcome)| match outcome {
            Some(outcome) => Ok(outcome),
            // Only another user's channel sharing the account could hide it, which the
            // schema rules out (an account belongs to one user).
            None => known
                .get(&key(w))
                .map(|id| IngestOutcome::Duplicate(*id))
                .ok_or(ChannelError::Database(sqlx::Error::RowNotFound)),
        })
        .collect()
}

/// What one channel's settings card counts for a group (or a single callback).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    pub received: i64,
    pub duplicates: i64,
    pub dropped: i64,
}

/// Tallies as `count_channel_deliveries` takes them: a column each.
struct TallyColumns {
    channels: Vec<Uuid>,
    received: Vec<i64>,
    duplicates: Vec<i64>,
    dropped: Vec<i64>,
}

impl TallyColumns {
    fn of(tallies: &HashMap<Uuid, Tally>) -> Self {
        let mut columns = Self {
            channels: Vec::new(),
            received: Vec::new(),
            duplicates: Vec::new(),
            dropped: Vec::new(),
        };
        for (channel, tally) in tallies {
            columns.channels.push(*channel);
            columns.received.push(tally.received);
            columns.duplicates.push(tally.duplicates);
            columns.dropped.push(tally.dropped);
        }
        columns
    }
}

/// Adds to the channels' counters in the caller's transaction
/// (`count_channel_deliveries`: on this connection's shard, so concurrent writers never
/// wait for each other's commit; one counter row per channel made every webhook wait for
/// the previous one's flush). A zero tally still marks the channel as heard from now.
pub(crate) async fn count_deliveries(
    conn: &mut PgConnection,
    tallies: &HashMap<Uuid, Tally>,
) -> Result<(), sqlx::Error> {
    let tallies = TallyColumns::of(tallies);
    sqlx::query!(
        r#"select count_channel_deliveries($1::uuid[], $2::int8[], $3::int8[], $4::int8[])
             as "channels!""#,
        &tallies.channels,
        &tallies.received,
        &tallies.duplicates,
        &tallies.dropped,
    )
    .fetch_one(conn)
    .await?;
    Ok(())
}

/// Recordings a webhook names, and those whose callbacks came before its call: looked up
/// for the whole group at once, attached one call at a time (few webhooks have any).
async fn attach_recordings(
    tx: &mut PgConnection,
    group: &[Incoming<'_>],
    outcomes: &[IngestOutcome],
) -> Result<(), ChannelError> {
    let calls: Vec<(&Incoming, Uuid)> = group
        .iter()
        .zip(outcomes)
        .filter_map(|(w, o)| match o {
            IngestOutcome::Stored(id) | IngestOutcome::Duplicate(id) => Some((w, *id)),
            IngestOutcome::Dropped { .. } => None,
        })
        .collect();
    // Recordings wait for their call only when a Twilio callback came first.
    let twilio: Vec<&(&Incoming, Uuid)> = calls
        .iter()
        .filter(|(w, _)| w.auth.provider == ChannelProvider::Twilio)
        .collect();
    let waiting = if twilio.is_empty() {
        Vec::new()
    } else {
        sqlx::query!(
            r#"select distinct r.account_id, r.call_external_id
           from call_recordings r
           join unnest($1::uuid[], $2::text[]) as w(account_id, external_id)
             on r.account_id = w.account_id and r.call_external_id = w.external_id
           where r.activity_id is null"#,
            &twilio
                .iter()
                .map(|(w, _)| w.auth.account)
                .collect::<Vec<_>>(),
            &twilio
                .iter()
                .map(|(w, _)| w.webhook.activity.external_id.clone())
                .collect::<Vec<_>>(),
        )
        .fetch_all(&mut *tx)
        .await?
    };
    let waiting: HashSet<(Uuid, &str)> = waiting
        .iter()
        .map(|r| (r.account_id, r.call_external_id.as_str()))
        .collect();
    for (w, activity) in calls {
        let external_id = &w.webhook.activity.external_id;
        let found = crate::calls::recordings_in(w.auth.provider, w.webhook);
        if found.is_empty() && !waiting.contains(&(w.auth.account, external_id.as_str())) {
            continue;
        }
        crate::calls::attach_recordings(
            tx,
            w.auth.user,
            w.auth.account,
            activity,
            external_id,
            &found,
        )
        .await?;
    }
    Ok(())
}

fn attachments(w: &Incoming) -> serde_json::Value {
    serde_json::Value::from(w.webhook.activity.attachments.clone())
}

/// Postgres text cannot hold NUL.
fn pg(text: &str) -> String {
    text.replace('\0', "")
}
