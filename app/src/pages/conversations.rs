//! Messenger and Instagram conversations with customers. `/conversations` lists them
//! newest first (filters by platform and status, "Older" by cursor); a conversation's
//! page shows the thread (customer, person and AI agent told apart; text in either
//! direction), a reply box that answers through Meta's Send API as a person (which
//! pauses the agent), the AI toggle, the status, and the agent's log: every turn with
//! the messages it was given, its tool calls and their results (orders it created),
//! its reply, model, tokens, latency and outcome. Both pages follow the live
//! `conversation.changed` event: new messages and agent replies appear without a reload.

use api::conversations::{
    AgentModel, AgentTurn, ConversationMessage, ConversationSummary, ConversationView,
    ConversationsPage, Handoff, conversation_href,
};
use api::inbox::relative_time;
use api::meta::{ConversationStatus, MetaPlatform, SenderType, TurnOutcome};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde_json::Value;
use uuid::Uuid;

use crate::app_error::AppError;
use crate::errors::LoadError;
use crate::live::{Event, EventKind, listen_live};

/// One page of the user's conversations: `platform` and `status` empty for all,
/// after `cursor` (empty: the newest).
#[server]
pub async fn list_conversations(
    platform: String,
    status: String,
    cursor: String,
) -> Result<ConversationsPage, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let filter = domain::meta::conversations::ConversationFilter {
            platform: parse_filter(&platform, "platform")?,
            status: parse_filter(&status, "status")?,
        };
        Ok(ctx.scope().meta().conversations(&filter, &cursor).await?)
    })
    .await
}

#[cfg(feature = "ssr")]
fn parse_filter<T: std::str::FromStr>(value: &str, field: &str) -> Result<Option<T>, AppError> {
    match value {
        "" => Ok(None),
        value => value
            .parse()
            .map(Some)
            .map_err(|_| AppError::invalid(field, "not one of the choices")),
    }
}

#[server]
pub async fn load_conversation(id: Uuid) -> Result<ConversationView, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let meta = ctx.scope().meta();
        let conversation = meta.conversation(id).await?;
        let messages = meta.messages(id).await?;
        let turns = meta.turns(id).await?;
        let model = match &ctx.app.sales_agent {
            None => AgentModel::Missing(
                "No model is configured: set OPENAI_API_KEY (or OPENAI_BASE_URL) to use the agent."
                    .to_owned(),
            ),
            Some(model) if ctx.app.demo && ctx.app.model.is_none() => {
                AgentModel::Simulated(model.model.clone())
            }
            Some(model) => AgentModel::Configured(model.model.clone()),
        };
        Ok(ConversationView {
            conversation,
            messages,
            turns,
            model,
            demo: ctx.app.demo,
        })
    })
    .await
}

/// A person's reply, sent through the Send API; it answers the customer and pauses
/// the agent.
#[server]
pub async fn reply_to_conversation(id: Uuid, text: String) -> Result<(), AppError> {
    use crate::ssr::{RequestContext, reported};
    use domain::meta::send::SendOutcome;
    use domain::meta::{HttpGraph, MetaOptions, MetaService};
    reported(async move {
        let ctx = RequestContext::current()?;
        let service = MetaService::new(
            ctx.app.db.clone(),
            HttpGraph::default(),
            ctx.app.secrets.clone(),
            ctx.app.sales_agent.clone(),
            MetaOptions::default(),
        );
        match service
            .reply(ctx.user.id, id, &text)
            .await
            .map_err(meta_error)?
        {
            SendOutcome::Sent(_) => Ok(()),
            SendOutcome::OutsideWindow => Err(AppError::invalid(
                "reply",
                "the customer last wrote more than 24 hours ago, and Meta only lets a Page answer within 24 hours",
            )),
        }
    })
    .await
}

#[cfg(feature = "ssr")]
fn meta_error(error: domain::meta::MetaError) -> AppError {
    use crate::app_error::ErrorKind;
    use domain::meta::MetaError;
    match error {
        MetaError::NotFound => AppError::not_found("conversation"),
        MetaError::Domain(e) => e.into(),
        MetaError::Graph(e) => AppError::new(
            ErrorKind::Unavailable,
            format!("Meta did not take the message: {}", e.message()),
        ),
        other => AppError::internal(other),
    }
}

