//! The contact page's data: the server functions it reads and writes through, and the
//! resources and actions the page creates before it renders.

use api::contacts::{ContactData, ProfileValues};
use leptos::prelude::*;
use uuid::Uuid;

use crate::app_error::AppError;
use crate::components::activity_timeline::ActivityFeed;
use crate::components::interactions_panel::{InteractionsData, LoggedOn};
use crate::components::keep_in_touch_panel::KeepInTouchData;
use crate::components::notes_panel::NotesData;
use crate::components::relationship_panel::{RelationshipData, relationship_data};

/// How many threads the contact page lists.
#[cfg(feature = "ssr")]
const THREADS_SHOWN: i64 = 15;

/// Everything the page shows but the panels (which load alongside, see
/// [`ContactActions`]). The reads are independent and run at once; the duplicate
/// suggestions follow the profile, as a merged contact has none.
#[server]
pub async fn load_contact(id: Uuid) -> Result<ContactData, AppError> {
    use crate::ssr::{RequestContext, reported};
    use domain::contacts::view::{ContactParts, contact_data};
    reported(async move {
        let ctx = RequestContext::current()?;
        let scope = ctx.scope();
        let now = chrono::Utc::now();
        let profile_and_duplicates = async {
            let profile = scope.contacts().view(id).await?;
            let duplicates = if profile.merged_into.is_none() {
                scope.contacts().duplicate_suggestions(id).await?
            } else {
                Vec::new()
            };
            Ok((profile, duplicates))
        };
        let ((profile, duplicates), identities, stats, threads, merges) = tokio::try_join!(
            profile_and_duplicates,
            scope.contacts().identities(id),
            scope.contacts().stats(id),
            scope.contacts().recent_threads(id, THREADS_SHOWN),
            scope.contacts().merge_log(id),
        )?;
        let parts = ContactParts {
            profile,
            identities,
            stats,
            threads,
            duplicates,
            merges,
        };
        Ok(contact_data(id, parts, now))
    })
    .await
}

/// Saves the profile form (`profile[display_name]`, `profile[title]`, ...).
#[server]
pub async fn save_profile(id: Uuid, profile: ProfileValues) -> Result<(), AppError> {
    use crate::ssr::{RequestContext, reported};
    use domain::contacts::ProfileEdit;
    reported(async move {
        let ctx = RequestContext::current()?;
        let edit = ProfileEdit::parse(&profile)?;
        Ok(ctx.scope().contacts().update_profile(id, &edit).await?)
    })
    .await
}

/// Merges `loser` into `winner`; returns the merge's id.
#[server]
pub async fn merge_contacts(
    winner: Uuid,
    loser: Uuid,
    #[server(default)] reason: String,
) -> Result<Uuid, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let reason = Some(reason.trim()).filter(|r| !r.is_empty());
        Ok(ctx.scope().contacts().merge(winner, loser, reason).await?)
    })
    .await
}

#[server]
pub async fn unmerge_contacts(merge: Uuid) -> Result<(), AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx.scope().contacts().unmerge(merge).await?)
    })
    .await
}

/// The user's "not the same person": `contact` and `other` are never merged
/// automatically nor suggested again.
#[server]
pub async fn not_the_same_person(contact: Uuid, other: Uuid) -> Result<(), AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx
            .scope()
            .contacts()
            .not_the_same_person(contact, other)
            .await?)
    })
    .await
}

/// What the page creates above its Suspense (see `ActivityFeed`): actions, and the
/// timelines' data, which load alongside the contact rather than after it.
#[derive(Clone, Copy)]
pub struct ContactActions {
    pub save: ServerAction<SaveProfile>,
    pub merge: ServerAction<MergeContacts>,
    pub unmerge: ServerAction<UnmergeContacts>,
    pub distinct: ServerAction<NotTheSamePerson>,
    pub feed: ActivityFeed,
    pub notes: NotesData,
    pub interactions: InteractionsData,
    pub relationship: RelationshipData,
    pub keep_in_touch: KeepInTouchData,
    pub about: crate::components::about_panel::AboutData,
}

/// The page's data, created before it renders: the contact `id` (`None`: the URL's id
/// is not one, a 404), read again after every save, merge and un-merge; and the actions
/// and panels' data.
pub fn contact_page_data(
    id: Memo<Option<Uuid>>,
) -> (Resource<Result<ContactData, AppError>>, ContactActions) {
    let save = ServerAction::<SaveProfile>::new();
    let merge = ServerAction::<MergeContacts>::new();
    let unmerge = ServerAction::<UnmergeContacts>::new();
    let distinct = ServerAction::<NotTheSamePerson>::new();
    let contact = Resource::new(
        move || {
            (
                id.get(),
                save.version().get(),
                merge.version().get(),
                unmerge.version().get(),
                distinct.version().get(),
            )
        },
        |(id, _, _, _, _)| async move {
            match id {
                Some(id) => load_contact(id).await,
                None => {
                    crate::errors::set_status(404);
                    Err(AppError::not_found("contact"))
                }
            }
        },
    );
    let feed = ActivityFeed::new(id);
    let actions = ContactActions {
        save,
        merge,
        unmerge,
        distinct,
        feed,
        interactions: InteractionsData::new(LoggedOn::Contact, id, Some(feed)),
        notes: NotesData::new(id),
        relationship: relationship_data(id),
        keep_in_touch: KeepInTouchData::new(id),
        about: crate::components::about_panel::AboutData::new(id),
    };
    (contact, actions)
}
