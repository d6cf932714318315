//! The Ask page: the user's chat history with Rapport, suggested questions and the
//! question form. With JavaScript the answer streams into the page from `POST /api/ask`
//! (tools as they are called, then the text); without it the form posts to
//! [`ask_question`], which answers and sends the browser back to the page, where the new
//! exchange ends the history. `/ask?q=…` (the header's box) only prefills and focuses the
//! form: a link someone else sent never asks a question; the user presses Ask.
//! `/ask?error=<code>` shows the fixed message of a code ([`api::notices::AskFormError`]).

use api::ask::{AskData, ExchangeView};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::ask_stream::{LiveAnswer, ask_streaming};
use crate::app_error::AppError;
use crate::components::ask_text::AnswerText;

#[server]
pub async fn load_ask() -> Result<AskData, AppError> {
    use crate::ssr::{RequestContext, reported};
    use domain::ask::history::HISTORY_SHOWN;
    reported(async move {
        let ctx = RequestContext::current()?;
        let history = ctx.scope().ask().history(HISTORY_SHOWN).await?;
        Ok(domain::ask::history::ask_data(ctx.scope(), history, ctx.app.model.as_ref()).await?)
    })
    .await
}

/// The question form without JavaScript: answers, stores the exchange and redirects to
/// it on the Ask page; an invalid question goes back to the form with the reason.
#[server]
pub async fn ask_question(question: String) -> Result<(), AppError> {
    use crate::layout::urlencode;
    use crate::ssr::{RequestContext, reported};
    use domain::ask::history::{Question, ask};
    reported(async move {
        let ctx = RequestContext::current()?;
        let parsed = match Question::parse(&question) {
            Ok(q) => q,
            Err(_) => {
                use api::notices::AskFormError;
                let code = if question.trim().is_empty() {
                    AskFormError::Empty
                } else {
                    AskFormError::TooLong
                };
                leptos_axum::redirect(&format!(
                    "/ask?error={}&q={}",
                    code.code(),
                    urlencode(question.trim())
                ));
                return Ok(());
            }
        };
        if ctx.app.model.is_some() {
            ctx.model_call()?;
        }
        let exchange = ask(
            ctx.scope(),
            ctx.app.model.as_ref(),
            &parsed,
            chrono::Utc::now(),
            &mut |_| {},
        )
        .await?;
        leptos_axum::redirect(&format!("/ask#exchange-{}", exchange.id));
        Ok(())
    })
    .await
}

/// "the offline engine" / "model gpt-4o-mini".
fn engine_phrase(engine: &str) -> String {
    if engine.starts_with("model ") {
        engine.to_owned()
    } else {
        format!("the {engine}")
    }
}

/// "Answered by the offline engine" / "Answered by model gpt-4o-mini".
pub fn answered_by(engine: &str) -> String {
    format!("Answered by {}", engine_phrase(engine))
}

