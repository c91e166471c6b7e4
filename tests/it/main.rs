//! The integration tests, one binary (as ripgrep and mdBook do): each module builds small
//! real sites with the `sitrep` binary and reads what it wrote. Shared helpers are in
//! [`common`]. The browser test is its own binary (`tests/browser.rs`): it must not run
//! beside other tests.

mod common;

mod build;
mod cards;
mod check;
mod deploy;
mod deploy_servers;
mod embargo;
mod errors;
mod escaping;
mod images;
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
