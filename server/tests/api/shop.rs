//! The shop's server functions and pages: connecting a Facebook Page against the fake
//! Graph API (refused tokens with Graph's words, nothing stored; needs-reconnect shown
//! with Graph's message; disconnect), products with precise 422s per field, the CSV
//! import taking every line or none, order statuses and the status filter, and another
//! user's Page, product or order being a 404.

use app::components::connect_meta::{ConnectMetaPage, DisconnectMetaPage, SetMetaAiDefault};
use app::pages::catalog::{CreateProduct, ImportProducts, SetProductActive, UpdateProduct};
use app::pages::orders::SetOrderStatus;
use domain::crypto::SecretBox;
use domain::meta::catalog::OrderRequest;
use domain::meta::{HttpGraph, MetaOptions, MetaService, PollOutcome};
use fakes::meta::{FakeMeta, Page};
use leptos::server_fn::ServerFn;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{ALEX, BACKGROUND, Browser, SAM, TEST_KEY, TestApp, spawn_app, wait_until};

const PAGE: &str = "1001";
const TOKEN: &str = "EAAB-page-token";

async fn fake_graph() -> FakeMeta {
    let page = Page::new(PAGE, "Shop", TOKEN).with_instagram("178", "shop.ig");
    FakeMeta::start(vec![page], 0).await.unwrap()
}

/// Calls a server function; returns its status and JSON body.
async fn call(browser: &Browser, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let response = browser.call_server_fn(path, form).await;
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

const MUG: [(&str, &str); 5] = [
    ("name", "Mug"),
    ("description", "Stoneware, 350 ml"),
    ("price", "12.50"),
    ("currency", "eur"),
    ("stock", "20"),
];

fn with<'a>(
    base: &[(&'a str, &'a str)],
    field: &'a str,
    value: &'a str,
) -> Vec<(&'a str, &'a str)> {
    base.iter()
        .map(|&(k, v)| (k, if k == field { value } else { v }))
        .collect()
}

async fn create_mug(browser: &Browser) -> Uuid {
    let (status, body) = call(browser, CreateProduct::PATH, &MUG).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_value(body).unwrap()
}

/// An order for two mugs, taken by hand through the domain (orders have no form).
async fn order_mugs(app: &TestApp, email: &str, product: Uuid) -> Uuid {
    let user = app.user_id(email).await;
    let request = OrderRequest {
        product_id: product.to_string(),
        quantity: 2,
        customer_name: "Ana Pérez".into(),
        phone: "+34 600 000 000".into(),
        address: "Calle Mayor 1, Madrid".into(),
    };
    app.db
        .for_user(user)
        .meta()
        .create_order(&request, None, None)
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn a_product_with_a_bad_value_is_a_422_naming_the_field_and_nothing_is_stored() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let cases = [
        ("name", "  ", "Invalid name: must be 1 to 200 characters"),
        ("price", "12,50", "Invalid price: a price like 12.50"),
        ("price", "1.234", "Invalid price: a price like 12.50"),
        (
            "currency",
            "euro",
            "Invalid currency: a three-letter code like EUR",
        ),
        ("stock", "-1", "Invalid stock: a whole number, 0 or more"),
    ];
    for (field, value, message) in cases {
        let (status, body) = call(&alex, CreateProduct::PATH, &with(&MUG, field, value)).await;
        assert_eq!(status, 422, "{field}={value}: {body}");
        assert_eq!(body["field"], field, "{body}");
        assert_eq!(body["message"], message, "{body}");
    }
    assert_eq!(count(&app, "select count(*) from products").await, 0);

    let mug = create_mug(&alex).await;
    let (price, currency): (i64, String) =
        sqlx::query_as("select price_cents, currency from products where id = $1")
            .bind(mug)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!((price, currency.as_str()), (1250, "EUR"));

    let id = mug.to_string();
    let mut edit = with(&MUG, "stock", "lots");
    edit.extend([("product_id", id.as_str()), ("active", "true")]);
    let (status, body) = call(&alex, UpdateProduct::PATH, &edit).await;
    assert_eq!(
        (status, &body["field"]),
        (422, &Value::from("stock")),
        "{body}"
    );
    let mut edit = with(&MUG, "price", "9.9");
    edit.extend([("product_id", id.as_str()), ("active", "true")]);
    let (status, body) = call(&alex, UpdateProduct::PATH, &edit).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = call(
        &alex,
        SetProductActive::PATH,
        &[("product_id", id.as_str()), ("active", "false")],
    )
    .await;
    assert_eq!(status, 200);
    let (price, active): (i64, bool) =
        sqlx::query_as("select price_cents, active from products where id = $1")
            .bind(mug)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!((price, active), (990, false));
    let html = alex.page("/catalog", 200, "Mug").await;
    assert!(html.contains("9.90 EUR"), "{html}");
    assert!(html.contains("Reactivate"), "{html}");
}

