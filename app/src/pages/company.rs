//! A company: its people, strongest first, and their stats combined.

use api::contacts::CompanyData;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

use crate::app_error::AppError;
use crate::components::interactions_panel::{InteractionsData, InteractionsPanel, LoggedOn};
use crate::components::volume_chart::VolumeChart;
use crate::errors::LoadError;

#[server]
pub async fn load_company(id: Uuid) -> Result<CompanyData, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let company = ctx.scope().contacts().company_overview(id).await?;
        Ok(domain::contacts::view::company_data(
            company,
            chrono::Utc::now(),
        ))
    })
    .await
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
                    Err(AppError::not_found("company"))
                }
            }
        },
    );
    let interactions = InteractionsData::new(LoggedOn::Company, id, None);
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading company…"</p> }>
            {move || Suspend::new(async move {
                match company.await {
                    Ok(data) => view! { <CompanyView data interactions/> }.into_any(),
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
fn CompanyView(data: CompanyData, interactions: InteractionsData) -> impl IntoView {
    let cards = [
        ("People", data.people_count.to_string()),
        ("Sent", data.sent.to_string()),
        ("Received", data.received.to_string()),
        ("Waiting for you", data.unanswered.to_string()),
        ("Strongest relationship", data.strongest.to_string()),
        ("Last contact", day(data.last_at)),
    ];
    let company_id = data.id;
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
            <InteractionsPanel id=company_id data=interactions/>
        </section>
    }
}
