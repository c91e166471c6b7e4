//! Small helpers every stage uses: dates, escaping, slugs and fingerprints. None of them
//! knows about pages, routes or files.

pub mod date;
pub mod escape;
pub mod fingerprint;
pub mod slug;
