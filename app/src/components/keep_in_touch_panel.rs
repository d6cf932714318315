//! The contact page's Keep in touch panel: the frequency (the contact's own, a tag's
//! default, or none), when the next interaction is due, and Done / Snooze.

use api::reminders::{ContactSetting, KeepInTouch};
use chrono::Utc;
use leptos::prelude::*;
use uuid::Uuid;

use crate::app_error::AppError;

use crate::pages::reminders::{
    ReminderDone, SetKeepInTouch, SnoozeReminder, frequency_options, frequency_value,
    load_keep_in_touch, overdue_text,
};

/// The panel's data and actions, created by the contact page above its Suspense (see
/// `ActivityFeed`): it loads alongside the contact.
#[derive(Clone, Copy)]
pub struct KeepInTouchData {
    state: Resource<Result<Option<KeepInTouch>, AppError>>,
    set: ServerAction<SetKeepInTouch>,
    done: ServerAction<ReminderDone>,
    snooze: ServerAction<SnoozeReminder>,
}

impl KeepInTouchData {
    pub fn new(contact: Memo<Option<Uuid>>) -> Self {
        let set = ServerAction::<SetKeepInTouch>::new();
        let done = ServerAction::<ReminderDone>::new();
        let snooze = ServerAction::<SnoozeReminder>::new();
        let state = Resource::new(
            move || {
                (
                    contact.get(),
                    set.version().get(),
                    done.version().get(),
                    snooze.version().get(),
                )
            },
            |(contact, _, _, _)| async move {
                match contact {
                    Some(contact) => load_keep_in_touch(contact).await.map(Some),
                    None => Ok(None),
                }
            },
        );
        Self {
            state,
            set,
            done,
            snooze,
        }
    }
}

#[component]
pub fn KeepInTouchPanel(data: KeepInTouchData) -> impl IntoView {
    let KeepInTouchData {
        state,
        set,
        done,
        snooze,
    } = data;
    let failed = move || {
        [
            set.value().get().and_then(Result::err),
            done.value().get().and_then(Result::err),
            snooze.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .next()
        .map(|e| view! { <p class="form-error" role="alert">{e.user_message()}</p> })
    };
    view! {
        <section class="card keep-in-touch" data-testid="keep-in-touch">
            <h2>"Keep in touch"</h2>
            {failed}
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match state.await {
                        Ok(Some(state)) => view! { <Shown state set done snooze/> }.into_any(),
                        Ok(None) => ().into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.user_message()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Shown(
    state: KeepInTouch,
    set: ServerAction<SetKeepInTouch>,
    done: ServerAction<ReminderDone>,
    snooze: ServerAction<SnoozeReminder>,
) -> impl IntoView {
    let id = state.contact;
    let (selected, days) = match state.setting {
        ContactSetting::TagDefault => ("tag_default", String::new()),
        ContactSetting::Off => ("none", String::new()),
        ContactSetting::Set(f) => (
            frequency_value(f),
            f.every_days().map(|d| d.to_string()).unwrap_or_default(),
        ),
    };
    let status = match (state.frequency, state.due_at) {
        (Some(f), Some(due)) => {
            let from = state
                .from_tag
                .as_deref()
                .map(|t| format!(" (default of tag {t})"))
                .unwrap_or_default();
            let overdue = (Utc::now() - due).num_days();
            format!(
                "{}{from}: {} ({}).",
                f.label(),
                overdue_text(overdue),
                due.format("%Y-%m-%d")
            )
        }
        _ => "No reminders for this contact.".to_owned(),
    };
    let snoozed = state
        .snoozed_until
        .map(|s| format!("Snoozed until {}.", s.format("%Y-%m-%d")));
    let reminding = state.frequency.is_some();
    view! {
        <p data-testid="keep-in-touch-status">{status}</p>
        {snoozed.map(|s| view! { <p class="muted">{s}</p> })}
        <ActionForm action=set attr:class="inline-form">
            <input type="hidden" name="contact_id" value=id.to_string()/>
            <label>
                "Frequency"
                <select name="frequency">
                    {frequency_options(&[("tag_default", "Tag default"), ("none", "None")], selected)}
                </select>
            </label>
            <label>
                "Days"
                <input name="days" type="number" min="1" max="3650" inputmode="numeric" value=days/>
            </label>
            <button class="button" type="submit">"Save frequency"</button>
        </ActionForm>
        <Show when=move || reminding>
            <div class="reminder-actions">
                <ActionForm action=done attr:class="inline-form">
                    <input type="hidden" name="contact_id" value=id.to_string()/>
                    <label>
                        "Note"
                        <input name="note" placeholder="optional" autocomplete="off"/>
                    </label>
                    <button class="button" type="submit">"Done"</button>
                </ActionForm>
                <ActionForm action=snooze attr:class="inline-form">
                    <input type="hidden" name="contact_id" value=id.to_string()/>
                    <button class="button" type="submit" name="until" value="week">"Snooze a week"</button>
                    <button class="button" type="submit" name="until" value="month">"Snooze a month"</button>
                </ActionForm>
            </div>
        </Show>
    }
}
