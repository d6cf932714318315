//! The settings page's view: profile, connected accounts with their sync and contact
//! policy, the mail import, links to channels and tokens, background work, session and
//! account deletion.

use api::settings::{SettingsData, SyncView};
use api::{AccountStatus, LedgerOutcome, Provider};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use uuid::Uuid;

use super::data::{DeleteAccount, DisconnectAccount, RequestSync, SaveContactPolicy};
use crate::components::connect_fastmail::{ConnectFastmail, PollFastmailButton};
use crate::format::count;

fn when(t: DateTime<Utc>) -> String {
    t.format("%e %b %Y, %H:%M UTC").to_string()
}

fn provider_label(provider: Provider) -> &'static str {
    match provider {
        Provider::Google => "Gmail",
        Provider::Mbox => "Mail import",
        Provider::Caldav => "Calendar",
        Provider::Fastmail => "Fastmail",
        Provider::Meta => "Messenger and Instagram",
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
                // A code, never a message: the link may come from anyone.
                let message = api::notices::ImportError::from_code(&error).message();
                Some(view! { <p class="form-error" role="alert">"Upload refused: " {message}</p> }.into_any())
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
pub fn SettingsSections(
    data: SettingsData,
    disconnect: ServerAction<DisconnectAccount>,
) -> impl IntoView {
    let delete = ServerAction::<DeleteAccount>::new();
    let accounts = if data.accounts.is_empty() {
        view! {
            <p class="muted">"No sources are connected. Sign out and sign in with Google again to connect Gmail, or connect Fastmail below."</p>
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
                        } else if a.provider == Provider::Fastmail {
                            view! {
                                <dl class="facts">
                                    <dt>"Messages"</dt>
                                    <dd>{outcome_counts(&a.imported)}</dd>
                                    <dt>"Last sync"</dt>
                                    <dd>{a.last_synced_at.map(when).unwrap_or_else(|| "Not synced yet".into())}</dd>
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
                        <ContactPolicyForm account=a.id source=a.label.clone() policy=a.contact_policy.clone()/>
                        <div class="actions">
                            {(reconnect && a.provider == Provider::Google).then(|| view! {
                                <a class="button primary" rel="external" href=format!("/auth/google/start?login_hint={hint}")>
                                    "Reconnect Google"
                                </a>
                            })}
                            {(reconnect && a.provider == Provider::Fastmail).then(|| view! {
                                <a class="button primary" href="#connect-fastmail">"Reconnect Fastmail"</a>
                            })}
                            {(a.provider == Provider::Meta).then(|| view! {
                                <a class="button" href="/settings/channels#connect-meta">
                                    {if reconnect { "Reconnect the Page" } else { "Page settings" }}
                                </a>
                            })}
                            {(a.provider == Provider::Fastmail && !reconnect).then(|| view! {
                                <PollFastmailButton account=a.id/>
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
                            <span class=format!("badge state-{}", j.state.as_str())>{j.state.as_str()}</span>
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
            .map(|e| view! { <p class="form-error" role="alert">{e.user_message()}</p> })
    };
    let disconnect_error = move || {
        disconnect
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| view! { <p class="form-error" role="alert">{e.user_message()}</p> })
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
        <ConnectFastmail demo=data.demo_logins.clone()/>
        <ImportMail/>
        <crate::components::connect_calendar::ConnectCalendar demo=data.demo_logins.clone()/>
        <crate::components::time_zone::TimeZoneSetting/>
        <crate::components::calendar_feed::CalendarFeed/>
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
                view! { <p class="form-error" role="alert">{e.user_message()}</p> }.into_any()
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
fn ContactPolicyForm(account: Uuid, source: String, policy: String) -> impl IntoView {
    let save = ServerAction::<SaveContactPolicy>::new();
    let answer = move || {
        save.value().get().map(|result| match result {
            Ok(message) => view! { <p class="notice" role="status">{message}</p> }.into_any(),
            Err(e) => {
                view! { <p class="form-error" role="alert">{e.user_message()}</p> }.into_any()
            }
        })
    };
    let select_id = format!("contact-policy-{account}");
    view! {
        <section class="contact-policy" aria-label=format!("Contacts from {source}")>
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
