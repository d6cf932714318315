//! Demo mode's Messenger and Instagram: the fake Graph API runs in-process with one
//! Page ("Rapport Demo Shop") and its Instagram account, each demo user gets the Page
//! connected and a small catalog at sign-in, simulated customers write in English,
//! Spanish, French and Arabic (some of them order, one asks for a person), and the
//! agent's replies come from demo mode's simulated model (the fake OpenAI answering
//! by rules, [`fakes::demo_sales`]), labelled as such on the conversation page.
//! A conversation page also lets the demo user write as the customer
//! (`POST /demo/conversations/{id}/customer`). The fake keeps nothing: after a restart
//! it is given back the conversations demo users stored, and their Page its address.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use api::meta::MetaPlatform;
use api::shop::DemoPage;
use app::ssr::CurrentUser;
use axum::Extension;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use domain::ask::model::ModelConfig;
use domain::crypto::SecretBox;
use domain::db::Db;
use domain::meta::catalog::{NewProduct, OrderRequest};
use domain::meta::conversations::{stored_threads, users_of_page};
use domain::meta::{HttpGraph, MetaConnect, MetaPollJob};
use domain::users::UserId;
use fakes::meta::{FakeMeta, Page, Platform};
use fakes::openai::FakeOpenAi;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::startup::AppState;

pub const PAGE_ID: &str = "104000000000042";
const PAGE_TOKEN: &str = "demo-page-token";
const INSTAGRAM_ID: &str = "17841400000000042";

/// The demo shop's catalog: name, description, price, currency, stock.
const CATALOG: [(&str, &str, &str, &str, &str); 5] = [
    (
        "Linen tote bag",
        "Natural linen, 38 x 42 cm",
        "24.00",
        "EUR",
        "40",
    ),
    (
        "Ceramic mug",
        "Hand-glazed stoneware, 350 ml",
        "14.50",
        "EUR",
        "25",
    ),
    (
        "Scented candle",
        "Fig and cedar, 40 hours",
        "19.90",
        "EUR",
        "30",
    ),
    ("Wool scarf", "Merino, 180 x 30 cm", "39.00", "EUR", "8"),
    (
        "Notebook set",
        "Three A5 notebooks, dotted",
        "12.00",
        "EUR",
        "0",
    ),
];

struct Customer {
    id: &'static str,
    name: &'static str,
    platform: Platform,
    /// What they wrote before the demo started (imported as history), minutes ago.
    history: &'static [(i64, &'static str)],
}

const CUSTOMERS: [Customer; 5] = [
    Customer {
        id: "7100000000000001",
        name: "Emma Thornbury",
        platform: Platform::Messenger,
        history: &[(95, "Hi! Is the linen tote bag still available?")],
    },
    Customer {
        id: "7100000000000002",
        name: "lucia.fernandez.ortega",
        platform: Platform::Instagram,
        history: &[(70, "¡Hola! ¿Tenéis la ceramic mug en azul?")],
    },
    Customer {
        id: "7100000000000003",
        name: "Camille Dubois-Laurent",
        platform: Platform::Messenger,
        history: &[(50, "Bonjour, combien coûte la scented candle ?")],
    },
    Customer {
        id: "7100000000000004",
        name: "omar.haddad.shop",
        platform: Platform::Instagram,
        history: &[(30, "مرحبا، هل الشموع المعطرة متوفرة؟ أريد واحدة كهدية.")],
    },
    // Written to only from the conversation page (the end-to-end test's customer):
    // the background customers never interrupt this thread.
    Customer {
        id: "7100000000000005",
        name: "Jordan Whitlock",
        platform: Platform::Messenger,
        history: &[(10, "Hello there, I found your shop on Facebook.")],
    },
];

