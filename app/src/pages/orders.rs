//! Orders (`/orders`), newest first: taken by the AI sales agent in a Messenger or
//! Instagram conversation (marked "AI") or entered by a person, with the customer's
//! details, links to the conversation and the contact, a status the user moves along,
//! a filter by status (in the URL) and what the listed orders add up to per currency.

use api::meta::OrderStatus;
use api::shop::{OrderView, OrdersData, money};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use uuid::Uuid;

use crate::app_error::AppError;
use crate::errors::ErrorPanel;

/// `status` empty or absent lists every order.
#[server]
pub async fn load_orders(status: Option<String>) -> Result<OrdersData, AppError> {
    use domain::DomainError;

    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let status = match status.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(name) => {
                Some(OrderStatus::parse(name).map_err(|e| DomainError::not_one_of("status", &e))?)
            }
        };
        Ok(OrdersData::new(ctx.scope().meta().orders(status).await?))
    })
    .await
}

#[server]
pub async fn set_order_status(order_id: Uuid, status: String) -> Result<(), AppError> {
    use domain::DomainError;

    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let status =
            OrderStatus::parse(&status).map_err(|e| DomainError::not_one_of("status", &e))?;
        Ok(ctx
            .scope()
            .meta()
            .set_order_status(order_id, status)
            .await?)
    })
    .await
}

fn status_label(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::New => "New",
        OrderStatus::Confirmed => "Confirmed",
        OrderStatus::Shipped => "Shipped",
        OrderStatus::Cancelled => "Cancelled",
    }
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%e %b %Y, %H:%M UTC").to_string()
}

#[component]
pub fn OrdersPage() -> impl IntoView {
    let change = ServerAction::<SetOrderStatus>::new();
    let query = use_query_map();
    let status = Memo::new(move |_| query.with(|q| q.get("status").unwrap_or_default()));
    let orders = Resource::new(
        move || (status.get(), change.version().get()),
        |(status, _)| load_orders((!status.is_empty()).then_some(status)),
    );
    let change_error = move || {
        change
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| view! { <p class="form-error" role="alert">{e.user_message()}</p> })
    };
    let filters = move || {
        let current = status.get();
        std::iter::once(("", "All"))
            .chain(OrderStatus::all().iter().map(|s| (s.as_str(), status_label(*s))))
            .map(|(value, label)| {
                let href = if value.is_empty() {
                    "/orders".to_owned()
                } else {
                    format!("/orders?status={value}")
                };
                let here = current == value;
                view! {
                    <li>
                        <a href=href class:current=here aria-current=here.then_some("page")>{label}</a>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <Title text="Orders"/>
        <section class="page">
            <header class="page-header">
                <h1>"Orders"</h1>
                <a href="/catalog">"Catalog"</a>
            </header>
            <nav class="status-filter" aria-label="Filter by status">
                <ul>{filters}</ul>
            </nav>
            {change_error}
            <Transition fallback=|| view! { <p class="muted">"Loading orders…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || Suspend::new(async move {
                        let filtered = !status.get_untracked().is_empty();
                        orders.await.map(|data| view! { <OrderTable data filtered change/> })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

#[component]
fn OrderTable(
    data: OrdersData,
    filtered: bool,
    change: ServerAction<SetOrderStatus>,
) -> impl IntoView {
    if data.orders.is_empty() {
        let text = if filtered {
            "No orders with this status."
        } else {
            "No orders yet. The AI sales agent takes them in Messenger and Instagram conversations \
             once a Page is connected and the catalog has products."
        };
        return view! { <div class="empty-state"><p>{text}</p></div> }.into_any();
    }
    let listed = data.orders.len();
    let totals = data
        .totals
        .iter()
        .map(|(currency, cents)| money(*cents, currency))
        .collect::<Vec<_>>()
        .join(" · ");
    let rows = data
        .orders
        .into_iter()
        .map(|o| view! { <OrderRow order=o change/> })
        .collect_view();
    view! {
        <div class="table-scroll">
        <table class="shop orders">
            <thead>
                <tr>
                    <th scope="col">"Date"</th>
                    <th scope="col">"Product"</th>
                    <th scope="col">"Customer"</th>
                    <th scope="col">"Total"</th>
                    <th scope="col">"Status"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
            <tfoot>
                <tr>
                    <th scope="row" colspan="3">
                        {format!("Total of the {listed} order{} listed", if listed == 1 { "" } else { "s" })}
                    </th>
                    <td class="num orders-total" colspan="2">{totals}</td>
                </tr>
            </tfoot>
        </table>
        </div>
    }
    .into_any()
}

#[component]
fn OrderRow(order: OrderView, change: ServerAction<SetOrderStatus>) -> impl IntoView {
    let o = order;
    let customer = if o.customer_name.is_empty() {
        "Customer".to_owned()
    } else {
        o.customer_name.clone()
    };
    let select_id = format!("order-status-{}", o.id);
    view! {
        <tr data-order-id=o.id.to_string() class=format!("order status-{}", o.status)>
            <td>
                {when(o.created_at)}
                {o.ai_generated.then(|| view! {
                    <span class="badge ai-badge" title="Taken by the AI sales agent">"AI"</span>
                })}
                {o.conversation_id.map(|c| view! {
                    <a class="order-conversation" href=format!("/conversations/{c}")>"Conversation"</a>
                })}
            </td>
            <td>
                <span class="order-product">{o.product_name.clone()}</span>
                " × " <span class="order-quantity">{o.quantity}</span>
                <span class="muted">{format!(" at {}", money(o.unit_price_cents, &o.currency))}</span>
            </td>
            <td class="order-customer">
                {match o.contact_id {
                    Some(contact) => view! { <a href=format!("/contacts/{contact}")>{customer}</a> }.into_any(),
                    None => view! { <span>{customer}</span> }.into_any(),
                }}
                {(!o.phone.is_empty()).then(|| view! { <span class="muted">{o.phone.clone()}</span> })}
                {(!o.address.is_empty()).then(|| view! { <span class="muted">{o.address.clone()}</span> })}
            </td>
            <td class="num order-total">{money(o.total_cents(), &o.currency)}</td>
            <td>
                <ActionForm action=change attr:class="inline-form order-status">
                    <input type="hidden" name="order_id" value=o.id.to_string()/>
                    <label class="visually-hidden" for=select_id.clone()>"Status"</label>
                    <select id=select_id name="status">
                        {OrderStatus::all()
                            .iter()
                            .map(|s| view! {
                                <option value=s.as_str() selected=*s == o.status>{status_label(*s)}</option>
                            })
                            .collect_view()}
                    </select>
                    <button class="button" type="submit">"Update"</button>
                </ActionForm>
            </td>
        </tr>
    }
}
