use api::contacts::ListParams;
use api::timeline::ActivityRow;
use api::{Channel, Direction};
use leptos::prelude::*;
use leptos_meta::Title;
use uuid::Uuid;

use crate::app_error::AppError;
use crate::components::file_upload::FileDrop;
use crate::errors::ErrorPanel;
use crate::live::{EventKind, listen_live};
use crate::pages::contacts::list_contacts;

#[server]
pub async fn recent_activities() -> Result<Vec<ActivityRow>, AppError> {
    use crate::ssr::{RequestContext, reported};
    const TIMELINE_SIZE: i64 = 50;
    reported(async move {
        let ctx = RequestContext::current()?;
        let rows = ctx.scope().timeline().recent(TIMELINE_SIZE).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    })
    .await
}

#[component]
pub fn TimelinePage() -> impl IntoView {
    let changes = RwSignal::new(0_u64);
    listen_live(&[EventKind::ActivityState], move |_| {
        changes.update(|n| *n += 1)
    });
    let activities = Resource::new(move || changes.get(), |_| recent_activities());
    view! {
        <Title text="Timeline"/>
        <section class="page">
            <header class="page-header"><h1>"Timeline"</h1></header>
            <p class="muted">"Every email, message, call and file Rapport has captured, newest first."</p>
            <UploadToContact on_uploaded=move || changes.update(|n| *n += 1)/>
            <Suspense fallback=|| view! { <p class="muted">"Loading activity…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || Suspend::new(async move {
                        activities.await.map(|rows| view! { <ActivityList rows/> })
                    })}
                </ErrorBoundary>
            </Suspense>
        </section>
    }
}

/// Files dropped on the Timeline page go to the contact picked here.
#[component]
fn UploadToContact<F>(on_uploaded: F) -> impl IntoView
where
    F: Fn() + Copy + Send + Sync + 'static,
{
    let search = RwSignal::new(String::new());
    let picked = RwSignal::new(None::<Uuid>);
    let matches = Resource::new(
        move || search.get(),
        |q| async move {
            if q.trim().is_empty() {
                return Ok(Vec::new());
            }
            let params = ListParams {
                q,
                ..ListParams::default()
            };
            list_contacts(params)
                .await
                .map(|list| list.contacts.into_iter().take(8).collect::<Vec<_>>())
        },
    );
    view! {
        <section class="card upload-to-contact">
            <h2>"Add files to a contact"</h2>
            <label>
                "Contact "
                <input
                    type="search"
                    placeholder="Search by name or email"
                    data-testid="contact-search"
                    on:input=move |ev| search.set(event_target_value(&ev))
                />
            </label>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let found = matches.await.unwrap_or_default();
                    view! {
                        <select
                            data-testid="contact-picker"
                            aria-label="Matching contacts"
                            on:change=move |ev| picked.set(event_target_value(&ev).parse().ok())
                        >
                            <option value="">"Choose a contact"</option>
                            {found
                                .into_iter()
                                .map(|c| {
                                    let label = match c.email {
                                        Some(email) => format!("{} <{email}>", c.name),
                                        None => c.name,
                                    };
                                    view! { <option value=c.id.to_string()>{label}</option> }
                                })
                                .collect_view()}
                        </select>
                    }
                })}
            </Transition>
            <FileDrop contact=picked.into() on_uploaded/>
        </section>
    }
}

#[component]
fn ActivityList(rows: Vec<ActivityRow>) -> impl IntoView {
    if rows.is_empty() {
        return view! {
            <div class="empty-state">
                <h2>"Nothing captured yet"</h2>
                <p>
                    "Activity appears here as Rapport syncs your mail and receives messages from your "
                    "channels. Connect a source in " <a href="/settings">"Settings"</a> "."
                </p>
            </div>
        }
        .into_any();
    }
    view! {
        <ol class="timeline">
            {rows
                .into_iter()
                .map(|a| {
                    let direction = match a.direction {
                        Some(Direction::Inbound) => "From",
                        Some(Direction::Outbound) => "To",
                        None => "With",
                    };
                    view! {
                        <li class="timeline-item" data-activity-id=a.id.to_string()>
                            <span class=format!("channel channel-{}", a.channel)>{a.channel.as_str()}</span>
                            <div class="timeline-body">
                                <p class="headline">{headline_link(a.channel, a.id, a.headline)}</p>
                                <p class="muted">
                                    {a.counterpart.map(|who| format!("{direction} {who} · "))}
                                    <time datetime=a.occurred_at.to_rfc3339()>
                                        {a.occurred_at.format("%e %b %Y, %H:%M UTC").to_string()}
                                    </time>
                                </p>
                                {(a.channel == Channel::Call).then(|| view! { <crate::components::call_recording::CallRecordings activity=a.id/> })}
                            </div>
                            <span class=format!("badge state-{}", a.state)>{a.state.as_str()}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
    .into_any()
}

/// An email's headline opens its conversation; other activities have nothing to open.
pub fn headline_link(channel: Channel, id: Uuid, headline: String) -> AnyView {
    if channel == Channel::Email {
        view! { <a class="open-thread" href=api::mail::thread_href(id)>{headline}</a> }.into_any()
    } else if channel.is_chat() {
        let href = crate::pages::chat::chat_href(id);
        view! { <a class="open-chat" href=href>{headline}</a> }.into_any()
    } else {
        headline.into_any()
    }
}
