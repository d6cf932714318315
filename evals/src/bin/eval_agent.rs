//! `make eval-agent`: the AI sales agent over 30 scripted customer conversations in
//! English, Spanish and French (orders, quantities above the stock, complaints and
//! requests for a person, price questions), through the real poll, agent and Send API
//! against the fake Graph API and a real PostgreSQL. Without `OPENAI_BASE_URL` /
//! `OPENAI_API_KEY` the fake OpenAI plays an ideal model (its tool calls are scripted,
//! so the figures check the pipeline); with them, the configured model answers and the
//! figures measure it. Prints one JSON object: orders created correctly, wrong orders,
//! handoffs (expected and unexpected), replies in the customer's language.

use std::collections::HashMap;

use api::meta::TurnOutcome;
use chrono::Utc;
use domain::UserId;
use domain::ask::model::ModelConfig;
use domain::crypto::SecretBox;
use domain::meta::catalog::NewProduct;
use domain::meta::{HttpGraph, MetaConnect, MetaOptions, MetaService};
use evals::seeded::EvalDb;
use fakes::meta::{FakeMeta, Page, Platform};
use fakes::openai::{FakeOpenAi, Reply};
use serde_json::json;
use uuid::Uuid;

const PAGE: &str = "1001";
const TOKEN: &str = "EAAB-eval";

#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
enum Lang {
    En,
    Es,
    Fr,
}

/// What a conversation should end in.
#[derive(Clone, Debug, PartialEq)]
enum Expect {
    Order {
        product: &'static str,
        quantity: i64,
    },
    NoOrder,
    Handoff,
}

struct Scenario {
    lang: Lang,
    /// The customer's messages, one agent turn each.
    turns: Vec<String>,
    expect: Expect,
    /// What the fake model does per turn (ignored with a real model).
    script: Vec<Vec<Reply>>,
}

/// (name, price, stock)
const CATALOG: [(&str, &str, &str); 3] = [
    ("Blue mug", "12.50", "50"),
    ("Linen tote", "18.00", "40"),
    ("Beeswax candle", "9.00", "2"),
];

fn words(lang: Lang) -> [&'static str; 8] {
    match lang {
        Lang::En => [
            "Hi! How much is the {p}?",
            "The {p} is {price} EUR. Would you like to order?",
            "Yes please, {q} of them. {n}, {ph}, {a}",
            "Thank you, your order of {q} {p} is confirmed!",
            "Sorry, we only have {s} in stock. Would {s} be fine?",
            "This arrived broken and I want to speak to a person.",
            "Do you have the {p} in stock?",
            "Yes, the {p} is in stock for {price} EUR.",
        ],
        Lang::Es => [
            "¡Hola! ¿Cuánto cuesta el {p}?",
            "El {p} cuesta {price} EUR. ¿Quiere hacer un pedido?",
            "Sí, por favor, {q} unidades. {n}, {ph}, {a}",
            "Gracias, su pedido de {q} {p} está confirmado.",
            "Lo siento, solo tenemos {s} en stock. ¿Le parece bien {s}?",
            "El paquete llegó roto y quiero hablar con una persona.",
            "¿Tienen el {p} en stock?",
            "Sí, el {p} está disponible por {price} EUR.",
        ],
        Lang::Fr => [
            "Bonjour ! Combien coûte le {p} ?",
            "Le {p} coûte {price} EUR. Voulez-vous le commander ?",
            "Oui, s'il vous plaît, {q} pièces. {n}, {ph}, {a}",
            "Merci, votre commande de {q} {p} est confirmée.",
            "Désolé, nous n'avons que {s} en stock. Est-ce que {s} vous convient ?",
            "Le colis est arrivé cassé et je veux parler à une personne.",
            "Avez-vous le {p} en stock ?",
            "Oui, le {p} est disponible pour {price} EUR.",
        ],
    }
}

fn fill(template: &str, product: (&str, &str, &str), quantity: i64) -> String {
    template
        .replace("{p}", product.0)
        .replace("{price}", product.1)
        .replace("{s}", product.2)
        .replace("{q}", &quantity.to_string())
        .replace("{n}", "Alex Doe")
        .replace("{ph}", "+33 6 12 34 56 78")
        .replace("{a}", "12 Rue de la Paix, Paris")
}

