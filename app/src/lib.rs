//! Rapport's UI: server-rendered with Leptos, hydrated in the browser. Server functions
//! are thin: find the acting user, call the domain crate, return a DTO.

// The contact page's view type nests deeper than the default limit allows.
#![recursion_limit = "256"]

pub mod app_error;
pub mod components;
mod errors;
mod format;
mod layout;
mod live;
pub mod pages;
mod session;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

pub use app_error::{AppError, ErrorKind};
pub use errors::RequestId;
use layout::AppLayout;
pub use layout::urlencode;
use pages::{
    ApiTokensPage, AskPage, CalendarPage, ChannelsPage, ChatPage, CompanyPage, ContactDetailPage,
    ContactsPage, ConversationPage, ConversationsPage, InboxPage, LoginPage, NotFound,
    RemindersPage, SearchPage, SettingsPage, ThreadPage, TimelinePage, WelcomePage,
};

// Pages wait for their data before the first byte (SsrMode::Async): the HTTP status then
// reflects errors, and the page never jumps as data streams in.

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    ssr::set_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.ico"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    mark_hydrated();
    view! {
        <Stylesheet id="leptos" href="/pkg/rapport.css"/>
        <Title formatter=|page: String| if page.is_empty() { "Rapport".to_owned() } else { format!("{page} · Rapport") }/>
        <Router>
            <AppLayout>
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                    <Route path=path!("/contacts") view=ContactsPage ssr=SsrMode::Async/>
                    <Route path=path!("/contacts/:id") view=ContactDetailPage ssr=SsrMode::Async/>
                    <Route path=path!("/companies/:id") view=CompanyPage ssr=SsrMode::Async/>
                    <Route path=path!("/inbox") view=InboxPage ssr=SsrMode::Async/>
                    <Route path=path!("/calendar") view=CalendarPage ssr=SsrMode::Async/>
                    <Route path=path!("/reminders") view=RemindersPage ssr=SsrMode::Async/>
                    <Route path=path!("/timeline") view=TimelinePage ssr=SsrMode::Async/>
                    <Route path=path!("/mail/:id") view=ThreadPage ssr=SsrMode::Async/>
                    <Route path=path!("/chats/:id") view=ChatPage ssr=SsrMode::Async/>
                    <Route path=path!("/conversations") view=ConversationsPage ssr=SsrMode::Async/>
                    <Route path=path!("/conversations/:id") view=ConversationPage ssr=SsrMode::Async/>
                    <Route path=path!("/ask") view=AskPage ssr=SsrMode::Async/>
                    <Route path=path!("/search") view=SearchPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings") view=SettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings/channels") view=ChannelsPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings/tokens") view=ApiTokensPage ssr=SsrMode::Async/>
                    <Route path=path!("/welcome") view=WelcomePage ssr=SsrMode::Async/>
                    <Route path=path!("/catalog") view=pages::CatalogPage ssr=SsrMode::Async/>
                    <Route path=path!("/orders") view=pages::OrdersPage ssr=SsrMode::Async/>
                </Routes>
            </AppLayout>
        </Router>
    }
}

/// Sets `data-hydrated` on <body> once the wasm app has taken over the server-rendered
/// page. Effects never run on the server, so the attribute proves hydration happened;
/// tests wait for it before interacting.
fn mark_hydrated() {
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}