#[server]
pub async fn set_conversation_ai(id: Uuid, on: bool) -> Result<(), AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let configured = ctx.app.sales_agent.is_some();
        Ok(ctx
            .scope()
            .meta()
            .set_ai_enabled(id, on, configured)
            .await?)
    })
    .await
}

#[server]
pub async fn set_conversation_status(id: Uuid, status: String) -> Result<(), AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let status = ConversationStatus::parse(&status)
            .map_err(|_| AppError::invalid("status", "not one of the choices"))?;
        Ok(ctx.scope().meta().set_status(id, status).await?)
    })
    .await
}

/// Conversations the agent handed to a person, for the banner.
#[server]
pub async fn list_handoffs() -> Result<Vec<Handoff>, AppError> {
    use crate::ssr::{RequestContext, current_user, reported};
    reported(async move {
        // The layout asks on every page: a signed-out visitor has none (a refusal would
        // make the login page a 401), nor has a user without Messenger or Instagram.
        if !current_user().is_some_and(|user| user.header.has_meta) {
            return Ok(Vec::new());
        }
        let ctx = RequestContext::current()?;
        Ok(ctx.scope().meta().handoffs().await?)
    })
    .await
}

/// Bumped when a conversation changes, so the handoff banner (in the layout) reads
/// again without a stream of its own.
#[derive(Clone, Copy)]
pub struct HandoffRefresh(pub RwSignal<u64>);

impl HandoffRefresh {
    /// The layout's, taken while the page is created (stream callbacks run outside it).
    fn bumper() -> impl Fn() + Clone + 'static {
        let refresh = use_context::<HandoffRefresh>();
        move || {
            if let Some(HandoffRefresh(signal)) = refresh {
                signal.update(|n| *n += 1);
            }
        }
    }
}

pub fn platform_label(platform: MetaPlatform) -> &'static str {
    match platform {
        MetaPlatform::Messenger => "Messenger",
        MetaPlatform::Instagram => "Instagram",
    }
}

fn status_label(status: ConversationStatus) -> &'static str {
    match status {
        ConversationStatus::New => "New",
        ConversationStatus::Open => "Open",
        ConversationStatus::Pending => "Pending (needs a person)",
        ConversationStatus::Closed => "Closed",
    }
}

/// The platform's icon beside its name (screen readers read the name).
#[component]
fn PlatformIcon(platform: MetaPlatform) -> impl IntoView {
    let glyph = match platform {
        MetaPlatform::Messenger => "ⓜ",
        MetaPlatform::Instagram => "◎",
    };
    view! {
        <span class=format!("platform platform-{}", platform.as_str()) title=platform_label(platform)>
            <span aria-hidden="true" class="platform-icon">{glyph}</span>
            " " {platform_label(platform)}
        </span>
    }
}

fn when(at: DateTime<Utc>) -> String {
    at.format("%e %b %Y, %H:%M UTC").to_string()
}

fn query_href(platform: &str, status: &str, cursor: &str) -> String {
    let params: Vec<String> = [
        ("platform", platform),
        ("status", status),
        ("cursor", cursor),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| format!("{k}={v}"))
    .collect();
    match params.is_empty() {
        true => "/conversations".to_owned(),
        false => format!("/conversations?{}", params.join("&")),
    }
}

