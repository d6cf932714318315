//! Settings → Calendar subscription: the secret ICS URL of the user's calendar (logged
//! interactions), for Google, Apple or Outlook calendars to subscribe to. Only its
//! digest is stored, so the URL is shown once, when it is made; rotating makes a new one
//! (the old stops working) and revoking turns the feed off.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::app_error::AppError;

/// When the current feed URL was made, if there is one.
#[server]
pub async fn calendar_feed_state() -> Result<Option<DateTime<Utc>>, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx.scope().calendar().feed_created_at().await?)
    })
    .await
}

/// Makes a new feed URL (replacing any other); returns its path, shown once.
#[server]
pub async fn rotate_calendar_feed() -> Result<String, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx.scope().calendar().rotate_feed().await?.path())
    })
    .await
}

#[server]
pub async fn revoke_calendar_feed() -> Result<(), AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx.scope().calendar().revoke_feed().await?)
    })
    .await
}

/// The absolute URL of a feed path, on this site.
fn absolute(path: &str) -> String {
    let origin = window().location().origin().unwrap_or_default();
    format!("{origin}{path}")
}

#[component]
pub fn CalendarFeed() -> impl IntoView {
    let rotate = ServerAction::<RotateCalendarFeed>::new();
    let revoke = ServerAction::<RevokeCalendarFeed>::new();
    let state = Resource::new(
        move || (rotate.version().get(), revoke.version().get()),
        |_| calendar_feed_state(),
    );
    let issued = move || {
        rotate.value().get().map(|result| match result {
            Ok(path) => {
                let url = absolute(&path);
                view! {
                    <div class="notice" role="status">
                        <p>"Your subscription URL (shown once; copy it now):"</p>
                        <input class="feed-url" data-testid="calendar-feed-url" readonly value=url.clone() aria-label="Subscription URL"/>
                        <p class="muted">"In Google Calendar: Other calendars → From URL. In Apple Calendar: File → New Calendar Subscription. In Outlook: Add calendar → Subscribe from web."</p>
                    </div>
                }
                .into_any()
            }
            Err(e) => view! { <p class="form-error" role="alert">{e.user_message()}</p> }.into_any(),
        })
    };
    let revoked = move || {
        revoke.value().get().map(|result| match result {
            Ok(()) => {
                view! { <p class="notice" role="status">"The subscription URL is revoked."</p> }
                    .into_any()
            }
            Err(e) => {
                view! { <p class="form-error" role="alert">{e.user_message()}</p> }.into_any()
            }
        })
    };
    view! {
        <section class="card" id="calendar-feed" aria-labelledby="calendar-feed-heading">
            <h2 id="calendar-feed-heading">"Calendar subscription"</h2>
            <p class="muted">
                "Your logged interactions as a calendar other apps can subscribe to. Anyone with the URL can read it: keep it secret, and rotate it if it leaks."
            </p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match state.await {
                        Ok(Some(since)) => view! {
                            <p data-testid="calendar-feed-state">"A subscription URL is active (made " {since.format("%e %b %Y, %H:%M UTC").to_string()} ")."</p>
                            <div class="note-actions">
                                <ActionForm action=rotate attr:class="inline-form">
                                    <button class="button" type="submit">"Rotate URL"</button>
                                </ActionForm>
                                <ActionForm action=revoke attr:class="inline-form">
                                    <button class="button" type="submit">"Revoke URL"</button>
                                </ActionForm>
                            </div>
                        }.into_any(),
                        Ok(None) => view! {
                            <p data-testid="calendar-feed-state">"No subscription URL."</p>
                            <ActionForm action=rotate attr:class="inline-form">
                                <button class="button primary" type="submit">"Create subscription URL"</button>
                            </ActionForm>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.user_message()}</p> }.into_any(),
                    }
                })}
            </Transition>
            {issued}
            {revoked}
        </section>
    }
}
