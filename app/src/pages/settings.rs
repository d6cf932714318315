use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::errors::ErrorPanel;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsView {
    pub email: String,
    pub name: Option<String>,
    pub accounts: Vec<AccountRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRow {
    pub id: Uuid,
    pub provider: String,
    pub label: String,
    pub status: String,
    pub last_error: Option<String>,
    pub last_synced_at: Option<DateTime<Utc>>,
}

#[server]
pub async fn load_settings() -> Result<SettingsView, ServerFnError> {
    use crate::ssr::{app_context, to_server_error};
    let ctx = app_context()?;
    let user = ctx.db.user(ctx.user).await.map_err(to_server_error)?;
    let accounts = ctx.scope().accounts().await.map_err(to_server_error)?;
    Ok(SettingsView {
        email: user.email,
        name: user.name,
        accounts: accounts
            .into_iter()
            .map(|a| AccountRow {
                id: a.id,
                label: a.display_name.unwrap_or(a.external_id),
                provider: a.provider,
                status: a.status,
                last_error: a.last_error,
                last_synced_at: a.last_synced_at,
            })
            .collect(),
    })
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let settings = Resource::new(|| (), |_| load_settings());
    view! {
        <Title text="Settings"/>
        <section class="page">
            <header class="page-header"><h1>"Settings"</h1></header>
            <Suspense fallback=|| view! { <p class="muted">"Loading settings…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || Suspend::new(async move {
                        settings.await.map(|view| view! { <SettingsSections view/> })
                    })}
                </ErrorBoundary>
            </Suspense>
        </section>
    }
}

#[component]
fn SettingsSections(view: SettingsView) -> impl IntoView {
    let accounts = if view.accounts.is_empty() {
        view! {
            <p class="muted">
                "No sources are connected. Rapport reads the mailboxes and channels you connect "
                "here; until then you can add contacts by hand."
            </p>
        }
        .into_any()
    } else {
        view! {
            <ul class="accounts">
                {view
                    .accounts
                    .into_iter()
                    .map(|a| {
                        view! {
                            <li class="card account" data-account-id=a.id.to_string()>
                                <strong>{a.label}</strong>
                                <span class="muted">{a.provider}</span>
                                <span class=format!("badge status-{}", a.status)>{a.status.replace('_', " ")}</span>
                                {a.last_synced_at.map(|t| view! {
                                    <span class="muted">"Last sync " {t.format("%e %b %Y, %H:%M UTC").to_string()}</span>
                                })}
                                {a.last_error.map(|e| view! { <p class="form-error">{e}</p> })}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <section class="card">
            <h2>"Profile"</h2>
            <dl class="facts">
                <dt>"Name"</dt>
                <dd>{view.name.unwrap_or_else(|| "—".into())}</dd>
                <dt>"Email"</dt>
                <dd>{view.email}</dd>
            </dl>
        </section>
        <section class="card">
            <h2>"Connected sources"</h2>
            {accounts}
        </section>
    }
}
