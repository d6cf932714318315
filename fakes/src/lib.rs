//! Synthetic data for Rapport's tests, demo mode, benchmarks and evaluations.
//!
//! Everything here is deterministic from a seed so that a failing test or a
//! surprising evaluation score can always be reproduced byte for byte.

pub mod mailbox;