/// What the background customers write next, in turn: (customer index, text).
const SCRIPT: [(usize, &str); 8] = [
    (0, "How much is it, and do you ship to London?"),
    (1, "Hola, ¿cuánto cuesta la ceramic mug?"),
    (2, "Je voudrais deux scented candle, s'il vous plaît."),
    (
        0,
        "Great, I'll take 1 linen tote bag. Name: Emma Thornbury, Phone: +44 20 7946 0018, Address: 12 Baker Street, London",
    ),
    (
        1,
        "Quiero 2 ceramic mug. Nombre: Lucía Fernández, Teléfono: +34 612 345 678, Dirección: Calle Mayor 5, Madrid",
    ),
    (
        2,
        "Nom: Camille Dubois-Laurent, Téléphone: +33 6 12 34 56 78, Adresse: 8 rue de Rivoli, Paris. Deux scented candle, merci !",
    ),
    (3, "I need to talk to a person about my delivery, please."),
    (0, "Thanks! Could I also get the wool scarf?"),
];

/// The running fakes of demo mode's Messenger and Instagram.
pub struct DemoMeta {
    meta: FakeMeta,
    openai: FakeOpenAi,
    next_line: AtomicUsize,
}

impl DemoMeta {
    /// Starts the fake Graph API and the simulated model. The first time, the
    /// customers' history is written; after a restart the conversations demo users
    /// stored are given back to the fake, and their Page is pointed at its new address.
    pub async fn start(db: &Db, secrets: &SecretBox) -> anyhow::Result<Self> {
        let page = Page::new(PAGE_ID, "Rapport Demo Shop", PAGE_TOKEN)
            .with_instagram(INSTAGRAM_ID, "rapport.demo.shop");
        let meta = FakeMeta::start(vec![page], 0).await?;
        // Ids stored from an earlier run of the demo are never handed out again.
        let first_id = u64::try_from(Utc::now().timestamp_millis()).unwrap_or(1) * 1000;
        meta.number_ids_from(first_id);
        let stored = stored_threads(db, PAGE_ID).await?;
        if stored.is_empty() {
            let now = Utc::now();
            for customer in &CUSTOMERS {
                for (minutes_ago, text) in customer.history {
                    meta.customer_writes(
                        PAGE_ID,
                        customer.platform,
                        (customer.id, customer.name),
                        text,
                        now - chrono::Duration::minutes(*minutes_ago),
                    );
                }
            }
        }
        for thread in &stored {
            meta.restore_conversation(
                PAGE_ID,
                fake_platform(thread.platform),
                &thread.conversation_id,
                (&thread.customer_id, &thread.customer_name),
                (&thread.message_id, &thread.text, thread.sent_at),
            );
        }
        let form = MetaConnect::parse(PAGE_ID, PAGE_TOKEN, INSTAGRAM_ID, &meta.graph_url())?;
        for user in users_of_page(db, PAGE_ID).await? {
            db.for_user(user)
                .meta()
                .connect(&HttpGraph::default(), &form, secrets)
                .await?;
        }
        let openai = FakeOpenAi::responding(Arc::new(fakes::demo_sales::respond)).await?;
        tracing::info!(graph = %meta.graph_url(), model = %openai.base_url(), restored = stored.len(), "demo mode: simulated Messenger, Instagram and sales model are running");
        Ok(Self {
            meta,
            openai,
            next_line: AtomicUsize::new(0),
        })
    }

    /// What Settings fills in to connect the demo Page.
    pub fn demo_page(&self) -> DemoPage {
        DemoPage {
            graph_url: self.meta.graph_url(),
            page_id: PAGE_ID.to_owned(),
            page_token: PAGE_TOKEN.to_owned(),
            instagram_id: INSTAGRAM_ID.to_owned(),
        }
    }

    /// The simulated model, for the agent.
    pub fn model(&self) -> ModelConfig {
        let mut model = ModelConfig::from_env(|name| match name {
            "OPENAI_BASE_URL" => Some(self.openai.base_url()),
            "OPENAI_MODEL" => Some(fakes::demo_sales::MODEL.to_owned()),
            _ => None,
        })
        .expect("a base URL configures a model");
        model.timeout = Duration::from_secs(20);
        model
    }

