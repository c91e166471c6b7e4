//! The integration tests, one binary (as ripgrep and mdBook do): each module builds small
//! real sites with the `sitrep` binary and reads what it wrote. Shared helpers are in
//! [`common`]. The browser test is its own binary (`tests/browser.rs`): it must not run
//! beside other tests.

mod common;

mod build;
mod check;
mod embargo;
mod errors;
mod escaping;
mod intel;
mod malformed;
mod messages;
mod resources;
mod rich;
mod scaffold;
mod search;
mod serve;
mod session;
mod sync;
mod warm;
