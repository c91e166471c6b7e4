//! The facts on a `cve` shortcode's card (severity, exploited): the shortcode runs at parse
//! time and is cached with the body, before the CVE data is read, so its card holds a
//! placeholder ([`shortcodes::cve_facts_placeholder`]) that a page's render replaces with
//! [`CVE_FACTS_PARTIAL`], given the CVE data's value of the id. The page's fingerprint
//! covers those facts ([`Renderer::cve_facts_fp`]).

use tera::{Context, Value};

use super::{Renderer, map};
use crate::content::Page;
use crate::content::shortcodes;
use crate::error::Diagnostic;
use crate::support::fingerprint::{Builder, Fingerprint};

/// The template of a card's facts: gets `cve` = `{id, url, intel}`.
pub const CVE_FACTS_PARTIAL: &str = "partials/cve_facts.html";

impl Renderer<'_> {
    /// `html` (page `p`'s body) with its `cve` cards' facts filled in. A theme without
    /// [`CVE_FACTS_PARTIAL`] shows none.
    pub(super) fn fill_cve_facts(&self, p: &Page, html: String) -> Result<String, Diagnostic> {
        if !uses_cve_cards(p) {
            return Ok(html);
        }
        let has_partial = self.templates.has(CVE_FACTS_PARTIAL);
        shortcodes::fill_cve_facts(&html, |id| {
            if !has_partial {
                return Ok(String::new());
            }
            let mut ctx = Context::new();
            ctx.insert_value(
                "cve",
                map([
                    ("id", Value::from(id)),
                    (
                        "url",
                        Value::from(self.urls.url(&crate::urls::term(
                            crate::index::TaxonomyKind::Cve.name(),
                            id,
                            1,
                        ))),
                    ),
                    ("intel", self.cve_intel_value(id)),
                ]),
            );
            let mut buf = Vec::new();
            self.templates
                .render_to(CVE_FACTS_PARTIAL, &ctx, &mut buf)?;
            Ok(String::from_utf8_lossy(&buf).trim_end().to_string())
        })
    }

    /// `page.updates` of page `p`, with the `cve` cards of its notes filled in.
    pub(super) fn updates_with_facts(&self, p: &Page) -> Result<Value, Diagnostic> {
        if !uses_cve_cards(p) || p.updates.is_empty() {
            return Ok(super::editorial::updates_value(p));
        }
        let mut notes = p.updates.clone();
        for n in &mut notes {
            n.html = self.fill_cve_facts(p, std::mem::take(&mut n.html))?;
        }
        Ok(super::editorial::updates_value_of(&notes))
    }

    /// Covers what [`Renderer::fill_cve_facts`] adds to page `p` (body and update notes):
    /// the facts of each CVE the page names (its `cve` cards' ids are among them, see
    /// `shortcodes::render`).
    pub(super) fn cve_facts_fp(&self, p: &Page) -> Fingerprint {
        if !uses_cve_cards(p) {
            return 0;
        }
        p.cves
            .iter()
            .fold(Builder::new("cve-facts"), |b, id| {
                b.str(id).fp(self.cve_intel_fp(id))
            })
            .finish()
    }
}

fn uses_cve_cards(p: &Page) -> bool {
    p.features.iter().any(|f| f == shortcodes::FEATURE_CVE)
}
