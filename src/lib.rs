//! sitrep: a static site generator for security news blogs.
//!
//! The build is one flow, each stage a folder with one entry, run in this order by [`build`]:
//!
//! | # | stage | folder | entry |
//! | --- | --- | --- | --- |
//! | 1 | load `site.toml` | [`config`] (with [`config::headers`]) | [`config::Config::load`] |
//! | 2 | walk and parse content: front matter, Markdown, highlighting | [`content`] | [`content::load`] |
//! | 3 | index the site: sort, taxonomies, related, route table | [`index`] | [`index::index`] |
//! | 4 | render every output: templates, theme, feeds, sitemap | [`render`] | [`render::Renderer`] |
//! | 5 | write, atomically, with the build cache | [`output`] | [`output::Staging`] |
//!
//! [`build`] runs the stages (cold, warm or in memory for `serve`). Every URL is made in
//! [`urls`]. Every user-facing problem is an [`error::Diagnostic`] naming its file and line.
//! [`support`] holds helpers that know nothing of pages: dates, escaping, slugs,
//! fingerprints.
//!
//! Around the build, the author's other commands: [`serve`] (build, serve, watch, rebuild
//! and reload; every rebuild goes through [`serve::Rebuilder`]), [`check`] (the build's
//! checks plus internal links, writing nothing) and [`scaffold`] (`new` and `init`).

#![forbid(unsafe_code)]

pub mod error;
pub mod support;
pub mod urls;

pub mod build;
pub mod config;
pub mod content;
pub mod index;
pub mod intel;
pub mod output;
pub mod render;

pub mod check;
pub mod ci;
pub mod scaffold;
pub mod serve;

pub use build::{BuildOptions, BuildReport, build};
pub use error::{BuildError, Diagnostic};
