//! The product catalog and orders. The agent sees the active products as data and
//! orders through [`place_order`], which checks the product and the stock and creates
//! at most one order per agent turn and product.

use api::meta::OrderStatus;
use api::shop::{OrderView, ProductView};
use serde::Deserialize;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::scopes::MetaScope;
use crate::{DomainError, UserId};

/// A product as the pages show it (the same fields).
pub type Product = ProductView;

/// A product as the user writes it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProduct {
    pub name: String,
    pub description: String,
    pub price_cents: i64,
    pub currency: String,
    pub stock: i32,
}

impl NewProduct {
    /// `price` like `12.50` or `12`.
    pub fn parse(
        name: &str,
        description: &str,
        price: &str,
        currency: &str,
        stock: &str,
    ) -> Result<Self, DomainError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(DomainError::invalid("name", "must be 1 to 200 characters"));
        }
        let price_cents = parse_price(price.trim())
            .ok_or_else(|| DomainError::invalid("price", "a price like 12.50"))?;
        let currency = currency.trim().to_uppercase();
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(DomainError::invalid(
                "currency",
                "a three-letter code like EUR",
            ));
        }
        let stock = stock
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|s| *s >= 0)
            .ok_or_else(|| DomainError::invalid("stock", "a whole number, 0 or more"))?;
        Ok(Self {
            name: name.to_owned(),
            description: description.trim().to_owned(),
            price_cents,
            currency,
            stock,
        })
    }
}

fn parse_price(text: &str) -> Option<i64> {
    let (whole, cents) = match text.split_once('.') {
        Some((w, c)) if (1..=2).contains(&c.len()) => (w, format!("{c:0<2}")),
        Some(_) => return None,
        None => (text, "00".to_owned()),
    };
    if whole.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !cents.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    whole
        .parse::<i64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(cents.parse().ok()?)
}

pub use api::shop::format_price;

/// Reads a CSV of `name,description,price,currency,stock` (a header row is allowed;
/// quoted fields may hold commas). Returns the products or the first bad line.
pub fn parse_csv(text: &str) -> Result<Vec<NewProduct>, DomainError> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let fields = split_csv_line(line);
        if line.trim().is_empty()
            || (n == 0
                && fields
                    .first()
                    .is_some_and(|f| f.eq_ignore_ascii_case("name")))
        {
            continue;
        }
        let [name, description, price, currency, stock] = fields.as_slice() else {
            return Err(DomainError::invalid(
                "CSV",
                format!(
                    "line {}: expected 5 fields (name,description,price,currency,stock)",
                    n + 1
                ),
            ));
        };
        out.push(
            NewProduct::parse(name, description, price, currency, stock)
                .map_err(|e| DomainError::invalid("CSV", format!("line {}: {e}", n + 1)))?,
        );
    }
    Ok(out)
}

fn split_csv_line(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// An order as the pages show it (the same fields).
pub type Order = OrderView;

/// The `create_order` tool's arguments, as the model gives them.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderRequest {
    pub product_id: String,
    pub quantity: i64,
    #[serde(default)]
    pub customer_name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub address: String,
}

/// Validates `request` against the catalog and creates the order (once per turn and
/// product; a retried turn gets the same order back). `Err` is the tool error the
/// model reads, written so it can ask the customer.
pub(super) async fn place_order(
    conn: &mut PgConnection,
    user: UserId,
    turn: Uuid,
    conversation: Uuid,
    contact: Option<Uuid>,
    request: &OrderRequest,
) -> Result<Result<Order, String>, sqlx::Error> {
    checked_order(conn, user, Some(turn), Some(conversation), contact, request).await
}

