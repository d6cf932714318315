use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::GlobalAsk;
use crate::components::time_zone::AdoptBrowserZone;
use crate::pages::conversations::{HandoffBanner, HandoffRefresh, list_handoffs};
use crate::session::{SessionInfo, Visitor, load_visitor};

// The shop's Catalog and Orders are reached from Conversations, keeping the bar short
// enough for a phone.
const NAV: [(&str, &str); 8] = [
    ("/inbox", "Inbox"),
    ("/conversations", "Conversations"),
    ("/calendar", "Calendar"),
    ("/reminders", "Reminders"),
    ("/contacts", "Contacts"),
    ("/timeline", "Timeline"),
    ("/ask", "Ask"),
    ("/settings", "Settings"),
];

#[component]
pub fn AppLayout(children: Children) -> impl IntoView {
    let visitor = Resource::new(|| (), |_| load_visitor());
    let handoff_refresh = RwSignal::new(0_u64);
    provide_context(HandoffRefresh(handoff_refresh));
    let handoffs = Resource::new(move || handoff_refresh.get(), |_| list_handoffs());
    let header = move || {
        Suspend::new(async move {
            match visitor.await {
                Ok(Visitor {
                    session: Some(session),
                    demo,
                }) => view! { <SignedInHeader session demo/> }.into_any(),
                _ => view! { <a class="brand" href="/login">"Rapport"</a> }.into_any(),
            }
        })
    };
    view! {
        <div class="app">
            <header class="topbar">
                <Suspense fallback=|| view! { <a class="brand" href="/contacts">"Rapport"</a> }>{header}</Suspense>
            </header>
            <Suspense>
                {move || Suspend::new(async move {
                    // Awaited even when signed out (the list is then empty), so the
                    // answer is in the page and the browser does not ask again.
                    let handoffs = handoffs.await.unwrap_or_default();
                    let session = visitor.await.ok().and_then(|v| v.session)?;
                    Some(view! {
                        <ReconnectBanner accounts=session.needs_reconnect/>
                        <HandoffBanner handoffs/>
                    })
                })}
            </Suspense>
            <main id="main">{children()}</main>
        </div>
    }
}

#[component]
fn SignedInHeader(session: SessionInfo, demo: bool) -> impl IntoView {
    let who = session
        .name
        .clone()
        .unwrap_or_else(|| session.email.clone());
    view! {
        <a class="brand" href="/contacts">"Rapport"</a>
        <nav aria-label="Main">
            <ul>
                {NAV.into_iter().map(|(href, label)| view! { <li><A href=href>{label}</A></li> }).collect_view()}
            </ul>
        </nav>
        <GlobalAsk/>
        <AdoptBrowserZone zone=session.time_zone.clone() chosen=session.time_zone_chosen/>
        <div class="user-menu">
            {demo.then(|| view! { <span class="badge demo" title="Simulated Google account and mailbox">"Demo"</span> })}
            <span class="who" title=session.email.clone()>{who}</span>
            <form method="post" action="/auth/logout">
                <button class="button link" type="submit">"Sign out"</button>
            </form>
        </div>
    }
}

#[component]
fn ReconnectBanner(accounts: Vec<String>) -> impl IntoView {
    (!accounts.is_empty()).then(|| {
        let hint = accounts[0].clone();
        view! {
            <div class="banner warning" role="alert">
                <span>
                    "Rapport lost access to " <strong>{accounts.join(", ")}</strong>
                    ". Syncing is paused until you reconnect."
                </span>
                <a class="button primary" rel="external" href=format!("/auth/google/start?login_hint={}", urlencode(&hint))>
                    "Reconnect Google"
                </a>
            </div>
        }
    })
}

/// Enough percent-encoding for an email address in a query string.
pub fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
