use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::session::load_visitor;

fn error_text(code: &str) -> &'static str {
    match code {
        "denied" => {
            "Google sign-in was cancelled. Rapport needs read access to your Gmail to build your contacts."
        }
        "expired" => {
            "That sign-in attempt expired or did not match this browser. Please try again."
        }
        "google" => "Google did not complete the sign-in. Please try again.",
        "unverified" => {
            "Google has not verified the email address of that account, so Rapport cannot sign you in with it. Verify the address with Google, or use another account."
        }
        _ => "Sign-in failed. Please try again.",
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let visitor = Resource::new(|| (), |_| load_visitor());
    let notice = move || {
        let q = query.read();
        if let Some(code) = q.get("error") {
            Some(view! { <p class="form-error" role="alert">{error_text(&code)}</p> }.into_any())
        } else if q.get("signed_out").is_some() {
            Some(view! { <p class="notice" role="status">"You are signed out."</p> }.into_any())
        } else if q.get("deleted").is_some() {
            Some(view! { <p class="notice" role="status">"Your account and all its data were deleted."</p> }.into_any())
        } else {
            None
        }
    };
    view! {
        <Title text="Sign in"/>
        <section class="login card">
            <h1>"Your network, remembered for you"</h1>
            <p class="muted">
                "Rapport reads your Gmail to build your contacts, measure every relationship and answer "
                "questions about your network. It only ever reads: nothing is sent on your behalf."
            </p>
            {notice}
            <a class="button primary google" rel="external" href="/auth/google/start">"Sign in with Google"</a>
            <Suspense>
                {move || Suspend::new(async move {
                    visitor.await.ok().filter(|v| v.demo).map(|_| view! {
                        <p class="demo-note" role="note">
                            <strong>"Demo mode. "</strong>
                            "This Rapport uses a simulated Google account and a generated Gmail mailbox; "
                            "nothing leaves this machine. Set GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET to use real Google."
                        </p>
                    })
                })}
            </Suspense>
        </section>
    }
}
