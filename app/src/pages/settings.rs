use api::settings::{SettingsData, SyncView};
use api::{AccountStatus, LedgerOutcome, Provider};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use uuid::Uuid;

use crate::errors::{ErrorPanel, user_message};
use crate::format::count;

#[server]
pub async fn load_settings() -> Result<SettingsData, ServerFnError> {
    use crate::ssr::{request_context, to_server_error};
    let ctx = request_context()?;
    let scope = ctx.scope();
    let mut accounts = Vec::new();
    for a in scope.accounts().await.map_err(to_server_error)? {
        let sync = if a.provider == Provider::Google {
            Some(sync_view(&scope, a.id).await?)
        } else {
            None
        };
        let imported = if a.provider == Provider::Mbox {
            scope.ledger_counts(a.id).await.map_err(to_server_error)?
        } else {
            Vec::new()
        };
        let contact_policy = scope
            .contact_policy(a.id)
            .await
            .map_err(|e| to_server_error(e.into()))?;
        accounts.push(domain::settings::account_row(
            a,
            sync,
            imported,
            contact_policy,
        ));
    }
    let jobs = scope.recent_jobs(10).await.map_err(to_server_error)?;
    Ok(SettingsData {
        email: ctx.user.email.clone(),
        name: ctx.user.name.clone(),
        demo: ctx.app.demo,
        accounts,
        jobs: jobs.into_iter().map(Into::into).collect(),
    })
}

#[cfg(feature = "ssr")]
async fn sync_view(
    scope: &domain::UserScope<'_>,
    account: Uuid,
) -> Result<SyncView, ServerFnError> {
    use crate::ssr::{internal_error, to_server_error};
    let state = scope.sync_account(account).await.map_err(internal_error)?;
    let outcomes = scope
        .ledger_counts(account)
        .await
        .map_err(to_server_error)?;
    Ok(domain::settings::sync_view(state, outcomes))
}

/// Queues a sync now ("full" forgets the cursor and re-reads the whole mailbox).
#[server]
pub async fn request_sync(account_id: Uuid, full: Option<bool>) -> Result<String, ServerFnError> {
    use domain::sync::controls::SyncRequest;

    use crate::ssr::{request_context, to_server_error};
    let ctx = request_context()?;
    let scope = ctx.scope();
    let answer = if full.unwrap_or(false) {
        scope.request_full_resync(account_id).await
    } else {
        scope.request_sync(account_id).await
    }
    .map_err(to_server_error)?;
    Ok(match answer {
        SyncRequest::Queued => "Sync queued.".into(),
        SyncRequest::AlreadyRunning => {
            "A sync of this account is already queued or running.".into()
        }
    })
}

/// Changes which correspondents of the account become contacts; past mail is processed
/// again under the new policy.
#[server]
pub async fn save_contact_policy(
    account_id: Uuid,
    policy: String,
) -> Result<String, ServerFnError> {
    use domain::processing::ContactPolicy;

    use crate::ssr::{request_context, to_server_error};
    let ctx = request_context()?;
    let policy = ContactPolicy::parse(&policy).map_err(to_server_error)?;
    let queued = ctx
        .scope()
        .set_contact_policy(account_id, policy)
        .await
        .map_err(|e| to_server_error(e.into()))?;
    Ok(if queued == 0 {
        "Contact policy saved.".into()
    } else {
        format!(
            "Contact policy saved; {} past messages are being processed again.",
            count(queued)
        )
    })
}

/// Revokes the account's refresh token at Google, if it has one. The tokens are deleted
/// by the caller either way, and Google expires unused grants, so a failure is logged.
#[cfg(feature = "ssr")]
async fn revoke_at_google(ctx: &crate::ssr::RequestContext, account: Uuid) {
    if let Ok(Some(refresh)) = ctx
        .scope()
        .google_refresh_token(account, &ctx.app.secrets)
        .await
        && let Err(error) = ctx.app.google.revoke(&refresh).await
    {
        tracing::warn!(%error, "revoking the Google token failed");
    }
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
    revoke_at_google(&ctx, account_id).await;
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
        revoke_at_google(&ctx, account.id).await;
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

fn provider_label(provider: Provider) -> &'static str {
    match provider {
        Provider::Google => "Gmail",
        Provider::Mbox => "Mail import",
        _ => "Source",
    }
}

