//! Settings → Calendars: connect a CalDAV account (server URL, user name, app password ->
//! "Find calendars" -> pick -> "Sync selected"), and the synced calendars with how their
//! polls go. Wrong credentials or an address that is not CalDAV store nothing.

use api::calendars::{CalendarRow, FoundCalendar};
use leptos::prelude::*;
use uuid::Uuid;

use crate::app_error::AppError;

/// Runs discovery with what the user typed; stores nothing.
#[server]
pub async fn find_calendars(
    server_url: String,
    user: String,
    password: String,
) -> Result<Vec<FoundCalendar>, AppError> {
    use domain::DomainError;
    use domain::caldav::CalDavCredentials;

    use crate::ssr::{RequestContext, reported};
    reported(async move {
        RequestContext::current()?;
        let invalid =
            |e: domain::caldav::CalDavError| DomainError::invalid("calendar", e.to_string());
        let credentials = CalDavCredentials::new(&server_url, &user, &password).map_err(invalid)?;
        let found = domain::caldav::connect::find_calendars(&credentials)
            .await
            .map_err(invalid)?;
        Ok(found.into_iter().map(Into::into).collect())
    })
    .await
}

/// Checks the credentials again, stores the account (app password sealed) and the
/// picked calendars, and queues their first poll.
#[server]
pub async fn connect_calendars(
    server_url: String,
    user: String,
    password: String,
    #[server(default)] hrefs: Vec<String>,
) -> Result<String, AppError> {
    use domain::DomainError;
    use domain::caldav::{CalDavCredentials, HttpCalDav};

    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let credentials = CalDavCredentials::new(&server_url, &user, &password)
            .map_err(|e| DomainError::invalid("calendar", e.to_string()))?;
        let client = HttpCalDav::new(HttpCalDav::default_client(), credentials.clone());
        let scope = ctx.scope();
        let account = scope
            .accounts()
            .connect_caldav(&client, &credentials, &hrefs, &ctx.app.secrets)
            .await
            .map_err(DomainError::from)?;
        for calendar in scope.calendars().list().await? {
            if calendar.account_id == account {
                scope.calendars().request_poll(calendar.id).await?;
            }
        }
        Ok(format!("Syncing {} calendars.", hrefs.len()))
    })
    .await
}

#[server]
pub async fn load_calendars() -> Result<Vec<CalendarRow>, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let calendars = ctx.scope().calendars().list().await?;
        Ok(calendars.into_iter().map(Into::into).collect())
    })
    .await
}

/// Polls one of the user's calendars now.
#[server]
pub async fn poll_calendar_now(calendar_id: Uuid) -> Result<String, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        ctx.scope().calendars().request_poll(calendar_id).await?;
        Ok("Poll queued.".into())
    })
    .await
}

