use leptos::prelude::*;
use leptos_meta::Title;

const EXAMPLES: [&str; 4] = [
    "Who haven't I replied to this week?",
    "Top 5 people at acme.com by emails this quarter",
    "When did I last talk to Dana?",
    "Summarize my relationship with Sam",
];

#[component]
pub fn AskPage() -> impl IntoView {
    view! {
        <Title text="Ask"/>
        <section class="page">
            <header class="page-header"><h1>"Ask Rapport"</h1></header>
            <div class="empty-state">
                <h2>"Questions need mail to answer from"</h2>
                <p>
                    "Ask answers plain-language questions about your network from the mail and "
                    "messages Rapport has synced. Once a mailbox is connected in "
                    <a href="/settings">"Settings"</a> ", questions like these work:"
                </p>
                <ul class="examples">
                    {EXAMPLES.into_iter().map(|q| view! { <li>{q}</li> }).collect_view()}
                </ul>
            </div>
        </section>
    }
}
