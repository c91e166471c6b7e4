//! Built-in search: the tokenizer shared with the client (`search.js` of the default
//! theme), the sharded index, and the jobs of the search page and the index files.

pub mod index;
pub mod tokenizer;

use std::path::PathBuf;
use std::sync::Arc;

use super::{Job, JobKind, Origin, PageJob, Renderer};
use crate::support::fingerprint::{self, Builder};
use crate::urls;

/// The search page's template; a theme without it gets no search page.
pub const TEMPLATE: &str = "search.html";

impl Renderer<'_> {
    /// The search page and the search index (sharded JSON files), when `search` is on.
    pub fn plan_search(&self) -> Vec<Job> {
        if !self.config.search {
            return Vec::new();
        }
        let mut jobs = Vec::new();
        if self.templates.has(TEMPLATE) {
            let fp = Builder::new("search-page")
                .fp(self.global)
                .fp(self.list_fp(&self.latest_top))
                .finish();
            jobs.push(Self::page_job(urls::SEARCH, fp, PageJob::Search));
        }
        let files = match self.search {
            Some(index) => index.files(),
            None => index::build(&self.site.posts, self.urls),
        };
        for (path, bytes) in files {
            jobs.push(Job {
                path: PathBuf::from(path),
                fingerprint: fingerprint::of_bytes(&bytes),
                kind: JobKind::Bytes(Arc::new(bytes)),
                origin: Origin::Generated("the search index"),
            });
        }
        jobs
    }
}
