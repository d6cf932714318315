use leptos::prelude::*;
use leptos_meta::Title;

use crate::errors::{RequestIdLine, set_status};

#[component]
pub fn NotFound() -> impl IntoView {
    set_status(404);
    view! {
        <Title text="Not found"/>
        <section class="page error-page">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. It may have moved, or the link may be mistyped."</p>
            <p><a class="button" href="/contacts">"Go to your contacts"</a></p>
            <RequestIdLine/>
        </section>
    }
}