/// The order checks shared by the agent and a person: a known, active product, a
/// quantity within the stock, the customer's name, phone and address. The stock is
/// decremented with the order. An order with a `turn` is the agent's.
async fn checked_order(
    conn: &mut PgConnection,
    user: UserId,
    turn: Option<Uuid>,
    conversation: Option<Uuid>,
    contact: Option<Uuid>,
    request: &OrderRequest,
) -> Result<Result<Order, String>, sqlx::Error> {
    let Ok(product_id) = Uuid::parse_str(request.product_id.trim()) else {
        return Ok(Err(
            "unknown product_id: use a product_id from the catalog".into()
        ));
    };
    let product = sqlx::query!(
        r#"select name, price_cents, currency, stock, active from products
           where user_id = $1 and id = $2 for update"#,
        user.0,
        product_id,
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(product) = product else {
        return Ok(Err(
            "unknown product_id: use a product_id from the catalog".into()
        ));
    };
    // A turn can only repeat itself: a null turn matches nothing.
    let existing = sqlx::query_scalar!(
        "select id from orders where turn_id = $1 and product_id = $2",
        turn,
        product_id,
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(id) = existing {
        return Ok(Ok(load_order(conn, user, id).await?));
    }
    if !product.active {
        return Ok(Err(format!(
            "{} is not available any more; offer another product from the catalog",
            product.name
        )));
    }
    if request.quantity < 1 {
        return Ok(Err("quantity must be at least 1".into()));
    }
    if request.quantity > i64::from(product.stock) {
        return Ok(Err(format!(
            "only {} of {} in stock; ask the customer for a smaller quantity",
            product.stock, product.name
        )));
    }
    let missing: Vec<&str> = [
        ("customer name", &request.customer_name),
        ("phone", &request.phone),
        ("address", &request.address),
    ]
    .into_iter()
    .filter(|(_, v)| v.trim().is_empty())
    .map(|(k, _)| k)
    .collect();
    if !missing.is_empty() {
        return Ok(Err(format!(
            "missing {}: ask the customer for it",
            missing.join(", ")
        )));
    }
    let quantity = i32::try_from(request.quantity).unwrap_or(i32::MAX);
    let id = sqlx::query_scalar!(
        r#"insert into orders (user_id, conversation_id, contact_id, product_id, quantity,
             unit_price_cents, currency, customer_name, phone, address, ai_generated, turn_id)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) returning id"#,
        user.0,
        conversation,
        contact,
        product_id,
        quantity,
        product.price_cents,
        product.currency,
        request.customer_name.trim(),
        request.phone.trim(),
        request.address.trim(),
        turn.is_some(),
        turn,
    )
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query!(
        "update products set stock = stock - $3 where user_id = $1 and id = $2",
        user.0,
        product_id,
        quantity,
    )
    .execute(&mut *conn)
    .await?;
    Ok(Ok(load_order(conn, user, id).await?))
}

async fn load_order(conn: &mut PgConnection, user: UserId, id: Uuid) -> Result<Order, sqlx::Error> {
    Ok(orders_query(conn, user, Some(id), None).await?.remove(0))
}

async fn orders_query(
    conn: &mut PgConnection,
    user: UserId,
    id: Option<Uuid>,
    status: Option<OrderStatus>,
) -> Result<Vec<Order>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select o.id, o.product_id, p.name as product_name, o.quantity, o.unit_price_cents,
                  o.currency, o.customer_name, o.phone, o.address,
                  o.status as "status: OrderStatus", o.ai_generated, o.conversation_id,
                  o.contact_id, o.created_at
           from orders o join products p on p.id = o.product_id
           where o.user_id = $1 and ($2::uuid is null or o.id = $2)
             and ($3::text is null or o.status = $3)
           order by o.created_at desc limit 500"#,
        user.0,
        id,
        status.map(OrderStatus::as_str),
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Order {
            id: r.id,
            product_id: r.product_id,
            product_name: r.product_name,
            quantity: r.quantity,
            unit_price_cents: r.unit_price_cents,
            currency: r.currency,
            customer_name: r.customer_name,
            phone: r.phone,
            address: r.address,
            status: r.status,
            ai_generated: r.ai_generated,
            conversation_id: r.conversation_id,
            contact_id: r.contact_id,
            created_at: r.created_at,
        })
        .collect())
}

async fn insert_product(
    conn: &mut PgConnection,
    user: UserId,
    new: &NewProduct,
) -> Result<Uuid, DomainError> {
    Ok(sqlx::query_scalar!(
        r#"insert into products (user_id, name, description, price_cents, currency, stock)
               values ($1, $2, $3, $4, $5, $6) returning id"#,
        user.0,
        new.name,
        new.description,
        new.price_cents,
        new.currency,
        new.stock,
    )
    .fetch_one(conn)
    .await?)
}

