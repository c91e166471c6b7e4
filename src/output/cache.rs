//! The build cache, in a folder sitrep owns (`.sitrep-cache/` at the site root).
//!
//! * `content.bin`: every parsed page with the fingerprint of its source file, valid only
//!   for the same sitrep version, config and flags. A warm build re-parses only files whose
//!   bytes changed. The rendered (and highlighted) bodies live in `html-<N>.bin`, read back
//!   only for pages that are rendered again; new bodies are appended to it, and it is
//!   rewritten as generation N+1 when most of it is stale.
//! * `outputs.bin`: the manifest of the output folder the last build wrote: each file's
//!   fingerprint (of everything it was rendered from), size and modification time. A warm
//!   build re-renders only outputs whose fingerprint changed, or whose file on disk no
//!   longer matches.
//!
//! Every file is written atomically (temporary file, then rename). A cache that cannot be
//! read, or was written by another version, is ignored: the build is cold, never wrong.
//!
//! A build talks to a [`Store`]: [`Cache`] on disk for `sitrep build`, [`MemoryStore`] for
//! `serve`, which keeps everything in memory between rebuilds and is told which files
//! changed, or [`NoStore`] for `--no-cache`.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::content::body::{Html, HtmlLoc, HtmlStore};
use crate::content::{Page, Reuse, Reused};
use crate::error::Diagnostic;
use crate::support::fingerprint::{self, Builder, Fingerprint};

/// The cache folder inside a site.
pub const CACHE_DIR: &str = ".sitrep-cache";
const CONTENT_FILE: &str = "content.bin";
const OUTPUTS_FILE: &str = "outputs.bin";
/// Bumped whenever the layout of the cache files changes.
const FORMAT: u32 = 3;

/// The key that makes cached pages valid: same sitrep, same config, same flags.
pub fn content_key(config_fingerprint: Fingerprint, drafts: bool) -> Fingerprint {
    Builder::new("content-cache")
        .num(FORMAT.into())
        .str(env!("CARGO_PKG_VERSION"))
        .fp(config_fingerprint)
        .num(drafts.into())
        .finish()
}

/// One cached source file.
#[derive(Debug)]
pub struct CachedFile {
    pub hash: Fingerprint,
    pub page: Arc<Page>,
    pub warnings: Vec<Diagnostic>,
}

#[derive(Deserialize)]
struct CachedEntry {
    hash: Fingerprint,
    page: Page,
    html: HtmlLoc,
    warnings: Vec<Diagnostic>,
}

#[derive(Serialize)]
struct CachedEntryRef<'a> {
    hash: Fingerprint,
    page: &'a Page,
    html: HtmlLoc,
    warnings: Vec<&'a Diagnostic>,
}

#[derive(Deserialize)]
struct ContentFile {
    format: u32,
    key: Fingerprint,
    generation: u64,
    files: Vec<(PathBuf, CachedEntry)>,
}

#[derive(Serialize)]
struct ContentFileRef<'a> {
    format: u32,
    key: Fingerprint,
    generation: u64,
    files: Vec<(&'a Path, CachedEntryRef<'a>)>,
}

impl Reuse for ContentCache {
    fn same_bytes(&self, file: &Path, hash: Fingerprint) -> Option<Reused> {
        let slot = self.slots.get(*self.index.get(file)?)?;
        let mut guard = slot.lock().ok()?;
        if guard.as_ref().is_some_and(|c| c.hash == hash) {
            guard.take().map(CachedFile::reused)
        } else {
            None
        }
    }

    fn unchanged(&self, file: &Path) -> Option<Reused> {
        if self.changed.as_ref()?.contains(file) {
            return None;
        }
        let slot = self.slots.get(*self.index.get(file)?)?;
        slot.lock().ok()?.take().map(CachedFile::reused)
    }
}

impl CachedFile {
    fn reused(self) -> Reused {
        Reused {
            page: self.page,
            warnings: self.warnings,
        }
    }
}

/// Pages from the last build, handed out once each to the parallel content walk.
#[derive(Default)]
pub struct ContentCache {
    index: HashMap<PathBuf, usize>,
    slots: Vec<Mutex<Option<CachedFile>>>,
    /// When known, the files changed since the last build: every other file's page is
    /// taken without reading the file again (serve knows this from the file watcher).
    changed: Option<HashSet<PathBuf>>,
}

impl ContentCache {
    fn from_files(files: impl IntoIterator<Item = (PathBuf, CachedFile)>) -> ContentCache {
        let mut cache = ContentCache::default();
        for (path, cached) in files {
            cache.index.insert(path, cache.slots.len());
            cache.slots.push(Mutex::new(Some(cached)));
        }
        cache
    }

