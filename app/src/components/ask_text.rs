//! Answers as the page shows them. Answers are plain text that may quote email content,
//! so nothing in them is ever read as HTML: the text becomes text nodes, and only
//! Markdown-style links to a page of this site (`[Dana](/contacts/…)`) become anchors.

use api::links::{Segment, segments};
use leptos::prelude::*;

/// An answer's text with its links as anchors; line breaks are kept by the stylesheet.
#[component]
pub fn AnswerText(#[prop(into)] text: Signal<String>) -> impl IntoView {
    view! {
        <div class="answer-text">
            {move || {
                segments(&text.get())
                    .into_iter()
                    .map(|segment| match segment {
                        Segment::Text(t) => t.into_any(),
                        Segment::Link { label, href } => {
                            view! { <a class="citation" href=href>{label}</a> }.into_any()
                        }
                    })
                    .collect_view()
            }}
        </div>
    }
}
