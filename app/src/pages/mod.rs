pub mod ask;
pub mod channels;
pub mod contacts;
pub mod login;
pub mod not_found;
pub mod settings;
pub mod timeline;
pub mod welcome;

pub use ask::AskPage;
pub use channels::ChannelsPage;
pub use contacts::ContactsPage;
pub use login::LoginPage;
pub use not_found::NotFound;
pub use settings::SettingsPage;
pub use timeline::TimelinePage;
pub use welcome::WelcomePage;
