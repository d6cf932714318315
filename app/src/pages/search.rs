//! `/search?q=`: mail search over every activity, ranked, then newest first, with the
//! query's words marked in the headline and the snippet; each hit opens its
//! conversation or its entry on the contact's timeline. A bad query (an unknown
//! operator, a malformed date) is a 400 that says what to fix.

use api::inbox::relative_time;
use api::search::{Fragment, SearchHit, SearchPage, search_href};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::app_error::{AppError, ErrorKind};
use crate::errors::LoadError;

/// Page `page` (empty: the first) of the results of `q`.
#[server]
pub async fn search_mail(q: String, page: String) -> Result<SearchPage, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let query = domain::search::SearchQuery::parse(&q).map_err(query_error)?;
        let page = domain::search::parse_page(&page)?;
        Ok(ctx.scope().search().page(&query, page).await?)
    })
    .await
}

/// A query that cannot be run: a 400 naming the field, in the parser's words.
#[cfg(feature = "ssr")]
pub fn query_error(error: domain::search::QueryError) -> AppError {
    AppError::new(ErrorKind::BadRequest, api::capitalize(&error.to_string()))
        .with_field("q")
        .with_source(error)
}

#[component]
pub fn SearchPage() -> impl IntoView {
    let query = use_query_map();
    let q = move || query.with(|m| m.get("q")).unwrap_or_default();
    let page = move || query.with(|m| m.get("page")).unwrap_or_default();
    let results = Resource::new(
        move || (q(), page()),
        |(q, page)| async move {
            if q.trim().is_empty() {
                Ok(None)
            } else {
                search_mail(q, page).await.map(Some)
            }
        },
    );
    view! {
        <Title text="Search"/>
        <section class="page search-page">
            <header class="page-header"><h1>"Search"</h1></header>
            <SearchForm value=q()/>
            <p class="muted search-help">
                "Words match any form (contract, contracts); \"quotes\" for a phrase; "
                <code>"from:"</code>" "<code>"to:"</code>" "<code>"channel:email"</code>" "
                <code>"after:2024-01-31"</code>" "<code>"before:"</code>" "<code>"has:attachment"</code>"."
            </p>
            <Transition fallback=|| view! { <p class="muted">"Searching…"</p> }>
                {move || Suspend::new(async move {
                    match results.await {
                        Ok(None) => ().into_any(),
                        Ok(Some(found)) => view! { <Results q=q() found/> }.into_any(),
                        Err(error) if error.kind() == ErrorKind::BadRequest => view! {
                            <p class="form-error" role="alert" data-testid="search-error">{error.user_message()}</p>
                        }
                        .into_any(),
                        Err(error) => view! { <LoadError error/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The search box: a plain GET form, so it works before the page hydrates and its
/// results have a shareable URL. Also on the inbox and the contact timeline.
#[component]
pub fn SearchForm(#[prop(into, optional)] value: String) -> impl IntoView {
    view! {
        <form role="search" aria-label="Mail" class="mail-search" method="get" action="/search">
            <input
                type="search"
                name="q"
                value=value
                aria-label="Search all mail"
                placeholder="Search all mail: words, \"phrases\", from:, to:, before:…"
                data-testid="mail-search"
            />
            <button class="button" type="submit">"Search"</button>
        </form>
    }
}

#[component]
fn Results(q: String, found: SearchPage) -> impl IntoView {
    if found.hits.is_empty() {
        let words = if found.page > 1 {
            "No more results."
        } else {
            "Nothing matches."
        };
        return view! { <p class="muted" data-testid="search-empty">{words}</p> }.into_any();
    }
    let now = found.now;
    let previous = (found.page > 1).then(|| search_href(&q, found.page - 1));
    let next = found.more.then(|| search_href(&q, found.page + 1));
    view! {
        <ol class="search-results" data-testid="search-results">
            {found.hits.into_iter().map(|hit| view! { <Hit hit now/> }).collect_view()}
        </ol>
        <nav class="pager" aria-label="Result pages">
            {previous.map(|href| view! { <a class="button" rel="prev" href=href>"Previous"</a> })}
            <span class="muted">"Page " {found.page}</span>
            {next.map(|href| view! { <a class="button" rel="next" href=href>"Next"</a> })}
        </nav>
    }
    .into_any()
}

#[component]
fn Hit(hit: SearchHit, now: chrono::DateTime<chrono::Utc>) -> impl IntoView {
    let sender = hit.sender.as_ref().map(|s| {
        let label = s.label().to_owned();
        match s.contact_id {
            Some(contact) => {
                view! { <a class="sender" href=format!("/contacts/{contact}")>{label}</a> }
                    .into_any()
            }
            None => view! { <span class="sender">{label}</span> }.into_any(),
        }
    });
    view! {
        <li class="search-hit" data-channel=hit.channel.as_str() data-hit=hit.id.to_string()>
            <p class="search-meta muted">
                {hit.channel.label()} " · " {sender} " · "
                <time datetime=hit.occurred_at.to_rfc3339() title=hit.occurred_at.format("%e %b %Y, %H:%M UTC").to_string()>
                    {relative_time(now, hit.occurred_at)}
                </time>
            </p>
            <p class="headline"><a class="open-hit" href=hit.href.clone()>{marked(hit.headline)}</a></p>
            {(!hit.snippet.is_empty()).then(|| view! { <p class="snippet">{marked(hit.snippet)}</p> })}
        </li>
    }
}

/// Text runs, the matched ones in `<mark>`; always escaped text, never markup.
fn marked(fragments: Vec<Fragment>) -> impl IntoView {
    fragments
        .into_iter()
        .map(|f| {
            if f.matched {
                view! { <mark>{f.text}</mark> }.into_any()
            } else {
                f.text.into_any()
            }
        })
        .collect_view()
}
