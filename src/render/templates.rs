//! Tera templates: loading, sitrep's filters, rendering, and errors with file and line.
//!
//! Autoescaping is on for `.html` and `.xml` templates, and sitrep's escape function also
//! escapes `'`, so a value is safe in single-quoted attributes too. `docs/templates.md` lists
//! every template, the variables each one gets and the filters below.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use tera::{Context, ErrorKind, Kwargs, State, Tera, TeraResult, Value};

use crate::error::Diagnostic;
use crate::render::deploy::assets::Assets;
use crate::render::theme::TemplateFile;
use crate::support::date::Date;
use crate::support::fingerprint::{Builder, Fingerprint};
use crate::support::slug::slugify;

/// Templates a theme must have.
pub const REQUIRED: &[&str] = &[
    "index.html",
    "post.html",
    "page.html",
    "taxonomy_list.html",
    "taxonomy_term.html",
    "404.html",
];

/// The loaded templates.
pub struct Templates {
    tera: Tera,
    /// Of every template's name and text.
    fingerprint: Fingerprint,
    /// Template name -> the file it came from.
    shown: HashMap<String, PathBuf>,
    /// The static files `asset_url` links to.
    assets: Arc<Assets>,
}

impl Templates {
    /// Parses every template; reports all syntax errors and missing required templates.
    /// `asset_url` knows no files.
    pub fn new(
        files: &BTreeMap<String, TemplateFile>,
        origin: &str,
    ) -> Result<Templates, Vec<Diagnostic>> {
        Templates::with_assets(files, origin, Arc::new(Assets::default()))
    }

    /// [`Templates::new`], with the static files `asset_url(path=…)` links to.
    pub fn with_assets(
        files: &BTreeMap<String, TemplateFile>,
        origin: &str,
        assets: Arc<Assets>,
    ) -> Result<Templates, Vec<Diagnostic>> {
        let shown: HashMap<String, PathBuf> = files
            .iter()
            .map(|(n, f)| (n.clone(), f.shown.clone()))
            .collect();
        let mut tera = Tera::new();
        tera.autoescape_on(vec![".html", ".htm", ".xml", ".svg"]);
        // Tera's fast escape leaves `'` alone; sitrep's escapes it too.
        tera.set_escape_fn(crate::support::escape::html_to);
        register_filters(&mut tera, origin);
        register_asset_url(&mut tera, &assets);
        let mut errors: Vec<Diagnostic> = REQUIRED
            .iter()
            .filter(|name| !files.contains_key(**name))
            .map(|name| {
                Diagnostic::error(
                    PathBuf::from("templates").join(name),
                    format!("the template `{name}` is missing"),
                )
                .with_help(format!(
                    "create templates/{name} (see docs/templates.md), or use a theme that has it"
                ))
            })
            .collect();
        // Parse one by one first so every broken template is reported, not only the first.
        for (name, file) in files {
            let mut one = Tera::new();
            register_filters(&mut one, origin);
            register_asset_url(&mut one, &assets);
            if let Err(e) = one.add_raw_template(name, &file.text)
                && matches!(e.kind(), ErrorKind::SyntaxError(_))
            {
                errors.push(tera_error(&e, &shown));
            }
        }
        if errors.is_empty()
            && let Err(e) =
                tera.add_raw_templates(files.iter().map(|(n, f)| (n.as_str(), f.text.as_str())))
        {
            // Unknown filters, tests, functions and includes come as one message of reports.
            match validation_errors(&e, &shown) {
                found if !found.is_empty() => errors.extend(found),
                _ => errors.push(tera_error(&e, &shown)),
            }
        }
        if errors.is_empty() {
            let fingerprint = files
                .iter()
                .fold(Builder::new("templates"), |b, (name, f)| {
                    b.str(name).str(&f.text)
                })
                .fp(assets.fingerprint())
                .finish();
            Ok(Templates {
                tera,
                fingerprint,
                shown,
                assets,
            })
        } else {
            Err(errors)
        }
    }

    /// Sets the global `site` variable.
    pub fn set_site(&mut self, site: Value) {
        self.tera.global_context().insert_value("site", site);
    }

    /// A fingerprint of every template: when it changes, every page may change.
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    /// The static files and their links (hashed names included).
    pub fn assets(&self) -> &Assets {
        &self.assets
    }

    pub fn has(&self, name: &str) -> bool {
        self.tera.contains_template(name)
    }

    /// Renders `name` into `out`.
    pub fn render_to(
        &self,
        name: &str,
        ctx: &Context,
        out: &mut Vec<u8>,
    ) -> Result<(), Diagnostic> {
        self.tera
            .render_to(name, ctx, out)
            .map_err(|e| tera_error(&e, &self.shown))
    }
}