/// "1,204 imported · 3 filtered", or "None yet".
fn outcome_counts(outcomes: &[(LedgerOutcome, i64)]) -> String {
    if outcomes.is_empty() {
        return "None yet".to_owned();
    }
    outcomes
        .iter()
        .map(|(outcome, n)| format!("{} {outcome}", count(u64::try_from(*n).unwrap_or_default())))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The Takeout upload: a plain multipart form, so it works before (or without) the
/// wasm app; the server answers with a redirect back here carrying the outcome.
#[component]
fn ImportMail() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let outcome = move || {
        query.with(|q| {
            if let Some(error) = q.get("import_error") {
                Some(view! { <p class="form-error" role="alert">"Upload refused: " {error}</p> }.into_any())
            } else if q.get("import").as_deref() == Some("queued") {
                Some(view! {
                    <p class="notice" role="status">
                        "Upload received. The import runs in the background: follow it under Background work; "
                        "the mail appears on the timeline as it is stored."
                    </p>
                }.into_any())
            } else {
                None
            }
        })
    };
    view! {
        <section class="card" id="import" aria-labelledby="import-heading">
            <h2 id="import-heading">"Import mail"</h2>
            <p class="muted">
                "Bring in older mail from a Google Takeout export (the .mbox file in its Mail folder) or "
                "any other mbox file. Messages Rapport already has from Gmail are recognised by their "
                "Message-ID and skipped."
            </p>
            {outcome}
            <form class="inline-form" method="post" action="/settings/import-mbox" enctype="multipart/form-data">
                <label>
                    "Mailbox file"
                    <input type="file" name="file" accept=".mbox,application/mbox,text/plain" required/>
                </label>
                <label>
                    "Name (optional)"
                    <input type="text" name="name" maxlength="80" placeholder="Old work mail"/>
                </label>
                <button class="button" type="submit">"Upload and import"</button>
            </form>
        </section>
    }
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
                let reconnect = matches!(a.status, AccountStatus::NeedsReconnect | AccountStatus::Disconnected);
                let hint = crate::layout::urlencode(&a.label);
                view! {
                    <article class="card account" data-account-id=a.id.to_string()>
                        <header class="account-head">
                            <h3>{provider_label(a.provider)} " · " {a.label.clone()}</h3>
                            <span class=format!("badge status-{}", a.status)>{a.status.as_str().replace('_', " ")}</span>
                        </header>
                        {if a.provider == Provider::Mbox {
                            view! {
                                <dl class="facts">
                                    <dt>"Messages"</dt>
                                    <dd>{outcome_counts(&a.imported)}</dd>
                                </dl>
                            }.into_any()
                        } else {
                            view! {
                                <dl class="facts">
                                    <dt>"Access"</dt>
                                    <dd>{a.scopes.iter().map(|s| scope_label(s)).collect::<Vec<_>>().join(", ")}</dd>
                                    <dt>"Last sync"</dt>
                                    <dd>{a.last_synced_at.map(when).unwrap_or_else(|| "Not synced yet".into())}</dd>
                                </dl>
                            }.into_any()
                        }}
                        {a.last_error.map(|e| view! { <p class="form-error">{e}</p> })}
                        {a.sync.map(|sync| view! { <SyncPanel account=a.id sync/> })}
                        <ContactPolicyForm account=a.id policy=a.contact_policy.clone()/>
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
        <ImportMail/>
        <section class="card"><h2>"Channels"</h2><p><a class="button" href="/settings/channels">"Webhook channels and blocklist"</a></p></section>
        <section class="card"><h2>"API tokens"</h2><p><a class="button" href="/settings/tokens">"Personal tokens for the Notes API"</a></p></section>
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

fn sync_headline(sync: &SyncView) -> String {
    let of_total = sync
        .total
        .map(|t| format!(" of {}", count(t)))
        .unwrap_or_default();
    match sync.stage.as_str() {
        "listing" => "Listing your mailbox…".into(),
        "fetching" => format!(
            "Importing {}{of_total} messages · {}/min",
            count(sync.done),
            count(sync.rate.round() as u64)
        ),
        "incremental" => "Applying new changes from Gmail…".into(),
        "reconciling" => "Checking that every message arrived…".into(),
        "idle" => "Up to date".into(),
        _ => "Waiting for the first sync to start".into(),
    }
}

#[component]
fn SyncPanel(account: Uuid, sync: SyncView) -> impl IntoView {
    let request = ServerAction::<RequestSync>::new();
    let answer = move || {
        request.value().get().map(|result| match result {
            Ok(message) => view! { <p class="notice" role="status">{message}</p> }.into_any(),
            Err(e) => {
                view! { <p class="form-error" role="alert">{user_message(&e)}</p> }.into_any()
            }
        })
    };
    let outcomes = outcome_counts(&sync.outcomes);
    let progress = match (sync.stage.as_str(), sync.total) {
        ("fetching", Some(total)) if total > 0 => Some(
            view! { <progress class="sync-progress" max=total.to_string() value=sync.done.to_string()></progress> },
        ),
        _ => None,
    };
    view! {
        <section class="sync" aria-label="Sync">
            <p class="sync-stage"><strong>{sync_headline(&sync)}</strong></p>
            {progress}
            <dl class="facts">
                <dt>"Messages"</dt>
                <dd>{outcomes}</dd>
                <dt>"Last success"</dt>
                <dd>{sync.last_success_at.map(when).unwrap_or_else(|| "Not yet".into())}</dd>
                <dt>"Completeness"</dt>
                <dd>
                    {match sync.reconcile {
                        Some(r) if r.missing == 0 && r.extra == 0 => format!(
                            "All {} Gmail messages accounted for (checked {})",
                            count(r.gmail_messages),
                            when(r.checked_at)
                        ),
                        Some(r) => format!(
                            "{} missing, {} extra of {} Gmail messages (checked {})",
                            count(r.missing),
                            count(r.extra),
                            count(r.gmail_messages),
                            when(r.checked_at)
                        ),
                        None => "Checked after the first full sync".to_owned(),
                    }}
                </dd>
            </dl>
            {sync.last_error.map(|e| view! { <p class="form-error">"Last error: " {e}</p> })}
            <div class="actions">
                <ActionForm action=request attr:class="inline-form">
                    <input type="hidden" name="account_id" value=account.to_string()/>
                    <button class="button" type="submit">"Sync now"</button>
                </ActionForm>
                <ActionForm action=request attr:class="inline-form">
                    <input type="hidden" name="account_id" value=account.to_string()/>
                    <input type="hidden" name="full" value="true"/>
                    <button class="button" type="submit">"Full resync"</button>
                </ActionForm>
            </div>
            {answer}
        </section>
    }
}

/// The choices of the contact policy select: stored value and label.
const CONTACT_POLICIES: [(&str, &str); 3] = [
    ("sent", "People I have written to"),
    ("everyone", "Everyone I exchange mail with"),
    ("nobody", "Nobody (only link mail to existing contacts)"),
];

#[component]
fn ContactPolicyForm(account: Uuid, policy: String) -> impl IntoView {
    let save = ServerAction::<SaveContactPolicy>::new();
    let answer = move || {
        save.value().get().map(|result| match result {
            Ok(message) => view! { <p class="notice" role="status">{message}</p> }.into_any(),
            Err(e) => {
                view! { <p class="form-error" role="alert">{user_message(&e)}</p> }.into_any()
            }
        })
    };
    let select_id = format!("contact-policy-{account}");
    view! {
        <section class="contact-policy" aria-label="Contacts from mail">
            <ActionForm action=save attr:class="inline-form">
                <input type="hidden" name="account_id" value=account.to_string()/>
                <label for=select_id.clone()>"Create contacts for"</label>
                <select id=select_id name="policy">
                    {CONTACT_POLICIES
                        .iter()
                        .map(|(value, label)| {
                            view! { <option value=*value selected=policy == *value>{*label}</option> }
                        })
                        .collect_view()}
                </select>
                <button class="button" type="submit">"Save"</button>
            </ActionForm>
            <p class="muted">"Automated senders, shared mailboxes and newsletters never become contacts; their mail is still linked to contacts you have."</p>
            {answer}
        </section>
    }
}
