//! `UserScope`'s queries grouped by feature: `scope.contacts()`, `scope.ask()`, ...
//! Each feature scope is a copy of the user scope, so every query stays bound to the
//! acting user; the methods live next to their feature.

use std::ops::Deref;

use super::UserScope;

macro_rules! feature_scopes {
    ($($(#[$doc:meta])* $accessor:ident => $scope:ident;)*) => {
        $(
            $(#[$doc])*
            #[derive(Clone, Copy, Debug)]
            pub struct $scope<'a>(UserScope<'a>);

            impl<'a> Deref for $scope<'a> {
                type Target = UserScope<'a>;

                fn deref(&self) -> &UserScope<'a> {
                    &self.0
                }
            }
        )*

        impl<'a> UserScope<'a> {
            $(
                $(#[$doc])*
                pub fn $accessor(self) -> $scope<'a> {
                    $scope(self)
                }
            )*
        }
    };
}

feature_scopes! {
    /// Linked accounts and their tokens.
    accounts => AccountsScope;
    /// API tokens for the REST API.
    api_tokens => ApiTokensScope;
    /// Ask: the tools the model calls, its history and the relationship panel.
    ask => AskScope;
    /// The user's own calendar: the /calendar page and the ICS subscription feed.
    calendar => CalendarScope;
    /// Call recordings, transcripts and chat threads.
    calls => CallsScope;
    /// CalDAV calendars: their polls and stored events.
    calendars => CalendarsScope;
    /// Webhook channels, their keys and blocklists.
    channels => ChannelsScope;
    /// Contacts: lists, profiles, stats, companies and merges.
    contacts => ContactsScope;
    /// Recorded and live events.
    events => EventsScope;
    /// Uploaded files.
    files => FilesScope;
    /// The unified inbox: what arrived, its read state, done and dismissed.
    inbox => InboxScope;
    /// Logged interactions and their calendar events.
    interactions => InteractionsScope;
    /// Background jobs: queueing and the recent list.
    jobs => JobsScope;
    /// Stored mail: messages, deletions, labels and the sync ledger rows.
    mail => MailScope;
    /// Notes on contacts, by people and agents.
    notes => NotesScope;
    /// Keep-in-touch reminders: frequencies, tag defaults, snoozes and suggestions.
    reminders => RemindersScope;
    /// Activity processing: plans, policies, retries and summary sources.
    processing => ProcessingScope;
    /// Messenger and Instagram: Pages, conversations, the agent, the catalog and orders.
    meta => MetaScope;
    /// Mail search over every activity.
    search => SearchScope;
    /// Mail sync state, progress, ledger and imports.
    sync => SyncScope;
    /// Activity timelines.
    timeline => TimelineScope;
    /// Reading mail: conversations, their HTML and the remote-image choice.
    threads => ThreadsScope;
}