impl MetaScope<'_> {
    pub async fn products(self) -> Result<Vec<Product>, DomainError> {
        Ok(sqlx::query_as!(
            Product,
            r#"select id, name, description, price_cents, currency, stock, active
               from products where user_id = $1 order by active desc, name"#,
            self.user.0,
        )
        .fetch_all(self.pool)
        .await?)
    }

    pub async fn create_product(self, new: &NewProduct) -> Result<Uuid, DomainError> {
        insert_product(&mut *self.pool.acquire().await?, self.user, new).await
    }

    /// Deactivates (the agent stops offering it) or reactivates a product.
    pub async fn set_product_active(self, id: Uuid, active: bool) -> Result<(), DomainError> {
        let done = sqlx::query!(
            "update products set active = $3 where user_id = $1 and id = $2",
            self.user.0,
            id,
            active,
        )
        .execute(self.pool)
        .await?;
        match done.rows_affected() {
            0 => Err(DomainError::NotFound("product")),
            _ => Ok(()),
        }
    }

    pub async fn update_product(
        self,
        id: Uuid,
        new: &NewProduct,
        active: bool,
    ) -> Result<(), DomainError> {
        let done = sqlx::query!(
            r#"update products set name = $3, description = $4, price_cents = $5, currency = $6,
                 stock = $7, active = $8
               where user_id = $1 and id = $2"#,
            self.user.0,
            id,
            new.name,
            new.description,
            new.price_cents,
            new.currency,
            new.stock,
            active,
        )
        .execute(self.pool)
        .await?;
        match done.rows_affected() {
            0 => Err(DomainError::NotFound("product")),
            _ => Ok(()),
        }
    }

    /// Imports a CSV in one transaction: every line or none.
    pub async fn import_products(self, csv: &str) -> Result<usize, DomainError> {
        let products = parse_csv(csv)?;
        let mut tx = self.pool.begin().await?;
        for p in &products {
            insert_product(&mut tx, self.user, p).await?;
        }
        tx.commit().await?;
        Ok(products.len())
    }

    /// The newest 500 orders, of one status or all.
    pub async fn orders(self, status: Option<OrderStatus>) -> Result<Vec<Order>, DomainError> {
        let mut conn = self.pool.acquire().await?;
        Ok(orders_query(&mut conn, self.user, None, status).await?)
    }

    /// An order a person takes (by phone, in the shop, for a conversation), checked like
    /// the agent's: a refusal is [`DomainError::Invalid`] on `order` with the reason.
    pub async fn create_order(
        self,
        request: &OrderRequest,
        conversation: Option<Uuid>,
        contact: Option<Uuid>,
    ) -> Result<Order, DomainError> {
        let mut tx = self.pool.begin().await?;
        let placed =
            checked_order(&mut tx, self.user, None, conversation, contact, request).await?;
        let order = placed.map_err(|reason| DomainError::invalid("order", reason))?;
        tx.commit().await?;
        Ok(order)
    }

    pub async fn set_order_status(self, id: Uuid, status: OrderStatus) -> Result<(), DomainError> {
        let done = sqlx::query!(
            "update orders set status = $3 where user_id = $1 and id = $2",
            self.user.0,
            id,
            status.as_str(),
        )
        .execute(self.pool)
        .await?;
        match done.rows_affected() {
            0 => Err(DomainError::NotFound("order")),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_and_csv_lines_parse_exactly() {
        assert_eq!(parse_price("12.5"), Some(1250));
        assert_eq!(parse_price("12.05"), Some(1205));
        assert_eq!(parse_price("7"), Some(700));
        assert_eq!(parse_price("1.234"), None);
        assert_eq!(parse_price("-1"), None);
        assert_eq!(format_price(1205), "12.05");
        let csv = "name,description,price,currency,stock\n\"Mug, large\",\"Says \"\"hi\"\"\",9.90,eur,4\n\nTee,,15,USD,0\n";
        let products = parse_csv(csv).unwrap();
        assert_eq!(products.len(), 2);
        assert_eq!(products[0].name, "Mug, large");
        assert_eq!(products[0].description, "Says \"hi\"");
        assert_eq!(
            (products[0].price_cents, products[0].currency.as_str()),
            (990, "EUR")
        );
        let bad = parse_csv("Mug,x,9.90,EUR\n").unwrap_err().to_string();
        assert!(bad.contains("line 1"), "{bad}");
        assert!(parse_csv("Mug,x,abc,EUR,1").is_err());
    }
}