/// 10 conversations per language: 4 orders, 2 above the stock, 2 handoffs, 2 questions.
fn scenarios(products: &HashMap<&'static str, Uuid>) -> Vec<Scenario> {
    let mut out = Vec::new();
    for lang in [Lang::En, Lang::Es, Lang::Fr] {
        let w = words(lang);
        for i in 0..10usize {
            let product = CATALOG[i % 2];
            let id = products[product.0];
            let (turns, expect, script) = match i {
                0..=3 => {
                    let quantity = 1 + (i as i64 % 3);
                    let order = json!({"product_id": id, "quantity": quantity,
                        "customer_name": "Alex Doe", "phone": "+33 6 12 34 56 78",
                        "address": "12 Rue de la Paix, Paris"});
                    (
                        vec![fill(w[0], product, quantity), fill(w[2], product, quantity)],
                        Expect::Order {
                            product: product.0,
                            quantity,
                        },
                        vec![
                            vec![Reply::text(&[fill(w[1], product, quantity).as_str()])],
                            vec![
                                Reply::tool_call(&format!("c{i}"), "create_order", order),
                                Reply::text(&[fill(w[3], product, quantity).as_str()]),
                            ],
                        ],
                    )
                }
                4 | 5 => {
                    let candle = CATALOG[2];
                    let order = json!({"product_id": products[candle.0], "quantity": 5,
                        "customer_name": "Alex Doe", "phone": "+33 6 12 34 56 78",
                        "address": "12 Rue de la Paix, Paris"});
                    (
                        vec![fill(w[2], candle, 5)],
                        Expect::NoOrder,
                        vec![vec![
                            Reply::tool_call(&format!("c{i}"), "create_order", order),
                            Reply::text(&[fill(w[4], candle, 5).as_str()]),
                        ]],
                    )
                }
                6 | 7 => (
                    vec![w[5].to_owned()],
                    Expect::Handoff,
                    vec![vec![Reply::tool_call(
                        &format!("h{i}"),
                        "handoff",
                        json!({"reason": "damaged parcel", "category": "complaint"}),
                    )]],
                ),
                _ => (
                    vec![fill(w[6], product, 1)],
                    Expect::NoOrder,
                    vec![vec![Reply::text(&[fill(w[7], product, 1).as_str()])]],
                ),
            };
            out.push(Scenario {
                lang,
                turns,
                expect,
                script,
            });
        }
    }
    out
}

/// The language a reply is written in, by its most frequent function words.
fn language_of(text: &str) -> Option<Lang> {
    let lower = text.to_lowercase();
    let tokens: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|t| !t.is_empty())
        .collect();
    let score = |words: &[&str]| tokens.iter().filter(|t| words.contains(t)).count();
    let scores = [
        (
            Lang::En,
            score(&[
                "the", "is", "you", "your", "we", "would", "thank", "yes", "in", "of", "only",
                "order",
            ]),
        ),
        (
            Lang::Es,
            score(&[
                "el", "la", "su", "de", "está", "gracias", "sí", "solo", "tenemos", "pedido",
                "por", "quiere", "le", "cuesta",
            ]),
        ),
        (
            Lang::Fr,
            score(&[
                "le", "la", "votre", "de", "est", "merci", "oui", "nous", "commande", "pour",
                "vous", "que", "coûte",
            ]),
        ),
    ];
    scores
        .into_iter()
        .filter(|(_, s)| *s > 0)
        .max_by_key(|(_, s)| *s)
        .map(|(l, _)| l)
}

