//! Right after the first sign-in: the first Gmail import, live. Stage, messages done of
//! Gmail's total, speed, time left and people found so far, updated as the server
//! publishes progress. Nothing here blocks the app; every link works while it runs.

use api::settings::{AccountProgress, SyncOverview};
use leptos::prelude::*;
use leptos_meta::Title;

use crate::app_error::AppError;
use crate::errors::ErrorPanel;
use crate::format::{count, duration_words};
use crate::live::{EventKind, listen_live};

#[server]
pub async fn load_sync_overview() -> Result<SyncOverview, AppError> {
    use api::Provider;

    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let scope = ctx.scope();
        let mut accounts = Vec::new();
        for account in scope.accounts().list().await? {
            if account.provider != Provider::Google {
                continue;
            }
            let sync = scope.sync().sync_account(account.id).await?;
            let ledger = scope.sync().ledger_counts(account.id).await?;
            accounts.push(domain::settings::account_progress(&account, sync, ledger));
        }
        Ok(SyncOverview { accounts })
    })
    .await
}

#[component]
pub fn WelcomePage() -> impl IntoView {
    // Bumped by every live progress event; the overview is re-read for each.
    let updates = RwSignal::new(0_u64);
    let overview = Resource::new(move || updates.get(), |_| load_sync_overview());
    listen_live(&[EventKind::SyncProgress], move |_| {
        updates.update(|n| *n += 1)
    });
    view! {
        <Title text="Importing your mail"/>
        <section class="page welcome">
            <header class="page-header"><h1>"Welcome to Rapport"</h1></header>
            <p class="lead">
                "Rapport is reading your Gmail to build your network: who you write to, how often, "
                "and how quickly you both reply. Recent mail comes first, so your closest contacts "
                "appear within seconds. You can use the app while this runs."
            </p>
            <Transition fallback=|| view! { <p class="muted">"Loading your import…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || Suspend::new(async move {
                        overview.await.map(|data| view! { <ImportProgress data/> })
                    })}
                </ErrorBoundary>
            </Transition>
            <nav class="actions" aria-label="Next">
                <a class="button primary" href="/contacts">"Go to your contacts"</a>
                <a class="button" href="/timeline">"See your mail on the timeline"</a>
            </nav>
        </section>
    }
}

#[component]
fn ImportProgress(data: SyncOverview) -> impl IntoView {
    if data.accounts.is_empty() {
        return view! {
            <div class="empty-state">
                <h2>"No mailbox connected"</h2>
                <p>"Sign out and sign in with Google again to connect Gmail."</p>
            </div>
        }
        .into_any();
    }
    data.accounts
        .into_iter()
        .map(|a| view! { <AccountImport account=a/> })
        .collect_view()
        .into_any()
}

#[component]
fn AccountImport(account: AccountProgress) -> impl IntoView {
    let percent = (account.fraction() * 100.0).round();
    let headline = if account.complete {
        format!("Done: {} messages imported", count(account.stored))
    } else {
        match account.stage.as_str() {
            "waiting" => "Waiting to start…".to_owned(),
            "listing" => "Listing your mailbox…".to_owned(),
            "reconciling" => "Checking that every message arrived…".to_owned(),
            _ => match account.total {
                Some(total) => format!(
                    "Imported {} of {} messages",
                    count(account.done),
                    count(total)
                ),
                None => format!("Imported {} messages", count(account.done)),
            },
        }
    };
    let speed = (!account.complete && account.per_minute > 0.0).then(|| {
        format!(
            "{} messages a minute",
            count(account.per_minute.round() as u64)
        )
    });
    let left = account
        .minutes_left()
        .map(|minutes| format!("about {} left", duration_words(minutes * 60.0)));
    let state = if account.complete { "done" } else { "running" };
    view! {
        <article class="card import" data-account-id=account.id.to_string() data-state=state>
            <header class="account-head">
                <h2>"Gmail · " {account.label.clone()}</h2>
                <span class=format!("badge status-{}", account.status)>{account.status.as_str().replace('_', " ")}</span>
            </header>
            <p class="import-headline" role="status" aria-live="polite">
                <strong>{headline}</strong>
            </p>
            <div
                class="meter"
                role="progressbar"
                aria-label="Import progress"
                aria-valuemin="0"
                aria-valuemax="100"
                aria-valuenow=percent.to_string()
            >
                // A <progress>, not a width in a style attribute: the CSP allows no inline styles.
                <progress class="meter-fill" max="100" value=percent.to_string() aria-hidden="true"></progress>
            </div>
            <dl class="facts import-facts">
                <dt>"Progress"</dt>
                <dd data-testid="percent">{format!("{percent}%")}</dd>
                <dt>"People found"</dt>
                <dd data-testid="people">{count(account.people_seen)}</dd>
                {speed.map(|s| view! { <dt>"Speed"</dt><dd>{s}</dd> })}
                {left.map(|l| view! { <dt>"Time left"</dt><dd>{l}</dd> })}
            </dl>
            {account.last_error.map(|e| view! { <p class="form-error">"Last problem: " {e}</p> })}
        </article>
    }
}
