use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::errors::ErrorPanel;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityRow {
    pub id: Uuid,
    pub channel: String,
    pub direction: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub headline: String,
    pub counterpart: Option<String>,
    pub state: String,
}

#[server]
pub async fn recent_activities() -> Result<Vec<ActivityRow>, ServerFnError> {
    use crate::ssr::{request_context, to_server_error};
    const TIMELINE_SIZE: i64 = 50;
    let ctx = request_context()?;
    let rows = ctx
        .scope()
        .recent_activities(TIMELINE_SIZE)
        .await
        .map_err(to_server_error)?;
    Ok(rows
        .into_iter()
        .map(|a| ActivityRow {
            id: a.id,
            headline: a
                .subject
                .filter(|s| !s.trim().is_empty())
                .or(a.snippet)
                .unwrap_or_else(|| "(no subject)".into()),
            channel: a.channel,
            direction: a.direction,
            occurred_at: a.occurred_at,
            counterpart: a.counterpart,
            state: a.state,
        })
        .collect())
}

#[component]
pub fn TimelinePage() -> impl IntoView {
    let activities = Resource::new(|| (), |_| recent_activities());
    view! {
        <Title text="Timeline"/>
        <section class="page">
            <header class="page-header"><h1>"Timeline"</h1></header>
            <p class="muted">"Every email, message, call and file Rapport has captured, newest first."</p>
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
                    let direction = match a.direction.as_deref() {
                        Some("inbound") => "From",
                        Some("outbound") => "To",
                        _ => "With",
                    };
                    view! {
                        <li class="timeline-item" data-activity-id=a.id.to_string()>
                            <span class=format!("channel channel-{}", a.channel)>{a.channel.clone()}</span>
                            <div class="timeline-body">
                                <p class="headline">{a.headline}</p>
                                <p class="muted">
                                    {a.counterpart.map(|who| format!("{direction} {who} · "))}
                                    <time datetime=a.occurred_at.to_rfc3339()>
                                        {a.occurred_at.format("%e %b %Y, %H:%M UTC").to_string()}
                                    </time>
                                </p>
                            </div>
                            <span class=format!("badge state-{}", a.state)>{a.state.clone()}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
    .into_any()
}
