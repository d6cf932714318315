//! Demo mode's Facebook Page: the fake Graph API ([`fakes::meta`]) serving one Page
//! with an Instagram account, offered on Settings → Channels so connecting it is one
//! click; and a small shop for each demo user (a catalog and one order taken by hand),
//! so `/catalog` and `/orders` show what they are for before any customer writes.

use api::shop::DemoPage;
use domain::db::Db;
use domain::meta::catalog::OrderRequest;
use domain::users::UserId;
use fakes::meta::{FakeMeta, Page};

pub const PAGE_ID: &str = "104000000000001";
pub const PAGE_TOKEN: &str = "EAAB-demo-page-token";
pub const INSTAGRAM_ID: &str = "17841400000000001";

const CATALOG: &str = "name,description,price,currency,stock
Stoneware mug,\"Hand-glazed, 350 ml\",14.50,EUR,24
Linen tea towel,Natural linen 50 x 70 cm,12.00,EUR,40
Pour-over coffee set,\"Dripper, carafe and 40 filters\",39.90,EUR,6
";

/// Serves the demo Page's Graph API on a free local port.
pub async fn start_graph() -> std::io::Result<FakeMeta> {
    let page = Page {
        id: PAGE_ID.to_owned(),
        name: "Brightwater Home".to_owned(),
        token: PAGE_TOKEN.to_owned(),
        instagram_id: Some(INSTAGRAM_ID.to_owned()),
        instagram_username: Some("brightwater.home".to_owned()),
        token_expired: false,
    };
    let fake = FakeMeta::start(vec![page], 0).await?;
    tracing::info!(url = %fake.graph_url(), "demo mode: simulated Graph API is running");
    Ok(fake)
}

/// What Settings fills in to connect the demo Page.
pub fn demo_page(fake: &FakeMeta) -> DemoPage {
    DemoPage {
        graph_url: fake.graph_url(),
        page_id: PAGE_ID.to_owned(),
        page_token: PAGE_TOKEN.to_owned(),
        instagram_id: INSTAGRAM_ID.to_owned(),
    }
}

/// Gives a demo user with an empty catalog the demo products and one order for them.
pub async fn seed_shop(db: &Db, user: UserId) -> anyhow::Result<()> {
    let meta = db.for_user(user).meta();
    if !meta.products().await?.is_empty() {
        return Ok(());
    }
    meta.import_products(CATALOG).await?;
    let mug = meta
        .products()
        .await?
        .into_iter()
        .find(|p| p.name == "Stoneware mug")
        .ok_or_else(|| anyhow::anyhow!("the demo catalog has no mug"))?;
    let order = OrderRequest {
        product_id: mug.id.to_string(),
        quantity: 2,
        customer_name: "Inês Carvalho".to_owned(),
        phone: "+351 912 345 678".to_owned(),
        address: "Rua das Flores 12, 1200-195 Lisboa".to_owned(),
    };
    meta.create_order(&order, None, None).await?;
    Ok(())
}