#[component]
pub fn AskPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_ask());
    let query = use_query_map();
    let prefill = query.with_untracked(|q| q.get("q")).unwrap_or_default();
    // A code, never a message: the link may come from anyone.
    let form_error = query.with_untracked(|q| q.get("error"));
    let form_error = form_error.map(|code| api::notices::AskFormError::from_code(&code).message());
    // Exchanges answered since the page loaded, after the stored history.
    let asked = RwSignal::new(Vec::<ExchangeView>::new());
    let live = RwSignal::new(None::<LiveAnswer>);
    let input = NodeRef::<leptos::html::Input>::new();
    let start = move |question: String| ask_streaming(question, live, asked);

    // `/ask?q=…` only fills the box and waits for the user: a link someone else sent
    // must not ask a question on their behalf. The box gets the focus, so Enter asks.
    let has_prefill = !prefill.trim().is_empty();
    if has_prefill {
        Effect::new(move |_| {
            if let Some(field) = input.get() {
                let _ = field.focus();
            }
        });
    }

    let body = move || {
        Suspend::new(async move {
            match data.await {
                Ok(data) => view! { <AskView data asked live/> }.into_any(),
                Err(error) => view! {
                    <p class="form-error" role="alert">{error.user_message()}</p>
                }
                .into_any(),
            }
        })
    };
    let busy = move || live.with(|l| l.as_ref().is_some_and(|l| l.error.is_none()));
    view! {
        <Title text="Ask"/>
        <section class="page ask-page">
            <header class="page-header"><h1>"Ask Rapport"</h1></header>
            <Suspense fallback=|| view! { <p class="muted">"Loading your questions…"</p> }>{body}</Suspense>
            <form
                class="ask-form"
                method="post"
                action=AskQuestion::PATH
                on:submit=move |ev| {
                    if let Some(field) = input.get_untracked() {
                        ev.prevent_default();
                        let question = field.value();
                        field.set_value("");
                        start(question);
                    }
                }
            >
                <label class="visually-hidden" for="ask-question">"Your question"</label>
                <input
                    id="ask-question"
                    node_ref=input
                    name="question"
                    type="text"
                    autocomplete="off"
                    placeholder="Ask about your network, e.g. who haven't I replied to?"
                    value=prefill
                    autofocus=has_prefill
                />
                <button class="button primary" type="submit" disabled=busy>"Ask"</button>
            </form>
            {form_error.map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <Suspense>
                {move || Suspend::new(async move {
                    data.await.ok().map(|d| view! { <Suggestions suggestions=d.suggestions start/> })
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn AskView(
    data: AskData,
    asked: RwSignal<Vec<ExchangeView>>,
    live: RwSignal<Option<LiveAnswer>>,
) -> impl IntoView {
    let empty = data.history.is_empty();
    let stored = data
        .history
        .into_iter()
        .map(|e| view! { <Exchange exchange=e/> })
        .collect_view();
    let answered_here = move || {
        asked
            .get()
            .into_iter()
            .map(|e| view! { <Exchange exchange=e/> })
            .collect_view()
    };
    let nothing_yet = move || {
        (empty && asked.with(Vec::is_empty) && live.with(Option::is_none)).then(|| {
            view! {
                <p class="muted">
                    "Ask anything about the people you email: who is waiting for your reply, "
                    "who you talk to most, when you last spoke to someone."
                </p>
            }
        })
    };
    view! {
        <p class="muted small engine-label">{format!("Questions are answered by {}.", engine_phrase(&data.engine))}</p>
        {nothing_yet}
        <ol class="ask-history" aria-label="Your questions and Rapport's answers">
            {stored}
            {answered_here}
            {move || live.get().map(|l| view! { <LiveExchange live=l/> })}
        </ol>
    }
}

#[component]
fn Exchange(exchange: ExchangeView) -> impl IntoView {
    let tools = if exchange.tools.is_empty() {
        String::new()
    } else {
        format!(" · tools: {}", exchange.tools.join(", "))
    };
    view! {
        <li class="exchange" id=format!("exchange-{}", exchange.id) data-refused=exchange.refused.to_string()>
            <p class="question"><span class="speaker">"You"</span>{exchange.question}</p>
            <div class="answer">
                <span class="speaker">"Rapport"</span>
                <AnswerText text=exchange.answer/>
                <p class="answer-meta muted small">
                    <span class="engine">{answered_by(&exchange.engine)}</span>
                    {tools}
                    " · "
                    <time datetime=exchange.created_at.to_rfc3339()>{exchange.created_at.format("%e %b %Y, %H:%M UTC").to_string()}</time>
                </p>
            </div>
        </li>
    }
}

/// The answer being written.
#[component]
fn LiveExchange(live: LiveAnswer) -> impl IntoView {
    let status = match (&live.error, live.tools.last()) {
        (Some(error), _) => error.clone(),
        (None, Some(tool)) => format!("Answering… (looked up {tool})"),
        (None, None) => "Answering…".to_owned(),
    };
    let failed = live.error.is_some();
    view! {
        <li class="exchange live" aria-busy=(!failed).to_string()>
            <p class="question"><span class="speaker">"You"</span>{live.question}</p>
            <div class="answer">
                <span class="speaker">"Rapport"</span>
                <AnswerText text=live.text/>
                <p class=if failed { "form-error" } else { "answer-meta muted small" } role="status">{status}</p>
            </div>
        </li>
    }
}

#[component]
fn Suggestions<F>(suggestions: Vec<String>, start: F) -> impl IntoView
where
    F: Fn(String) + Copy + Send + Sync + 'static,
{
    view! {
        <section class="ask-suggestions" aria-label="Suggested questions">
            <h2>"Try asking"</h2>
            <ul>
                {suggestions
                    .into_iter()
                    .map(|q| {
                        let asked = q.clone();
                        let value = q.clone();
                        view! {
                            <li>
                                <form
                                    method="post"
                                    action=AskQuestion::PATH
                                    on:submit=move |ev| {
                                        ev.prevent_default();
                                        start(asked.clone());
                                    }
                                >
                                    <button class="button suggestion" type="submit" name="question" value=value>{q}</button>
                                </form>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}
