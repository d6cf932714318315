//! Pure extraction rules for building CRM contacts from email: display
//! names, address lists and sender kinds, company domains, quoted-text
//! removal, signature parsing and phone normalisation. No I/O here; the
//! `evals` crate's `eval-signatures` scores them on annotated mail.

pub mod address;
pub mod domains;
pub mod lexicon;
pub mod links;
pub mod names;
pub mod new_address;
pub mod phone;
pub mod quotes;
pub mod signature;
