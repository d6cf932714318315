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

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    /// The HTML the answer history, the live stream and the relationship panel render:
    /// all three show answer text through [`AnswerText`].
    fn rendered(text: &str) -> String {
        let text = text.to_owned();
        Owner::new()
            .with(|| view! { <AnswerText text=Signal::derive(move || text.clone())/> }.to_html())
    }

    #[test]
    fn untrusted_text_never_becomes_a_link_outside_the_allow_list() {
        let contact = "/contacts/0b6a3c52-9f44-4a8e-8d3e-2f1b7c1d0a11";
        let html = rendered(&format!(
            r"Ask [x](/\evil.example/x), [z](//evil.example), [j](javascript:alert(1)), [s](/settings), [[n]({contact})](/\evil), <script>alert(1)</script>, or [Dana]({contact})."
        ));
        assert_eq!(html.matches("<a ").count(), 1, "{html}");
        assert!(
            html.contains(&format!(r#"<a href="{contact}" class="citation">Dana</a>"#)),
            "{html}"
        );
        for plain in [
            r"[x](/\evil.example/x)",
            "[z](//evil.example)",
            "[s](/settings)",
        ] {
            assert!(html.contains(plain), "{plain} is shown as text: {html}");
        }
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }
}
