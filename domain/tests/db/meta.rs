//! Messenger and Instagram against the fake Graph API and the fake OpenAI, both over
//! HTTP, with a real PostgreSQL: the poll's history import, dedupe and paging, tokens
//! and rate limits, and the agent's rules, orders, handoffs, window and crash safety.

use std::time::Duration;

use api::meta::TurnOutcome;
use chrono::{Duration as Span, Utc};
use domain::Db;
use domain::UserId;
use domain::ask::model::ModelConfig;
use domain::crypto::SecretBox;
use domain::meta::catalog::NewProduct;
use domain::meta::{HttpGraph, MetaConnect, MetaOptions, MetaService, PollOutcome};
use fakes::meta::{FakeMeta, FaultTarget, GraphError, Page, Platform};
use fakes::openai::{FakeOpenAi, Reply};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{fresh_db, user, wait_until};

const PAGE: &str = "1001";
const TOKEN: &str = "EAAB-page-token";

fn secrets() -> SecretBox {
    SecretBox::from_base64(&format!("{}=", "A".repeat(43))).unwrap()
}

struct Setup {
    db: Db,
    owner: UserId,
    meta: FakeMeta,
    openai: FakeOpenAi,
    service: MetaService<HttpGraph>,
    integration: Uuid,
}

async fn setup(script: Vec<Reply>) -> Setup {
    setup_with(script, MetaOptions::default()).await
}

async fn setup_with(script: Vec<Reply>, options: MetaOptions) -> Setup {
    let page = Page::new(PAGE, "Shop", TOKEN).with_instagram("17841400000000001", "shop.ig");
    let (db, meta, openai) = tokio::join!(
        fresh_db(),
        FakeMeta::start(vec![page], 0),
        FakeOpenAi::start(script)
    );
    let (meta, openai) = (meta.unwrap(), openai.unwrap());
    let owner = user(&db, "shop@example.com").await;
    let form = MetaConnect::parse(PAGE, TOKEN, "17841400000000001", &meta.graph_url()).unwrap();
    let integration = db
        .for_user(owner)
        .meta()
        .connect(&HttpGraph::default(), &form, &secrets())
        .await
        .unwrap();
    let model = ModelConfig::from_env(|k| match k {
        "OPENAI_BASE_URL" => Some(openai.base_url()),
        "OPENAI_MODEL" => Some("fake-sales".into()),
        _ => None,
    });
    let service = MetaService::new(db.clone(), HttpGraph::default(), secrets(), model, options);
    Setup {
        db,
        owner,
        meta,
        openai,
        service,
        integration,
    }
}

impl Setup {
    fn customer(&self, id: &str, text: &str) {
        self.customer_at(id, text, Utc::now());
    }

    fn customer_at(&self, id: &str, text: &str, at: chrono::DateTime<Utc>) {
        self.meta
            .customer_writes(
                PAGE,
                Platform::Messenger,
                (id, &format!("Customer {id}")),
                text,
                at,
            )
            .unwrap();
    }

    async fn poll(&self) -> domain::meta::PollReport {
        self.service
            .poll(self.owner, self.integration)
            .await
            .unwrap()
    }

    /// History import of one message from `id`, then the agent switched on there.
    async fn conversation_with_ai(&self, id: &str) -> Uuid {
        self.customer_at(id, "earlier question", Utc::now() - Span::hours(2));
        self.poll().await;
        let conversation = self.conversation_of(id).await;
        self.db
            .for_user(self.owner)
            .meta()
            .set_ai_enabled(conversation, true, true)
            .await
            .unwrap();
        conversation
    }

    async fn conversation_of(&self, customer: &str) -> Uuid {
        sqlx::query_scalar("select id from meta_conversations where customer_id = $1")
            .bind(customer)
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }

    /// The conversation's agent turns, newest first.
    async fn turns(&self, conversation: Uuid) -> Vec<api::conversations::AgentTurn> {
        self.db
            .for_user(self.owner)
            .meta()
            .turns(conversation)
            .await
            .unwrap()
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }

