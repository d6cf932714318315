//! `/reminders`: the contacts overdue or due this week (the most overdue first, then the
//! strongest), each with the last interaction, a one-click draft (the relationship
//! panel's template, opened in Gmail), Done and Snooze; the "keep in touch?" suggestions
//! (accept with the proposed frequency, or dismiss for good); and the tags' default
//! frequencies. The server functions here also serve the contact page's panel and the
//! contacts list's bulk action.

use api::ClosedSet;
use api::reminders::{
    Cadence, Frequency, KeepInTouch, ReminderRow, RemindersPage as PageData, SuggestionRow,
    TagDefault,
};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use uuid::Uuid;

use crate::app_error::AppError;
use crate::errors::LoadError;

/// How many rows the page lists at most.
#[cfg(feature = "ssr")]
const ROWS: usize = 50;
/// How many suggestions the page offers at once.
#[cfg(feature = "ssr")]
const SUGGESTIONS: usize = 10;

#[server]
pub async fn load_reminders() -> Result<PageData, AppError> {
    use crate::components::relationship_panel::gmail_compose_url;
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let scope = ctx.scope();
        let now = Utc::now();
        let (mut due, suggestions, tag_defaults, tags) = tokio::try_join!(
            scope.reminders().due(now, ROWS),
            scope.reminders().suggestions(now, SUGGESTIONS),
            scope.reminders().tag_defaults(),
            scope.contacts().tags(),
        )?;
        let sender = ctx
            .user
            .name
            .clone()
            .unwrap_or_else(|| ctx.user.email.clone());
        for row in &mut due {
            if let Some((draft, _)) = scope
                .ask()
                .relationship_panel(row.contact, &sender, None, now)
                .await?
            {
                row.draft_url = Some(gmail_compose_url(
                    draft.to.as_deref(),
                    &draft.subject,
                    &draft.body,
                ));
            }
        }
        Ok(PageData {
            due,
            suggestions,
            tag_defaults,
            tags,
        })
    })
    .await
}

/// One contact's keep-in-touch state, for the contact page.
#[server]
pub async fn load_keep_in_touch(contact_id: Uuid) -> Result<KeepInTouch, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx
            .scope()
            .reminders()
            .for_contact(contact_id, Utc::now())
            .await?)
    })
    .await
}

/// Sets a contact's frequency: `tag_default`, `none`, or a cadence (`days` with `days`).
#[server]
pub async fn set_keep_in_touch(
    contact_id: Uuid,
    frequency: String,
    #[server(default)] days: String,
) -> Result<(), AppError> {
    use api::reminders::ContactSetting;
    use domain::DomainError;

    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let setting = ContactSetting::parse(&frequency, &days).map_err(DomainError::from)?;
        ctx.scope().reminders().set(contact_id, setting).await?;
        Ok(())
    })
    .await
}

/// Sets the frequency of the checked contacts on the contacts list; returns how many.
#[server]
pub async fn bulk_keep_in_touch(
    #[server(default)] ids: Vec<Uuid>,
    frequency: String,
    #[server(default)] days: String,
) -> Result<u64, AppError> {
    use api::reminders::ContactSetting;
    use domain::DomainError;

    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        if ids.is_empty() {
            return Err(DomainError::invalid("ids", "check at least one contact").into());
        }
        let setting = ContactSetting::parse(&frequency, &days).map_err(DomainError::from)?;
        Ok(ctx.scope().reminders().set_many(&ids, setting).await?)
    })
    .await
}

/// Snoozes a reminder: `until` is `week`, `month` or a date (`YYYY-MM-DD`).
#[server]
pub async fn snooze_reminder(contact_id: Uuid, until: String) -> Result<(), AppError> {
    use api::reminders::Snooze;
    use domain::DomainError;

    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let now = Utc::now();
        let snooze = Snooze::parse(&until, now.date_naive()).map_err(DomainError::from)?;
        ctx.scope()
            .reminders()
            .snooze(contact_id, snooze, now)
            .await?;
        Ok(())
    })
    .await
}

/// Done: logs an interaction now (with the optional note), which moves the due date.
#[server]
pub async fn reminder_done(
    contact_id: Uuid,
    #[server(default)] note: String,
) -> Result<(), AppError> {
    use domain::DomainError;

    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let note = api::reminders::parse_note(&note).map_err(DomainError::from)?;
        ctx.scope()
            .reminders()
            .done(contact_id, note, Utc::now())
            .await?;
        Ok(())
    })
    .await
}

