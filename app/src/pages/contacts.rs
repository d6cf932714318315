use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::errors::{ErrorPanel, user_message};

/// How many contacts the list shows at once.
pub const PAGE_SIZE: i64 = 50;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactRow {
    pub id: Uuid,
    pub name: Option<String>,
    pub email: Option<String>,
    pub company: Option<String>,
    pub title: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactList {
    pub contacts: Vec<ContactRow>,
    pub total: i64,
}

#[server]
pub async fn list_contacts() -> Result<ContactList, ServerFnError> {
    use crate::ssr::{request_context, to_server_error};
    let ctx = request_context()?;
    let page = ctx
        .scope()
        .list_contacts(PAGE_SIZE)
        .await
        .map_err(to_server_error)?;
    Ok(ContactList {
        total: page.total,
        contacts: page
            .contacts
            .into_iter()
            .map(|c| ContactRow {
                id: c.id,
                name: c.display_name,
                email: c.primary_email,
                company: c.company,
                title: c.title,
            })
            .collect(),
    })
}

#[server]
pub async fn create_contact(name: String, email: String) -> Result<Uuid, ServerFnError> {
    use crate::ssr::{request_context, to_server_error};
    let ctx = request_context()?;
    let new = domain::contacts::NewContact::parse(&name, &email).map_err(to_server_error)?;
    ctx.scope()
        .create_contact(&new)
        .await
        .map_err(to_server_error)
}

#[component]
pub fn ContactsPage() -> impl IntoView {
    let create = ServerAction::<CreateContact>::new();
    let contacts = Resource::new(move || create.version().get(), |_| list_contacts());
    let (adding, set_adding) = signal(false);

    // Close the form after a contact was saved.
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            set_adding.set(false);
        }
    });
    let create_error = move || {
        create.value().get().and_then(Result::err).map(|e| {
            view! { <p class="form-error" role="alert">{user_message(&e)}</p> }
        })
    };

    view! {
        <Title text="Contacts"/>
        <section class="page">
            <header class="page-header">
                <h1>"Contacts"</h1>
                <button
                    class="button primary"
                    aria-expanded=move || adding.get().to_string()
                    aria-controls="new-contact"
                    on:click=move |_| set_adding.update(|open| *open = !*open)
                >
                    "Add contact"
                </button>
            </header>
            <Show when=move || adding.get()>
                <ActionForm action=create attr:id="new-contact" attr:class="card new-contact">
                    <label>
                        "Name"
                        <input name="name" autocomplete="off" placeholder="Ada Lovelace" autofocus/>
                    </label>
                    <label>
                        "Email"
                        <input name="email" type="email" autocomplete="off" placeholder="ada@example.com"/>
                    </label>
                    <button class="button primary" type="submit" disabled=move || create.pending().get()>
                        "Save contact"
                    </button>
                </ActionForm>
                {create_error}
            </Show>
            <Transition fallback=|| view! { <p class="muted">"Loading contacts…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || Suspend::new(async move {
                        contacts.await.map(|list| view! { <ContactTable list/> })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

#[component]
fn ContactTable(list: ContactList) -> impl IntoView {
    if list.contacts.is_empty() {
        return view! {
            <div class="empty-state">
                <h2>"No contacts yet"</h2>
                <p>
                    "Rapport builds your contacts from the people you email. Connect a mailbox in "
                    <a href="/settings">"Settings"</a>
                    ", or add someone by hand with "
                    <strong>"Add contact"</strong>
                    "."
                </p>
            </div>
        }
        .into_any();
    }
    let shown = list.contacts.len();
    view! {
        <p class="muted count">
            {if (shown as i64) < list.total {
                format!("Showing the {shown} newest of {} contacts", list.total)
            } else if list.total == 1 {
                "1 contact".to_owned()
            } else {
                format!("{} contacts", list.total)
            }}
        </p>
        <table class="contacts">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Email"</th>
                    <th scope="col">"Company"</th>
                    <th scope="col">"Title"</th>
                </tr>
            </thead>
            <tbody>
                {list
                    .contacts
                    .into_iter()
                    .map(|c| {
                        view! {
                            <tr data-contact-id=c.id.to_string()>
                                <td>{c.name.clone().or_else(|| c.email.clone()).unwrap_or_default()}</td>
                                <td>{c.email}</td>
                                <td>{c.company}</td>
                                <td>{c.title}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