#[tokio::main]
async fn main() {
    let EvalDb { db, sql } = EvalDb::fresh().await;
    let owner: Uuid = sqlx::query_scalar(
        "insert into users (google_subject, email) values ('eval-agent', 'shop@example.com') returning id",
    )
    .fetch_one(&sql)
    .await
    .expect("insert the shop's user");
    let owner = UserId(owner);
    let scope = db.for_user(owner);
    let mut products = HashMap::new();
    for (name, price, stock) in CATALOG {
        let new = NewProduct::parse(name, "", price, "EUR", stock).expect("catalog");
        products.insert(
            name,
            scope.meta().create_product(&new).await.expect("product"),
        );
    }
    let scenarios = scenarios(&products);
    let configured = ModelConfig::from_env(|k| std::env::var(k).ok());
    let script: Vec<Reply> = scenarios
        .iter()
        .flat_map(|s| s.script.iter().flatten().cloned())
        .collect();
    let fake_openai = FakeOpenAi::start(script)
        .await
        .expect("start the fake OpenAI");
    let (model, engine) = match configured {
        Some(model) => {
            let name = format!("{} at {}", model.model, model.base_url);
            (model, name)
        }
        None => (
            ModelConfig::from_env(|k| (k == "OPENAI_BASE_URL").then(|| fake_openai.base_url()))
                .expect("fake model"),
            "fake OpenAI (scripted ideal model)".to_owned(),
        ),
    };
    let page = Page::new(PAGE, "Shop", TOKEN);
    let meta = FakeMeta::start(vec![page], 0)
        .await
        .expect("start the fake Meta");
    let secrets = SecretBox::from_base64(&format!("{}=", "A".repeat(43))).expect("key");
    let form = MetaConnect::parse(PAGE, TOKEN, "", &meta.graph_url()).expect("form");
    let integration = scope
        .meta()
        .connect(&HttpGraph::default(), &form, &secrets)
        .await
        .expect("connect");
    scope
        .meta()
        .set_ai_default(integration, true)
        .await
        .expect("AI on");
    let service = MetaService::new(
        db.clone(),
        HttpGraph::default(),
        secrets,
        Some(model),
        MetaOptions::default(),
    );
    service
        .poll(owner, integration)
        .await
        .expect("the (empty) history import");

    let (mut correct, mut wrong, mut missed) = (0, 0, 0);
    let (mut handoffs, mut unexpected_handoffs, mut missed_handoffs) = (0, 0, 0);
    let (mut replies, mut in_language) = (0, 0);
    for (n, scenario) in scenarios.iter().enumerate() {
        let customer = format!("psid-{n}");
        for text in &scenario.turns {
            meta.customer_writes(
                PAGE,
                Platform::Messenger,
                (&customer, "Alex Doe"),
                text,
                Utc::now(),
            )
            .expect("customer writes");
            let report = service.poll(owner, integration).await.expect("poll");
            for conversation in report.to_answer {
                let outcome = service
                    .answer(owner, conversation)
                    .await
                    .expect("agent turn");
                if outcome == Some(TurnOutcome::Failed) {
                    eprintln!("conversation {n}: the turn failed");
                }
            }
        }
        let conversation: Uuid =
            sqlx::query_scalar("select id from meta_conversations where customer_id = $1")
                .bind(&customer)
                .fetch_one(&sql)
                .await
                .expect("conversation");
        let orders: Vec<(String, i32)> = sqlx::query_as(
            "select p.name, o.quantity from orders o join products p on p.id = o.product_id where o.conversation_id = $1",
        )
        .bind(conversation)
        .fetch_all(&sql)
        .await
        .expect("orders");
        let status: String =
            sqlx::query_scalar("select status from meta_conversations where id = $1")
                .bind(conversation)
                .fetch_one(&sql)
                .await
                .expect("status");
        match &scenario.expect {
            Expect::Order { product, quantity } => {
                let right = orders.len() == 1
                    && orders[0].0 == *product
                    && i64::from(orders[0].1) == *quantity;
                if right {
                    correct += 1
                } else if orders.is_empty() {
                    missed += 1
                } else {
                    wrong += orders.len()
                }
            }
            _ => wrong += orders.len(),
        }
        match (scenario.expect == Expect::Handoff, status == "pending") {
            (true, true) => handoffs += 1,
            (true, false) => missed_handoffs += 1,
            (false, true) => unexpected_handoffs += 1,
            (false, false) => {}
        }
        let sent: Vec<String> = sqlx::query_scalar(
            "select text from meta_messages where conversation_id = $1 and sender = 'agent'",
        )
        .bind(conversation)
        .fetch_all(&sql)
        .await
        .expect("replies");
        for text in sent {
            replies += 1;
            if language_of(&text) == Some(scenario.lang) {
                in_language += 1;
            }
        }
    }
    let expected_orders = scenarios
        .iter()
        .filter(|s| matches!(s.expect, Expect::Order { .. }))
        .count();
    let expected_handoffs = scenarios
        .iter()
        .filter(|s| s.expect == Expect::Handoff)
        .count();
    println!(
        "{}",
        json!({
            "engine": engine,
            "conversations": scenarios.len(),
            "languages": ["en", "es", "fr"],
            "orders_expected": expected_orders,
            "orders_correct": correct,
            "orders_missed": missed,
            "orders_wrong": wrong,
            "handoffs_expected": expected_handoffs,
            "handoffs": handoffs,
            "handoffs_missed": missed_handoffs,
            "handoffs_unexpected": unexpected_handoffs,
            "replies": replies,
            "replies_in_customer_language": in_language,
        })
    );
}