#[tokio::test]
async fn a_csv_import_takes_every_line_or_none() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let bad =
        "name,description,price,currency,stock\nMug,Stoneware,12.50,EUR,20\nTee,Cotton,abc,EUR,5\n";
    let (status, body) = call(&alex, ImportProducts::PATH, &[("csv", bad)]).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["message"],
        "Invalid CSV: line 3: invalid price: a price like 12.50"
    );
    let short = "Mug,Stoneware,12.50,EUR\n";
    let (status, body) = call(&alex, ImportProducts::PATH, &[("csv", short)]).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["message"],
        "Invalid CSV: line 1: expected 5 fields (name,description,price,currency,stock)"
    );
    assert_eq!(count(&app, "select count(*) from products").await, 0);

    let good = "name,description,price,currency,stock\n\"Mug, large\",Stoneware,12.50,EUR,20\nTee,,15,usd,0\n";
    let (status, body) = call(&alex, ImportProducts::PATH, &[("csv", good)]).await;
    assert_eq!((status, body), (200, Value::from(2)));
    let html = alex.page("/catalog", 200, "Mug, large").await;
    assert!(html.contains("15.00 USD"), "{html}");
}

#[tokio::test]
async fn an_orders_status_changes_and_the_filter_and_totals_follow() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let mug = create_mug(&alex).await;
    let first = order_mugs(&app, ALEX, mug).await;
    order_mugs(&app, ALEX, mug).await;
    let stock: i32 = sqlx::query_scalar("select stock from products where id = $1")
        .bind(mug)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(stock, 16, "each order took two from the stock");

    let html = alex.page("/orders", 200, "Ana Pérez").await;
    assert!(html.contains("25.00 EUR"), "an order's total: {html}");
    assert!(
        html.contains("50.00 EUR"),
        "the listed orders' total: {html}"
    );

    let id = first.to_string();
    let (status, body) = call(
        &alex,
        SetOrderStatus::PATH,
        &[("order_id", id.as_str()), ("status", "lost")],
    )
    .await;
    assert_eq!(
        (status, &body["field"]),
        (422, &Value::from("status")),
        "{body}"
    );
    let (status, body) = call(
        &alex,
        SetOrderStatus::PATH,
        &[("order_id", id.as_str()), ("status", "shipped")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let shipped = alex.page("/orders?status=shipped", 200, "Ana Pérez").await;
    assert!(shipped.contains(&id), "{shipped}");
    assert!(shipped.contains("Total of the 1 order listed"), "{shipped}");
    let new = alex.page("/orders?status=new", 200, "Ana Pérez").await;
    assert!(!new.contains(&id), "{new}");
    alex.page("/orders?status=lost", 422, "Invalid status")
        .await;
}

#[tokio::test]
async fn another_users_page_product_or_order_is_a_404() {
    let app = spawn_app().await;
    let graph = fake_graph().await;
    let alex = app.sign_in(ALEX).await;
    let sam = app.sign_in(SAM).await;
    let mug = create_mug(&alex).await;
    let order = order_mugs(&app, ALEX, mug).await;
    let graph_url = graph.graph_url();
    let (status, body) = call(
        &alex,
        ConnectMetaPage::PATH,
        &[
            ("page_id", PAGE),
            ("page_token", TOKEN),
            ("graph_url", graph_url.as_str()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let integration: Uuid = sqlx::query_scalar("select id from meta_integrations")
        .fetch_one(app.db.pool())
        .await
        .unwrap();

    let (mug, order, integration) = (mug.to_string(), order.to_string(), integration.to_string());
    let mut edit = MUG.to_vec();
    edit.extend([("product_id", mug.as_str()), ("active", "true")]);
    let attempts: [(&str, Vec<(&str, &str)>); 5] = [
        (UpdateProduct::PATH, edit),
        (
            SetProductActive::PATH,
            vec![("product_id", mug.as_str()), ("active", "false")],
        ),
        (
            SetOrderStatus::PATH,
            vec![("order_id", order.as_str()), ("status", "cancelled")],
        ),
        (
            SetMetaAiDefault::PATH,
            vec![("integration_id", integration.as_str()), ("on", "true")],
        ),
        (
            DisconnectMetaPage::PATH,
            vec![("integration_id", integration.as_str())],
        ),
    ];
    for (path, form) in attempts {
        let (status, body) = call(&sam, path, &form).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
    let untouched: (String, bool, String, bool) = sqlx::query_as(
        r#"select o.status, p.active, a.status, i.ai_default
           from orders o, products p, meta_integrations i join accounts a on a.id = i.account_id"#,
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(
        untouched,
        ("new".into(), true, "active".into(), false),
        "Alex's order, product and Page are as they were"
    );
    let orders = sam.page("/orders", 200, "No orders yet").await;
    assert!(!orders.contains("Ana Pérez"), "{orders}");
    let catalog = sam.page("/catalog", 200, "No products yet").await;
    assert!(!catalog.contains("Stoneware, 350 ml"), "{catalog}");
    let channels = sam
        .page("/settings/channels", 200, "No Page is connected")
        .await;
    assert!(!channels.contains(PAGE), "{channels}");
}

#[tokio::test]
async fn connecting_a_page_checks_the_token_with_graph_and_shows_when_it_needs_reconnecting() {
    let app = spawn_app().await;
    let graph = fake_graph().await;
    let alex = app.sign_in(ALEX).await;
    let graph_url = graph.graph_url();
    let connect = |token: &'static str| {
        [
            ("page_id", PAGE),
            ("page_token", token),
            ("instagram_id", "178"),
            ("graph_url", graph_url.as_str()),
        ]
    };

    let (status, body) = call(&alex, ConnectMetaPage::PATH, &connect("EAAB-wrong")).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["field"], "page access token");
    assert_eq!(
        body["message"],
        "Invalid page access token: Invalid OAuth access token - Cannot parse access token"
    );
    let (status, body) = call(
        &alex,
        ConnectMetaPage::PATH,
        &[("page_id", "my-shop"), ("page_token", TOKEN)],
    )
    .await;
    assert_eq!(
        (status, &body["field"]),
        (422, &Value::from("page id")),
        "{body}"
    );
    assert_eq!(
        count(&app, "select count(*) from meta_integrations").await,
        0
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from accounts where provider = 'meta'"
        )
        .await,
        0
    );

    let (status, body) = call(&alex, ConnectMetaPage::PATH, &connect(TOKEN)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        count(&app, "select count(*) from jobs where kind = 'meta.poll'").await,
        1,
        "the first poll is queued"
    );
    let html = alex
        .page("/settings/channels", 200, "Facebook Page 1001")
        .await;
    assert!(html.contains("status-active"), "{html}");
    assert!(html.contains("Account 178"), "{html}");

    // Graph expires the token: the next poll marks the Page with Graph's message.
    graph.expire_token(PAGE);
    let user = app.user_id(ALEX).await;
    let integration: Uuid = sqlx::query_scalar("select id from meta_integrations")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let service = MetaService::new(
        app.db.clone(),
        HttpGraph::default(),
        SecretBox::from_base64(TEST_KEY).unwrap(),
        None,
        MetaOptions::default(),
    );
    let report = service.poll(user, integration).await.unwrap();
    assert!(
        matches!(report.outcome, PollOutcome::NeedsReconnect(_)),
        "{report:?}"
    );
    // The app's own worker polls too: one that read Graph before the token expired may
    // mark the Page active after this poll, and its next poll marks it again.
    let html = wait_until(
        "the Page shown as needing reconnecting",
        BACKGROUND,
        async || {
            let (status, html) = alex.get_html("/settings/channels").await;
            (status == 200 && html.contains("status-needs_reconnect"))
                .then_some(html)
                .ok_or(format!("{status}"))
        },
    )
    .await;
    assert!(html.contains("Session has expired"), "{html}");

    // Reconnecting with the expired token is refused with Graph's words.
    let (status, body) = call(&alex, ConnectMetaPage::PATH, &connect(TOKEN)).await;
    assert_eq!(status, 422, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "Invalid page access token: Error validating access token: Session has expired"
        ),
        "{message}"
    );

    let id = integration.to_string();
    let (status, _) = call(
        &alex,
        SetMetaAiDefault::PATH,
        &[("integration_id", id.as_str()), ("on", "true")],
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(
        &alex,
        DisconnectMetaPage::PATH,
        &[("integration_id", id.as_str())],
    )
    .await;
    assert_eq!(status, 200);
    let (status, ai_default, token): (String, bool, Option<Vec<u8>>) = sqlx::query_as(
        r#"select a.status, i.ai_default, a.access_token_enc
           from meta_integrations i join accounts a on a.id = i.account_id"#,
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(
        (status.as_str(), ai_default, token),
        ("disconnected", true, None)
    );
}
