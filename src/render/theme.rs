//! Where templates and theme files come from.
//!
//! A theme is `themes/<name>/` with `templates/` and `static/`. The default theme is also
//! compiled into the binary, so a site without a `themes/default/` folder (like the
//! benchmark corpus, or a site made by `sitrep init` that deleted it) still builds. The
//! site's own `templates/` and `static/` override the theme's, file by file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};

use crate::error::Diagnostic;

/// The default theme, as it was when this binary was built.
pub static DEFAULT_THEME: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/themes/default");

/// The name of the built-in theme.
pub const DEFAULT_THEME_NAME: &str = "default";

/// Bytes of a static file: on disk, or compiled in.
#[derive(Debug, Clone)]
pub enum FileSource {
    Disk(PathBuf),
    Embedded(&'static [u8]),
}

/// A template's text and the file it came from (as shown in messages).
#[derive(Debug, Clone)]
pub struct TemplateFile {
    pub text: String,
    pub shown: PathBuf,
}

/// The templates and static files a build uses, after overrides.
#[derive(Debug, Default)]
pub struct ThemeFiles {
    /// Template name (`post.html`, `partials/head.html`) -> file.
    pub templates: BTreeMap<String, TemplateFile>,
    /// Output path (relative) -> where its bytes come from.
    pub statics: BTreeMap<PathBuf, (FileSource, PathBuf)>,
}

/// Collects the theme's files and the site's overrides.
pub fn load(root: &Path, theme: &str) -> Result<ThemeFiles, Vec<Diagnostic>> {
    let mut files = ThemeFiles::default();
    let mut errors = Vec::new();
    let theme_dir = root.join("themes").join(theme);
    let shown_theme = PathBuf::from("themes").join(theme);
    if theme_dir.is_dir() {
        read_dir_into(
            &theme_dir.join("templates"),
            &shown_theme.join("templates"),
            &mut files,
            true,
            &mut errors,
        );
        read_dir_into(
            &theme_dir.join("static"),
            &shown_theme.join("static"),
            &mut files,
            false,
            &mut errors,
        );
    } else if theme == DEFAULT_THEME_NAME {
        embedded_into(&mut files);
    } else {
        let mut available: Vec<String> = std::fs::read_dir(root.join("themes"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        available.push(DEFAULT_THEME_NAME.to_string());
        available.sort();
        available.dedup();
        errors.push(
            Diagnostic::error(
                "site.toml",
                format!(
                    "theme `{theme}` not found: there is no folder {}",
                    shown_theme.display()
                ),
            )
            .with_help(format!(
                "set `theme` to one of: {}; or create {}/templates/",
                available.join(", "),
                shown_theme.display()
            )),
        );
        return Err(errors);
    }
    read_dir_into(
        &root.join("templates"),
        Path::new("templates"),
        &mut files,
        true,
        &mut errors,
    );
    read_dir_into(
        &root.join("static"),
        Path::new("static"),
        &mut files,
        false,
        &mut errors,
    );
    if errors.is_empty() {
        Ok(files)
    } else {
        Err(errors)
    }
}

fn read_dir_into(
    dir: &Path,
    shown: &Path,
    files: &mut ThemeFiles,
    templates: bool,
    errors: &mut Vec<Diagnostic>,
) {
    if !dir.is_dir() {
        return;
    }
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e
                    .path()
                    .map_or_else(|| shown.to_path_buf(), Path::to_path_buf);
                let msg = match e.loop_ancestor() {
                    Some(a) => format!("symbolic link loop back to {}", a.display()),
                    None => e.to_string(),
                };
                errors.push(Diagnostic::error(path, msg).with_help("fix or remove the file"));
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(dir) else {
            continue;
        };
        let shown_path = shown.join(rel);
        if templates {
            let name = rel.to_string_lossy().replace('\\', "/");
            match std::fs::read(entry.path()) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => {
                        files.templates.insert(
                            name,
                            TemplateFile {
                                text,
                                shown: shown_path,
                            },
                        );
                    }
                    Err(_) => errors.push(
                        Diagnostic::error(shown_path, "the template is not valid UTF-8")
                            .with_help("save it as UTF-8"),
                    ),
                },
                Err(e) => errors.push(Diagnostic::io(&shown_path, "read", &e)),
            }
        } else {
            files.statics.insert(
                rel.to_path_buf(),
                (FileSource::Disk(entry.path().to_path_buf()), shown_path),
            );
        }
    }
}

/// The built-in theme's templates, by name.
pub fn embedded_templates_into(templates: &mut BTreeMap<String, TemplateFile>) {
    let mut files = ThemeFiles::default();
    embedded_into(&mut files);
    templates.append(&mut files.templates);
}

fn embedded_into(files: &mut ThemeFiles) {
    fn walk(dir: &'static Dir<'static>, out: &mut Vec<&'static include_dir::File<'static>>) {
        out.extend(dir.files());
        for d in dir.dirs() {
            walk(d, out);
        }
    }
    let mut all = Vec::new();
    walk(&DEFAULT_THEME, &mut all);
    let shown_root = Path::new("(built-in theme)");
    for f in all {
        let path = f.path();
        if let Ok(rel) = path.strip_prefix("templates") {
            let name = rel.to_string_lossy().replace('\\', "/");
            if let Some(text) = f.contents_utf8() {
                files.templates.insert(
                    name,
                    TemplateFile {
                        text: text.to_string(),
                        shown: shown_root.join(path),
                    },
                );
            }
        } else if let Ok(rel) = path.strip_prefix("static") {
            files.statics.insert(
                rel.to_path_buf(),
                (FileSource::Embedded(f.contents()), shown_root.join(path)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_theme_has_templates() {
        let mut files = ThemeFiles::default();
        embedded_into(&mut files);
        for name in [
            "base.html",
            "post.html",
            "index.html",
            "page.html",
            "taxonomy_list.html",
            "taxonomy_term.html",
            "404.html",
        ] {
            assert!(files.templates.contains_key(name), "{name} missing");
        }
    }

    #[test]
    fn site_templates_override_theme_file_by_file() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join("templates")).unwrap();
        std::fs::write(root.join("templates/post.html"), "mine").unwrap();
        let files = load(root, DEFAULT_THEME_NAME).unwrap();
        assert_eq!(files.templates["post.html"].text, "mine");
        assert_eq!(
            files.templates["post.html"].shown,
            PathBuf::from("templates/post.html")
        );
        assert!(files.templates["base.html"].text.contains("<html"));
    }

    #[test]
    fn unknown_theme_is_an_error_naming_choices() {
        let tmp = tempfile::tempdir().unwrap();
        let errs = load(tmp.path(), "fancy").unwrap_err();
        assert!(errs[0].message.contains("fancy"));
        assert!(errs[0].help.as_deref().unwrap().contains("default"));
    }
}
