//! Threat-intelligence pages and template values: facts on CVE terms (every CVE chip, the
//! CVE pages and the CVE index), `/cve/kev/`, `/attack/` and `/attack/<ID>/`. Planned
//! like every other page, each with a fingerprint of exactly what it shows.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use rayon::prelude::*;
use serde_json::json;
use tera::{Context, Value};

use super::{Job, PageJob, Renderer, map};
use crate::error::Diagnostic;
use crate::index::TaxonomyKind;
use crate::intel::attack::{TACTICS, tactic_name};
use crate::intel::{Intel, Marker, Technique};
use crate::support::fingerprint::{Builder, Fingerprint};
use crate::urls;

/// The fragment of a CVE's marker (severity and "Exploited"), rendered once per CVE and
/// shown as `marker_html` wherever the CVE is named.
pub const MARKER_PARTIAL: &str = "partials/cve_marker.html";

/// Routes of the intel pages.
pub const KEV_ROUTE: &str = "cve/kev/";
pub const ATTACK_ROUTE: &str = "attack/";

/// Which intel page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntelPage {
    /// `/cve/kev/`: the site's CVEs on the KEV list.
    Kev,
    /// `/attack/`: the covered techniques by tactic.
    AttackList,
    /// `/attack/<ID>/`: index into [`IntelView::pages`].
    Technique(usize),
}

/// The intel of a build and what the renderer derives from it once.
pub struct IntelView<'a> {
    pub intel: &'a Intel,
    /// Techniques with a page (mentioned by a post and known to the data), by id, with
    /// their posts, newest first.
    pub pages: Vec<(String, Vec<usize>)>,
    /// Each CVE term's `marker_html`, rendered once ([`Renderer::render_markers`]).
    markers: Vec<OnceLock<Result<Value, Diagnostic>>>,
    /// `data_notice` for each `(cves, attack)`, built once ([`Renderer::data_notice`]).
    notices: [OnceLock<Value>; 4],
}

/// The route of technique `id`'s page.
pub fn technique_route(id: &str) -> String {
    format!("{ATTACK_ROUTE}{id}/")
}