    async fn answer_all(&self) -> Vec<Option<TurnOutcome>> {
        let report = self.poll().await;
        let mut outcomes = Vec::new();
        for conversation in report.to_answer {
            outcomes.push(self.service.answer(self.owner, conversation).await.unwrap());
        }
        outcomes
    }

    async fn product(&self, name: &str, stock: &str, active: bool) -> Uuid {
        let scope = self.db.for_user(self.owner);
        let new = NewProduct::parse(name, "", "12.50", "EUR", stock).unwrap();
        let id = scope.meta().create_product(&new).await.unwrap();
        if !active {
            scope.meta().update_product(id, &new, false).await.unwrap();
        }
        id
    }
}

#[tokio::test]
async fn the_history_import_answers_nothing() {
    let s = setup(vec![]).await;
    s.db.for_user(s.owner)
        .meta()
        .set_ai_default(s.integration, true)
        .await
        .unwrap();
    s.customer_at(
        "psid-1",
        "hola, ¿tienen tazas?",
        Utc::now() - Span::minutes(5),
    );
    s.customer_at("psid-2", "hello?", Utc::now() - Span::minutes(3));
    let report = s.poll().await;
    assert_eq!(report.stored, 2);
    assert!(report.to_answer.is_empty(), "{report:?}");
    assert_eq!(
        s.count("select count(*) from meta_messages where is_old and reply_sent")
            .await,
        2
    );
    assert_eq!(
        s.count("select count(*) from meta_conversations where ai_enabled")
            .await,
        2
    );
    assert!(s.openai.requests().is_empty());
    assert!(s.meta.sent().is_empty());
    // Each message is an activity on the customer's contact, found by the PSID handle.
    let linked = s
        .count(
            "select count(*) from activity_participants p join contact_identities ci
               on ci.contact_id = p.contact_id and ci.kind = 'handle' and ci.value = 'messenger:psid-1'
             join activities a on a.id = p.activity_id
             where a.channel = 'messenger' and a.thread_key like 'messenger:t_%'",
        )
        .await;
    assert_eq!(linked, 1);
}

#[tokio::test]
async fn a_message_written_in_the_second_of_an_empty_pages_first_poll_is_read_as_new() {
    let s = setup(vec![]).await;
    assert_eq!(s.poll().await.stored, 0, "an empty Page has no history");
    // Graph's times are whole seconds: a message written in the poll's own second
    // carries a time before the poll's.
    s.customer_at(
        "psid-1",
        "are you open today?",
        Utc::now() - Span::seconds(1),
    );
    assert_eq!(s.poll().await.stored, 1);
    assert_eq!(
        s.count("select count(*) from meta_messages where not is_old and not reply_sent")
            .await,
        1
    );
}

#[tokio::test]
async fn one_new_message_gets_exactly_one_reply_and_a_repeated_poll_duplicates_nothing() {
    let s = setup(vec![Reply::text(&[
        "Hi! Yes, ",
        "we have mugs for 12.50 EUR.",
    ])])
    .await;
    let conversation = s.conversation_with_ai("psid-1").await;
    s.customer("psid-1", "Do you have mugs?");
    assert_eq!(s.answer_all().await, vec![Some(TurnOutcome::Replied)]);
    let sent = s.meta.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].text, "Hi! Yes, we have mugs for 12.50 EUR.");
    assert_eq!(sent[0].messaging_type, "RESPONSE");
    // The next polls see the agent's own message and store nothing twice.
    let before = s.count("select count(*) from meta_messages").await;
    let again = s.poll().await;
    assert!(again.to_answer.is_empty());
    assert_eq!(s.poll().await.stored, 0);
    assert_eq!(s.count("select count(*) from meta_messages").await, before);
    assert_eq!(
        s.count("select count(*) from meta_messages where sender = 'agent'")
            .await,
        1
    );
    assert_eq!(
        s.count("select count(*) from meta_messages where sender = 'employee'")
            .await,
        0
    );
    let turns = s.turns(conversation).await;
    assert_eq!(turns.len(), 1);
    assert_eq!(turns[0].model, "fake-sales");
    assert_eq!(turns[0].tokens, 150);
    assert!(turns[0].context.to_string().contains("Do you have mugs?"));
    assert_eq!(s.service.answer(s.owner, conversation).await.unwrap(), None);
    assert_eq!(s.meta.sent().len(), 1);
}

