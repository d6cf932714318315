//! Pure extraction rules for building CRM contacts from email: display
//! names, address lists and sender kinds, company domains, quoted-text
//! removal, signature parsing and phone normalisation. No I/O here; the
//! `eval-signatures` binary is the only part that reads files.

pub mod address;
pub mod domains;
pub mod eval;
pub mod lexicon;
pub mod links;
pub mod names;
pub mod phone;
pub mod quotes;
pub mod signature;
