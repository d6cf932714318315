//! Pieces of the layout shared by every page.

pub mod global_ask;

pub use global_ask::GlobalAsk;