#[tokio::test]
async fn three_quick_messages_get_one_reply() {
    let s = setup(vec![Reply::text(&["Bonjour ! Oui."])]).await;
    s.conversation_with_ai("psid-1").await;
    for text in ["Bonjour", "vous avez des tasses ?", "en bleu ?"] {
        s.customer("psid-1", text);
    }
    assert_eq!(s.answer_all().await, vec![Some(TurnOutcome::Replied)]);
    assert_eq!(s.meta.sent().len(), 1);
    assert_eq!(s.openai.requests().len(), 1);
    assert_eq!(
        s.count("select count(*) from meta_messages where sender = 'customer' and not reply_sent")
            .await,
        0
    );
}

#[tokio::test]
async fn a_message_written_in_the_second_of_the_agents_reply_is_the_next_turns_question() {
    let s = setup(vec![
        Reply::text(&["Yes, the mug is 12.50 EUR."]),
        Reply::text(&["Blue it is."]),
    ])
    .await;
    let conversation = s.conversation_with_ai("psid-1").await;
    s.customer("psid-1", "Do you have mugs?");
    assert_eq!(s.answer_all().await, vec![Some(TurnOutcome::Replied)]);
    let replied: chrono::DateTime<Utc> =
        sqlx::query_scalar("select sent_at from meta_messages where sender = 'agent'")
            .fetch_one(s.db.pool())
            .await
            .unwrap();
    // Graph gives this message the second of the reply, as it does any message.
    s.customer_at("psid-1", "In blue, please", replied);
    assert_eq!(s.answer_all().await, vec![Some(TurnOutcome::Replied)]);
    let turns = s.turns(conversation).await;
    let newest = turns[0].context["conversation"]
        .as_array()
        .and_then(|c| c.last())
        .cloned()
        .unwrap();
    assert_eq!(newest["from"], "customer", "{newest}");
    assert_eq!(newest["text"], "In blue, please");
    let thread =
        s.db.for_user(s.owner)
            .meta()
            .messages(conversation)
            .await
            .unwrap();
    let texts: Vec<_> = thread.iter().filter_map(|m| m.text.as_deref()).collect();
    assert_eq!(
        texts[texts.len() - 3..],
        [
            "Yes, the mug is 12.50 EUR.",
            "In blue, please",
            "Blue it is."
        ]
    );
}

#[tokio::test]
async fn with_the_toggle_off_nothing_is_answered() {
    let s = setup(vec![Reply::text(&["should not be sent"])]).await;
    let conversation = s.conversation_with_ai("psid-1").await;
    s.db.for_user(s.owner)
        .meta()
        .set_ai_enabled(conversation, false, true)
        .await
        .unwrap();
    s.customer("psid-1", "hello");
    assert!(s.answer_all().await.is_empty());
    assert_eq!(s.service.answer(s.owner, conversation).await.unwrap(), None);
    assert!(s.meta.sent().is_empty() && s.openai.requests().is_empty());
    // Without a model the toggle cannot be switched on, and says why.
    let refused =
        s.db.for_user(s.owner)
            .meta()
            .set_ai_enabled(conversation, true, false)
            .await;
    assert!(
        refused
            .unwrap_err()
            .to_string()
            .contains("no model is configured")
    );
}

#[tokio::test]
async fn a_page_reply_by_a_person_pauses_the_agent() {
    let s = setup(vec![Reply::text(&["should not be sent"])]).await;
    let conversation = s.conversation_with_ai("psid-1").await;
    s.customer("psid-1", "is anyone there?");
    s.meta
        .page_replies(
            PAGE,
            Platform::Messenger,
            "psid-1",
            "Yes, Maria here!",
            Utc::now(),
        )
        .unwrap();
    s.customer("psid-1", "great, thanks");
    assert!(s.answer_all().await.is_empty());
    assert_eq!(s.service.answer(s.owner, conversation).await.unwrap(), None);
    assert_eq!(
        s.count("select count(*) from meta_messages where sender = 'employee'")
            .await,
        1
    );
    assert_eq!(
        s.count("select count(*) from meta_conversations where paused_until > now() + interval '20 minutes'").await,
        1
    );
    assert_eq!(s.meta.sent().len(), 0);
}