    /// Has the next background customer write, every `every`, until `stop`.
    pub fn simulate_customers(self: &Arc<Self>, every: Duration, stop: CancellationToken) {
        let demo = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(every) => {}
                }
                let (index, text) =
                    SCRIPT[demo.next_line.fetch_add(1, Ordering::Relaxed) % SCRIPT.len()];
                let customer = &CUSTOMERS[index];
                demo.meta.customer_writes(
                    PAGE_ID,
                    customer.platform,
                    (customer.id, customer.name),
                    text,
                    Utc::now(),
                );
            }
        });
    }

    /// Gives a demo user the shop once: the catalog, and the Page and its Instagram
    /// account connected (their first poll imports the customers' history).
    pub async fn seed(&self, db: &Db, secrets: &SecretBox, user: UserId) -> anyhow::Result<()> {
        let meta = db.for_user(user).meta();
        if !meta.integrations().await?.is_empty() {
            return Ok(());
        }
        if meta.products().await?.is_empty() {
            for (name, description, price, currency, stock) in CATALOG {
                let product = NewProduct::parse(name, description, price, currency, stock)?;
                meta.create_product(&product).await?;
            }
            // One order taken by hand, so /orders shows what it is for at once.
            let mug = meta
                .products()
                .await?
                .into_iter()
                .find(|p| p.name == "Ceramic mug")
                .ok_or_else(|| anyhow::anyhow!("the demo catalog has no mug"))?;
            let order = OrderRequest {
                product_id: mug.id.to_string(),
                quantity: 2,
                customer_name: "Inês Carvalho".to_owned(),
                phone: "+351 912 345 678".to_owned(),
                address: "Rua das Flores 12, 1200-195 Lisboa".to_owned(),
            };
            meta.create_order(&order, None, None).await?;
        }
        let form = MetaConnect::parse(PAGE_ID, PAGE_TOKEN, INSTAGRAM_ID, &self.meta.graph_url())?;
        let integration = meta.connect(&HttpGraph::default(), &form, secrets).await?;
        db.for_user(user)
            .jobs()
            .enqueue(&MetaPollJob {
                integration_id: integration,
            })
            .await?;
        Ok(())
    }
}

fn fake_platform(platform: MetaPlatform) -> Platform {
    match platform {
        MetaPlatform::Messenger => Platform::Messenger,
        MetaPlatform::Instagram => Platform::Instagram,
    }
}

#[derive(Deserialize)]
pub struct CustomerMessage {
    text: String,
}

/// `POST /demo/conversations/{id}/customer`: the demo user writes as the customer of
/// one of their demo conversations; the Page is polled at once so the message (and the
/// agent's reply, when it is on) arrives within seconds. Back to the conversation.
pub async fn customer_writes(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(conversation): Path<Uuid>,
    Form(form): Form<CustomerMessage>,
) -> Response {
    let Some(demo) = &state.demo_meta else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let scope = state.db.for_user(user.id);
    let customer = match scope.meta().customer(conversation).await {
        Ok(customer) if customer.page_id == PAGE_ID => customer,
        Ok(_) | Err(domain::DomainError::NotFound(_)) => {
            return StatusCode::NOT_FOUND.into_response();
        }
        Err(error) => {
            tracing::error!(%error, "could not read a demo conversation");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let text = form.text.trim();
    if text.is_empty() || text.chars().count() > 2000 {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            "the message must be 1 to 2000 characters",
        )
            .into_response();
    }
    demo.meta.customer_writes(
        PAGE_ID,
        fake_platform(customer.platform),
        (&customer.customer_id, &customer.customer_name),
        text,
        Utc::now(),
    );
    if let Err(error) = scope
        .jobs()
        .enqueue(&MetaPollJob {
            integration_id: customer.integration_id,
        })
        .await
    {
        // The scheduled poll reads the message within seconds anyway.
        tracing::warn!(%error, "could not queue a poll after a demo customer wrote");
    }
    Redirect::to(&api::conversations::conversation_href(conversation)).into_response()
}
