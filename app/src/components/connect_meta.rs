//! Settings → Channels → "Facebook Page": connecting a Page (and its Instagram
//! professional account) for Messenger and Instagram, the connected Pages with their
//! status, and whether new conversations start with the AI sales agent on. The server
//! checks the token with one Graph request before storing anything, and says what
//! Graph answered when it refuses.

use api::AccountStatus;
use api::shop::{ConnectDefaults, PageView, PagesData};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use uuid::Uuid;

use crate::app_error::AppError;
use crate::errors::ErrorPanel;

#[server]
pub async fn load_meta_pages() -> Result<PagesData, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(PagesData {
            pages: ctx.scope().meta().integrations().await?,
            model_configured: ctx.app.model.is_some(),
        })
    })
    .await
}

#[server]
pub async fn meta_connect_defaults() -> Result<ConnectDefaults, AppError> {
    use domain::meta::MetaConnect;

    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ConnectDefaults {
            graph_url: MetaConnect::GRAPH_URL.to_owned(),
            demo: ctx.app.demo_logins.as_ref().map(|d| d.meta_page.clone()),
        })
    })
    .await
}

/// Connects (or reconnects) a Page and queues its first poll.
#[server]
pub async fn connect_meta_page(
    page_id: String,
    page_token: String,
    instagram_id: Option<String>,
    graph_url: Option<String>,
) -> Result<String, AppError> {
    use domain::meta::{HttpGraph, MetaConnect, MetaPollJob};

    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let form = MetaConnect::parse(
            &page_id,
            &page_token,
            instagram_id.as_deref().unwrap_or_default(),
            graph_url.as_deref().unwrap_or_default(),
        )?;
        let scope = ctx.scope();
        let integration = scope
            .meta()
            .connect(&HttpGraph::default(), &form, &ctx.app.secrets)
            .await?;
        scope
            .jobs()
            .enqueue(&MetaPollJob {
                integration_id: integration,
            })
            .await?;
        Ok(format!(
            "Page {} connected. Its conversations are being read.",
            form.page_id
        ))
    })
    .await
}

#[server]
pub async fn set_meta_ai_default(integration_id: Uuid, on: bool) -> Result<(), AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx
            .scope()
            .meta()
            .set_ai_default(integration_id, on)
            .await?)
    })
    .await
}

/// Stops polling the Page and forgets its token; conversations and orders stay.
#[server]
pub async fn disconnect_meta_page(integration_id: Uuid) -> Result<(), AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx.scope().meta().disconnect(integration_id).await?)
    })
    .await
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%e %b %Y, %H:%M UTC").to_string()
}

#[component]
pub fn MetaPages() -> impl IntoView {
    let connect = ServerAction::<ConnectMetaPage>::new();
    let toggle = ServerAction::<SetMetaAiDefault>::new();
    let disconnect = ServerAction::<DisconnectMetaPage>::new();
    let data = Resource::new(
        move || {
            (
                connect.version().get(),
                toggle.version().get(),
                disconnect.version().get(),
            )
        },
        |_| load_meta_pages(),
    );
    let failed = move || {
        [toggle.value().get(), disconnect.value().get()]
            .into_iter()
            .flatten()
            .find_map(Result::err)
            .map(|e| view! { <p class="form-error" role="alert">{e.user_message()}</p> })
    };
    let connected = move || {
        connect.value().get().map(|result| match result {
            Ok(message) => view! { <p class="notice" role="status">{message}</p> }.into_any(),
            Err(e) => view! {
                <p class="form-error" role="alert" data-field=e.field().unwrap_or_default().to_owned()>
                    {e.user_message()}
                </p>
            }
            .into_any(),
        })
    };
    // Read once: the form keeps what the user typed while the list above reloads.
    let defaults = Resource::new(|| (), |_| meta_connect_defaults());
    view! {
        <section class="card" id="connect-meta" aria-labelledby="connect-meta-heading">
            <h2 id="connect-meta-heading">"Facebook Page (Messenger and Instagram)"</h2>
            <p class="muted">
                "Rapport reads the Page's Messenger conversations, and its Instagram professional account's, "
                "every few seconds; customers become contacts, and the AI sales agent can answer them from "
                "your " <a href="/catalog">"catalog"</a> " and take " <a href="/orders">"orders"</a> ". "
                "Create a Page access token with pages_messaging and instagram_manage_messages in Meta's "
                "Graph API Explorer or Business Settings → System users."
            </p>
            <Transition fallback=|| view! { <p class="muted">"Loading Pages…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || Suspend::new(async move {
                        data.await.map(|data| view! {
                            <PageList pages=data.pages model_configured=data.model_configured toggle disconnect/>
                        })
                    })}
                </ErrorBoundary>
            </Transition>
            {failed}
            <Suspense>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || Suspend::new(async move {
                        defaults.await.map(|defaults| view! { <ConnectForm defaults connect/> })
                    })}
                </ErrorBoundary>
            </Suspense>
            {connected}
        </section>
    }
}