fn title_case(severity: &str) -> String {
    let lower = severity.to_ascii_lowercase();
    let mut c = lower.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// A marker as a template value (with the CVE's id when given).
fn marker_map(m: &Marker, id: Option<&str>) -> Value {
    map([
        ("cve", id.map_or_else(Value::none, Value::from)),
        (
            "severity",
            m.severity.as_deref().map_or_else(Value::none, Value::from),
        ),
        (
            "severity_label",
            m.severity_label().map_or_else(Value::none, Value::from),
        ),
        (
            "score_text",
            m.score_text().map_or_else(Value::none, Value::from),
        ),
        ("exploited", Value::from(m.exploited)),
    ])
}

fn percent(x: f64, digits: usize) -> String {
    format!("{:.*}%", digits, x * 100.0)
}

/// The global `site` value with the intel pages' links: `site.attack_url` (the ATT&CK
/// list, when techniques have pages) and `site.kev_url` (when the KEV catalog is there);
/// none otherwise.
pub fn site_links(
    site_value: Value,
    site: &crate::index::Site,
    intel: &Intel,
    urls: &urls::Urls,
) -> Value {
    let Some(mut m) = site_value.clone().into_map() else {
        return site_value;
    };
    let attack = site
        .posts
        .iter()
        .any(|p| p.attack.iter().any(|id| intel.techniques.contains_key(id)));
    m.insert(
        "attack_url".into(),
        if attack {
            Value::from(urls.url(ATTACK_ROUTE))
        } else {
            Value::none()
        },
    );
    m.insert(
        "kev_url".into(),
        if intel.kev_catalog.is_some() {
            Value::from(urls.url(KEV_ROUTE))
        } else {
            Value::none()
        },
    );
    Value::from(m)
}

impl<'a> Renderer<'a> {
    /// This renderer with the build's threat intelligence.
    pub fn with_intel(mut self, intel: &'a Intel) -> Self {
        let mut by_id: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, p) in self.site.posts.iter().enumerate() {
            for id in &p.attack {
                if intel.techniques.contains_key(id) {
                    by_id.entry(id.as_str()).or_default().push(i);
                }
            }
        }
        let cve_terms = self.site.taxonomies[Self::kind_index(TaxonomyKind::Cve)]
            .terms
            .len();
        self.intel = Some(IntelView {
            intel,
            pages: by_id.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            markers: (0..cve_terms).map(|_| OnceLock::new()).collect(),
            notices: Default::default(),
        });
        self
    }

    /// The `marker` value of CVE term `id`: severity and KEV, or none.
    pub(super) fn cve_marker_value(&self, id: &str) -> Value {
        self.intel
            .as_ref()
            .and_then(|v| v.intel.cve_marker(id))
            .map_or_else(Value::none, |m| marker_map(&m, None))
    }

    /// The `marker_html` of CVE term `t` (`id`): the theme's marker fragment, empty when
    /// the data has no marker for it or the theme no fragment.
    pub(super) fn cve_marker_html(&self, t: usize, id: &str) -> Value {
        let Some(view) = &self.intel else {
            return Value::safe_string("");
        };
        match view.markers[t].get_or_init(|| self.render_marker(id)) {
            Ok(v) => v.clone(),
            // Reported by `render_markers`, which every plan runs first.
            Err(_) => Value::safe_string(""),
        }
    }

    fn render_marker(&self, id: &str) -> Result<Value, Diagnostic> {
        let Some(m) = self.intel.as_ref().and_then(|v| v.intel.cve_marker(id)) else {
            return Ok(Value::safe_string(""));
        };
        if !self.templates.has(MARKER_PARTIAL) {
            return Ok(Value::safe_string(""));
        }
        let mut c = Context::new();
        c.insert_value("marker", marker_map(&m, Some(id)));
        let mut buf = Vec::new();
        self.templates.render_to(MARKER_PARTIAL, &c, &mut buf)?;
        Ok(Value::safe_string(&String::from_utf8_lossy(&buf)))
    }

    /// Renders every CVE's marker fragment once, before any page, so that a template
    /// error in it stops the build.
    pub(super) fn render_markers(&self) -> Result<(), Vec<Diagnostic>> {
        let Some(view) = &self.intel else {
            return Ok(());
        };
        let terms = &self.site.taxonomies[Self::kind_index(TaxonomyKind::Cve)].terms;
        let errors: Vec<Diagnostic> = (0..terms.len())
            .into_par_iter()
            .filter_map(|t| {
                view.markers[t]
                    .get_or_init(|| self.render_marker(&terms[t].slug))
                    .as_ref()
                    .err()
                    .cloned()
            })
            .collect();
        match errors.into_iter().next() {
            Some(e) => Err(vec![e]),
            None => Ok(()),
        }
    }

    /// The `cve_marker` of a post naming `ids`: the marker of its most severe CVE (as the
    /// CVE index ranks them), `exploited_any` when any of them is on KEV; none when no
    /// CVE of the post has a marker.
    pub(super) fn post_cve_marker(&self, ids: &[String]) -> Value {
        let Some(view) = &self.intel else {
            return Value::none();
        };
        let Some((id, m)) = view.intel.worst_marker(ids) else {
            return Value::none();
        };
        let mut v = marker_map(&m, Some(id));
        if let Some(mut map) = v.clone().into_map() {
            map.insert(
                "exploited_any".into(),
                Value::from(
                    ids.iter()
                        .any(|i| view.intel.cves.get(i).is_some_and(|f| f.kev.is_some())),
                ),
            );
            map.insert("count".into(), Value::from(ids.len()));
            v = Value::from(map);
        }
        v
    }

    /// The value `intel` of CVE term `id` (none when no data file knows it). Built once
    /// per CVE (term values are kept), as template values directly.
    pub(super) fn cve_intel_value(&self, id: &str) -> Value {
        let Some(view) = &self.intel else {
            return Value::none();
        };
        let Some(f) = view.intel.cves.get(id) else {
            return Value::none();
        };
        let opt = |s: Option<&str>| s.map_or_else(Value::none, Value::from);
        let r = f.record.as_ref();
        let cvss = r.and_then(|r| r.cvss.as_ref());
        let kev = f.kev.as_ref().map_or_else(Value::none, |k| {
            map([
                ("vendor", Value::from(k.vendor.as_str())),
                ("product", Value::from(k.product.as_str())),
                ("name", Value::from(k.name.as_str())),
                ("date_added", Value::from(k.date_added.as_str())),
                ("due_date", opt(k.due_date.as_deref())),
                (
                    "ransomware",
                    Value::from(k.ransomware.eq_ignore_ascii_case("known")),
                ),
                ("ransomware_text", Value::from(k.ransomware.as_str())),
                ("required_action", Value::from(k.required_action.as_str())),
            ])
        });
        let epss = f.epss.map_or_else(Value::none, |e| {
            map([
                ("score", Value::from(e.score)),
                ("percentile", Value::from(e.percentile)),
                (
                    "score_percent",
                    Value::from(percent(e.score, if e.score >= 0.001 { 1 } else { 3 })),
                ),
                ("percentile_percent", Value::from(percent(e.percentile, 1))),
            ])
        });
        let pair =
            |v: &str, p: &str| map([("vendor", Value::from(v)), ("product", Value::from(p))]);
        // KEV's names when listed, else the CNA's.
        let affected: Vec<Value> = match &f.kev {
            Some(k) => vec![pair(&k.vendor, &k.product)],
            None => r
                .map(|r| r.affected.iter().take(8).map(|(v, p)| pair(v, p)).collect())
                .unwrap_or_default(),
        };
        let cwes: Vec<Value> = r
            .map(|r| {
                r.cwes
                    .iter()
                    .map(|c| {
                        let num = c.id.trim_start_matches("CWE-");
                        map([
                            ("id", Value::from(c.id.as_str())),
                            ("name", opt(c.name.as_deref())),
                            (
                                "url",
                                if num.bytes().all(|b| b.is_ascii_digit()) {
                                    Value::from(format!(
                                        "https://cwe.mitre.org/data/definitions/{num}.html"
                                    ))
                                } else {
                                    Value::none()
                                },
                            ),
                        ])
                    })
                    .collect()
            })
            .unwrap_or_default();
        let cvss_value = cvss.map_or_else(Value::none, |c| {
            map([
                ("version", Value::from(c.version.as_str())),
                ("score", Value::from(c.score)),
                ("severity", Value::from(c.severity.as_str())),
                ("vector", Value::from(c.vector.as_str())),
                ("source", Value::from(c.source.as_str())),
            ])
        });
        map([
            (
                "severity",
                cvss.map_or_else(Value::none, |c| {
                    Value::from(c.severity.to_ascii_lowercase())
                }),
            ),
            (
                "severity_label",
                cvss.map_or_else(Value::none, |c| Value::from(title_case(&c.severity))),
            ),
            (
                "score",
                cvss.map_or_else(Value::none, |c| Value::from(c.score)),
            ),
            (
                "score_text",
                cvss.map_or_else(Value::none, |c| Value::from(format!("{:.1}", c.score))),
            ),
            ("cvss", cvss_value),
            ("kev", kev),
            ("epss", epss),
            ("title", opt(r.and_then(|r| r.title.as_deref()))),
            ("description", opt(r.and_then(|r| r.description.as_deref()))),
            ("cwes", Value::from(cwes)),
            ("affected", Value::from(affected)),
            ("published", opt(r.and_then(|r| r.published.as_deref()))),
            ("updated", opt(r.and_then(|r| r.updated.as_deref()))),
            (
                "rejected",
                Value::from(r.is_some_and(|r| r.state == "REJECTED")),
            ),
            (
                "rejected_reason",
                opt(r.and_then(|r| r.rejected_reason.as_deref())),
            ),
            ("assigner", opt(r.and_then(|r| r.assigner.as_deref()))),
            ("has_record", Value::from(r.is_some())),
            ("record_url", Value::from(urls::cve_record(id))),
            (
                "nvd_url",
                Value::from(format!("https://nvd.nist.gov/vuln/detail/{id}")),
            ),
            (
                "kev_url",
                if f.kev.is_some() {
                    Value::from(format!(
                        "https://www.cisa.gov/known-exploited-vulnerabilities-catalog?field_cve={id}"
                    ))
                } else {
                    Value::none()
                },
            ),
        ])
    }

    /// Covers [`Renderer::cve_intel_value`] of `id` (and the sources' dates).
    pub(super) fn cve_intel_fp(&self, id: &str) -> Fingerprint {
        self.intel
            .as_ref()
            .map_or(0, |v| v.intel.cve_fingerprint(id))
    }

    /// The sources a page shows data from, for the attribution in its footer; none when
    /// there is no data.
    pub(super) fn data_notice(&self, cves: bool, attack: bool) -> Value {
        let Some(view) = &self.intel else {
            return Value::none();
        };
        view.notices[usize::from(cves) * 2 + usize::from(attack)]
            .get_or_init(|| Self::notice_of(view.intel, cves, attack))
            .clone()
    }

    fn notice_of(i: &Intel, cves: bool, attack: bool) -> Value {
        let records = cves && i.has_records();
        let kev = i.kev_catalog.as_ref().filter(|_| cves);
        let epss = i.epss_meta.as_ref().filter(|_| cves);
        let attack = attack && i.has_attack;
        if !records && kev.is_none() && epss.is_none() && !attack {
            return Value::none();
        }
        Value::from_serializable(&json!({
            "cve_records": records,
            "kev": kev,
            "epss": epss,
            "attack": attack,
        }))
    }

    /// The CVE terms sorted most severe first (CVSS score, then KEV, then EPSS, then id).
    pub(super) fn cves_ranked(&self, k: usize) -> Value {
        let Some(view) = &self.intel else {
            return Value::none();
        };
        if view.intel.cves.is_empty() {
            return Value::none();
        }
        let terms = &self.site.taxonomies[k].terms;
        // Each rank looked up once (not once per comparison).
        let mut order: Vec<_> = terms
            .iter()
            .enumerate()
            .map(|(t, term)| {
                (
                    std::cmp::Reverse(view.intel.rank(&term.slug)),
                    term.slug.as_str(),
                    t,
                )
            })
            .collect();
        order.sort_unstable();
        Value::from(
            order
                .into_iter()
                .map(|(_, _, t)| self.term_value(k, t))
                .collect::<Vec<_>>(),
        )
    }

    /// The techniques of a post the data knows, as links.
    pub(super) fn attack_links(&self, ids: &[String]) -> Value {
        Value::from(
            ids.iter()
                .map(|id| self.technique_link(id))
                .filter(|v| !v.is_none())
                .collect::<Vec<_>>(),
        )
    }

    /// Covers [`Renderer::attack_links`].
    pub(super) fn attack_links_fp(&self, ids: &[String]) -> Fingerprint {
        let Some(view) = &self.intel else { return 0 };
        let mut b = Builder::new("attack-links");
        for id in ids {
            b = b
                .str(id)
                .fp(view.intel.technique_fingerprint(id))
                .num(view.pages.iter().any(|(p, _)| p == id).into());
        }
        b.finish()
    }

    fn technique_link(&self, id: &str) -> Value {
        let Some(view) = &self.intel else {
            return Value::none();
        };
        let Some(t) = view.intel.techniques.get(id) else {
            return Value::none();
        };
        let own = view.pages.iter().any(|(p, _)| p == id);
        map([
            ("id", Value::from(t.id.as_str())),
            ("name", Value::from(t.name.as_str())),
            (
                "url",
                Value::from(if own {
                    self.urls.url(&technique_route(id))
                } else {
                    t.url.clone()
                }),
            ),
        ])
    }

    /// What a technique page (and the list) shows of technique `id`.
    fn technique_value(&self, t: &Technique, count: usize) -> Value {
        let tactics: Vec<Value> = t
            .tactics
            .iter()
            .map(|s| {
                let id = TACTICS.iter().find(|x| x.0 == s).map(|x| x.2);
                map([
                    ("short", Value::from(s.as_str())),
                    ("name", Value::from(tactic_name(s))),
                    ("id", id.map_or_else(Value::none, Value::from)),
                ])
            })
            .collect();
        map([
            ("id", Value::from(t.id.as_str())),
            ("name", Value::from(t.name.as_str())),
            ("url", Value::from(self.urls.url(&technique_route(&t.id)))),
            ("mitre_url", Value::from(t.url.as_str())),
            ("tactics", Value::from(tactics)),
            (
                "parent",
                t.parent
                    .as_deref()
                    .map_or_else(Value::none, |p| self.technique_link(p)),
            ),
            ("revoked", Value::from(t.revoked)),
            ("deprecated", Value::from(t.deprecated)),
            (
                "replaced_by",
                t.replaced_by
                    .as_deref()
                    .map_or_else(Value::none, |p| self.technique_link(p)),
            ),
            ("count", Value::from(count)),
        ])
    }

    fn technique_fp(&self, j: usize) -> Fingerprint {
        let Some(view) = &self.intel else { return 0 };
        let (id, posts) = &view.pages[j];
        let mut b = Builder::new("technique")
            .str(id)
            .fp(view.intel.technique_fingerprint(id))
            .fp(self.list_fp(posts));
        // Parent and replacement link to their own page when they have one.
        for other in view
            .intel
            .techniques
            .get(id)
            .iter()
            .flat_map(|t| t.parent.iter().chain(&t.replaced_by))
        {
            b = b.num(view.pages.iter().any(|(p, _)| p == other).into());
        }
        b.finish()
    }

    /// `/cve/kev/`, `/attack/` and every technique page, when the data and the theme have
    /// them. The route table refuses a page of the site at one of these paths.
    pub(super) fn plan_intel(&self, latest_top_fp: Fingerprint) -> Vec<Job> {
        let Some(view) = &self.intel else {
            return Vec::new();
        };
        let mut jobs = Vec::new();
        let cve_k = Self::kind_index(TaxonomyKind::Cve);
        if view.intel.kev_catalog.is_some() && self.templates.has("cve_kev.html") {
            let terms = &self.site.taxonomies[cve_k].terms;
            let fp = Builder::new("kev-page")
                .fp(self.global)
                .all(
                    (0..terms.len())
                        .filter(|&t| {
                            view.intel
                                .cves
                                .get(&terms[t].slug)
                                .is_some_and(|f| f.kev.is_some())
                        })
                        .map(|t| self.term_fp(cve_k, t)),
                )
                .fp(latest_top_fp)
                .finish();
            jobs.push(Self::page_job(
                KEV_ROUTE,
                fp,
                PageJob::Intel(IntelPage::Kev),
            ));
        }
        if !view.pages.is_empty()
            && self.templates.has("attack.html")
            && self.templates.has("attack_list.html")
        {
            let fps: Vec<Fingerprint> = (0..view.pages.len())
                .map(|j| self.technique_fp(j))
                .collect();
            let fp = Builder::new("attack-list")
                .fp(self.global)
                .all(fps.iter().copied())
                .fp(latest_top_fp)
                .finish();
            jobs.push(Self::page_job(
                ATTACK_ROUTE,
                fp,
                PageJob::Intel(IntelPage::AttackList),
            ));
            for (j, (id, _)) in view.pages.iter().enumerate() {
                let route = technique_route(id);
                let fp = Builder::new("technique-page")
                    .fp(self.global)
                    .fp(fps[j])
                    .fp(latest_top_fp)
                    .finish();
                jobs.push(Self::page_job(
                    &route,
                    fp,
                    PageJob::Intel(IntelPage::Technique(j)),
                ));
            }
        }
        jobs
    }

    /// The sitemap entries of the intel pages `plan_intel` plans.
    pub(super) fn intel_routes(&self) -> Vec<String> {
        let Some(view) = &self.intel else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if view.intel.kev_catalog.is_some() && self.templates.has("cve_kev.html") {
            out.push(KEV_ROUTE.to_string());
        }
        if !view.pages.is_empty()
            && self.templates.has("attack.html")
            && self.templates.has("attack_list.html")
        {
            out.push(ATTACK_ROUTE.to_string());
            out.extend(view.pages.iter().map(|(id, _)| technique_route(id)));
        }
        out
    }

    /// The route, template and context of an intel page.
    pub(super) fn intel_context(
        &self,
        page: IntelPage,
    ) -> Result<(String, &'static str, Context), Diagnostic> {
        let view = self
            .intel
            .as_ref()
            .ok_or_else(|| Diagnostic::error("data", "an intel page was planned without data"))?;
        let cve_k = Self::kind_index(TaxonomyKind::Cve);
        Ok(match page {
            IntelPage::Kev => {
                let mut ctx = self.context("kev", KEV_ROUTE, "Known exploited vulnerabilities");
                let terms = &self.site.taxonomies[cve_k].terms;
                let mut on_kev: Vec<usize> = (0..terms.len())
                    .filter(|&t| {
                        view.intel
                            .cves
                            .get(&terms[t].slug)
                            .is_some_and(|f| f.kev.is_some())
                    })
                    .collect();
                // Most recently added first.
                on_kev.sort_by(|&a, &b| {
                    let added = |t: usize| {
                        view.intel.cves[&terms[t].slug]
                            .kev
                            .as_ref()
                            .map(|k| k.date_added.clone())
                    };
                    added(b)
                        .cmp(&added(a))
                        .then_with(|| terms[a].slug.cmp(&terms[b].slug))
                });
                ctx.insert_value(
                    "cves",
                    Value::from(
                        on_kev
                            .into_iter()
                            .map(|t| self.term_value(cve_k, t))
                            .collect::<Vec<_>>(),
                    ),
                );
                ctx.insert_value("taxonomy", self.taxonomy_value(cve_k, false));
                ctx.insert_value("data_notice", self.data_notice(true, false));
                self.insert_latest(&mut ctx, 0)?;
                (KEV_ROUTE.to_string(), "cve_kev.html", ctx)
            }
            IntelPage::AttackList => {
                let mut ctx = self.context("attack", ATTACK_ROUTE, "ATT&CK techniques");
                let mut groups: Vec<(String, String, String, Vec<Value>)> = TACTICS
                    .iter()
                    .map(|(s, n, id)| (s.to_string(), n.to_string(), id.to_string(), Vec::new()))
                    .collect();
                let mut other = Vec::new();
                for (id, posts) in &view.pages {
                    let t = &view.intel.techniques[id];
                    let value = self.technique_value(t, posts.len());
                    let mut placed = false;
                    for s in &t.tactics {
                        if let Some(g) = groups.iter_mut().find(|g| &g.0 == s) {
                            g.3.push(value.clone());
                            placed = true;
                        }
                    }
                    if !placed {
                        other.push(value);
                    }
                }
                let mut tactics: Vec<Value> = groups
                    .into_iter()
                    .filter(|g| !g.3.is_empty())
                    .map(|(s, n, id, list)| {
                        map([
                            ("short", Value::from(s)),
                            ("name", Value::from(n)),
                            ("id", Value::from(id)),
                            ("techniques", Value::from(list)),
                        ])
                    })
                    .collect();
                if !other.is_empty() {
                    tactics.push(map([
                        ("short", Value::from("other")),
                        ("name", Value::from("No current tactic")),
                        ("id", Value::none()),
                        ("techniques", Value::from(other)),
                    ]));
                }
                ctx.insert_value("tactics", Value::from(tactics));
                ctx.insert_value("technique_count", Value::from(view.pages.len()));
                ctx.insert_value("data_notice", self.data_notice(false, true));
                self.insert_latest(&mut ctx, 0)?;
                (ATTACK_ROUTE.to_string(), "attack_list.html", ctx)
            }
            IntelPage::Technique(j) => {
                let (id, posts) = &view.pages[j];
                let t = &view.intel.techniques[id];
                let route = technique_route(id);
                let title = format!("{id}: {}", t.name);
                let mut ctx = self.context("technique", &route, &title);
                ctx.insert_value("technique", self.technique_value(t, posts.len()));
                ctx.insert_value("posts", self.list(posts));
                ctx.insert_value("attack_url", Value::from(self.urls.url(ATTACK_ROUTE)));
                ctx.insert_value("data_notice", self.data_notice(false, true));
                self.insert_latest(&mut ctx, 0)?;
                (route, "attack.html", ctx)
            }
        })
    }
}