/// Tera reports every unknown filter, test, function and included template at once, as
/// one message of reports that each start `error: WHAT` and ` --> NAME:LINE:COL`.
fn validation_errors(e: &tera::Error, shown: &HashMap<String, PathBuf>) -> Vec<Diagnostic> {
    let ErrorKind::Msg(text) = e.kind() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for report in text.split("\n\n") {
        let mut lines = report.lines();
        let Some(what) = lines.next().and_then(|l| l.strip_prefix("error: ")) else {
            continue;
        };
        let Some(place) = lines.find_map(|l| l.trim_start().strip_prefix("--> ")) else {
            continue;
        };
        let mut parts = place.rsplitn(3, ':');
        let (Some(col), Some(line), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let (Ok(line), Ok(col)) = (line.parse::<usize>(), col.parse::<usize>()) else {
            continue;
        };
        let file = shown
            .get(name)
            .cloned()
            .unwrap_or_else(|| PathBuf::from("templates").join(name));
        let help = if what.starts_with("Unknown template") {
            "create that template, or fix the name in the {% include %}".to_string()
        } else {
            "check the spelling; docs/templates.md lists sitrep's filters, and Tera's own are in its documentation".to_string()
        };
        out.push(
            Diagnostic::error(file, what.to_string())
                .at(line.max(1), col.max(1))
                .with_help(help),
        );
    }
    out
}

/// Turns a Tera error into a diagnostic on the template's own file.
fn tera_error(e: &tera::Error, shown: &HashMap<String, PathBuf>) -> Diagnostic {
    let file_of = |name: &str| {
        shown
            .get(name)
            .cloned()
            .unwrap_or_else(|| PathBuf::from("templates").join(name))
    };
    let mut d = match e.kind() {
        ErrorKind::SyntaxError(r) | ErrorKind::RenderingError(r) => {
            let span = r.span();
            let mut message = r.message().to_string();
            if let Some(src) = std::error::Error::source(e) {
                message.push_str(&format!(": {src}"));
            }
            Diagnostic::error(file_of(r.filename()), message).at(span.start_line.max(1), span.start_col + 1)
        }
        ErrorKind::TemplateNotFound(name) => Diagnostic::error(file_of(name), format!("the template `{name}` does not exist"))
            .with_help(format!("create templates/{name}, or fix the name in the {{% extends %}} or {{% include %}} that asks for it")),
        ErrorKind::MissingParent { current, parent } => Diagnostic::error(
            file_of(current),
            format!("extends `{parent}`, which does not exist"),
        )
        .with_help(format!("create templates/{parent}, or extend an existing template")),
        ErrorKind::CircularExtend { tpl, inheritance_chain } => Diagnostic::error(
            file_of(tpl),
            format!("templates extend each other in a circle: {}", inheritance_chain.join(" -> ")),
        ),
        ErrorKind::CircularInclude { tpl, include_chain } => Diagnostic::error(
            file_of(tpl),
            format!("templates include each other in a circle: {}", include_chain.join(" -> ")),
        ),
        _ => {
            let mut message = e.to_string();
            if let Some(src) = std::error::Error::source(e) {
                message.push_str(&format!(": {src}"));
            }
            Diagnostic::error("templates", message)
        }
    };
    if d.help.is_none() {
        d = d.with_help("fix the template; docs/templates.md lists the variables and filters each template gets");
    }
    d
}

/// Registers sitrep's filters (`docs/templates.md`) on a Tera instance.
pub(crate) fn register_filters(tera: &mut Tera, origin: &str) {
    tera.register_filter("date", date_filter);
    tera.register_filter("json_encode", json_encode);
    tera.register_filter("slugify", |s: &str, _: Kwargs, _: &State| slugify(s));
    tera.register_filter("urlencode", |s: &str, _: Kwargs, _: &State| urlencode(s));
    let origin = origin.to_string();
    tera.register_filter("absolute_url", move |s: &str, _: Kwargs, _: &State| {
        if s.starts_with('/') && !s.starts_with("//") {
            format!("{origin}{s}")
        } else {
            s.to_string()
        }
    });
}

/// `{{ asset_url(path="style.css") }}`: the link to a static file, by its hashed name when
/// it has one. A path that is no static file is an error.
fn register_asset_url(tera: &mut Tera, assets: &Arc<Assets>) {
    let assets = Arc::clone(assets);
    tera.register_function("asset_url", move |kwargs: Kwargs, _: &State| {
        let path = kwargs.must_get::<&str>("path")?;
        assets.link(path).map(str::to_string).ok_or_else(|| {
            tera::Error::message(format!(
                "asset_url: the site has no static file {path:?} (in the theme's or the site's static/ folder)"
            ))
        })
    });
}

/// `{{ page.datetime | date(format="%e %B %Y") }}`: formats an RFC 3339 or YYYY-MM-DD string.
///
/// A site shows the same dates over and over (the sidebar's latest posts on every page, each
/// post in its neighbours' and related posts' lists), so each thread keeps what it has
/// formatted, by format and input: a repeat costs a lookup, not a parse of both and a
/// format. Only results are kept, never errors; the function is pure, so output is the same.
fn date_filter(s: &str, kwargs: Kwargs, _: &State) -> TeraResult<String> {
    let format = kwargs.get::<&str>("format")?.unwrap_or("%Y-%m-%d");
    FORMATTED.with_borrow_mut(|memo| memo.get(format, s, format_date))
}

/// [`date_filter`]'s work: `s` (RFC 3339 or YYYY-MM-DD) in the strftime `format`.
fn format_date(format: &str, s: &str) -> TeraResult<String> {
    use chrono::format::{Item, StrftimeItems};
    let items: Vec<Item<'_>> = StrftimeItems::new(format).collect();
    if items.iter().any(|i| matches!(i, Item::Error)) {
        return Err(tera::Error::message(format!(
            "date: {format:?} is not a valid strftime format"
        )));
    }
    let date = Date::parse(s).map_err(|e| tera::Error::message(format!("date: {e}")))?;
    Ok(date.at.format_with_items(items.into_iter()).to_string())
}

thread_local! {
    /// The thread's dates formatted by [`date_filter`].
    static FORMATTED: std::cell::RefCell<Memo> = Default::default();
}

/// Results of a pure function of two strings, by its arguments; at most [`Memo::MAX`]
/// (then it starts again), so no site makes it grow without bound.
#[derive(Default)]
struct Memo {
    table: hashbrown::HashTable<Kept>,
}

/// A result kept: the hash of the arguments, the arguments, the result.
struct Kept {
    hash: u64,
    a: Box<str>,
    b: Box<str>,
    out: Box<str>,
}

impl Memo {
    const MAX: usize = 1 << 15;

    /// `f(a, b)`, computed only if not kept already (an error is returned, not kept).
    fn get(
        &mut self,
        a: &str,
        b: &str,
        f: impl FnOnce(&str, &str) -> TeraResult<String>,
    ) -> TeraResult<String> {
        use std::hash::{BuildHasher, Hasher};
        let mut h = rustc_hash::FxBuildHasher.build_hasher();
        h.write(a.as_bytes());
        h.write_u8(0xff); // no UTF-8 byte: ("ab", "c") and ("a", "bc") differ
        h.write(b.as_bytes());
        let hash = h.finish();
        let same = |k: &Kept| k.hash == hash && *k.a == *a && *k.b == *b;
        if let Some(k) = self.table.find(hash, same) {
            return Ok(k.out.to_string());
        }
        let out = f(a, b)?;
        if self.table.len() >= Self::MAX {
            self.table.clear();
        }
        let kept = Kept {
            hash,
            a: a.into(),
            b: b.into(),
            out: out.as_str().into(),
        };
        self.table.insert_unique(hash, kept, |k| k.hash);
        Ok(out)
    }
}

/// `{{ value | json_encode }}`: JSON for a `<script type="application/ld+json">` element.
/// `<`, `>`, `&`, `'` and U+2028/9 are escaped as `\uXXXX`, so no text can close the script.
/// Do not use it inside an HTML attribute.
fn json_encode(v: &Value, _: Kwargs, _: &State) -> TeraResult<Value> {
    let json =
        serde_json::to_string(v).map_err(|e| tera::Error::message(format!("json_encode: {e}")))?;
    Ok(Value::safe_string(&crate::support::escape::json_for_html(
        &json,
    )))
}

fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> BTreeMap<String, TemplateFile> {
        let mut all: BTreeMap<String, TemplateFile> = REQUIRED
            .iter()
            .map(|n| {
                (
                    n.to_string(),
                    TemplateFile {
                        text: "ok".into(),
                        shown: PathBuf::from("themes/t/templates").join(n),
                    },
                )
            })
            .collect();
        for (n, t) in list {
            all.insert(
                n.to_string(),
                TemplateFile {
                    text: t.to_string(),
                    shown: PathBuf::from("templates").join(n),
                },
            );
        }
        all
    }

    fn render(t: &Templates, name: &str, ctx: &Context) -> String {
        let mut out = Vec::new();
        t.render_to(name, ctx, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn autoescape_includes_single_quotes() {
        let t = Templates::new(
            &files(&[("x.html", "<a title='{{ v }}'>{{ v }}</a>")]),
            "https://e.x",
        )
        .unwrap();
        let mut ctx = Context::new();
        ctx.insert("v", "' onmouseover='alert(1)\"<b>&");
        let out = render(&t, "x.html", &ctx);
        assert_eq!(
            out,
            "<a title='&#39; onmouseover=&#39;alert(1)&quot;&lt;b&gt;&amp;'>&#39; onmouseover=&#39;alert(1)&quot;&lt;b&gt;&amp;</a>"
        );
    }

    #[test]
    fn json_encode_cannot_close_script() {
        let t = Templates::new(
            &files(&[(
                "x.html",
                "<script type=\"application/ld+json\">{{ v | json_encode }}</script>",
            )]),
            "https://e.x",
        )
        .unwrap();
        let mut ctx = Context::new();
        ctx.insert("v", "</script><script>alert(1)</script>");
        let out = render(&t, "x.html", &ctx);
        assert_eq!(out.matches("</script>").count(), 1, "{out}");
        assert!(out.contains("\\u003c/script\\u003e"), "{out}");
    }

    #[test]
    fn date_filter_formats_and_rejects_bad_formats() {
        let t = Templates::new(
            &files(&[
                ("x.html", "{{ d | date(format=\"%e %B %Y\") }}"),
                ("bad.html", "{{ d | date(format=\"%Q\") }}"),
            ]),
            "https://e.x",
        )
        .unwrap();
        let mut ctx = Context::new();
        ctx.insert("d", "2024-05-14T08:30:00Z");
        assert_eq!(render(&t, "x.html", &ctx), "14 May 2024");
        let mut out = Vec::new();
        let err = t.render_to("bad.html", &ctx, &mut out).unwrap_err();
        assert_eq!(err.file(), Some(std::path::Path::new("templates/bad.html")));
        assert!(err.message.contains("strftime"), "{err}");
    }

    #[test]
    fn date_filter_memo_gives_what_the_function_gives() {
        let mut memo = Memo::default();
        let calls = std::cell::Cell::new(0);
        let f = |a: &str, b: &str| {
            calls.set(calls.get() + 1);
            format_date(a, b)
        };
        // A repeat is a lookup, with the same result.
        for _ in 0..3 {
            assert_eq!(
                memo.get("%-d %b %Y", "2024-05-14T08:30:00Z", f).unwrap(),
                "14 May 2024"
            );
        }
        assert_eq!(calls.get(), 1);
        // Neither argument alone is the key, nor where one ends and the other starts.
        assert_eq!(memo.get("%Y", "2024-05-14T08:30:00Z", f).unwrap(), "2024");
        assert_eq!(
            memo.get("%-d %b %Y", "2023-01-02", f).unwrap(),
            "2 Jan 2023"
        );
        assert!(memo.get("%Y2", "023-01-02", f).is_err());
        assert_eq!(calls.get(), 4);
        // An error is given again, not kept as a result.
        for _ in 0..2 {
            assert!(memo.get("%Q", "2024-05-14", f).is_err());
        }
        assert_eq!(calls.get(), 6);
        // At its bound it starts again, still right.
        for d in 1..=Memo::MAX + 10 {
            let day = format!("2024-01-01T00:00:{:02}Z", d % 60);
            let key = format!("{d}");
            let got = memo.get(&key, &day, |_, b| Ok(b.to_string())).unwrap();
            assert_eq!(got, day);
        }
        assert!(memo.table.len() <= Memo::MAX);
        assert_eq!(
            memo.get("%-d %b %Y", "2024-05-14T08:30:00Z", f).unwrap(),
            "14 May 2024"
        );
    }

    #[test]
    fn syntax_error_names_file_line_and_column() {
        let errs = Templates::new(
            &files(&[("post.html", "line one\n{% if x %}\n{{ oops ")]),
            "https://e.x",
        )
        .err()
        .unwrap();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(
            errs[0].file(),
            Some(std::path::Path::new("templates/post.html"))
        );
        assert!(
            errs[0].line.is_some() && errs[0].column.is_some(),
            "{}",
            errs[0]
        );
    }

    #[test]
    fn missing_required_template() {
        let mut f = files(&[]);
        f.remove("post.html");
        let errs = Templates::new(&f, "https://e.x").err().unwrap();
        assert!(errs[0].message.contains("post.html"));
    }

    #[test]
    fn missing_parent_named() {
        let errs = Templates::new(
            &files(&[("child.html", "{% extends \"nope.html\" %}")]),
            "https://e.x",
        )
        .err()
        .unwrap();
        assert!(errs[0].message.contains("nope.html"), "{}", errs[0]);
        assert_eq!(
            errs[0].file(),
            Some(std::path::Path::new("templates/child.html"))
        );
    }

    #[test]
    fn absolute_url_filter() {
        let t = Templates::new(
            &files(&[("x.html", "{{ u | absolute_url }}")]),
            "https://e.x",
        )
        .unwrap();
        let mut ctx = Context::new();
        ctx.insert("u", "/posts/a/");
        assert_eq!(render(&t, "x.html", &ctx), "https://e.x/posts/a/");
    }
}