    /// How many cached files no source asked for (deleted, renamed, or now failing).
    pub fn untaken(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| s.lock().map(|g| g.is_some()).unwrap_or(true))
            .count()
    }
}

/// What one output file was written from, and how it looked on disk afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileState {
    pub fingerprint: Fingerprint,
    pub size: u64,
    pub mtime_ns: i128,
}

/// The manifest of an output folder.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Manifest {
    /// The output folder, absolute, and its identity on disk (device, inode): a manifest
    /// only describes the very folder it was written for.
    pub output: PathBuf,
    pub device: u64,
    pub inode: u64,
    /// Output path (relative) -> state.
    pub files: HashMap<PathBuf, FileState>,
}

#[derive(Deserialize)]
struct ManifestFile {
    format: u32,
    manifest: Manifest,
}

#[derive(Serialize)]
struct ManifestFileRef<'a> {
    format: u32,
    manifest: &'a Manifest,
}

/// The cache folder of one site.
#[derive(Debug)]
pub struct Cache {
    dir: PathBuf,
    /// The HTML file of the content last read, to append to.
    html: Option<std::sync::Arc<HtmlStore>>,
}

impl Cache {
    pub fn new(root: &Path) -> Cache {
        Cache {
            dir: root.join(CACHE_DIR),
            html: None,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn html_path(&self, generation: u64) -> PathBuf {
        self.dir.join(format!("html-{generation}.bin"))
    }

    /// Cached pages, if the cache was written with the same `key`. Their bodies stay in
    /// the HTML file until asked for.
    pub fn read_content(&mut self, key: Fingerprint) -> Option<ContentCache> {
        self.html = None;
        let reader = std::io::BufReader::with_capacity(
            1 << 20,
            std::fs::File::open(self.dir.join(CONTENT_FILE)).ok()?,
        );
        let file: ContentFile = rmp_serde::from_read(reader).ok()?;
        if file.format != FORMAT || file.key != key {
            return None;
        }
        let store = HtmlStore::open(self.html_path(file.generation), file.generation).ok()?;
        let size = store.len().ok()?;
        if file
            .files
            .iter()
            .any(|(_, e)| e.html.offset.saturating_add(e.html.len) > size)
        {
            return None;
        }
        let store = Arc::new(store);
        self.html = Some(std::sync::Arc::clone(&store));
        Some(ContentCache::from_files(file.files.into_iter().map(
            |(path, e)| {
                let mut page = e.page;
                page.html = Html::stored(std::sync::Arc::clone(&store), e.html);
                let page = Arc::new(page);
                (
                    path,
                    CachedFile {
                        hash: e.hash,
                        page,
                        warnings: e.warnings,
                    },
                )
            },
        )))
    }

    /// Saves the pages of this build (and the warnings of their files) under `key`: bodies
    /// not yet in the HTML file are appended to it; when more than half of it would be
    /// stale, the bodies go to a new generation of the file instead.
    pub fn write_content(
        &mut self,
        key: Fingerprint,
        pages: &[Arc<Page>],
        warnings: &[Diagnostic],
    ) -> std::io::Result<()> {
        use std::io::{Seek, Write};
        std::fs::create_dir_all(&self.dir)?;
        let old = self.html.take();
        let live: u64 = pages.iter().map(|p| p.html.len() as u64).sum();
        let (generation, mut file, mut end) = match &old {
            Some(store) if store.len()? <= 2 * live + (1 << 20) => {
                let mut f = std::fs::OpenOptions::new()
                    .append(true)
                    .open(store.path())?;
                let end = f.seek(std::io::SeekFrom::End(0))?;
                (store.generation(), f, end)
            }
            _ => {
                let generation = old.as_ref().map_or(1, |s| s.generation() + 1);
                (
                    generation,
                    std::fs::File::create(self.html_path(generation))?,
                    0,
                )
            }
        };
        let mut locs = Vec::with_capacity(pages.len());
        {
            let mut w = std::io::BufWriter::with_capacity(1 << 20, &mut file);
            for p in pages {
                let kept = old
                    .as_ref()
                    .filter(|s| s.generation() == generation)
                    .and_then(|s| p.html.location_in(s));
                let loc = match kept {
                    Some(loc) => loc,
                    None => {
                        let body = p.html.get().map_err(|d| std::io::Error::other(d.message))?;
                        let loc = HtmlLoc {
                            offset: end,
                            len: body.len() as u64,
                            hash: fingerprint::of_bytes(body.as_bytes()),
                        };
                        w.write_all(body.as_bytes())?;
                        end += loc.len;
                        loc
                    }
                };
                locs.push(loc);
            }
            w.flush()?;
        }
        let mut by_file: HashMap<&Path, Vec<&Diagnostic>> = HashMap::new();
        for w in warnings {
            if let Some(file) = w.file() {
                by_file.entry(file).or_default().push(w);
            }
        }
        let files = pages
            .iter()
            .zip(locs)
            .map(|(p, html)| {
                let warnings = by_file.get(p.file.as_path()).cloned().unwrap_or_default();
                (
                    p.file.as_path(),
                    CachedEntryRef {
                        hash: p.source_hash,
                        page: p,
                        html,
                        warnings,
                    },
                )
            })
            .collect();
        self.write_atomically(CONTENT_FILE, |w| {
            rmp_serde::encode::write(
                w,
                &ContentFileRef {
                    format: FORMAT,
                    key,
                    generation,
                    files,
                },
            )
            .map_err(std::io::Error::other)
        })?;
        // Older generations are stale now.
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with("html-") && name != format!("html-{generation}.bin") {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        Ok(())
    }

    /// The manifest of the last build's output, if it is for `output`.
    pub fn read_manifest(&self, output: &Path) -> Option<Manifest> {
        let bytes = std::fs::read(self.dir.join(OUTPUTS_FILE)).ok()?;
        let file: ManifestFile = rmp_serde::from_slice(&bytes).ok()?;
        let (device, inode) = dir_identity(output)?;
        let m = file.manifest;
        let same = file.format == FORMAT
            && m.device == device
            && m.inode == inode
            && std::fs::canonicalize(output).ok()? == m.output;
        same.then_some(m)
    }

    pub fn write_manifest(&self, manifest: &Manifest) -> std::io::Result<()> {
        self.write_atomically(OUTPUTS_FILE, |w| {
            rmp_serde::encode::write(
                w,
                &ManifestFileRef {
                    format: FORMAT,
                    manifest,
                },
            )
            .map_err(std::io::Error::other)
        })
    }

    fn write_atomically(
        &self,
        name: &str,
        fill: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        use std::io::Write;
        std::fs::create_dir_all(&self.dir)?;
        let tmp = self.dir.join(format!("{name}.tmp-{}", std::process::id()));
        let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
        let written = fill(&mut w).and_then(|()| w.flush());
        match written {
            Ok(()) => std::fs::rename(&tmp, self.dir.join(name)),
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(e)
            }
        }
    }
}

/// What a build reuses from the last one, and keeps for the next.
pub trait Store {
    /// Pages of the last build, if they were made with the same `key`.
    fn load_content(&mut self, key: Fingerprint) -> Option<ContentCache>;
    /// Keeps this build's pages (and their files' warnings); `changed` is false when every
    /// page came from the cache and none went away.
    fn save_content(
        &mut self,
        key: Fingerprint,
        pages: Vec<Arc<Page>>,
        warnings: &[Diagnostic],
        changed: bool,
    );
    /// The manifest of `output` as the last build left it.
    fn load_manifest(&mut self, output: &Path) -> Option<Manifest>;
    fn save_manifest(&mut self, manifest: Manifest);
    /// Whether the output's files must be checked against the manifest before they are
    /// trusted (someone else may have touched them).
    /// Whether parsed data files (`intel`) may be kept on disk beside this cache.
    fn keeps_data_cache(&self) -> bool {
        false
    }
    /// Whether the build keeps its search index (to update it after an edit).
    fn keeps_search_index(&self) -> bool {
        false
    }
    fn verify_outputs(&self) -> bool;
}

/// `--no-cache`: nothing is reused or kept.
pub struct NoStore;

impl Store for NoStore {
    fn load_content(&mut self, _: Fingerprint) -> Option<ContentCache> {
        None
    }
    fn save_content(&mut self, _: Fingerprint, _: Vec<Arc<Page>>, _: &[Diagnostic], _: bool) {}
    fn load_manifest(&mut self, _: &Path) -> Option<Manifest> {
        None
    }
    fn save_manifest(&mut self, _: Manifest) {}
    fn verify_outputs(&self) -> bool {
        true
    }
}

impl Store for Cache {
    fn keeps_data_cache(&self) -> bool {
        true
    }
    fn load_content(&mut self, key: Fingerprint) -> Option<ContentCache> {
        self.read_content(key)
    }
    fn save_content(
        &mut self,
        key: Fingerprint,
        pages: Vec<Arc<Page>>,
        warnings: &[Diagnostic],
        changed: bool,
    ) {
        // A cache that cannot be written costs the next build time, not correctness.
        if changed {
            let _ = self.write_content(key, &pages, warnings);
        }
    }
    fn load_manifest(&mut self, output: &Path) -> Option<Manifest> {
        self.read_manifest(output)
    }
    fn save_manifest(&mut self, manifest: Manifest) {
        let _ = self.write_manifest(&manifest);
    }
    fn verify_outputs(&self) -> bool {
        true
    }
}

/// `serve`'s store: the last build's pages and manifest, in memory. Pages are cloned out
/// cheaply (their HTML is shared), so a failed rebuild loses nothing.
#[derive(Default)]
pub struct MemoryStore {
    content: Option<(Fingerprint, Vec<Arc<Page>>, Vec<Diagnostic>)>,
    manifest: Option<Manifest>,
    /// Files that changed since the last build, when known; the others are not read again.
    changed: Option<HashSet<PathBuf>>,
}

impl MemoryStore {
    /// Replaces one kept page (and its file's warnings) by a new version of it.
    pub fn replace_page(&mut self, page: Arc<Page>, warnings: &[Diagnostic]) {
        if let Some((_, pages, kept)) = &mut self.content {
            kept.retain(|w| w.file() != Some(page.file.as_path()));
            kept.extend(warnings.iter().cloned());
            if let Some(slot) = pages.iter_mut().find(|p| p.file == page.file) {
                *slot = page;
            }
        }
    }

    /// The files changed since the last build (relative to the site root); `None` when not
    /// known, and every file is read again.
    pub fn set_changed(&mut self, changed: Option<HashSet<PathBuf>>) {
        self.changed = changed;
    }
}

impl Store for MemoryStore {
    fn keeps_search_index(&self) -> bool {
        true
    }
    fn load_content(&mut self, key: Fingerprint) -> Option<ContentCache> {
        let (k, pages, warnings) = self.content.as_ref()?;
        if *k != key {
            return None;
        }
        let mut by_file: HashMap<&Path, Vec<Diagnostic>> = HashMap::new();
        for w in warnings {
            if let Some(file) = w.file() {
                by_file.entry(file).or_default().push(w.clone());
            }
        }
        let mut cache = ContentCache::from_files(pages.iter().map(|p| {
            let warnings = by_file.remove(p.file.as_path()).unwrap_or_default();
            (
                p.file.clone(),
                CachedFile {
                    hash: p.source_hash,
                    page: p.clone(),
                    warnings,
                },
            )
        }));
        cache.changed = self.changed.clone();
        Some(cache)
    }
    fn save_content(
        &mut self,
        key: Fingerprint,
        pages: Vec<Arc<Page>>,
        warnings: &[Diagnostic],
        _: bool,
    ) {
        let files: HashSet<&Path> = pages.iter().map(|p| p.file.as_path()).collect();
        let warnings = warnings
            .iter()
            .filter(|w| w.file().is_some_and(|f| files.contains(f)))
            .cloned()
            .collect();
        self.content = Some((key, pages, warnings));
    }
    fn load_manifest(&mut self, output: &Path) -> Option<Manifest> {
        // Taken, not copied: a build that fails after this writes the next output whole.
        let m = self.manifest.take()?;
        (dir_identity(output) == Some((m.device, m.inode))).then_some(m)
    }
    fn save_manifest(&mut self, manifest: Manifest) {
        self.manifest = Some(manifest);
    }
    fn verify_outputs(&self) -> bool {
        false
    }
}

/// (device, inode) of a folder.
pub fn dir_identity(dir: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(dir).ok()?;
    m.is_dir().then(|| (m.dev(), m.ino()))
}

/// Size and modification time of a file, as recorded in manifests.
pub fn file_state(meta: &std::fs::Metadata, fingerprint: Fingerprint) -> FileState {
    use std::os::unix::fs::MetadataExt;
    FileState {
        fingerprint,
        size: meta.len(),
        mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_only_for_its_own_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::new(tmp.path());
        let out = tmp.path().join("public");
        std::fs::create_dir(&out).unwrap();
        let (device, inode) = dir_identity(&out).unwrap();
        let mut m = Manifest {
            output: std::fs::canonicalize(&out).unwrap(),
            device,
            inode,
            files: HashMap::new(),
        };
        m.files.insert(
            "index.html".into(),
            FileState {
                fingerprint: 7,
                size: 1,
                mtime_ns: 2,
            },
        );
        cache.write_manifest(&m).unwrap();
        assert_eq!(cache.read_manifest(&out).unwrap().files.len(), 1);
        let other = tmp.path().join("elsewhere");
        std::fs::create_dir(&other).unwrap();
        assert!(cache.read_manifest(&other).is_none());
    }

    #[test]
    fn garbage_cache_is_ignored() {
        let tmp = tempfile::tempdir().unwrap();
        let mut cache = Cache::new(tmp.path());
        std::fs::create_dir_all(cache.dir()).unwrap();
        std::fs::write(cache.dir().join(CONTENT_FILE), b"not msgpack").unwrap();
        std::fs::write(cache.dir().join(OUTPUTS_FILE), b"\x00\x01").unwrap();
        assert!(cache.read_content(1).is_none());
        assert!(cache.read_manifest(tmp.path()).is_none());
    }
}