#[tokio::test]
async fn paging_through_1000_messages_in_7_conversations_stores_each_once() {
    let options = MetaOptions {
        page_size: 10,
        ..MetaOptions::default()
    };
    let s = setup_with(vec![], options).await;
    let start = Utc::now() - Span::hours(5);
    for n in 0..1000i64 {
        let customer = format!("psid-{}", n % 7);
        s.customer_at(&customer, &format!("message {n}"), start + Span::seconds(n));
    }
    let report = s.poll().await;
    assert_eq!(report.stored, 1000);
    assert_eq!(s.count("select count(*) from meta_messages").await, 1000);
    assert_eq!(
        s.count("select count(distinct platform_message_id) from meta_messages")
            .await,
        1000
    );
    assert_eq!(s.count("select count(*) from meta_conversations").await, 7);
    // Graph gives details for the 20 most recent messages of each conversation only.
    assert_eq!(
        s.count("select count(*) from meta_messages where text is not null")
            .await,
        140
    );
    assert_eq!(
        s.count("select count(*) from activities where channel = 'messenger'")
            .await,
        140
    );
    assert_eq!(s.poll().await.stored, 0);
    assert_eq!(s.count("select count(*) from meta_messages").await, 1000);
}

#[tokio::test]
async fn an_expired_token_marks_the_page_needs_reconnect_with_graphs_message() {
    let s = setup(vec![]).await;
    s.poll().await;
    s.meta.expire_token(PAGE);
    let report = s.poll().await;
    assert!(
        matches!(report.outcome, PollOutcome::NeedsReconnect(_)),
        "{report:?}"
    );
    let pages = s.db.for_user(s.owner).meta().integrations().await.unwrap();
    assert_eq!(pages[0].status, api::AccountStatus::NeedsReconnect);
    assert!(
        pages[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("Session has expired")
    );
}

#[tokio::test]
async fn a_rate_limit_backs_off_and_the_poll_completes_later() {
    let options = MetaOptions {
        backoff: Span::milliseconds(300),
        ..MetaOptions::default()
    };
    let s = setup_with(vec![], options).await;
    s.customer("psid-1", "hi");
    s.meta
        .inject(FaultTarget::Messages, GraphError::rate_limited(613), 1);
    let first = s.poll().await;
    assert!(
        matches!(first.outcome, PollOutcome::BackingOff(_)),
        "{first:?}"
    );
    assert_eq!(s.count("select count(*) from meta_messages").await, 0);
    assert_eq!(
        s.count("select count(*) from meta_integrations where last_fetch_timestamp is null")
            .await,
        1,
        "the timestamp stays until what it covers is stored"
    );
    let done = wait_until(
        "the poll after the backoff",
        Duration::from_secs(10),
        async || {
            let report = s.poll().await;
            if report.outcome == PollOutcome::Done {
                Ok(report)
            } else {
                Err(report)
            }
        },
    )
    .await;
    assert_eq!(done.stored, 1);
    // A 500 asking for less data is retried with smaller pages.
    s.customer("psid-2", "hello");
    s.meta.refuse_pages_above(5, 3);
    assert_eq!(s.poll().await.stored, 1);
}

#[tokio::test]
async fn create_order_for_a_valid_product_creates_one_order() {
    let s = setup(vec![]).await;
    let mug = s.product("Blue mug", "5", true).await;
    let order = json!({"product_id": mug, "quantity": 2, "customer_name": "Ana Pérez",
                       "phone": "+34 600 000 000", "address": "Calle Mayor 1, Madrid"});
    // The model calls the tool twice (a retry within the turn): still one order.
    let openai = FakeOpenAi::start(vec![
        Reply::tool_call("call_1", "create_order", order.clone()),
        Reply::tool_call("call_2", "create_order", order),
        Reply::text(&["¡Listo! Pedido creado: 2 tazas azules, 25.00 EUR."]),
    ])
    .await
    .unwrap();
    let s = Setup {
        service: service_with(&s, &openai),
        openai,
        ..s
    };
    let conversation = s.conversation_with_ai("psid-1").await;
    s.customer(
        "psid-1",
        "Sí, confirmo 2 tazas. Ana Pérez, +34 600 000 000, Calle Mayor 1, Madrid",
    );
    assert_eq!(s.answer_all().await, vec![Some(TurnOutcome::Replied)]);
    let orders = s.db.for_user(s.owner).meta().orders(None).await.unwrap();
    assert_eq!(orders.len(), 1);
    assert!(orders[0].ai_generated);
    assert_eq!(orders[0].conversation_id, Some(conversation));
    assert!(orders[0].contact_id.is_some());
    assert_eq!((orders[0].quantity, orders[0].total_cents()), (2, 2500));
    assert_eq!(s.count("select stock::bigint from products").await, 3);
    let turns = s.turns(conversation).await;
    assert_eq!(turns[0].tool_calls.as_array().unwrap().len(), 2);
}

fn service_with(s: &Setup, openai: &FakeOpenAi) -> MetaService<HttpGraph> {
    let model = ModelConfig::from_env(|k| (k == "OPENAI_BASE_URL").then(|| openai.base_url()));
    MetaService::new(
        s.db.clone(),
        HttpGraph::default(),
        secrets(),
        model,
        MetaOptions::default(),
    )
}

#[tokio::test]
async fn an_inactive_product_or_too_many_create_no_order_and_the_reply_asks() {
    let s = setup(vec![]).await;
    let old = s.product("Old mug", "5", false).await;
    let rare = s.product("Rare mug", "1", true).await;
    let openai = FakeOpenAi::start(vec![
        Reply::tool_call(
            "c1",
            "create_order",
            json!({"product_id": old, "quantity": 1,
            "customer_name": "Bo", "phone": "1", "address": "x"}),
        ),
        Reply::tool_call(
            "c2",
            "create_order",
            json!({"product_id": rare, "quantity": 3,
            "customer_name": "Bo", "phone": "1", "address": "x"}),
        ),
        Reply::text(&["Sorry, we only have 1 Rare mug. Would 1 be fine?"]),
    ])
    .await
    .unwrap();
    let s = Setup {
        service: service_with(&s, &openai),
        openai,
        ..s
    };
    s.conversation_with_ai("psid-1").await;
    s.customer("psid-1", "I'll take the old mug, or 3 rare ones");
    assert_eq!(s.answer_all().await, vec![Some(TurnOutcome::Replied)]);
    assert_eq!(s.count("select count(*) from orders").await, 0);
    let requests = s.openai.requests();
    let tool_results = requests[2]["messages"].to_string();
    assert!(
        tool_results.contains("not available any more"),
        "{tool_results}"
    );
    assert!(
        tool_results.contains("only 1 of Rare mug in stock"),
        "{tool_results}"
    );
    assert!(s.meta.sent()[0].text.contains("Would 1 be fine?"));
}

#[tokio::test]
async fn a_handoff_sets_pending_and_sends_nothing() {
    let s = setup(vec![Reply::tool_call(
        "h1",
        "handoff",
        json!({"reason": "asks for a refund", "category": "complaint"}),
    )])
    .await;
    let conversation = s.conversation_with_ai("psid-1").await;
    s.customer("psid-1", "My order arrived broken, I want my money back");
    assert_eq!(s.answer_all().await, vec![Some(TurnOutcome::Handoff)]);
    assert!(s.meta.sent().is_empty());
    let c =
        s.db.for_user(s.owner)
            .meta()
            .conversation(conversation)
            .await
            .unwrap();
    assert_eq!(c.status, api::meta::ConversationStatus::Pending);
    assert!(s.poll().await.to_answer.is_empty());
}

#[tokio::test]
async fn outside_the_24_hour_window_nothing_is_sent() {
    let s = setup(vec![Reply::text(&["too late"])]).await;
    s.customer_at("psid-1", "first", Utc::now() - Span::hours(30));
    s.poll().await;
    let conversation = s.conversation_of("psid-1").await;
    s.db.for_user(s.owner)
        .meta()
        .set_ai_enabled(conversation, true, true)
        .await
        .unwrap();
    s.customer_at("psid-1", "are you there?", Utc::now() - Span::hours(25));
    assert_eq!(s.answer_all().await, vec![Some(TurnOutcome::OutsideWindow)]);
    assert!(s.meta.sent().is_empty() && s.openai.requests().is_empty());
    assert!(
        s.poll().await.to_answer.is_empty(),
        "the turn is shown, not retried"
    );
}

#[tokio::test]
async fn a_crash_between_the_send_and_its_record_never_sends_twice() {
    let s = setup(vec![
        Reply::text(&["On its way!"]),
        Reply::text(&["Second answer"]),
    ])
    .await;
    let conversation = s.conversation_with_ai("psid-1").await;
    s.customer("psid-1", "when does it ship?");
    let report = s.poll().await;
    assert_eq!(report.to_answer, vec![conversation]);
    // Graph delivers, then the answer is lost: as if the worker died after the send.
    s.meta
        .inject(FaultTarget::SendThenFail, GraphError::unknown(), 1);
    assert!(s.service.answer(s.owner, conversation).await.is_err());
    assert_eq!(s.meta.sent().len(), 1);
    // The retried turn finds its message on Graph and does not send it again.
    assert_eq!(
        s.service.answer(s.owner, conversation).await.unwrap(),
        Some(TurnOutcome::Replied)
    );
    assert_eq!(s.meta.sent().len(), 1);
    assert_eq!(s.openai.requests().len(), 1, "the model is not asked again");
    s.poll().await;
    assert_eq!(
        s.count("select count(*) from meta_messages where sender = 'agent'")
            .await,
        1
    );
    assert_eq!(
        s.count("select count(*) from meta_messages where sender = 'employee'")
            .await,
        0
    );

    // Killed before the request reached Graph: the retry sends exactly once.
    s.customer("psid-1", "and the colour?");
    s.poll().await;
    s.meta.inject(FaultTarget::Send, GraphError::unknown(), 1);
    assert!(s.service.answer(s.owner, conversation).await.is_err());
    assert_eq!(s.meta.sent().len(), 1);
    assert_eq!(
        s.service.answer(s.owner, conversation).await.unwrap(),
        Some(TurnOutcome::Replied)
    );
    assert_eq!(s.meta.sent().len(), 2);
}

#[tokio::test]
async fn a_send_left_pending_by_a_crash_is_adopted_by_the_poll_not_taken_for_a_person() {
    let s = setup(vec![Reply::text(&["Here you go"])]).await;
    let conversation = s.conversation_with_ai("psid-1").await;
    s.customer("psid-1", "price?");
    s.poll().await;
    s.meta
        .inject(FaultTarget::SendThenFail, GraphError::unknown(), 1);
    assert!(s.service.answer(s.owner, conversation).await.is_err());
    s.poll().await;
    assert_eq!(
        s.count("select count(*) from meta_messages where sender = 'agent'")
            .await,
        1
    );
    assert_eq!(
        s.count("select count(*) from meta_conversations where paused_until is not null")
            .await,
        0
    );
    assert_eq!(s.service.answer(s.owner, conversation).await.unwrap(), None);
    assert_eq!(s.meta.sent().len(), 1);
}

#[tokio::test]
async fn the_list_pages_newest_first_with_filters_and_only_for_its_owner() {
    use api::meta::{ConversationStatus, MetaPlatform};
    use domain::meta::conversations::ConversationFilter;

    let s = setup(vec![]).await;
    let now = Utc::now();
    for i in 0..30 {
        s.customer_at(&format!("psid-{i}"), "hello", now - Span::minutes(i));
    }
    for i in 0..3 {
        s.meta
            .customer_writes(
                PAGE,
                Platform::Instagram,
                (&format!("ig-{i}"), "ig customer"),
                "hola",
                now - Span::minutes(100 + i),
            )
            .unwrap();
    }
    s.poll().await;
    let meta = s.db.for_user(s.owner).meta();
    let all = ConversationFilter::default();
    let first = meta.conversations(&all, "").await.unwrap();
    assert_eq!(first.rows.len(), 25);
    assert_eq!(
        first.rows[0].customer_name, "Customer psid-0",
        "newest first"
    );
    let second = meta
        .conversations(&all, first.next.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(second.rows.len(), 8);
    assert_eq!(second.next, None);
    let mut ids: Vec<Uuid> = first
        .rows
        .iter()
        .chain(&second.rows)
        .map(|r| r.id)
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 33, "every conversation once");

    let instagram = ConversationFilter {
        platform: Some(MetaPlatform::Instagram),
        status: None,
    };
    let listed = meta.conversations(&instagram, "").await.unwrap();
    assert_eq!(listed.rows.len(), 3);
    assert!(
        listed
            .rows
            .iter()
            .all(|r| r.platform == MetaPlatform::Instagram)
    );
    let closed_one = listed.rows[0].id;
    meta.set_status(closed_one, ConversationStatus::Closed)
        .await
        .unwrap();
    let closed = ConversationFilter {
        platform: None,
        status: Some(ConversationStatus::Closed),
    };
    let listed = meta.conversations(&closed, "").await.unwrap();
    assert_eq!(
        listed.rows.iter().map(|r| r.id).collect::<Vec<_>>(),
        [closed_one]
    );
    assert!(matches!(
        meta.conversations(&all, "not-a-cursor").await,
        Err(domain::DomainError::Invalid { .. })
    ));

    // Another user sees none of it, and each call on the owner's is "not found".
    let other = crate::helpers::user(&s.db, "other@example.com").await;
    let theirs = s.db.for_user(other).meta();
    assert!(
        theirs
            .conversations(&all, "")
            .await
            .unwrap()
            .rows
            .is_empty()
    );
    let not_found = |r: Result<(), domain::DomainError>| {
        assert!(matches!(r, Err(domain::DomainError::NotFound(_))), "{r:?}")
    };
    not_found(theirs.conversation(closed_one).await.map(|_| ()));
    not_found(theirs.customer(closed_one).await.map(|_| ()));
    not_found(
        theirs
            .set_status(closed_one, ConversationStatus::Open)
            .await,
    );
    not_found(theirs.set_ai_enabled(closed_one, true, true).await);
    assert!(theirs.messages(closed_one).await.unwrap().is_empty());
    assert!(theirs.turns(closed_one).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_handoff_is_announced_until_someone_takes_the_conversation() {
    let s = setup(vec![Reply::tool_call(
        "h1",
        "handoff",
        json!({"reason": "wants a person", "category": "human_requested"}),
    )])
    .await;
    let conversation = s.conversation_with_ai("psid-1").await;
    let events =
        || s.count("select count(*) from events where kind = 'conversation.changed' and live");
    let before = events().await;
    s.customer("psid-1", "Can I talk to a human?");
    assert_eq!(s.answer_all().await, vec![Some(TurnOutcome::Handoff)]);
    assert!(
        events().await > before,
        "messages and the turn are live events"
    );
    let meta = s.db.for_user(s.owner).meta();
    let handoffs = meta.handoffs().await.unwrap();
    assert_eq!(handoffs.len(), 1);
    // The layout reads handoffs only for users with a page connected.
    let (_, header) = s.db.signed_in(s.owner).await.unwrap();
    assert!(header.has_meta, "the shop's page is connected");
    let (_, header) =
        s.db.signed_in(user(&s.db, "other@example.com").await)
            .await
            .unwrap();
    assert!(!header.has_meta, "another user connected nothing");
    assert_eq!(handoffs[0].conversation_id, conversation);
    assert_eq!(handoffs[0].reason.as_deref(), Some("wants a person"));
    let other = crate::helpers::user(&s.db, "other@example.com").await;
    assert!(
        s.db.for_user(other)
            .meta()
            .handoffs()
            .await
            .unwrap()
            .is_empty()
    );
    meta.set_status(conversation, api::meta::ConversationStatus::Open)
        .await
        .unwrap();
    assert!(meta.handoffs().await.unwrap().is_empty());
}
