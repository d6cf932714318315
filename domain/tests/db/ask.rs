//! Ask Rapport against a real PostgreSQL: the tools on a hand-computed fixture, the
//! offline engine's answers and citations, and user scoping with two users' mailboxes.

use std::collections::HashSet;

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::ask::offline;
use domain::ask::period::Period;
use domain::ask::tools::{Awaiting, ContactFilter, Limit, MessageFilter, Metric};
use domain::ask::{AnswerValue, answer::links_in};
use domain::ingest::{IncomingEmail, IngestFilter};
use domain::jobs::WorkerId;
use domain::processing::{Processor, ProcessorOptions};
use domain::{Db, UserId};
use fakes::mailbox::{Mailbox, MailboxSpec};
use uuid::Uuid;

use crate::helpers::{TestUser, fresh_db, user};

fn at(d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, d, h, 0, 0).unwrap()
}

fn now() -> DateTime<Utc> {
    at(27, 12)
}

/// One email in `thread`, with a body "Body of <subject>"; `people` are (role, address,
/// contact).
async fn email(
    owner: &TestUser,
    thread: &str,
    direction: &str,
    when: DateTime<Utc>,
    subject: &str,
    people: &[(&'static str, &str, Uuid)],
) -> Uuid {
    let mut email = owner
        .email(when)
        .direction(direction)
        .thread(thread)
        .subject(subject)
        .body(&format!("Body of {subject}"));
    for &(role, address, contact) in people {
        email = email.person(role, address, Some(contact));
    }
    email.insert().await
}

struct Fixture {
    db: Db,
    me: UserId,
    dana: Uuid,
    sam: Uuid,
    t2_reply: Uuid,
}

const DANA: &str = "dana@acme.example";
const SAM: &str = "sam@acme.example";

/// Dana: t1 (she writes, I reply), t2 (I write, she replies, I never answer).
/// Sam: t3 (I write twice, he never answers), cc'd on my first t2 message.
async fn fixture() -> Fixture {
    let db = fresh_db().await;
    let owner = TestUser::create(&db, "me@example.com").await;
    let me = owner.id;
    let dana = owner.contact("Dana Ito").email(DANA).insert().await;
    let sam = owner.contact("Sam Lee").email(SAM).insert().await;
    email(
        &owner,
        "t1",
        "inbound",
        at(2, 9),
        "Kickoff",
        &[("from", DANA, dana)],
    )
    .await;
    email(
        &owner,
        "t1",
        "outbound",
        at(2, 11),
        "Re: Kickoff",
        &[("to", DANA, dana)],
    )
    .await;
    email(
        &owner,
        "t2",
        "outbound",
        at(20, 9),
        "Pricing",
        &[("to", DANA, dana), ("cc", SAM, sam)],
    )
    .await;
    let t2_reply = email(
        &owner,
        "t2",
        "inbound",
        at(24, 15),
        "Re: Pricing",
        &[("from", DANA, dana)],
    )
    .await;
    email(
        &owner,
        "t3",
        "outbound",
        at(10, 9),
        "Invoice",
        &[("to", SAM, sam)],
    )
    .await;
    email(
        &owner,
        "t3",
        "outbound",
        at(25, 9),
        "Invoice reminder",
        &[("to", SAM, sam)],
    )
    .await;
    let mut conn = db.pool().acquire().await.unwrap();
    domain::contacts::stats::refresh_as_of(&mut conn, me, &[dana, sam], now())
        .await
        .unwrap();
    drop(conn);
    Fixture {
        db,
        me,
        dana,
        sam,
        t2_reply,
    }
}

#[tokio::test]
async fn tools_count_periods_threads_and_messages_as_worked_out_by_hand() {
    let f = fixture().await;
    let me = f.db.for_user(f.me);
    let limit = Limit::parse(10).unwrap();

    assert_eq!(
        me.ask().exchange_counts(&[f.dana], None).await.unwrap(),
        (2, 2)
    );
    assert_eq!(
        me.ask().exchange_counts(&[f.sam], None).await.unwrap(),
        (3, 0)
    );
    assert_eq!(
        me.ask()
            .exchange_counts(&[f.dana, f.sam], None)
            .await
            .unwrap(),
        (4, 2),
        "the t2 message to both counts once"
    );
    let from_the_15th = Period::new(at(15, 0), now());
    assert_eq!(
        me.ask()
            .exchange_counts(&[f.dana], from_the_15th)
            .await
            .unwrap(),
        (1, 1)
    );

    let ranked = me
        .ask()
        .message_counts(Metric::Sent, None, None)
        .await
        .unwrap();
    assert_eq!(ranked[0].contact.id, f.sam);
    assert_eq!((ranked[0].sent, ranked[0].received), (3, 0));
    let received = me
        .ask()
        .message_counts(Metric::Received, from_the_15th, None)
        .await
        .unwrap();
    assert_eq!(received[0].contact.id, f.dana);
    assert_eq!(received[0].received, 1);

    let mine = me
        .ask()
        .unanswered(Awaiting::MyReply, None, &[], limit)
        .await
        .unwrap();
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(
        (mine[0].contact_id, mine[0].activity_id),
        (f.dana, f.t2_reply)
    );
    let theirs = me
        .ask()
        .unanswered(Awaiting::TheirReply, None, &[], limit)
        .await
        .unwrap();
    let open: HashSet<(Uuid, &str)> = theirs
        .iter()
        .map(|t| (t.contact_id, t.thread_key.as_str()))
        .collect();
    assert_eq!(
        open,
        HashSet::from([(f.dana, "t1"), (f.sam, "t3"), (f.sam, "t2")]),
        "Dana answered t2 but not my last t1 message; Sam never answered"
    );
    let since_the_21st = me
        .ask()
        .unanswered(Awaiting::TheirReply, Some(at(21, 0)), &[], limit)
        .await
        .unwrap();
    assert_eq!(since_the_21st.len(), 1);
    assert_eq!(
        since_the_21st[0].subject.as_deref(),
        Some("Invoice reminder")
    );

    let first = me
        .ask()
        .activity_timeline(&[f.dana], None, None, true, limit)
        .await
        .unwrap();
    assert_eq!(first[0].subject.as_deref(), Some("Kickoff"));
    let last = me
        .ask()
        .activity_timeline(&[f.dana], None, Some(api::Channel::Email), false, limit)
        .await
        .unwrap();
    assert_eq!(last[0].activity_id, f.t2_reply);

    let found = me
        .ask()
        .search_messages(
            &MessageFilter {
                text: Some("invoice".into()),
                ..MessageFilter::default()
            },
            limit,
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 2);
    assert!(found.iter().all(|m| m.contact_id == Some(f.sam)));
    let acme = me
        .ask()
        .find_contacts(
            &ContactFilter {
                text: Some("acme".into()),
                ..ContactFilter::default()
            },
            limit,
        )
        .await
        .unwrap();
    assert_eq!(acme.len(), 2);
    let quiet = me
        .ask()
        .find_contacts(
            &ContactFilter {
                last_before: Some(at(25, 0)),
                ..ContactFilter::default()
            },
            limit,
        )
        .await
        .unwrap();
    let quiet: Vec<Uuid> = quiet.iter().map(|c| c.id).collect();
    assert_eq!(
        quiet,
        [f.dana],
        "Sam heard from me on the 25th, Dana last on the 24th"
    );
}

#[tokio::test]
async fn the_offline_engine_answers_with_citations_and_refuses_what_it_cannot() {
    let f = fixture().await;
    let me = f.db.for_user(f.me);
    let ask = |q: &'static str| offline::answer(me, q, now());

    let a = ask("Who haven't I replied to this week?").await.unwrap();
    assert!(!a.refused);
    assert!(
        matches!(&a.value, AnswerValue::People(p) if p.len() == 1 && p[0].contact_ids == [f.dana])
    );
    let links = links_in(&a.text);
    assert!(
        links.contains(&("Dana Ito".into(), format!("/contacts/{}", f.dana))),
        "{}",
        a.text
    );
    assert!(
        links
            .iter()
            .any(|(_, href)| href.ends_with(&format!("#activity-{}", f.t2_reply))),
        "{}",
        a.text
    );
    assert_eq!(a.tools, ["unanswered_threads", "contact_details"]);

    let a = ask("How many emails did I exchange with Dana?")
        .await
        .unwrap();
    assert_eq!(a.value, AnswerValue::Number(4));
    let a = ask("When did I last email Sam Lee?").await.unwrap();
    assert_eq!(a.value, AnswerValue::Date(at(25, 9)));
    let a = ask("who hasn't replied to me").await.unwrap();
    assert!(
        matches!(&a.value, AnswerValue::People(p) if p.len() == 2),
        "{a:?}"
    );
    let a = ask("who hasn't replied to me since 2026-02-21")
        .await
        .unwrap();
    assert!(
        matches!(&a.value, AnswerValue::People(p) if p.len() == 1 && p[0].contact_ids == [f.sam]),
        "{a:?}"
    );
    let a = ask("Summarize my relationship with Dana").await.unwrap();
    assert!(a.text.contains("have exchanged 4 emails"), "{}", a.text);
    assert!(
        a.text.contains("Reply to their 1 unanswered thread(s)."),
        "{}",
        a.text
    );

    let unknown = ask("Who is Zed?").await.unwrap();
    assert!(
        unknown.refused && unknown.text.contains("couldn't find"),
        "{}",
        unknown.text
    );
    let outside = ask("Write me a poem about spring").await.unwrap();
    assert!(outside.refused && outside.text.contains("Who should I follow up with?"));
    // The examples are the user's own: their top contact, never a placeholder.
    assert!(
        outside.text.contains("When did I last talk to Dana Ito?")
            || outside.text.contains("When did I last talk to Sam Lee?"),
        "{}",
        outside.text
    );
    assert_eq!(outside.tools, ["search_contacts"]);

    // Possessive, in another order, another case: the same person.
    let a = ask("DANA ITO's email count").await.unwrap();
    assert_eq!(a.value, AnswerValue::Number(4), "{}", a.text);
    // A typo in a name too short to forgive one: refused, with the nearest name offered.
    let typo = ask("dana itto's email count").await.unwrap();
    assert!(typo.refused, "{}", typo.text);
    assert!(
        typo.text
            .contains("Did you mean:\n• How many emails did I exchange with Dana Ito?"),
        "{}",
        typo.text
    );
    // A contact named but no known question: say so, offer theirs.
    let vague = ask("Dana Ito's favourite colour?").await.unwrap();
    assert!(vague.refused, "{}", vague.text);
    assert!(
        vague.text.contains("asking about [Dana Ito](")
            && vague.text.contains("• When did I last talk to Dana Ito?"),
        "{}",
        vague.text
    );
    // A follow-up in the same conversation.
    let follow = offline::answer_after(
        me,
        &["How many emails did I exchange with Sam Lee?"],
        "and with Dana?",
        now(),
    )
    .await
    .unwrap();
    assert_eq!(follow.value, AnswerValue::Number(4), "{}", follow.text);
}

/// The demo mailbox (smaller) stored and processed for a new user.
async fn seeded(db: &Db, owner: &str, seed: u64) -> UserId {
    let mut spec = MailboxSpec::demo(600);
    spec.seed = seed;
    spec.owner_email = owner.to_owned();
    let mailbox = Mailbox::generate(&spec);
    let TestUser {
        id: me, account, ..
    } = TestUser::create(db, owner).await;
    let emails: Vec<IncomingEmail> = mailbox.messages().map(IncomingEmail::from).collect();
    db.for_user(me)
        .mail()
        .store_emails(account, &emails, &IngestFilter::default())
        .await
        .unwrap();
    me
}

#[tokio::test]
async fn no_question_by_one_user_returns_anything_of_another() {
    let db = fresh_db().await;
    let a = seeded(&db, "alex@brightwater-labs.com", 42).await;
    let b = seeded(&db, "blair@harbor-works.com", 7).await;
    let outcome = Processor::new(&db, WorkerId::new("ask-test"), ProcessorOptions::default())
        .drain()
        .await
        .unwrap();
    assert_eq!(outcome.failed + outcome.dead, 0);

    let ids_of = |user: UserId, table: &'static str| {
        let db = db.clone();
        async move {
            sqlx::query_scalar::<_, Uuid>(&format!("select id from {table} where user_id = $1"))
                .bind(user.0)
                .fetch_all(db.pool())
                .await
                .unwrap()
                .into_iter()
                .collect::<HashSet<Uuid>>()
        }
    };
    let b_ids: HashSet<Uuid> = [
        ids_of(b, "contacts").await,
        ids_of(b, "activities").await,
        ids_of(b, "companies").await,
    ]
    .into_iter()
    .flatten()
    .collect();
    let b_names: Vec<String> = sqlx::query_scalar(
        "select display_name from contacts where user_id = $1 and display_name is not null order by display_name limit 8",
    )
    .bind(b.0)
    .fetch_all(db.pool())
    .await
    .unwrap();
    let b_addresses: Vec<String> = sqlx::query_scalar(
        "select value from contact_identities where user_id = $1 and kind = 'email'
           and value not in (select value from contact_identities where user_id = $2)
         order by value limit 8",
    )
    .bind(b.0)
    .bind(a.0)
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert!(!b_names.is_empty() && !b_addresses.is_empty());
    let b_domain: String =
        sqlx::query_scalar("select domain from companies where user_id = $1 limit 1")
            .bind(b.0)
            .fetch_one(db.pool())
            .await
            .unwrap();

    let mut questions: Vec<String> = domain::ask::parse::suggested(&[], None);
    questions.extend([
        "Who did I email most?".into(),
        "Top 10 people by emails".into(),
        "Who emailed me most this year?".into(),
        "Which companies do I email most?".into(),
        "people I haven't talked to in 30 days".into(),
        "who hasn't replied to me".into(),
        format!("Who at {b_domain}?"),
        format!("Top 5 people at {b_domain} by emails"),
    ]);
    for name in &b_names {
        questions.push(format!("Who is {name}?"));
        questions.push(format!("Summarize my relationship with {name}"));
        questions.push(format!("Emails about meeting from {name}"));
    }
    for address in &b_addresses {
        questions.push(format!("How many emails did I exchange with {address}?"));
        questions.push(format!("When did I last talk to {address}?"));
    }
    let mut answered = 0;
    for q in &questions {
        let answer = offline::answer(db.for_user(a), q, Utc::now() + Duration::days(1))
            .await
            .unwrap();
        answered += usize::from(!answer.refused);
        let json = serde_json::to_string(&answer).unwrap();
        for id in &b_ids {
            assert!(
                !json.contains(&id.to_string()),
                "{q:?} leaked B's {id}: {json}"
            );
        }
        // A refusal may quote the question; nothing else of B's may appear.
        for address in b_addresses.iter().filter(|a| !q.contains(a.as_str())) {
            assert!(
                !json.contains(address.as_str()),
                "{q:?} leaked B's {address}: {json}"
            );
        }
    }
    assert!(answered > 10, "A's own questions are answered ({answered})");
}

#[tokio::test]
async fn questions_are_answered_recorded_per_user_and_announced() {
    let f = fixture().await;
    let me = f.db.for_user(f.me);
    let question =
        domain::ask::history::Question::parse("  How many emails did I exchange with Dana? ")
            .unwrap();
    let mut streamed = Vec::new();
    let exchange = domain::ask::history::ask(me, None, &question, now(), &mut |p| streamed.push(p))
        .await
        .unwrap();
    assert_eq!(
        exchange.view.question,
        "How many emails did I exchange with Dana?"
    );
    assert!(
        exchange.view.answer.starts_with("4 emails with [Dana Ito]"),
        "{}",
        exchange.view.answer
    );
    assert_eq!(exchange.view.engine, "offline engine");
    assert_eq!(exchange.view.tools, ["search_contacts", "message_counts"]);
    assert!(!exchange.view.refused);
    assert_eq!(
        streamed.last(),
        Some(&domain::ask::model::Progress::Text(
            exchange.view.answer.clone()
        ))
    );

    let refused = domain::ask::history::Question::parse("Tell me a joke").unwrap();
    domain::ask::history::ask(me, None, &refused, now(), &mut |_| {})
        .await
        .unwrap();
    let history = me.ask().history(10).await.unwrap();
    let asked: Vec<(&str, bool)> = history
        .iter()
        .map(|e| (e.question.as_str(), e.refused))
        .collect();
    assert_eq!(
        asked,
        [
            ("How many emails did I exchange with Dana?", false),
            ("Tell me a joke", true)
        ]
    );

    let events = me.events().history_after(0, None, 100).await.unwrap();
    let logged: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e.kind == "ai.query_executed")
        .map(|e| &e.data)
        .collect();
    assert_eq!(logged.len(), 2);
    assert_eq!(logged[0]["engine"], "offline engine");
    assert_eq!(
        logged[0]["tools"],
        serde_json::json!(["search_contacts", "message_counts"])
    );
    assert!(logged[0]["latency_ms"].as_i64().unwrap() >= 0);
    assert_eq!(logged[0]["exchange_id"], history[0].id);
    assert!(
        me.events()
            .live_events(&domain::events::LiveCursor::after(0))
            .await
            .unwrap()
            .events
            .iter()
            .all(|e| e.kind != "ai.query_executed"),
        "history, not a live update"
    );

    let other = user(&f.db, "other@example.com").await;
    assert!(
        f.db.for_user(other)
            .ask()
            .history(10)
            .await
            .unwrap()
            .is_empty(),
        "history is per user"
    );
    assert!(
        f.db.for_user(other)
            .events()
            .history_after(0, None, 100)
            .await
            .unwrap()
            .iter()
            .all(|e| e.kind != "ai.query_executed")
    );
}
