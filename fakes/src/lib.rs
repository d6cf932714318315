//! Synthetic data for Rapport's tests, demo mode, benchmarks and evaluations.
//!
//! Everything here is deterministic from a seed so that a failing test or a
//! surprising evaluation score can always be reproduced byte for byte.
//! [`google`] serves that data through a fake of Google's OAuth and Gmail
//! APIs so the product runs without the internet.

pub mod caldav;
pub mod calls;
pub mod demo_providers;
pub mod demo_sales;
pub mod enrichment;
pub mod google;
pub mod jmap;
pub mod mailbox;
pub mod meta;
pub mod openai;
mod openai_audio;
pub mod serve;
pub mod webhooks;
