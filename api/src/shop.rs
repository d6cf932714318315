//! The shop around Messenger and Instagram: connected Facebook Pages (Settings →
//! Channels), the product catalog (`/catalog`) and orders (`/orders`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::AccountStatus;
use crate::meta::OrderStatus;

/// A connected Facebook Page as Settings → Channels shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageView {
    pub id: Uuid,
    pub page_id: String,
    pub instagram_id: Option<String>,
    pub graph_url: String,
    pub status: AccountStatus,
    /// Graph's message when the Page needs reconnecting.
    pub last_error: Option<String>,
    /// The newest conversation the poll has read, when it has read any.
    pub last_fetch: Option<DateTime<Utc>>,
    /// New conversations start with the AI sales agent on.
    pub ai_default: bool,
}

/// The connected Pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PagesData {
    pub pages: Vec<PageView>,
    /// The agent needs a language model; without one it never answers.
    pub model_configured: bool,
}

/// What the connect form starts with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectDefaults {
    /// Graph's address when the form leaves it empty.
    pub graph_url: String,
    /// Demo mode's simulated Page, filled in so connecting it is one click.
    pub demo: Option<DemoPage>,
}

/// The simulated Page of demo mode: its fake Graph API and a token it accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoPage {
    pub graph_url: String,
    pub page_id: String,
    pub page_token: String,
    pub instagram_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductView {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub price_cents: i64,
    pub currency: String,
    pub stock: i32,
    pub active: bool,
}

impl ProductView {
    /// `12.50 EUR`.
    pub fn price(&self) -> String {
        money(self.price_cents, &self.currency)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    pub id: Uuid,
    pub product_id: Uuid,
    pub product_name: String,
    pub quantity: i32,
    pub unit_price_cents: i64,
    pub currency: String,
    pub customer_name: String,
    pub phone: String,
    pub address: String,
    pub status: OrderStatus,
    /// Taken by the AI sales agent (else entered by a person).
    pub ai_generated: bool,
    pub conversation_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl OrderView {
    pub fn total_cents(&self) -> i64 {
        self.unit_price_cents * i64::from(self.quantity)
    }
}

/// The orders listed (newest first) and what they add up to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrdersData {
    pub orders: Vec<OrderView>,
    /// Per currency, alphabetically: `(currency, cents)` of the orders listed.
    pub totals: Vec<(String, i64)>,
}

impl OrdersData {
    pub fn new(orders: Vec<OrderView>) -> Self {
        let mut totals: Vec<(String, i64)> = Vec::new();
        for order in &orders {
            match totals.iter_mut().find(|(c, _)| *c == order.currency) {
                Some((_, sum)) => *sum += order.total_cents(),
                None => totals.push((order.currency.clone(), order.total_cents())),
            }
        }
        totals.sort();
        Self { orders, totals }
    }
}

/// `1250` -> `12.50`.
pub fn format_price(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// `1250, "EUR"` -> `12.50 EUR`.
pub fn money(cents: i64, currency: &str) -> String {
    format!("{} {currency}", format_price(cents))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(currency: &str, unit: i64, quantity: i32) -> OrderView {
        OrderView {
            id: Uuid::nil(),
            product_id: Uuid::nil(),
            product_name: "Mug".into(),
            quantity,
            unit_price_cents: unit,
            currency: currency.into(),
            customer_name: String::new(),
            phone: String::new(),
            address: String::new(),
            status: OrderStatus::New,
            ai_generated: false,
            conversation_id: None,
            contact_id: None,
            created_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    #[test]
    fn totals_add_up_per_currency() {
        let data = OrdersData::new(vec![
            order("USD", 1000, 1),
            order("EUR", 990, 2),
            order("USD", 250, 3),
        ]);
        assert_eq!(
            data.totals,
            vec![("EUR".to_owned(), 1980), ("USD".to_owned(), 1750)]
        );
        assert_eq!(money(1205, "EUR"), "12.05 EUR");
        assert_eq!(format_price(7), "0.07");
    }
}
