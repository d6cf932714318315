//! Ask Rapport: questions in plain language over the user's own network. The engines
//! never write SQL: they answer through the typed, read-only [`tools`], which run on a
//! [`crate::UserScope`] and so only ever see the acting user's rows.

pub mod answer;
pub mod keep_in_touch;
pub mod mail_search;
pub mod names;
pub mod offline;
pub mod parse;
pub mod period;
pub mod posts;
pub mod relationship;
pub mod relationship_model;
pub mod relationship_panel;
pub mod tools;

pub use answer::{Answer, AnswerValue, Person};
pub mod history;
pub mod model;
pub mod model_tools;
