//! sitrep: a static site generator for security news blogs.
//!
//! The build is one flow, each stage a module with one entry (see [`build`]):
//!
//! | stage | module | entry |
//! | --- | --- | --- |
//! | load config | [`config`] | [`config::Config::load`] |
//! | walk and parse content, render Markdown | [`content`], [`frontmatter`], [`markdown`], [`highlight`] | [`content::load`] |
//! | index the site | [`index`] | [`index::index`] |
//! | templates | [`theme`], [`templates`] | [`templates::Templates::new`] |
//! | render every output | [`render`], [`feeds`], [`headers`] | [`render::render_all`] |
//! | write, atomically | [`output`] | [`output::Staging`] |
//!
//! Every URL is made in [`urls`]. Every user-facing problem is an [`error::Diagnostic`]
//! naming its file and line.
//!
//! Around the build, the author's other commands: [`serve`] (build, serve, watch, rebuild
//! and reload; every rebuild goes through [`serve::Rebuilder`]), [`check`] (the build's
//! checks plus internal links, writing nothing) and [`scaffold`] (`new` and `init`).

#![forbid(unsafe_code)]

pub mod body;
pub mod build;
pub mod cache;
pub mod check;
pub mod config;
pub mod content;
pub mod date;
pub mod error;
pub mod escape;
pub mod feeds;
pub mod fingerprint;
pub mod frontmatter;
pub mod headers;
pub mod highlight;
pub mod index;
pub mod markdown;
pub mod output;
pub mod render;
pub mod scaffold;
pub mod serve;
pub mod slug;
pub mod templates;
pub mod theme;
pub mod urls;

pub use build::{BuildOptions, BuildReport, build};
pub use error::{BuildError, Diagnostic};
