//! The user's time zone: Settings → Time zone picks it; until then the layout adopts
//! the browser's (see `AdoptBrowserZone`), so interactions are entered and shown at the
//! times the user means from the first visit. Zone rules live on the server (the
//! bundle carries no time-zone database): pages get times already read on the user's
//! clock.

use api::settings::TimeZoneView;
use leptos::prelude::*;

use crate::app_error::AppError;

#[server]
pub async fn load_time_zone() -> Result<TimeZoneView, AppError> {
    use domain::zone::UserZone;

    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let (zone, chosen) = ctx.scope().time_zone_setting().await?;
        Ok(TimeZoneView {
            name: zone.name().to_owned(),
            chosen,
            names: UserZone::names().map(str::to_owned).collect(),
        })
    })
    .await
}

/// The zone the user picked; the browser's no longer replaces it.
#[server]
pub async fn choose_time_zone(name: String) -> Result<(), AppError> {
    use domain::zone::UserZone;

    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let zone = UserZone::parse(&name)?;
        Ok(ctx.scope().choose_time_zone(zone).await?)
    })
    .await
}

/// The browser's zone, taken unless the user picked one; whether it changed.
#[server]
pub async fn adopt_browser_time_zone(name: String) -> Result<bool, AppError> {
    use domain::zone::UserZone;

    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let zone = UserZone::parse(&name)?;
        Ok(ctx.scope().adopt_browser_time_zone(zone).await?)
    })
    .await
}

/// The browser's IANA zone name (`Intl.DateTimeFormat().resolvedOptions().timeZone`).
#[cfg(feature = "hydrate")]
fn browser_zone() -> Option<String> {
    use wasm_bindgen::JsValue;
    let options = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
        .resolved_options();
    js_sys::Reflect::get(&options, &JsValue::from_str("timeZone"))
        .ok()?
        .as_string()
}

/// Tells the server the browser's zone once per page load when the user has not picked
/// one, and reloads nothing: times rendered before it arrived were already on the stored
/// zone, and the next read uses the new one.
#[component]
pub fn AdoptBrowserZone(zone: String, chosen: bool) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if chosen {
            return;
        }
        if let Some(browser) = browser_zone().filter(|b| *b != zone) {
            leptos::task::spawn_local(async move {
                // A zone this server does not know stays unadopted; nothing to tell the user.
                let _ = adopt_browser_time_zone(browser).await;
            });
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (zone, chosen);
}

#[component]
pub fn TimeZoneSetting() -> impl IntoView {
    let choose = ServerAction::<ChooseTimeZone>::new();
    let state = Resource::new(move || choose.version().get(), |_| load_time_zone());
    let outcome = move || {
        choose.value().get().map(|result| match result {
            Ok(()) => view! { <p class="notice" role="status">"Time zone saved."</p> }.into_any(),
            Err(e) => {
                view! { <p class="form-error" role="alert">{e.user_message()}</p> }.into_any()
            }
        })
    };
    view! {
        <section class="card" id="time-zone" aria-labelledby="time-zone-heading">
            <h2 id="time-zone-heading">"Time zone"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match state.await {
                        Ok(view) => {
                            let how = if view.chosen { "you picked it" } else { "from your browser" };
                            view! {
                                <p class="muted" data-testid="time-zone-state">
                                    "Interactions and the calendar use " <strong>{view.name.clone()}</strong> " (" {how} ")."
                                </p>
                                <ActionForm action=choose attr:class="inline-form">
                                    <label for="time-zone-name">"Time zone"</label>
                                    <input id="time-zone-name" name="name" list="time-zone-names" required value=view.name.clone() autocomplete="off"/>
                                    <datalist id="time-zone-names">
                                        {view.names.into_iter().map(|n| view! { <option value=n/> }).collect_view()}
                                    </datalist>
                                    <button class="button" type="submit">"Save"</button>
                                </ActionForm>
                            }.into_any()
                        }
                        Err(e) => view! { <p class="form-error" role="alert">{e.user_message()}</p> }.into_any(),
                    }
                })}
            </Transition>
            {outcome}
        </section>
    }
}