#[component]
fn ConnectForm(defaults: ConnectDefaults, connect: ServerAction<ConnectMetaPage>) -> impl IntoView {
    let demo_note = defaults.demo.is_some().then(|| {
        view! { <p class="demo-note">"Demo mode: the simulated Page is filled in."</p> }
    });
    let filled = defaults.demo.unwrap_or_else(|| api::shop::DemoPage {
        graph_url: defaults.graph_url.clone(),
        page_id: String::new(),
        page_token: String::new(),
        instagram_id: String::new(),
    });
    view! {
        <h3>"Connect a Page"</h3>
        {demo_note}
        <ActionForm action=connect attr:class="inline-form connect-meta">
            <label>
                "Page id"
                <input name="page_id" inputmode="numeric" required placeholder="104012345678901" value=filled.page_id/>
            </label>
            <label>
                "Page access token"
                <input type="password" name="page_token" autocomplete="off" required value=filled.page_token/>
            </label>
            <label>
                "Instagram account id (optional)"
                <input name="instagram_id" inputmode="numeric" placeholder="17841400000000000" value=filled.instagram_id/>
            </label>
            <details class="advanced">
                <summary>"Advanced"</summary>
                <label>
                    "Graph API URL"
                    <input type="url" name="graph_url" value=filled.graph_url/>
                </label>
            </details>
            <button class="button primary" type="submit" disabled=move || connect.pending().get()>
                "Connect Page"
            </button>
        </ActionForm>
    }
}

#[component]
fn PageList(
    pages: Vec<PageView>,
    model_configured: bool,
    toggle: ServerAction<SetMetaAiDefault>,
    disconnect: ServerAction<DisconnectMetaPage>,
) -> impl IntoView {
    if pages.is_empty() {
        return view! { <p class="muted">"No Page is connected."</p> }.into_any();
    }
    pages
        .into_iter()
        .map(|p| {
            let status = p.status.as_str().replace('_', " ");
            let reconnect = matches!(
                p.status,
                AccountStatus::NeedsReconnect | AccountStatus::Disconnected
            );
            let (toggle_id, disconnect_id) = (p.id.to_string(), p.id.to_string());
            view! {
                <article class="card account meta-page" data-page-id=p.page_id.clone()>
                    <header class="account-head">
                        <h3>{format!("Facebook Page {}", p.page_id)}</h3>
                        <span class=format!("badge status-{}", p.status)>{status}</span>
                    </header>
                    <dl class="facts">
                        <dt>"Instagram"</dt>
                        <dd>{p.instagram_id.clone().map_or_else(|| "Not connected".to_owned(), |id| format!("Account {id}"))}</dd>
                        <dt>"Last read"</dt>
                        <dd>{p.last_fetch.map(when).unwrap_or_else(|| "Not yet".into())}</dd>
                        <dt>"Graph API"</dt>
                        <dd><code>{p.graph_url.clone()}</code></dd>
                    </dl>
                    {p.last_error.clone().map(|e| view! { <p class="form-error">"Graph said: " {e}</p> })}
                    {reconnect.then(|| view! {
                        <p class="muted">"Paste a new Page access token below with the same Page id to reconnect."</p>
                    })}
                    <div class="actions">
                        <ActionForm action=toggle attr:class="inline-form">
                            <input type="hidden" name="integration_id" value=toggle_id/>
                            <input type="hidden" name="on" value=(!p.ai_default).to_string()/>
                            <span class="ai-default">
                                {if p.ai_default { "AI agent on for new conversations" } else { "AI agent off for new conversations" }}
                            </span>
                            <button class="button" type="submit">
                                {if p.ai_default { "Turn off by default" } else { "Turn on by default" }}
                            </button>
                        </ActionForm>
                        {(!reconnect).then(|| view! {
                            <ActionForm action=disconnect attr:class="inline-form">
                                <input type="hidden" name="integration_id" value=disconnect_id/>
                                <button class="button" type="submit">"Disconnect"</button>
                            </ActionForm>
                        })}
                    </div>
                    {(p.ai_default && !model_configured).then(|| view! {
                        <p class="muted">"No language model is configured (OPENAI_*), so the agent cannot answer yet."</p>
                    })}
                </article>
            }
        })
        .collect_view()
        .into_any()
}