#[component]
pub fn ConversationsPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.with(|q| q.get(name).unwrap_or_default());
    let changes = RwSignal::new(0_u64);
    let bump_handoffs = HandoffRefresh::bumper();
    listen_live(&[EventKind::ConversationChanged], move |_| {
        changes.update(|n| *n += 1);
        bump_handoffs();
    });
    let page = Resource::new(
        move || {
            (
                param("platform"),
                param("status"),
                param("cursor"),
                changes.get(),
            )
        },
        |(platform, status, cursor, _)| list_conversations(platform, status, cursor),
    );
    let filters = move || {
        let (platform, status) = (param("platform"), param("status"));
        view! {
            <form class="conversation-filters" method="get" action="/conversations">
                <label>
                    "Platform "
                    <select name="platform">
                        <option value="" selected={platform.is_empty()}>"All"</option>
                        {MetaPlatform::all().iter().map(|p| view! {
                            <option value=p.as_str() selected={platform == p.as_str()}>{platform_label(*p)}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label>
                    "Status "
                    <select name="status">
                        <option value="" selected={status.is_empty()}>"All"</option>
                        {ConversationStatus::all().iter().map(|s| view! {
                            <option value=s.as_str() selected={status == s.as_str()}>{status_label(*s)}</option>
                        }).collect_view()}
                    </select>
                </label>
                <button class="button" type="submit">"Filter"</button>
            </form>
        }
    };
    view! {
        <Title text="Conversations"/>
        <section class="page conversations-page">
            <header class="page-header">
                <div>
                    <h1>"Conversations"</h1>
                    <p class="muted">"Customers writing to your Facebook Page and Instagram account, newest first."</p>
                </div>
                <nav aria-label="Shop" class="shop-links">
                    <a href="/orders">"Orders"</a> " · " <a href="/catalog">"Catalog"</a>
                </nav>
            </header>
            {filters}
            <Transition fallback=|| view! { <p class="muted">"Loading conversations…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => {
                            let (platform, status, cursor) = (param("platform"), param("status"), param("cursor"));
                            view! { <ConversationList page platform status cursor/> }.into_any()
                        }
                        Err(error) => view! { <LoadError error/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn ConversationList(
    page: ConversationsPage,
    platform: String,
    status: String,
    cursor: String,
) -> impl IntoView {
    let now = Utc::now();
    let filtered = !platform.is_empty() || !status.is_empty();
    if page.rows.is_empty() {
        let message = match (filtered, cursor.is_empty()) {
            (true, _) => "No conversation matches these filters.",
            (false, false) => "No older conversations.",
            (false, true) => {
                "No conversations yet. When a Facebook Page is connected, customers who write to it or to its Instagram account appear here."
            }
        };
        return view! {
            <div class="empty-state" data-testid="conversations-empty"><p>{message}</p></div>
        }
        .into_any();
    }
    let newest = (!cursor.is_empty()).then(|| {
        view! { <a class="button" href=query_href(&platform, &status, "")>"Newest"</a> }
    });
    let older = page.next.map(|next| {
        view! { <a class="button" href=query_href(&platform, &status, &next)>"Older conversations"</a> }
    });
    view! {
        <ol class="conversation-list" aria-label="Conversations">
            {page.rows.into_iter().map(|row| view! { <ConversationRow row now/> }).collect_view()}
        </ol>
        <nav class="pager" aria-label="Pages">{newest}{older}</nav>
    }
    .into_any()
}

#[component]
fn ConversationRow(row: ConversationSummary, now: DateTime<Utc>) -> impl IntoView {
    let contact = row.contact_id.map(|contact| {
        view! { <a class="muted contact-link" href=format!("/contacts/{contact}")>"Contact"</a> }
    });
    view! {
        <li
            class="conversation-row"
            class:needs-person={row.status == ConversationStatus::Pending}
            data-testid="conversation-row"
            data-status=row.status.as_str()
            data-platform=row.platform.as_str()
        >
            <PlatformIcon platform=row.platform/>
            <div class="conversation-body">
                <p class="conversation-customer">
                    <a href=conversation_href(row.id)>{row.customer_name.clone()}</a>
                    " " {contact}
                </p>
                {row.last_message_text.clone().map(|text| view! { <p class="snippet muted" dir="auto">{text}</p> })}
            </div>
            <span class=format!("badge status-{}", row.status.as_str())>{status_label(row.status)}</span>
            <span class="badge ai-badge" class:on=row.ai_enabled>{if row.ai_enabled { "AI on" } else { "AI off" }}</span>
            {row.last_message_at.map(|at| view! {
                <time class="muted" datetime=at.to_rfc3339() title=when(at)>{relative_time(now, at)}</time>
            })}
        </li>
    }
}

#[component]
pub fn ConversationPage() -> impl IntoView {
    let params = use_params_map();
    let id =
        Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse::<Uuid>().ok())));
    let changes = RwSignal::new(0_u64);
    let bump_handoffs = HandoffRefresh::bumper();
    listen_live(&[EventKind::ConversationChanged], move |event| {
        let mine = match (&event, id.get_untracked()) {
            (Some(Event::ConversationChanged(p)), Some(id)) => p.conversation_ids.contains(&id),
            _ => true,
        };
        if mine {
            changes.update(|n| *n += 1);
        }
        bump_handoffs();
    });
    let actions = Actions {
        reply: ServerAction::<ReplyToConversation>::new(),
        ai: ServerAction::<SetConversationAi>::new(),
        status: ServerAction::<SetConversationStatus>::new(),
    };
    let view_data = Resource::new(
        move || {
            (
                id.get(),
                changes.get(),
                actions.reply.version().get(),
                actions.ai.version().get(),
                actions.status.version().get(),
            )
        },
        |(id, ..)| async move {
            match id {
                Some(id) => load_conversation(id).await,
                None => {
                    crate::errors::set_status(404);
                    Err(AppError::not_found("conversation"))
                }
            }
        },
    );
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading conversation…"</p> }>
            {move || Suspend::new(async move {
                match view_data.await {
                    Ok(data) => view! { <ConversationDetail data actions/> }.into_any(),
                    Err(error) => view! { <LoadError error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[derive(Clone, Copy)]
struct Actions {
    reply: ServerAction<ReplyToConversation>,
    ai: ServerAction<SetConversationAi>,
    status: ServerAction<SetConversationStatus>,
}

#[component]
fn ConversationDetail(data: ConversationView, actions: Actions) -> impl IntoView {
    let c = data.conversation.clone();
    let id = c.id;
    let customer = c.customer_name.clone();
    let contact = c.contact_id.map(|contact| {
        view! { " · " <a href=format!("/contacts/{contact}")>"Contact page"</a> }
    });
    let failed = move || {
        [
            actions.reply.value().get(),
            actions.ai.value().get(),
            actions.status.value().get(),
        ]
        .into_iter()
        .flatten()
        .find_map(Result::err)
        .map(|e| view! { <p class="form-error" role="alert">{e.user_message()}</p> })
    };
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if matches!(actions.reply.value().get(), Some(Ok(())))
            && let Some(form) = form.get()
        {
            form.reset();
        }
    });
    let paused = c
        .paused_until
        .filter(|until| *until > Utc::now())
        .map(|until| {
            view! {
                <p class="muted" data-testid="ai-paused">
                    "The agent is paused until " {when(until)} " because a person replied."
                </p>
            }
        });
    let demo_box = data.demo.then(|| {
        view! {
            <section class="card demo-customer" aria-labelledby="demo-customer-heading">
                <h2 id="demo-customer-heading">"Demo: write as " {customer.clone()}</h2>
                <p class="muted">"A simulated customer: the message reaches the demo Page as if they had written it."</p>
                <form method="post" action=format!("/demo/conversations/{id}/customer")>
                    <label class="visually-hidden" for="demo-customer-text">"Customer's message"</label>
                    <textarea id="demo-customer-text" name="text" rows="2" required maxlength="2000" dir="auto"></textarea>
                    <button class="button" type="submit">"Send as customer"</button>
                </form>
            </section>
        }
    });
    view! {
        <Title text=format!("{} · Conversations", c.customer_name)/>
        <section class="page conversation-page" data-testid="conversation">
            <header class="page-header">
                <div>
                    <p class="breadcrumb"><a href="/conversations">"Conversations"</a></p>
                    <h1>{c.customer_name.clone()}</h1>
                    <p class="muted"><PlatformIcon platform=c.platform/>{contact}</p>
                </div>
            </header>
            <div class="conversation-layout">
                <div class="conversation-main">
                    <ol class="chat-messages conversation-thread" aria-label="Messages">
                        {data.messages.into_iter().map(|m| view! { <Message message=m customer=customer.clone()/> }).collect_view()}
                    </ol>
                    <ActionForm action=actions.reply node_ref=form attr:class="card reply-form">
                        <input type="hidden" name="id" value=id.to_string()/>
                        <label for="reply-text">"Reply as a person"</label>
                        <textarea id="reply-text" name="text" rows="3" required maxlength="2000" dir="auto"></textarea>
                        <p class="muted">"Sent through your Page. The AI agent pauses for 30 minutes after a person replies."</p>
                        <button class="button primary" type="submit">"Send reply"</button>
                    </ActionForm>
                    {failed}
                    {demo_box}
                </div>
                <aside class="conversation-side">
                    <Controls conversation=c.clone() model=data.model actions/>
                    {paused}
                    <AgentLog turns=data.turns/>
                </aside>
            </div>
        </section>
    }
}

#[component]
fn Controls(
    conversation: ConversationSummary,
    model: AgentModel,
    actions: Actions,
) -> impl IntoView {
    let (toggle_id, status_id) = (conversation.id.to_string(), conversation.id.to_string());
    let on = conversation.ai_enabled;
    let (missing, note) = match &model {
        AgentModel::Missing(reason) => (true, reason.clone()),
        AgentModel::Configured(name) => (false, format!("Model: {name}")),
        AgentModel::Simulated(name) => (
            false,
            format!("Demo mode: replies come from a simulated model ({name}), not a real one."),
        ),
    };
    // A conversation switched on before the model went away can still be switched off.
    let disabled = missing && !on;
    view! {
        <section class="card conversation-controls" aria-labelledby="controls-heading">
            <h2 id="controls-heading">"AI agent"</h2>
            <ActionForm action=actions.ai attr:class="ai-toggle">
                <input type="hidden" name="id" value=toggle_id/>
                <input type="hidden" name="on" value=(!on).to_string()/>
                <button
                    class="button"
                    class:primary=!on
                    type="submit"
                    role="switch"
                    aria-checked=on.to_string()
                    disabled=disabled
                    data-testid="ai-toggle"
                >
                    {if on { "AI on: switch off" } else { "AI off: switch on" }}
                </button>
            </ActionForm>
            <p class="muted" data-testid="agent-model">{note}</p>
            <ActionForm action=actions.status attr:class="status-form">
                <input type="hidden" name="id" value=status_id/>
                <label for="conversation-status">"Status"</label>
                <select id="conversation-status" name="status">
                    {ConversationStatus::all().iter().map(|s| view! {
                        <option value=s.as_str() selected={*s == conversation.status}>{status_label(*s)}</option>
                    }).collect_view()}
                </select>
                <button class="button" type="submit">"Set status"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn Message(message: ConversationMessage, customer: String) -> impl IntoView {
    let (class, who) = match message.sender {
        Some(SenderType::Customer) => ("customer", customer),
        Some(SenderType::Employee) => ("employee", "A person (you or your Page)".to_owned()),
        Some(SenderType::Agent) => ("agent", "AI agent".to_owned()),
        None => ("unknown", "Earlier message".to_owned()),
    };
    let sent = matches!(
        message.sender,
        Some(SenderType::Employee | SenderType::Agent)
    );
    let text = match message.text {
        Some(text) => view! { <p class="chat-text" dir="auto">{text}</p> }.into_any(),
        None => view! { <p class="chat-text muted">"Meta gives no details of messages older than the 20 most recent."</p> }.into_any(),
    };
    view! {
        <li class=format!("chat-message from-{class}") class:sent=sent data-testid="message" data-sender=class>
            <p class="chat-sender">{who}</p>
            {text}
            <time class="muted" datetime=message.sent_at.to_rfc3339()>{when(message.sent_at)}</time>
        </li>
    }
}

fn outcome_label(outcome: TurnOutcome) -> &'static str {
    match outcome {
        TurnOutcome::Running => "Running",
        TurnOutcome::Replied => "Replied",
        TurnOutcome::Handoff => "Handed to a person",
        TurnOutcome::OutsideWindow => "Outside the 24-hour window",
        TurnOutcome::Cancelled => "Cancelled",
        TurnOutcome::Failed => "Failed",
    }
}

#[component]
fn AgentLog(turns: Vec<AgentTurn>) -> impl IntoView {
    let body = if turns.is_empty() {
        view! { <p class="muted">"The agent has not answered in this conversation."</p> }.into_any()
    } else {
        view! {
            <ol class="agent-turns">
                {turns.into_iter().enumerate().map(|(i, turn)| view! { <Turn turn open={i == 0}/> }).collect_view()}
            </ol>
        }
        .into_any()
    };
    view! {
        <section class="card agent-log" aria-labelledby="agent-log-heading">
            <h2 id="agent-log-heading">"Agent log"</h2>
            {body}
        </section>
    }
}

#[component]
fn Turn(turn: AgentTurn, open: bool) -> impl IntoView {
    let given: Vec<(String, String)> = turn.context["conversation"]
        .as_array()
        .map(|messages| {
            messages
                .iter()
                .map(|m| {
                    (
                        m["from"].as_str().unwrap_or_default().to_owned(),
                        m["text"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let products = turn.context["catalog"].as_array().map_or(0, Vec::len);
    let calls = turn.tool_calls.as_array().cloned().unwrap_or_default();
    let summary = format!(
        "{} · {} · {} tokens · {} ms",
        outcome_label(turn.outcome),
        when(turn.created_at),
        turn.tokens,
        turn.latency_ms
    );
    view! {
        <li class=format!("agent-turn outcome-{}", turn.outcome.as_str()) data-testid="agent-turn" data-outcome=turn.outcome.as_str()>
            <details open=open>
                <summary>{summary}</summary>
                <dl class="turn-facts">
                    <dt>"Model"</dt><dd>{if turn.model.is_empty() { "—".to_owned() } else { turn.model.clone() }}</dd>
                    {turn.reply.clone().map(|r| view! { <dt>"Reply"</dt><dd dir="auto">{r}</dd> })}
                    {turn.handoff_reason.clone().map(|r| view! { <dt>"Handoff"</dt><dd>{r}</dd> })}
                    {turn.error.clone().map(|e| view! { <dt>"Error"</dt><dd class="form-error">{e}</dd> })}
                </dl>
                {(!calls.is_empty()).then(|| view! {
                    <h3>"Tool calls"</h3>
                    <ol class="tool-calls">{calls.into_iter().map(|call| view! { <ToolCall call/> }).collect_view()}</ol>
                })}
                <h3>"Given"</h3>
                <p class="muted">{format!("The catalog ({products} active products) and these messages:")}</p>
                <ol class="turn-context">
                    {given.into_iter().map(|(from, text)| view! {
                        <li><span class="muted">{from} ": "</span><span dir="auto">{text}</span></li>
                    }).collect_view()}
                </ol>
            </details>
        </li>
    }
}

#[component]
fn ToolCall(call: Value) -> impl IntoView {
    let name = call["name"].as_str().unwrap_or_default().to_owned();
    let tag = name.clone();
    let result = &call["result"];
    let order = (name == "create_order" && result["ok"] == Value::Bool(true)).then(|| {
        view! {
            <p class="created-order" data-testid="created-order">
                "Order created: " {result["quantity"].to_string()} " × "
                {result["product"].as_str().unwrap_or_default().to_owned()} " · "
                {result["total"].as_str().unwrap_or_default().to_owned()} " "
                {result["currency"].as_str().unwrap_or_default().to_owned()}
            </p>
        }
    });
    let refused = result["error"].as_str().map(|e| {
        view! { <p class="form-error">"Refused: " {e.to_owned()}</p> }
    });
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
    view! {
        <li class="tool-call" data-tool=tag>
            <p><code>{name}</code></p>
            {order}
            {refused}
            <pre class="tool-arguments">{pretty(&call["arguments"])}</pre>
            {(!result.is_null()).then(|| view! { <pre class="tool-result">{pretty(result)}</pre> })}
        </li>
    }
}

/// The layout's banner: conversations the agent handed to a person, each linking to
/// its page. The layout reads the list on every page load and again when a conversation
/// page hears of a change (its resource lives in the layout, created with the page, so
/// that hydration finds the same resources the server rendered).
#[component]
pub fn HandoffBanner(handoffs: Vec<Handoff>) -> impl IntoView {
    (!handoffs.is_empty()).then(|| {
        view! {
            <div class="banner handoff" role="status" data-testid="handoff-banner">
                <ul>
                    {handoffs.into_iter().map(|h| view! {
                        <li>
                            <strong>{h.customer_name.clone()}</strong>
                            " (" {platform_label(h.platform)} ") needs a person"
                            {h.reason.clone().map(|r| format!(": {r}"))}
                            ". "
                            <a href=conversation_href(h.conversation_id)>"Open the conversation"</a>
                        </li>
                    }).collect_view()}
                </ul>
            </div>
        }
    })
}
