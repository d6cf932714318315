//! The contact page's Notes: the permanent outcomes kept on a contact, newest first.
//! The user writes, edits and deletes their own notes; agents write through the Notes
//! API and their notes carry the agent's name (the user may delete them, not edit them:
//! see `domain::notes`). The forms are plain `<form>` posts, so they work before (or
//! without) the wasm bundle; the list re-reads on every `notes.changed` event, so a note
//! written in another tab or by an agent appears by itself.

use api::AuthorKind;
use api::notes::NoteRow;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use uuid::Uuid;

use crate::app_error::AppError;
use crate::live::{EventKind, listen_live};

#[server]
pub async fn load_notes(contact_id: Uuid) -> Result<Vec<NoteRow>, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let notes = ctx.scope().notes().for_contact(contact_id).await?;
        Ok(notes.into_iter().map(Into::into).collect())
    })
    .await
}

#[server]
pub async fn create_note(contact_id: Uuid, body: String) -> Result<(), AppError> {
    use domain::notes::{Author, NewNote, NoteBody};

    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let author = Author::user(ctx.user.name.as_deref().unwrap_or_default());
        let new = NewNote {
            contact: contact_id,
            body: NoteBody::parse(&body)?,
            author,
            source_activity: None,
        };
        ctx.scope().notes().create(&new).await?;
        Ok(())
    })
    .await
}

#[server]
pub async fn edit_note(note_id: Uuid, body: String) -> Result<(), AppError> {
    use domain::notes::NoteBody;

    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let body = NoteBody::parse(&body)?;
        ctx.scope().notes().edit(note_id, &body).await?;
        Ok(())
    })
    .await
}

#[server]
pub async fn delete_note(note_id: Uuid) -> Result<(), AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx.scope().notes().delete(note_id).await?)
    })
    .await
}

/// The list's actions and its edit state. The state lives in the panel, not in each
/// note, because the list is rebuilt whenever the notes are re-read (any
/// `notes.changed` event): a note being edited stays open, with the text typed so far.
#[derive(Clone, Copy)]
struct NoteActions {
    edit: ServerAction<EditNote>,
    delete: ServerAction<DeleteNote>,
    editing: RwSignal<Option<Uuid>>,
    draft: RwSignal<String>,
}

/// The panel's actions and notes. The contact page creates them above its Suspense,
/// for the reason given on `ActivityFeed`.
#[derive(Clone, Copy)]
pub struct NotesData {
    create: ServerAction<CreateNote>,
    actions: NoteActions,
    notes: Resource<Result<Vec<NoteRow>, AppError>>,
}

impl NotesData {
    pub fn new(contact: Memo<Option<Uuid>>) -> Self {
        let create = ServerAction::<CreateNote>::new();
        let actions = NoteActions {
            edit: ServerAction::<EditNote>::new(),
            delete: ServerAction::<DeleteNote>::new(),
            editing: RwSignal::new(None),
            draft: RwSignal::new(String::new()),
        };
        // Bumped by every `notes.changed` event (and when the stream opens).
        let changes = RwSignal::new(0_u64);
        listen_live(&[EventKind::NotesChanged], move |_| {
            changes.update(|n| *n += 1)
        });
        let notes = Resource::new(
            move || {
                (
                    contact.get(),
                    changes.get(),
                    create.version().get(),
                    actions.edit.version().get(),
                    actions.delete.version().get(),
                )
            },
            |(contact, ..)| async move {
                match contact {
                    Some(contact) => load_notes(contact).await,
                    None => Err(AppError::not_found("contact")),
                }
            },
        );
        Self {
            create,
            actions,
            notes,
        }
    }
}