#[component]
pub fn ConnectCalendar(
    /// Demo mode's simulated calendar server, filled in.
    demo: Option<api::settings::DemoLogins>,
) -> impl IntoView {
    let demo_note = demo.is_some().then(|| {
        view! { <p class="demo-note">"Demo mode: the simulated calendar server is filled in."</p> }
    });
    let server_url = RwSignal::new(
        demo.as_ref()
            .map(|d| d.caldav_url.clone())
            .unwrap_or_default(),
    );
    let user = RwSignal::new(
        demo.as_ref()
            .map(|d| d.caldav_user.clone())
            .unwrap_or_default(),
    );
    let password = RwSignal::new(
        demo.as_ref()
            .map(|d| d.caldav_password.clone())
            .unwrap_or_default(),
    );
    let picked = RwSignal::new(Vec::<String>::new());
    let find = ServerAction::<FindCalendars>::new();
    let connect = ServerAction::<ConnectCalendars>::new();
    let poll = ServerAction::<PollCalendarNow>::new();
    let calendars = Resource::new(
        move || (connect.version().get(), poll.version().get()),
        |_| load_calendars(),
    );
    let on_find = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        picked.set(Vec::new());
        find.dispatch(FindCalendars {
            server_url: server_url.get_untracked(),
            user: user.get_untracked(),
            password: password.get_untracked(),
        });
    };
    let on_connect = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        connect.dispatch(ConnectCalendars {
            server_url: server_url.get_untracked(),
            user: user.get_untracked(),
            password: password.get_untracked(),
            hrefs: picked.get_untracked(),
        });
    };
    let found = move || {
        find.value().get().map(|result| match result {
            Err(e) => view! { <p class="form-error" role="alert">{e.user_message()}</p> }.into_any(),
            Ok(list) if list.is_empty() => {
                view! { <p class="muted">"No calendars with events were found for this user."</p> }.into_any()
            }
            Ok(list) => view! {
                <form class="calendar-pick" on:submit=on_connect>
                    <fieldset>
                        <legend>"Calendars to sync"</legend>
                        {list.into_iter().map(|c| {
                            let href = c.href.clone();
                            let toggle = move |ev: leptos::ev::Event| {
                                let on = event_target_checked(&ev);
                                let href = href.clone();
                                picked.update(|p| {
                                    p.retain(|h| *h != href);
                                    if on {
                                        p.push(href);
                                    }
                                });
                            };
                            view! {
                                <label class="check">
                                    <input type="checkbox" name="hrefs" value=c.href.clone() on:change=toggle/>
                                    {c.name}
                                </label>
                            }
                        }).collect_view()}
                    </fieldset>
                    <button type="submit" disabled=move || picked.with(Vec::is_empty) || connect.pending().get()>
                        "Sync selected"
                    </button>
                </form>
            }
            .into_any(),
        })
    };
    let connected = move || {
        connect.value().get().map(|result| match result {
            Ok(message) => view! { <p class="notice" role="status">{message}</p> }.into_any(),
            Err(e) => {
                view! { <p class="form-error" role="alert">{e.user_message()}</p> }.into_any()
            }
        })
    };
    view! {
        <section class="card" id="calendars" aria-labelledby="calendars-heading">
            <h2 id="calendars-heading">"Calendars"</h2>
            <p class="muted">
                "Connect any CalDAV calendar (Fastmail, iCloud, Nextcloud, Radicale) with an app password. "
                "Meetings from 3 months back to 12 months ahead appear on your contacts' timelines."
            </p>
            {demo_note}
            <form class="inline-form" on:submit=on_find>
                <label>"Server URL"
                    <input type="url" name="server_url" required placeholder="https://caldav.fastmail.com/"
                        prop:value=server_url on:input=move |ev| server_url.set(event_target_value(&ev))/>
                </label>
                <label>"User name"
                    <input name="user" required autocomplete="username"
                        prop:value=user on:input=move |ev| user.set(event_target_value(&ev))/>
                </label>
                <label>"App password"
                    <input type="password" name="password" required autocomplete="current-password"
                        prop:value=password on:input=move |ev| password.set(event_target_value(&ev))/>
                </label>
                <button type="submit" disabled=move || find.pending().get()>"Find calendars"</button>
            </form>
            {found}
            {connected}
            <Transition fallback=|| view! { <p class="muted">"Loading calendars…"</p> }>
                {move || Suspend::new(async move {
                    match calendars.await {
                        Err(e) => view! { <p class="form-error">{e.user_message()}</p> }.into_any(),
                        Ok(rows) if rows.is_empty() => view! { <p class="muted">"No calendars are synced."</p> }.into_any(),
                        Ok(rows) => view! { <CalendarList rows poll/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn CalendarList(rows: Vec<CalendarRow>, poll: ServerAction<PollCalendarNow>) -> impl IntoView {
    view! {
        <ul class="calendar-list">
            {rows.into_iter().map(|c| {
                let id = c.id;
                let status = match (&c.last_error, c.polled_at) {
                    (Some(error), _) => format!("Last poll failed: {error}"),
                    (None, Some(at)) => format!("{} events · polled {}", c.events, at.format("%e %b %Y, %H:%M UTC")),
                    (None, None) => "Waiting for the first poll".to_owned(),
                };
                view! {
                    <li data-calendar-id=id.to_string()>
                        // A presentation attribute, not a style attribute: the CSP refuses inline styles.
                        <svg class="calendar-swatch" viewBox="0 0 1 1" aria-hidden="true">
                            <rect width="1" height="1" fill=c.color.filter(|c| is_hex_color(c)).unwrap_or_else(|| "currentColor".to_owned())/>
                        </svg>
                        <strong>{c.name}</strong>
                        " "
                        <span class="muted">{status}</span>
                        " "
                        <button type="button" class="link" on:click=move |_| { poll.dispatch(PollCalendarNow { calendar_id: id }); }>
                            "Poll now"
                        </button>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// Only `#rgb`/`#rrggbb`/`#rrggbbaa` from the server reach a style attribute.
fn is_hex_color(color: &str) -> bool {
    color.strip_prefix('#').is_some_and(|hex| {
        matches!(hex.len(), 3 | 6 | 8) && hex.chars().all(|c| c.is_ascii_hexdigit())
    })
}