/// Never suggests this contact again.
#[server]
pub async fn dismiss_suggestion(contact_id: Uuid) -> Result<(), AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        ctx.scope().reminders().dismiss(contact_id).await?;
        Ok(())
    })
    .await
}

/// Sets a tag's default frequency; `none` removes it.
#[server]
pub async fn set_tag_default(
    tag: String,
    frequency: String,
    #[server(default)] days: String,
) -> Result<(), AppError> {
    use domain::DomainError;

    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let frequency = match frequency.trim() {
            "none" => None,
            other => Some(Frequency::parse(other, &days).map_err(DomainError::from)?),
        };
        ctx.scope()
            .reminders()
            .set_tag_default(&tag, frequency)
            .await?;
        Ok(())
    })
    .await
}

/// The `<option>`s of a frequency `<select>`: `extra` (value, label) first, then every
/// cadence; `selected` is the value chosen.
pub fn frequency_options(
    extra: &[(&'static str, &'static str)],
    selected: &str,
) -> impl IntoView + use<> {
    let selected = selected.to_owned();
    let fixed = Cadence::ALL
        .iter()
        .map(|c| (c.as_str(), c.label()))
        .collect::<Vec<_>>();
    extra
        .iter()
        .copied()
        .chain(fixed)
        .map(|(value, label)| {
            view! { <option value=value selected=value == selected>{label}</option> }
        })
        .collect_view()
}

/// The value a frequency `<select>` shows for `f`.
pub fn frequency_value(f: Frequency) -> &'static str {
    f.cadence().as_str()
}

/// "15 days overdue", "due today", "due in 3 days".
pub fn overdue_text(days: i64) -> String {
    match days {
        1 => "1 day overdue".to_owned(),
        d if d > 1 => format!("{d} days overdue"),
        0 => "due today".to_owned(),
        -1 => "due tomorrow".to_owned(),
        d => format!("due in {} days", -d),
    }
}