#[component]
pub fn NotesPanel(contact: Uuid, data: NotesData) -> impl IntoView {
    let NotesData {
        create,
        actions,
        notes,
    } = data;
    Effect::new(move |_| {
        if matches!(actions.edit.value().get(), Some(Ok(()))) {
            actions.editing.set(None);
        }
    });
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(())))
            && let Some(form) = form.get()
        {
            form.reset();
        }
    });
    let failed = move || {
        [
            create.value().get(),
            actions.edit.value().get(),
            actions.delete.value().get(),
        ]
        .into_iter()
        .flatten()
        .find_map(Result::err)
        .map(|e| view! { <p class="form-error" role="alert">{e.user_message()}</p> })
    };
    view! {
        <section class="card notes-panel" aria-labelledby="notes-heading">
            <h2 id="notes-heading">"Notes"</h2>
            <ActionForm action=create node_ref=form attr:class="note-form">
                <input type="hidden" name="contact_id" value=contact.to_string()/>
                <label class="visually-hidden" for="new-note">"New note"</label>
                <textarea id="new-note" name="body" rows="3" required maxlength="20000" placeholder="What came out of it?"></textarea>
                <button class="button primary" type="submit">"Add note"</button>
            </ActionForm>
            {failed}
            <Transition fallback=|| view! { <p class="muted">"Loading notes…"</p> }>
                {move || Suspend::new(async move {
                    match notes.await {
                        Ok(notes) if notes.is_empty() => view! { <p class="muted notes-empty">"No notes yet."</p> }.into_any(),
                        Ok(notes) => view! {
                            <ol class="notes">
                                {notes.into_iter().map(|note| view! { <NoteItem note actions/> }).collect_view()}
                            </ol>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.user_message()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%e %b %Y, %H:%M").to_string()
}

#[component]
fn NoteItem(note: NoteRow, actions: NoteActions) -> impl IntoView {
    let NoteActions { editing, draft, .. } = actions;
    let note_id = note.id;
    let id = note.id.to_string();
    let author = if note.author_kind == AuthorKind::Agent {
        view! { <span class="badge agent-badge" title="Written by an agent through the API">"Agent · " {note.author_name.clone()}</span> }.into_any()
    } else {
        view! { <span class="note-author">{note.author_name.clone()}</span> }.into_any()
    };
    let source = note.source.clone().map(|s| {
        view! {
            <p class="note-source muted">
                "From " <a href=format!("#activity-{}", s.id)>{s.channel.as_str()} ": " {s.label}</a>
                " · " {when(s.occurred_at)}
            </p>
        }
    });
    let body = note.body.clone();
    let shown = move || {
        if editing.get() == Some(note_id) {
            view! {
                <ActionForm action=actions.edit attr:class="note-edit-form">
                    <input type="hidden" name="note_id" value=note_id.to_string()/>
                    <textarea
                        name="body"
                        rows="4"
                        required
                        maxlength="20000"
                        aria-label="Note text"
                        prop:value=move || draft.get()
                        on:input=move |ev| draft.set(event_target_value(&ev))
                    ></textarea>
                    <button class="button primary" type="submit">"Save"</button>
                    <button class="button" type="button" on:click=move |_| editing.set(None)>"Cancel"</button>
                </ActionForm>
            }
            .into_any()
        } else {
            view! { <p class="note-body">{body.clone()}</p> }.into_any()
        }
    };
    let edit_button = note.editable.then(|| {
        let body = note.body.clone();
        let start = move |_| {
            draft.set(body.clone());
            editing.set(Some(note_id));
        };
        view! { <button class="button" type="button" on:click=start>"Edit"</button> }
    });
    view! {
        <li class=format!("note note-{}", note.author_kind.as_str()) data-note-id=note.id.to_string()>
            <header class="note-head">
                {author}
                <time class="muted" datetime=note.created_at.to_rfc3339()>{when(note.created_at)}</time>
                {note.edited.then(|| view! { <span class="muted">" (edited)"</span> })}
            </header>
            {shown}
            {source}
            <div class="note-actions">
                {edit_button}
                <ActionForm action=actions.delete attr:class="inline-form">
                    <input type="hidden" name="note_id" value=id/>
                    <button class="button" type="submit" on:click=confirm_delete>"Delete"</button>
                </ActionForm>
            </div>
        </li>
    }
}

/// Asks before a delete; cancelling the dialog cancels the form's submission.
fn confirm_delete(ev: leptos::ev::MouseEvent) {
    let confirmed = window()
        .confirm_with_message("Delete this note? This cannot be undone.")
        .unwrap_or(false);
    if !confirmed {
        ev.prevent_default();
    }
}
