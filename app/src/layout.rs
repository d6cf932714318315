use leptos::prelude::*;
use leptos_router::components::A;

const NAV: [(&str, &str); 4] = [
    ("/contacts", "Contacts"),
    ("/timeline", "Timeline"),
    ("/ask", "Ask"),
    ("/settings", "Settings"),
];

#[component]
pub fn AppLayout(children: Children) -> impl IntoView {
    view! {
        <div class="app">
            <header class="topbar">
                <a class="brand" href="/contacts">"Rapport"</a>
                <nav aria-label="Main">
                    <ul>
                        {NAV
                            .into_iter()
                            .map(|(href, label)| view! { <li><A href=href>{label}</A></li> })
                            .collect_view()}
                    </ul>
                </nav>
            </header>
            <main id="main">{children()}</main>
        </div>
    }
}
