//! A company: its people, strongest first, and their stats combined.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::contact::LoadError;
use super::contacts::ContactRow;
use super::volume_chart::{MonthBar, VolumeChart};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompanyData {
    pub id: Uuid,
    pub name: String,
    pub domain: String,
    pub people: Vec<ContactRow>,
    pub people_count: i64,
    pub sent: i64,
    pub received: i64,
    pub unanswered: i64,
    pub first_at: Option<DateTime<Utc>>,
    pub last_at: Option<DateTime<Utc>>,
    pub strongest: i16,
    pub chart: Vec<MonthBar>,
}

#[server]
pub async fn load_company(id: Uuid) -> Result<CompanyData, ServerFnError> {
    use super::volume_chart::chart_months;
    use crate::ssr::{request_context, to_server_error};
    let ctx = request_context()?;
    let company = ctx
        .scope()
        .company_overview(id)
        .await
        .map_err(to_server_error)?;
    Ok(CompanyData {
        id: company.id,
        name: company
            .name
            .clone()
            .unwrap_or_else(|| company.domain.clone()),
        domain: company.domain,
        people: company.people.into_iter().map(ContactRow::from).collect(),
        people_count: company.people_count,
        sent: company.sent_count,
        received: company.received_count,
        unanswered: company.unanswered_inbound,
        first_at: company.first_interaction_at,
        last_at: company.last_interaction_at,
        strongest: company.strongest,
        chart: chart_months(&company.monthly, Utc::now()),
    })
}

#[component]
pub fn CompanyPage() -> impl IntoView {
    let params = use_params_map();
    let id =
        Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse::<Uuid>().ok())));
    let company = Resource::new(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => load_company(id).await,
                None => {
                    crate::errors::set_status(404);
                    Err(ServerFnError::ServerError("Company not found".into()))
                }
            }
        },
    );
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading company…"</p> }>
            {move || Suspend::new(async move {
                match company.await {
                    Ok(data) => view! { <CompanyView data/> }.into_any(),
                    Err(error) => view! { <LoadError error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn day(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(|| "—".to_owned(), |at| at.format("%e %b %Y").to_string())
}

#[component]
fn CompanyView(data: CompanyData) -> impl IntoView {
    let cards = [
        ("People", data.people_count.to_string()),
        ("Sent", data.sent.to_string()),
        ("Received", data.received.to_string()),
        ("Waiting for you", data.unanswered.to_string()),
        ("Strongest relationship", data.strongest.to_string()),
        ("Last contact", day(data.last_at)),
    ];
    let all_people = format!("/contacts?company={}", data.id);
    let more_people = data.people_count > data.people.len() as i64;
    view! {
        <Title text=data.name.clone()/>
        <section class="page company-page">
            <header class="page-header">
                <div>
                    <p class="breadcrumb"><a href="/contacts">"Contacts"</a></p>
                    <h1>{data.name.clone()}</h1>
                    <p class="muted">{data.domain.clone()} {format!(" · first contact {}", day(data.first_at))}</p>
                </div>
            </header>
            <dl class="stat-cards">
                {cards
                    .into_iter()
                    .map(|(label, value)| view! {
                        <div class="stat-card"><dt>{label}</dt><dd class="value">{value}</dd></div>
                    })
                    .collect_view()}
            </dl>
            <section class="card">
                <h2>"Emails per month, everyone at this company"</h2>
                <VolumeChart months=data.chart/>
            </section>
            <section class="card">
                <h2>"People"</h2>
                {if data.people.is_empty() {
                    view! { <p class="muted">"Nobody at this company yet."</p> }.into_any()
                } else {
                    view! {
                        <table class="contacts">
                            <thead>
                                <tr>
                                    <th scope="col">"Name"</th>
                                    <th scope="col">"Title"</th>
                                    <th scope="col">"Email"</th>
                                    <th scope="col" class="num">"Strength"</th>
                                    <th scope="col" class="num">"Emails"</th>
                                    <th scope="col">"Last contact"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {data
                                    .people
                                    .into_iter()
                                    .map(|c| view! {
                                        <tr data-contact-id=c.id.to_string()>
                                            <td><a href=format!("/contacts/{}", c.id)>{c.name}</a></td>
                                            <td>{c.title}</td>
                                            <td>{c.email}</td>
                                            <td class="num">{c.strength}</td>
                                            <td class="num">{c.emails}</td>
                                            <td>{day(c.last_interaction_at)}</td>
                                        </tr>
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    }
                    .into_any()
                }}
                {more_people.then(|| view! {
                    <p><a href=all_people>"All people at this company"</a></p>
                })}
            </section>
        </section>
    }
}
