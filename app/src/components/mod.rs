//! Components that pages are built from (not routed pages themselves): the layout's
//! ask box, and the contact and company pages' panels, charts and file drop.

pub mod about_panel;
pub mod activity_timeline;
pub mod ask_text;
pub mod calendar_feed;
pub mod call_recording;
pub mod connect_calendar;
pub mod connect_fastmail;
pub mod connect_meta;
pub mod file_upload;
pub mod global_ask;
pub mod interactions_panel;
pub mod keep_in_touch_panel;
pub mod notes_panel;
pub mod recording_settings;
pub mod relationship_panel;
pub mod time_zone;
pub mod volume_chart;

pub use global_ask::GlobalAsk;
