//! The contact page's relationship panel: a summary of the relationship (with links to
//! the contact and the last message), next actions from the stats, and a draft email
//! to review, copy or open in Gmail. Rapport never sends it.

use api::contacts::{ModelWritten, RelationshipView};
use leptos::prelude::*;
use uuid::Uuid;

use super::ask_text::AnswerText;
use crate::app_error::AppError;
use crate::layout::urlencode;

/// The panel's content, from the templates; `None` for a contact merged into another
/// (the panel is then the other contact's to show).
#[server]
pub async fn load_relationship(contact: Uuid) -> Result<Option<RelationshipView>, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(template_view(&ctx, contact).await?.map(|(view, _)| view))
    })
    .await
}

/// The summary and the draft written by the configured model. Asked for with a button,
/// not on every page view: the page stays fast, and a call costs the user money. A
/// contact that is not the user's (or is merged away) is a 404, like the contact page.
#[server]
pub async fn write_relationship(contact: Uuid) -> Result<ModelWritten, AppError> {
    use domain::ask::relationship_model;

    use crate::app_error::ErrorKind;
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let Some(model) = ctx.app.model.clone() else {
            return Err(AppError::new(
                ErrorKind::Unavailable,
                "No language model is configured (set OPENAI_API_KEY).",
            ));
        };
        let Some((_, facts)) = template_view(&ctx, contact).await? else {
            return Err(AppError::not_found("contact"));
        };
        ctx.model_call()?;
        // A model failure is a 503 with the model's polite words, logged once.
        let written = relationship_model::write(&model, &facts).await?;
        Ok(written.into())
    })
    .await
}

/// The template panel for `contact`, and the facts a model would be given; `None` when
/// the user has no such contact (or it was merged into another).
#[cfg(feature = "ssr")]
async fn template_view(
    ctx: &crate::ssr::RequestContext,
    contact: Uuid,
) -> Result<Option<(RelationshipView, String)>, AppError> {
    let sender = ctx
        .user
        .name
        .clone()
        .unwrap_or_else(|| ctx.user.email.clone());
    Ok(ctx
        .scope()
        .ask()
        .relationship_panel(
            contact,
            &sender,
            ctx.app.model.as_ref().map(|m| m.model.clone()),
            chrono::Utc::now(),
        )
        .await?)
}

/// Gmail's compose window filled with a draft (the same link as the domain's
/// `Draft::gmail_compose_url`, rebuilt here so edits to the draft carry over).
pub fn gmail_compose_url(to: Option<&str>, subject: &str, body: &str) -> String {
    format!(
        "https://mail.google.com/mail/?view=cm&fs=1&to={}&su={}&body={}",
        urlencode(to.unwrap_or_default()),
        urlencode(subject),
        urlencode(body)
    )
}

/// The panel's data, created by the contact page above its Suspense (see
/// `ActivityFeed`): it loads alongside the contact, once per render.
pub type RelationshipData = Resource<Result<Option<RelationshipView>, AppError>>;

pub fn relationship_data(contact: Memo<Option<Uuid>>) -> RelationshipData {
    Resource::new(
        move || contact.get(),
        |contact| async move {
            match contact {
                Some(contact) => load_relationship(contact).await,
                None => Ok(None),
            }
        },
    )
}

#[component]
pub fn RelationshipPanel(data: RelationshipData) -> impl IntoView {
    view! {
        <Suspense fallback=|| view! { <section class="card relationship-panel"><p class="muted">"Summarizing…"</p></section> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Some(view)) => view! { <Relationship view/> }.into_any(),
                    Ok(None) => ().into_any(),
                    Err(error) => view! {
                        <section class="card relationship-panel">
                            <p class="form-error" role="alert">{error.user_message()}</p>
                        </section>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Relationship(view: RelationshipView) -> impl IntoView {
    let subject = RwSignal::new(view.subject);
    let body = RwSignal::new(view.body);
    let summary = RwSignal::new(view.summary);
    let written_by = RwSignal::new("Written from your stats by templates".to_owned());
    let copied = RwSignal::new(false);
    let to = view.to;
    let contact = view.contact;
    let rewrite = ServerAction::<WriteRelationship>::new();
    Effect::new(move |_| {
        if let Some(Ok(written)) = rewrite.value().get() {
            summary.set(written.summary);
            body.set(written.body);
            written_by.set(written.written_by);
            copied.set(false);
        }
    });
    let rewrite_button = view.model.map(|model| {
        let label = format!("Rewrite with {model}");
        view! {
            <button
                class="button secondary rewrite"
                type="button"
                data-testid="rewrite-with-model"
                disabled=move || rewrite.pending().get()
                on:click=move |_| {
                    rewrite.dispatch(WriteRelationship { contact });
                }
            >
                {move || if rewrite.pending().get() { "Writing…".to_owned() } else { label.clone() }}
            </button>
        }
    });
    let rewrite_error = move || {
        rewrite
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| view! { <p class="form-error" role="alert">{e.user_message()}</p> })
    };
    let gmail = move || gmail_compose_url(to.as_deref(), &subject.get(), &body.get());
    view! {
        <section class="card relationship-panel" aria-labelledby="relationship-heading">
            <h2 id="relationship-heading">"Relationship"</h2>
            <div class="relationship-summary">
                <AnswerText text=summary/>
            </div>
            <p class="muted written-by" data-testid="relationship-written-by">{written_by}</p>
            {rewrite_button}
            {rewrite_error}
            <h3>"Next actions"</h3>
            <ul class="next-actions">
                {view.actions.into_iter().map(|a| view! { <li>{a}</li> }).collect_view()}
            </ul>
            <h3>"Draft"</h3>
            <div class="draft">
                <label>
                    "Subject"
                    <input
                        class="draft-subject"
                        prop:value=subject
                        value=subject.get_untracked()
                        on:input=move |ev| subject.set(event_target_value(&ev))
                    />
                </label>
                <label>
                    "Message"
                    <textarea
                        class="draft-body"
                        rows="8"
                        prop:value=body
                        on:input=move |ev| {
                            copied.set(false);
                            body.set(event_target_value(&ev));
                        }
                    >
                        {body.get_untracked()}
                    </textarea>
                </label>
                <div class="draft-actions">
                    <button
                        class="button"
                        type="button"
                        on:click=move |_| {
                            copy_to_clipboard(&format!("Subject: {}\n\n{}", subject.get_untracked(), body.get_untracked()));
                            copied.set(true);
                        }
                    >
                        "Copy"
                    </button>
                    <a class="button primary gmail-compose" href=gmail target="_blank" rel="noopener">"Open in Gmail"</a>
                    {move || copied.get().then(|| view! { <span class="muted small" role="status">"Copied."</span> })}
                </div>
                <p class="muted small">"Rapport never sends email: review the draft, then copy it or finish it in Gmail."</p>
            </div>
        </section>
    }
}

/// Puts `text` on the clipboard (browser only).
fn copy_to_clipboard(text: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = window().navigator().clipboard().write_text(text);
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = text;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gmail_link_carries_the_draft() {
        assert_eq!(
            gmail_compose_url(Some("dana@acme.com"), "Re: Q3 & more", "Hi Dana,\n\nBest"),
            "https://mail.google.com/mail/?view=cm&fs=1&to=dana%40acme.com&su=Re%3A%20Q3%20%26%20more&body=Hi%20Dana%2C%0A%0ABest"
        );
        assert_eq!(
            gmail_compose_url(None, "Hello", ""),
            "https://mail.google.com/mail/?view=cm&fs=1&to=&su=Hello&body="
        );
    }
}
