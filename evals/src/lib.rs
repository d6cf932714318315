//! Rapport's quality measurements, kept out of the domain: the graders, and (in
//! `src/bin/`) the programs behind `make eval`, `make eval-ask` and
//! `make eval-signatures`. They drive the real domain code and score what it produces
//! against ground truth that never comes from the code being measured.

pub mod ask_grade;
pub mod seeded;
pub mod signatures;
