use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::errors::{ErrorPanel, user_message};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsData {
    pub email: String,
    pub name: Option<String>,
    pub demo: bool,
    pub accounts: Vec<AccountRow>,
    pub jobs: Vec<JobRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRow {
    pub id: Uuid,
    pub provider: String,
    pub label: String,
    pub scopes: Vec<String>,
    pub status: String,
    pub last_error: Option<String>,
    pub last_synced_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRow {
    pub kind: String,
    pub state: String,
    pub created_at: DateTime<Utc>,
    pub last_error: Option<String>,
}

#[server]
pub async fn load_settings() -> Result<SettingsData, ServerFnError> {
    use crate::ssr::{request_context, to_server_error};
    let ctx = request_context()?;
    let scope = ctx.scope();
    let accounts = scope.accounts().await.map_err(to_server_error)?;
    let jobs = scope.recent_jobs(10).await.map_err(to_server_error)?;
    Ok(SettingsData {
        email: ctx.user.email.clone(),
        name: ctx.user.name.clone(),
        demo: ctx.app.demo,
        accounts: accounts
            .into_iter()
            .map(|a| AccountRow {
                id: a.id,
                label: a.display_name.unwrap_or(a.external_id),
                provider: a.provider,
                scopes: a.scopes,
                status: a.status,
                last_error: a.last_error,
                last_synced_at: a.last_synced_at,
            })
            .collect(),
        jobs: jobs
            .into_iter()
            .map(|j| JobRow {
                kind: j.kind,
                state: j.state,
                created_at: j.created_at,
                last_error: j.last_error,
            })
            .collect(),
    })
}

/// Revokes Rapport's access at Google, forgets the tokens, and keeps or deletes what
/// was synced, as the user chose.
#[server]
pub async fn disconnect_account(
    account_id: Uuid,
    delete_data: Option<bool>,
) -> Result<(), ServerFnError> {
    use domain::accounts::SyncedData;

    use crate::ssr::{request_context, to_server_error};
    let ctx = request_context()?;
    let scope = ctx.scope();
    if let Ok(Some(refresh)) = scope
        .google_refresh_token(account_id, &ctx.app.secrets)
        .await
        && let Err(error) = ctx.app.google.revoke(&refresh).await
    {
        // The tokens are deleted either way; Google expires unused grants.
        tracing::warn!(%error, "revoking the Google token failed");
    }
    let data = if delete_data.unwrap_or(false) {
        SyncedData::Delete
    } else {
        SyncedData::Keep
    };
    scope
        .disconnect_account(account_id, data)
        .await
        .map_err(to_server_error)
}

/// Deletes the user and everything they own, after revoking Google access. The user
/// types their email to confirm.
#[server]
pub async fn delete_account(confirm_email: String) -> Result<(), ServerFnError> {
    use crate::ssr::{request_context, to_server_error};
    let ctx = request_context()?;
    if confirm_email.trim().to_lowercase() != ctx.user.email {
        crate::errors::set_status(422);
        return Err(ServerFnError::ServerError(
            "Type your email address exactly to confirm.".into(),
        ));
    }
    let scope = ctx.scope();
    for account in scope.accounts().await.map_err(to_server_error)? {
        if let Ok(Some(refresh)) = scope
            .google_refresh_token(account.id, &ctx.app.secrets)
            .await
        {
            let _ = ctx.app.google.revoke(&refresh).await;
        }
    }
    scope.delete_user().await.map_err(to_server_error)?;
    leptos_axum::redirect("/login?deleted=1");
    Ok(())
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let disconnect = ServerAction::<DisconnectAccount>::new();
    let settings = Resource::new(move || disconnect.version().get(), |_| load_settings());
    view! {
        <Title text="Settings"/>
        <section class="page">
            <header class="page-header"><h1>"Settings"</h1></header>
            <Transition fallback=|| view! { <p class="muted">"Loading settings…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || Suspend::new(async move {
                        settings.await.map(|data| view! { <SettingsSections data disconnect/> })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%e %b %Y, %H:%M UTC").to_string()
}

fn scope_label(scope: &str) -> String {
    match scope {
        "openid" => "Sign-in".into(),
        "email" | "https://www.googleapis.com/auth/userinfo.email" => "Email address".into(),
        "profile" | "https://www.googleapis.com/auth/userinfo.profile" => "Name and picture".into(),
        "https://www.googleapis.com/auth/gmail.readonly" => "Read Gmail".into(),
        other => other.to_owned(),
    }
}

#[component]
fn SettingsSections(
    data: SettingsData,
    disconnect: ServerAction<DisconnectAccount>,
) -> impl IntoView {
    let delete = ServerAction::<DeleteAccount>::new();
    let accounts = if data.accounts.is_empty() {
        view! {
            <p class="muted">"No sources are connected. Sign out and sign in with Google again to connect Gmail."</p>
        }
        .into_any()
    } else {
        data.accounts
            .into_iter()
            .map(|a| {
                let reconnect = a.status == "needs_reconnect" || a.status == "disconnected";
                let hint = crate::layout::urlencode(&a.label);
                view! {
                    <article class="card account" data-account-id=a.id.to_string()>
                        <header class="account-head">
                            <h3>{if a.provider == "google" { "Gmail" } else { "Source" }} " · " {a.label.clone()}</h3>
                            <span class=format!("badge status-{}", a.status)>{a.status.replace('_', " ")}</span>
                        </header>
                        <dl class="facts">
                            <dt>"Access"</dt>
                            <dd>{a.scopes.iter().map(|s| scope_label(s)).collect::<Vec<_>>().join(", ")}</dd>
                            <dt>"Last sync"</dt>
                            <dd>{a.last_synced_at.map(when).unwrap_or_else(|| "Not synced yet".into())}</dd>
                        </dl>
                        {a.last_error.map(|e| view! { <p class="form-error">{e}</p> })}
                        <div class="actions">
                            {reconnect.then(|| view! {
                                <a class="button primary" rel="external" href=format!("/auth/google/start?login_hint={hint}")>
                                    "Reconnect Google"
                                </a>
                            })}
                            <ActionForm action=disconnect attr:class="inline-form">
                                <input type="hidden" name="account_id" value=a.id.to_string()/>
                                <label class="checkbox">
                                    <input type="checkbox" name="delete_data" value="true"/>
                                    "Also delete the mail and activity synced from it"
                                </label>
                                <button class="button" type="submit">"Disconnect"</button>
                            </ActionForm>
                        </div>
                    </article>
                }
            })
            .collect_view()
            .into_any()
    };
    let jobs = (!data.jobs.is_empty()).then(|| {
        view! {
            <section class="card">
                <h2>"Background work"</h2>
                <ul class="jobs">
                    {data.jobs.into_iter().map(|j| view! {
                        <li>
                            <span class="job-kind">{j.kind}</span>
                            <span class=format!("badge state-{}", j.state)>{j.state.clone()}</span>
                            <span class="muted">{when(j.created_at)}</span>
                            {j.last_error.map(|e| view! { <span class="form-error">{e}</span> })}
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        }
    });
    let delete_error = move || {
        delete
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| view! { <p class="form-error" role="alert">{user_message(&e)}</p> })
    };
    let disconnect_error = move || {
        disconnect
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| view! { <p class="form-error" role="alert">{user_message(&e)}</p> })
    };
    view! {
        <section class="card">
            <h2>"Profile"</h2>
            <dl class="facts">
                <dt>"Name"</dt>
                <dd>{data.name.unwrap_or_else(|| "—".into())}</dd>
                <dt>"Email"</dt>
                <dd>{data.email.clone()}</dd>
            </dl>
            {data.demo.then(|| view! {
                <p class="demo-note">"Demo mode: this account and its mailbox are simulated."</p>
            })}
        </section>
        <section class="connected">
            <h2>"Connected accounts"</h2>
            {disconnect_error}
            {accounts}
        </section>
        {jobs}
        <section class="card">
            <h2>"Session"</h2>
            <form method="post" action="/auth/logout">
                <button class="button" type="submit">"Sign out"</button>
            </form>
        </section>
        <section class="card danger-zone">
            <h2>"Delete my account"</h2>
            <p class="muted">
                "Deletes your Rapport account and everything in it — contacts, activity, notes — and revokes "
                "Rapport's access to your Google account. This cannot be undone."
            </p>
            <ActionForm action=delete attr:class="inline-form">
                <label>
                    "Type " <strong>{data.email}</strong> " to confirm"
                    <input name="confirm_email" autocomplete="off"/>
                </label>
                <button class="button danger" type="submit">"Delete my account"</button>
            </ActionForm>
            {delete_error}
        </section>
    }
}