fn day(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

/// The actions the page's rows share.
#[derive(Clone, Copy)]
struct Actions {
    done: ServerAction<ReminderDone>,
    snooze: ServerAction<SnoozeReminder>,
    accept: ServerAction<SetKeepInTouch>,
    dismiss: ServerAction<DismissSuggestion>,
    tag_default: ServerAction<SetTagDefault>,
}

#[component]
pub fn RemindersPage() -> impl IntoView {
    let actions = Actions {
        done: ServerAction::new(),
        snooze: ServerAction::new(),
        accept: ServerAction::new(),
        dismiss: ServerAction::new(),
        tag_default: ServerAction::new(),
    };
    let data = Resource::new(
        move || {
            (
                actions.done.version().get(),
                actions.snooze.version().get(),
                actions.accept.version().get(),
                actions.dismiss.version().get(),
                actions.tag_default.version().get(),
            )
        },
        |_| load_reminders(),
    );
    let failed = move || {
        let errors = [
            actions.done.value().get().and_then(Result::err),
            actions.snooze.value().get().and_then(Result::err),
            actions.accept.value().get().and_then(Result::err),
            actions.dismiss.value().get().and_then(Result::err),
            actions.tag_default.value().get().and_then(Result::err),
        ];
        errors
            .into_iter()
            .flatten()
            .next()
            .map(|e| view! { <p class="form-error" role="alert">{e.user_message()}</p> })
    };
    view! {
        <Title text="Reminders"/>
        <section class="page reminders-page">
            <header class="page-header">
                <h1>"Reminders"</h1>
            </header>
            {failed}
            <Transition fallback=|| view! { <p class="muted">"Loading reminders…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(page) => view! { <Shown page actions/> }.into_any(),
                        Err(error) => view! { <LoadError error/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Shown(page: PageData, actions: Actions) -> impl IntoView {
    let due = if page.due.is_empty() {
        view! { <p class="muted" data-testid="no-reminders">"Nobody is due this week."</p> }
            .into_any()
    } else {
        view! {
            <ol class="reminders" data-testid="reminders">
                {page.due.into_iter().map(|row| view! { <DueRow row actions/> }).collect_view()}
            </ol>
        }
        .into_any()
    };
    let suggestions = (!page.suggestions.is_empty()).then(|| {
        view! {
            <section class="card" data-testid="suggestions">
                <h2>"Keep in touch?"</h2>
                <p class="muted">"Strong relationships that have gone quiet for longer than usual."</p>
                <ol class="reminders">
                    {page.suggestions.into_iter().map(|row| view! { <Suggestion row actions/> }).collect_view()}
                </ol>
            </section>
        }
    });
    view! {
        <section class="card">
            <h2>"Overdue and due this week"</h2>
            {due}
        </section>
        {suggestions}
        <TagDefaults defaults=page.tag_defaults tags=page.tags action=actions.tag_default/>
    }
}

#[component]
fn DueRow(row: ReminderRow, actions: Actions) -> impl IntoView {
    let id = row.contact;
    let last = match &row.last {
        Some(last) => format!(
            "Last: {} {} on {}{}",
            last.channel.label(),
            match last.direction {
                Some(api::Direction::Inbound) => "from them",
                Some(api::Direction::Outbound) => "from you",
                None => "",
            },
            day(last.at),
            last.subject
                .as_deref()
                .map(|s| format!(" — {s}"))
                .unwrap_or_default()
        ),
        None => "No interaction yet".to_owned(),
    };
    let overdue = row.days_overdue > 0;
    view! {
        <li class="reminder" class:overdue=overdue data-contact-id=id.to_string() data-testid="reminder">
            <div class="reminder-head">
                <a href=format!("/contacts/{}", row.contact)><strong>{row.name}</strong></a>
                " · "
                <span class="reminder-due">{overdue_text(row.days_overdue)}</span>
                " · "
                <span class="muted">{row.frequency.label()}</span>
                " · "
                <span class="muted">{format!("strength {}", row.strength)}</span>
            </div>
            <p class="muted reminder-last">{last}</p>
            <div class="reminder-actions">
                {row.draft_url.map(|href| view! {
                    <a class="button primary" href=href target="_blank" rel="noopener">"Draft"</a>
                })}
                <ActionForm action=actions.done attr:class="inline-form">
                    <input type="hidden" name="contact_id" value=id.to_string()/>
                    <label class="visually-hidden" for=format!("note-{id}")>"Note"</label>
                    <input id=format!("note-{id}") name="note" placeholder="Note (optional)" autocomplete="off"/>
                    <button class="button" type="submit">"Done"</button>
                </ActionForm>
                <ActionForm action=actions.snooze attr:class="inline-form">
                    <input type="hidden" name="contact_id" value=id.to_string()/>
                    <button class="button" type="submit" name="until" value="week">"Snooze a week"</button>
                    <button class="button" type="submit" name="until" value="month">"Snooze a month"</button>
                </ActionForm>
                <ActionForm action=actions.snooze attr:class="inline-form">
                    <input type="hidden" name="contact_id" value=id.to_string()/>
                    <label>
                        "Until "
                        <input type="date" name="until" required/>
                    </label>
                    <button class="button" type="submit">"Snooze"</button>
                </ActionForm>
            </div>
        </li>
    }
}

#[component]
fn Suggestion(row: SuggestionRow, actions: Actions) -> impl IntoView {
    let id = row.contact;
    let why = format!(
        "Usually every {:.0} days; quiet for {} days (last {}).",
        row.rhythm_days,
        row.quiet_days,
        day(row.last_interaction_at)
    );
    let days = row
        .proposed
        .every_days()
        .map(|d| d.to_string())
        .unwrap_or_default();
    view! {
        <li class="reminder" data-contact-id=id.to_string() data-testid="suggestion">
            <div class="reminder-head">
                <a href=format!("/contacts/{}", row.contact)><strong>{row.name}</strong></a>
                " · "
                <span class="muted">{format!("strength {}", row.strength)}</span>
            </div>
            <p class="muted">{why}</p>
            <div class="reminder-actions">
                <ActionForm action=actions.accept attr:class="inline-form">
                    <input type="hidden" name="contact_id" value=id.to_string()/>
                    <input type="hidden" name="frequency" value=frequency_value(row.proposed)/>
                    <input type="hidden" name="days" value=days/>
                    <button class="button primary" type="submit">{format!("Keep in touch: {}", row.proposed.label().to_lowercase())}</button>
                </ActionForm>
                <ActionForm action=actions.dismiss attr:class="inline-form">
                    <input type="hidden" name="contact_id" value=id.to_string()/>
                    <button class="button" type="submit">"Dismiss"</button>
                </ActionForm>
            </div>
        </li>
    }
}

#[component]
fn TagDefaults(
    defaults: Vec<TagDefault>,
    tags: Vec<String>,
    action: ServerAction<SetTagDefault>,
) -> impl IntoView {
    let listed = if defaults.is_empty() {
        view! { <p class="muted">"No tag has a default frequency."</p> }.into_any()
    } else {
        view! {
            <ul class="tag-defaults">
                {defaults.into_iter().map(|d| view! {
                    <li><strong>{d.tag}</strong>": "{d.frequency.label()}</li>
                }).collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <section class="card" data-testid="tag-defaults">
            <h2>"Defaults by tag"</h2>
            <p class="muted">"Contacts with the tag that have no frequency of their own follow it (the shortest when several tags have one)."</p>
            {listed}
            <ActionForm action attr:class="inline-form">
                <label>
                    "Tag"
                    <input name="tag" list="reminder-tags" required autocomplete="off"/>
                </label>
                <datalist id="reminder-tags">
                    {tags.into_iter().map(|t| view! { <option value=t/> }).collect_view()}
                </datalist>
                <label>
                    "Frequency"
                    <select name="frequency">{frequency_options(&[("none", "None (remove)")], "month")}</select>
                </label>
                <label>
                    "Days"
                    <input name="days" type="number" min="1" max="3650" inputmode="numeric"/>
                </label>
                <button class="button" type="submit">"Save default"</button>
            </ActionForm>
        </section>
    }
}

/// Who is due, without drafts or suggestions: the contacts page's card, which must stay
/// cheap.
#[server]
pub async fn load_due() -> Result<Vec<ReminderRow>, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        // Nobody is due for a user who never set a frequency (most): no read at all.
        if !ctx.user.header.keeps_in_touch {
            return Ok(Vec::new());
        }
        Ok(ctx.scope().reminders().due(Utc::now(), ROWS).await?)
    })
    .await
}

/// The contacts page's card: how many are overdue and due this week, the first few,
/// and a link to `/reminders`. Nothing when nobody is due.
#[component]
pub fn RemindersCard() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_due());
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let Ok(due) = data.await else { return ().into_any() };
                if due.is_empty() {
                    return ().into_any();
                }
                let overdue = due.iter().filter(|r| r.days_overdue > 0).count();
                let soon = due.len() - overdue;
                view! {
                    <aside class="card reminders-card" data-testid="reminders-card">
                        <h2><a href="/reminders">"Keep in touch"</a></h2>
                        <p>{format!("{overdue} overdue, {soon} due this week.")}</p>
                        <ul>
                            {due.into_iter().take(3).map(|r| view! {
                                <li><a href=format!("/contacts/{}", r.contact)>{r.name}</a>" · "{overdue_text(r.days_overdue)}</li>
                            }).collect_view()}
                        </ul>
                    </aside>
                }
                .into_any()
            })}
        </Suspense>
    }
}

