//! The settings page (`/settings`). The server functions are in [`data`], the
//! sections in [`view`].

mod data;
mod view;

use leptos::prelude::*;
use leptos_meta::Title;

pub use data::{
    DeleteAccount, DisconnectAccount, LoadSettings, RequestSync, SaveContactPolicy, delete_account,
    disconnect_account, load_settings, request_sync, save_contact_policy,
};
use view::SettingsSections;

use crate::errors::ErrorPanel;

#[component]
pub fn SettingsPage() -> impl IntoView {
    let disconnect = ServerAction::<DisconnectAccount>::new();
    let settings = Resource::new(move || disconnect.version().get(), |_| load_settings());
    view! {
        <Title text="Settings"/>
        <section class="page">
            <header class="page-header"><h1>"Settings"</h1></header>
            <Transition fallback=|| view! { <p class="muted">"Loading settings…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || Suspend::new(async move {
                        settings.await.map(|data| view! { <SettingsSections data disconnect/> })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}
