//! One contact: editable profile, identities, stats cards, monthly volume, strength in
//! words, recent threads, duplicate suggestions with Merge and "Not the same person", and the merge log
//! (automatic merges with their reason, each undone in one click). The data
//! (server functions, resources, actions) is in [`data`], the view in [`view`].

mod data;
mod view;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

use data::contact_page_data;
pub use data::{
    ContactActions, LoadContact, MergeContacts, NotTheSamePerson, SaveProfile, UnmergeContacts,
    load_contact, merge_contacts, not_the_same_person, save_profile, unmerge_contacts,
};
use view::ContactView;

use crate::errors::LoadError;

#[component]
pub fn ContactDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id =
        Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse::<Uuid>().ok())));
    let (contact, actions) = contact_page_data(id);
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading contact…"</p> }>
            {move || Suspend::new(async move {
                match contact.await {
                    Ok(data) => view! { <ContactView data actions/> }.into_any(),
                    Err(error) => view! { <LoadError error/> }.into_any(),
                }
            })}
        </Transition>
    }
}
