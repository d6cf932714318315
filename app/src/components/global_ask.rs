//! The header's ask box, on every signed-in page: it opens the Ask page with the
//! question (`/ask?q=…`), which fills its box and waits for the user to press Ask. `/` (when not typing in a field) or
//! Ctrl+K / Cmd+K focuses it.

use leptos::prelude::*;

/// The box's element id, which the keyboard shortcut focuses.
const BOX_ID: &str = "global-ask";

#[component]
pub fn GlobalAsk() -> impl IntoView {
    listen_for_shortcut();
    view! {
        <form class="global-ask" method="get" action="/ask" role="search" aria-label="Ask Rapport">
            <label class="visually-hidden" for=BOX_ID>"Ask Rapport"</label>
            <input
                id=BOX_ID
                // A text field, not type=search: the form is already the search landmark,
                // and pages keep their own search box as the page's one searchbox.
                type="text"
                name="q"
                maxlength="1000"
                autocomplete="off"
                placeholder="Ask Rapport…"
                aria-keyshortcuts="/ Control+K"
            />
            <kbd class="shortcut-hint" title="Press / or Ctrl+K to ask from any page">"/"</kbd>
        </form>
    }
}

/// Whether a key press should move focus to the box: Ctrl/Cmd+K anywhere, `/` unless
/// the user is typing somewhere (a field, or an editable element).
#[cfg(any(feature = "hydrate", test))]
fn is_shortcut(key: &str, ctrl_or_cmd: bool, alt: bool, typing: bool) -> bool {
    if alt {
        return false;
    }
    if ctrl_or_cmd {
        return key.eq_ignore_ascii_case("k");
    }
    key == "/" && !typing
}

fn listen_for_shortcut() {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        use web_sys::HtmlElement;

        let handle = window_event_listener(leptos::ev::keydown, |ev| {
            let typing = ev
                .target()
                .and_then(|t| t.dyn_into::<HtmlElement>().ok())
                .is_some_and(|el| {
                    matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                        || el.is_content_editable()
                });
            if !is_shortcut(
                &ev.key(),
                ev.ctrl_key() || ev.meta_key(),
                ev.alt_key(),
                typing,
            ) {
                return;
            }
            if let Some(input) = document()
                .get_element_by_id(BOX_ID)
                .and_then(|e| e.dyn_into::<HtmlElement>().ok())
            {
                ev.prevent_default();
                let _ = input.focus();
            }
        });
        on_cleanup(move || handle.remove());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slash_focuses_unless_typing_and_ctrl_k_always() {
        assert!(is_shortcut("/", false, false, false));
        assert!(
            !is_shortcut("/", false, false, true),
            "a slash typed in a field"
        );
        assert!(is_shortcut("k", true, false, true));
        assert!(is_shortcut("K", true, false, false));
        assert!(!is_shortcut("k", false, false, false));
        assert!(!is_shortcut("/", true, false, false));
        assert!(!is_shortcut("k", true, true, false));
    }
}
