pub mod ask;
pub mod company;
pub mod contact;
pub mod contacts;
pub mod login;
pub mod not_found;
pub mod settings;
pub mod timeline;
pub mod volume_chart;

pub use ask::AskPage;
pub use company::CompanyPage;
pub use contact::ContactDetailPage;
pub use contacts::ContactsPage;
pub use login::LoginPage;
pub use not_found::NotFound;
pub use settings::SettingsPage;
pub use timeline::TimelinePage;
