//! The build cache, in a folder sitrep owns (`.sitrep-cache/` at the site root).
//!
//! * `content.bin`: every parsed page (front matter, rendered and highlighted Markdown) with
//!   the fingerprint of its source file, valid only for the same sitrep version, config and
//!   flags. A warm build re-parses only files whose bytes changed.
//! * `outputs.bin`: the manifest of the output folder the last build wrote: each file's
//!   fingerprint (of everything it was rendered from), size and modification time. A warm
//!   build re-renders only outputs whose fingerprint changed, or whose file on disk no
//!   longer matches.
//!
//! Every file is written atomically (temporary file, then rename). A cache that cannot be
//! read, or was written by another version, is ignored: the build is cold, never wrong.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::content::Page;
use crate::error::Diagnostic;
use crate::fingerprint::{Builder, Fingerprint};

/// The cache folder inside a site.
pub const CACHE_DIR: &str = ".sitrep-cache";
const CONTENT_FILE: &str = "content.bin";
const OUTPUTS_FILE: &str = "outputs.bin";
/// Bumped whenever the layout of the cache files changes.
const FORMAT: u32 = 1;

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
#[derive(Debug, Serialize, Deserialize)]
pub struct CachedFile {
    pub hash: Fingerprint,
    pub page: Page,
    pub warnings: Vec<Diagnostic>,
}

#[derive(Serialize)]
struct CachedFileRef<'a> {
    hash: Fingerprint,
    page: &'a Page,
    warnings: Vec<&'a Diagnostic>,
}

#[derive(Deserialize)]
struct ContentFile {
    format: u32,
    key: Fingerprint,
    files: Vec<(PathBuf, CachedFile)>,
}

#[derive(Serialize)]
struct ContentFileRef<'a> {
    format: u32,
    key: Fingerprint,
    files: Vec<(&'a Path, CachedFileRef<'a>)>,
}

/// Pages from the last build, handed out once each to the parallel content walk.
#[derive(Default)]
pub struct ContentCache {
    index: HashMap<PathBuf, usize>,
    slots: Vec<Mutex<Option<CachedFile>>>,
}

impl ContentCache {
    /// The cached page of `file` (relative to the site root), if its source still hashes to
    /// `hash`.
    pub fn take(&self, file: &Path, hash: Fingerprint) -> Option<CachedFile> {
        let slot = self.slots.get(*self.index.get(file)?)?;
        let mut guard = slot.lock().ok()?;
        if guard.as_ref().is_some_and(|c| c.hash == hash) {
            guard.take()
        } else {
            None
        }
    }

    /// How many cached files no source asked for (deleted, renamed, or now failing).
    pub fn untaken(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| s.lock().map(|g| g.is_some()).unwrap_or(true))
            .count()
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
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
    pub files: BTreeMap<PathBuf, FileState>,
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
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    pub fn new(root: &Path) -> Cache {
        Cache {
            dir: root.join(CACHE_DIR),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Cached pages, if the cache was written with the same `key`.
    pub fn load_content(&self, key: Fingerprint) -> Option<ContentCache> {
        let bytes = std::fs::read(self.dir.join(CONTENT_FILE)).ok()?;
        let file: ContentFile = rmp_serde::from_slice(&bytes).ok()?;
        if file.format != FORMAT || file.key != key {
            return None;
        }
        let mut cache = ContentCache::default();
        for (path, cached) in file.files {
            cache.index.insert(path, cache.slots.len());
            cache.slots.push(Mutex::new(Some(cached)));
        }
        Some(cache)
    }

    /// Saves the pages of this build (and the warnings of their files) under `key`.
    pub fn save_content<'a>(
        &self,
        key: Fingerprint,
        pages: impl Iterator<Item = &'a Page>,
        warnings: &'a [Diagnostic],
    ) -> std::io::Result<()> {
        let mut by_file: HashMap<&Path, Vec<&Diagnostic>> = HashMap::new();
        for w in warnings {
            by_file.entry(w.file.as_path()).or_default().push(w);
        }
        let files = pages
            .map(|p| {
                let warnings = by_file.get(p.file.as_path()).cloned().unwrap_or_default();
                (
                    p.file.as_path(),
                    CachedFileRef {
                        hash: p.source_hash,
                        page: p,
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
                    files,
                },
            )
            .map_err(std::io::Error::other)
        })
    }

    /// The manifest of the last build's output, if it is for `output`.
    pub fn load_manifest(&self, output: &Path) -> Option<Manifest> {
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

    pub fn save_manifest(&self, manifest: &Manifest) -> std::io::Result<()> {
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

    /// Forgets the output manifest (before touching the output it describes).
    pub fn forget_manifest(&self) {
        let _ = std::fs::remove_file(self.dir.join(OUTPUTS_FILE));
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
            files: BTreeMap::new(),
        };
        m.files.insert(
            "index.html".into(),
            FileState {
                fingerprint: 7,
                size: 1,
                mtime_ns: 2,
            },
        );
        cache.save_manifest(&m).unwrap();
        assert_eq!(cache.load_manifest(&out).unwrap().files.len(), 1);
        // A new folder at the same path is another folder.
        std::fs::remove_dir(&out).unwrap();
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("x"), "").unwrap();
        let other = tmp.path().join("elsewhere");
        std::fs::create_dir(&other).unwrap();
        assert!(cache.load_manifest(&other).is_none());
        cache.forget_manifest();
        assert!(cache.load_manifest(&out).is_none());
    }

    #[test]
    fn garbage_cache_is_ignored() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::new(tmp.path());
        std::fs::create_dir_all(cache.dir()).unwrap();
        std::fs::write(cache.dir().join(CONTENT_FILE), b"not msgpack").unwrap();
        std::fs::write(cache.dir().join(OUTPUTS_FILE), b"\x00\x01").unwrap();
        assert!(cache.load_content(1).is_none());
        assert!(cache.load_manifest(tmp.path()).is_none());
    }
}