/// The contacts list's bulk action: sets the frequency of the checked rows. It lives in
/// the list's tag form (where the checkboxes are) and sends that form's data to
/// [`bulk_keep_in_touch`] itself, so the form's own submit (tagging) never runs; without
/// JavaScript the button posts the same form to the same server function.
#[component]
pub fn BulkFrequency() -> impl IntoView {
    let action = ServerAction::<BulkKeepInTouch>::new();
    let on_click = move |ev: leptos::ev::MouseEvent| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            ev.prevent_default();
            let form = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlButtonElement>().ok())
                .and_then(|b| b.form());
            let Some(data) = form.and_then(|f| web_sys::FormData::new_with_form(&f).ok()) else {
                return;
            };
            match <BulkKeepInTouch as FromFormData>::from_form_data(&data) {
                Ok(input) => {
                    action.dispatch(input);
                }
                Err(e) => leptos::logging::error!("bulk keep-in-touch form: {e}"),
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let result = move || {
        action.value().get().map(|result| match result {
            Ok(n) => view! { <p class="form-ok" role="status">{format!("Set the frequency of {n} contacts.")}</p> }.into_any(),
            Err(e) => view! { <p class="form-error" role="alert">{e.user_message()}</p> }.into_any(),
        })
    };
    let url = <BulkKeepInTouch as leptos::server_fn::ServerFn>::url();
    view! {
        <label>
            "Keep in touch with the checked contacts"
            <select name="frequency">{frequency_options(&[("none", "None"), ("tag_default", "Tag default")], "month")}</select>
        </label>
        <label>
            "Days"
            <input name="days" type="number" min="1" max="3650" inputmode="numeric"/>
        </label>
        <button
            class="button"
            type="submit"
            formaction=url
            formnovalidate=true
            on:click=on_click
            disabled=move || action.pending().get()
        >
            "Set frequency"
        </button>
        {result}
    }
}
