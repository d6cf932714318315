//! Reading a long conversation: the server-side render of the thread page for a
//! 100-message thread (plain text with quotes and HTML messages, three people each),
//! among 20,000 other emails of the same user, over real HTTP, one request at a time.

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::contacts::measure;

pub struct Scale {
    pub messages: i64,
    pub requests: usize,
}

/// The demo account the bench signs in as (the in-process fake Google's first mailbox).
const DEMO_EMAIL: &str = "alex.morgan@brightwater-labs.com";

/// Other mail of the same user, so finding the thread is not a scan of a tiny table.
const OTHER_EMAILS: i64 = 20_000;

pub async fn run(
    database_url: &str,
    scale: &Scale,
) -> anyhow::Result<(BTreeMap<String, f64>, String)> {
    let server = crate::serve::start(database_url).await?;
    let address = server.address.clone();
    let (signed_in, user) =
        crate::client::User::sign_in_with_id(&address, DEMO_EMAIL, &server.sql).await?;
    let client = signed_in.client;
    let opened = seed(&server.sql, user, scale.messages).await?;

    let page = vec![format!("/mail/{opened}")];
    let check = client.get(format!("{address}{}", page[0])).send().await?;
    let html = check.text().await?;
    let shown = html.matches("data-testid=\"thread-message\"").count();
    anyhow::ensure!(
        shown == scale.messages as usize,
        "the thread page shows {shown} messages, not {}",
        scale.messages
    );
    measure(&client, &address, &page, scale.requests / 10, 1).await?;
    let view = measure(&client, &address, &page, scale.requests, 1).await?;

    let key = format!("thread.view_{}", scale.messages);
    let figures = BTreeMap::from([
        (format!("{key}.p50_ms"), view.p50),
        (format!("{key}.p99_ms"), view.p99),
    ]);
    let markdown = format!(
        "The thread page (`GET /mail/{{id}}`, server-rendered, release build) for a \
         {}-message conversation (half plain text with a quoted reply, half HTML; From, \
         To and Cc on each) among {OTHER_EMAILS} other emails of the same user; {} \
         requests one at a time over HTTP on 127.0.0.1 after a warm-up. Target: under \
         100 ms.\n\n\
         | request | p50 | p99 | max |\n|---|---|---|---|\n\
         | thread of {} messages | {:.1} ms | {:.1} ms | {:.1} ms |\n",
        scale.messages, scale.requests, scale.messages, view.p50, view.p99, view.max,
    );
    Ok((figures, markdown))
}

/// The thread (Gmail thread id, References chain, alternating directions) and the
/// other mail; returns the id of a message in the middle of the thread.
async fn seed(pool: &sqlx::PgPool, user: Uuid, messages: i64) -> anyhow::Result<Uuid> {
    let account: Uuid = sqlx::query_scalar(
        "insert into accounts (user_id, provider, external_id) values ($1, 'google', 'bench-thread') returning id",
    )
    .bind(user)
    .fetch_one(pool)
    .await?;
    sqlx::query(
        "insert into activities (user_id, account_id, external_id, channel, direction, occurred_at,
                                 thread_key, subject, snippet, body_text, body_html, headers, state)
         select $1, $2, 'other-' || g, 'email', 'inbound', now() - g * interval '1 hour',
                'other-' || (g / 3), 'Subject ' || (g / 3), 'snippet', 'Body ' || g, null,
                jsonb_build_object('message_id', 'other-' || g || '@bench.example'), 'completed'
         from generate_series(1, $3::int8) g",
    )
    .bind(user)
    .bind(account)
    .bind(OTHER_EMAILS)
    .execute(pool)
    .await?;
    sqlx::query(
        "insert into activities (user_id, account_id, external_id, channel, direction, occurred_at,
                                 thread_key, subject, snippet, body_text, body_html, headers, attachments, state)
         select $1, $2, 'thread-' || g, 'email',
                case when g % 2 = 0 then 'inbound' else 'outbound' end,
                now() - interval '30 days' + g * interval '20 minutes',
                'bench-thread', case when g = 1 then 'Launch plan' else 'Re: Launch plan' end,
                'Reply number ' || g,
                'Reply number ' || g || E'. ' || repeat('Some considered thoughts on the launch. ', 20)
                  || E'\n\nOn Monday, Ann Example <ann@partner.example> wrote:\n> '
                  || repeat(E'Earlier text that was quoted.\n> ', 30),
                case when g % 2 = 0 then
                  '<div dir=\"ltr\"><p>Reply number ' || g || '</p>' || repeat('<p>A paragraph of HTML.</p>', 20)
                  || '<img data-remote-src=\"https://partner.example/o/' || g || '.gif\" alt=\"\"></div>'
                end,
                jsonb_build_object(
                  'message_id', 'thread-' || g || '@bench.example',
                  'references', case when g = 1 then '[]'::jsonb
                                     else jsonb_build_array('thread-1@bench.example') end),
                case when g % 10 = 0 then
                  '[{\"filename\": \"deck.pdf\", \"content_type\": \"application/pdf\", \"size\": 240000, \"content_id\": null, \"inline\": false}]'::jsonb
                  else '[]'::jsonb end,
                'completed'
         from generate_series(1, $3::int8) g",
    )
    .bind(user)
    .bind(account)
    .bind(messages)
    .execute(pool)
    .await?;
    sqlx::query(
        "insert into activity_participants (user_id, activity_id, role, address_kind, address, display_name, occurred_at)
         select a.user_id, a.id, p.role, 'email', p.address, p.name, a.occurred_at
         from activities a
         cross join (values ('from', 'ann@partner.example', 'Ann Example'),
                            ('to', 'alex.morgan@brightwater-labs.com', 'Alex Morgan'),
                            ('cc', 'lee@partner.example', 'Lee Example')) p(role, address, name)
         where a.user_id = $1 and a.thread_key = 'bench-thread'",
    )
    .bind(user)
    .execute(pool)
    .await?;
    sqlx::query("vacuum analyze").execute(pool).await?;
    let opened = sqlx::query_scalar(
        "select id from activities where user_id = $1 and external_id = 'thread-' || ($2::int8 / 2)",
    )
    .bind(user)
    .bind(messages)
    .fetch_one(pool)
    .await?;
    Ok(opened)
}
