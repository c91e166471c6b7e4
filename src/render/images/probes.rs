//! The probe cache: what a build learnt of each source image on disk (its content hash,
//! size in pixels and format), keyed by the file's path, length and modification time.
//!
//! A warm build looks a file up by `stat` alone: when its length and mtime are those
//! recorded, the recorded hash and size are used and the file is not read. The mtime only
//! decides whether a file is read and hashed again, never what is written: everything made
//! from an image is keyed by its content hash, so a touched but identical file makes the
//! same outputs, and output never depends on when a file was written.
//!
//! A file modified within the same clock tick as the cache was saved could change without
//! its mtime showing it ("racily clean", as git calls it): an entry whose mtime is not
//! older than the cache file's own is never trusted, and is hashed again (and saved again,
//! so the next build trusts it).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::SystemTime;

use crate::content::images::{Format, Probe};
use crate::support::fingerprint::Fingerprint;

/// The cache file, in the image cache folder.
pub const FILE: &str = "probes.txt";
/// The first line of the file; another one (an older format) is ignored.
const HEADER: &str = "sitrep-probes 3";

/// A file's identity as `stat` gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub len: u64,
    /// Nanoseconds since the Unix epoch (negative before it).
    pub mtime: i128,
}

impl Stamp {
    /// The stamp of `path`; `None` when it cannot be read (the caller reads the file and
    /// reports the error).
    pub fn of(path: &Path) -> Option<Stamp> {
        let m = std::fs::metadata(path).ok()?;
        Some(Stamp {
            len: m.len(),
            mtime: nanos(m.modified().ok()?),
        })
    }
}

fn nanos(t: SystemTime) -> i128 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}

/// What is known of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub stamp: Stamp,
    pub hash: Fingerprint,
    pub probe: Probe,
}

/// The cache as loaded, and what this build looked up and learnt.
#[derive(Debug, Default)]
pub struct Probes {
    old: HashMap<PathBuf, Entry>,
    /// The cache file's mtime: entries not older than it are not trusted.
    saved_at: Option<i128>,
    new: Mutex<HashMap<PathBuf, Entry>>,
    /// Whether an entry was added, changed or distrusted (so the file is saved again).
    changed: AtomicBool,
    /// How many files this build read (0 on a warm build with no new image).
    pub reads: AtomicUsize,
}

impl Probes {
    /// Loads the cache from `dir` (an empty one when there is none or it is damaged).
    pub fn load(dir: &Path) -> Probes {
        let path = dir.join(FILE);
        let mut p = Probes::default();
        let Ok(text) = std::fs::read_to_string(&path) else {
            return p;
        };
        let mut lines = text.lines();
        if lines.next() != Some(HEADER) {
            return p;
        }
        p.saved_at = Stamp::of(&path).map(|s| s.mtime);
        for line in lines {
            if let Some((file, e)) = parse_line(line) {
                p.old.insert(file, e);
            }
        }
        p
    }

    /// The entry of `path` if its stamp is the one recorded and trustworthy.
    pub fn get(&self, path: &Path, stamp: Stamp) -> Option<Entry> {
        let e = self.old.get(path)?;
        let racy = self.saved_at.is_none_or(|saved| stamp.mtime >= saved);
        if e.stamp != stamp || racy {
            return None;
        }
        self.new.lock().unwrap().insert(path.to_path_buf(), *e);
        Some(*e)
    }

    /// Records what was learnt of `path` by reading it.
    pub fn put(&self, path: &Path, entry: Entry) {
        if self.old.get(path) != Some(&entry)
            || self.saved_at.is_none_or(|s| entry.stamp.mtime >= s)
        {
            self.changed.store(true, Ordering::Relaxed);
        }
        self.new.lock().unwrap().insert(path.to_path_buf(), entry);
    }

    /// Counts a read of a source file.
    pub fn count_read(&self) {
        self.reads.fetch_add(1, Ordering::Relaxed);
    }

    /// Saves the entries this build used to `dir`, when they differ from the loaded ones
    /// (a warm build with nothing new writes nothing). Errors are ignored: the cache is
    /// only a shortcut.
    pub fn save(&self, dir: &Path) {
        let new = self.new.lock().unwrap();
        let same = !self.changed.load(Ordering::Relaxed)
            && new.len() == self.old.len()
            && new.keys().all(|k| self.old.contains_key(k));
        if same {
            return;
        }
        let mut rows: Vec<(&PathBuf, &Entry)> = new.iter().collect();
        rows.sort_by(|a, b| a.0.cmp(b.0));
        let mut text = String::with_capacity(64 + rows.len() * 120);
        text.push_str(HEADER);
        text.push('\n');
        for (file, e) in rows {
            let Some(f) = file.to_str().filter(|f| !f.contains(['\n', '\r'])) else {
                continue;
            };
            text.push_str(&format!(
                "{} {} {:032x} {} {} {} {}\t{f}\n",
                e.stamp.len,
                e.stamp.mtime,
                e.hash,
                e.probe.width,
                e.probe.height,
                format_name(e.probe.format),
                e.probe.orientation,
            ));
        }
        let _ = super::write_atomic(&dir.join(FILE), text.as_bytes());
    }
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Png => "png",
        Format::Jpeg => "jpeg",
        Format::Webp => "webp",
        Format::Gif => "gif",
        Format::Svg => "svg",
        Format::Other => "other",
    }
}

fn format_of(name: &str) -> Option<Format> {
    Some(match name {
        "png" => Format::Png,
        "jpeg" => Format::Jpeg,
        "webp" => Format::Webp,
        "gif" => Format::Gif,
        "svg" => Format::Svg,
        "other" => Format::Other,
        _ => return None,
    })
}

fn parse_line(line: &str) -> Option<(PathBuf, Entry)> {
    let (fields, file) = line.split_once('\t')?;
    let mut f = fields.split(' ');
    let len = f.next()?.parse().ok()?;
    let mtime = f.next()?.parse().ok()?;
    let hash = u128::from_str_radix(f.next()?, 16).ok()?;
    let width = f.next()?.parse().ok()?;
    let height = f.next()?.parse().ok()?;
    let format = format_of(f.next()?)?;
    let orientation = f.next()?.parse().ok().filter(|o| (1..=8).contains(o))?;
    if f.next().is_some() || file.is_empty() {
        return None;
    }
    Some((
        PathBuf::from(file),
        Entry {
            stamp: Stamp { len, mtime },
            hash,
            probe: Probe {
                width,
                height,
                format,
                orientation,
            },
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(len: u64, mtime: i128) -> Entry {
        Entry {
            stamp: Stamp { len, mtime },
            hash: 0x0123_4567_89ab_cdef_0011_2233_4455_6677,
            probe: Probe {
                width: 1600,
                height: 900,
                format: Format::Jpeg,
                orientation: 6,
            },
        }
    }

    #[test]
    fn saved_entries_come_back_and_a_changed_stamp_misses() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a b.jpg");
        let old = entry(10, 1_000);
        let p = Probes::load(dir.path());
        assert_eq!(
            p.get(&file, old.stamp),
            None,
            "an empty cache knows nothing"
        );
        p.put(&file, old);
        p.save(dir.path());
        let p = Probes::load(dir.path());
        assert_eq!(p.get(&file, old.stamp), Some(old));
        assert_eq!(
            p.get(
                &file,
                Stamp {
                    len: 11,
                    mtime: 1_000
                }
            ),
            None
        );
        assert_eq!(
            p.get(
                &file,
                Stamp {
                    len: 10,
                    mtime: 1_001
                }
            ),
            None
        );
        assert_eq!(p.get(&dir.path().join("other.jpg"), old.stamp), None);
    }

    #[test]
    fn entries_not_older_than_the_cache_file_are_distrusted() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.png");
        let p = Probes::load(dir.path());
        // Modified "after" the cache was saved (far in the future).
        let racy = entry(10, i128::MAX / 2);
        p.put(&file, racy);
        p.save(dir.path());
        let p = Probes::load(dir.path());
        assert_eq!(p.get(&file, racy.stamp), None);
        // Hashed again with the same result: still saved again, so it can become trusted.
        p.put(&file, racy);
        assert!(p.changed.load(Ordering::Relaxed));
    }

    #[test]
    fn a_warm_lookup_writes_nothing_and_unused_entries_leave() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.png"), dir.path().join("b.png"));
        let p = Probes::load(dir.path());
        p.put(&a, entry(1, 5));
        p.put(&b, entry(2, 5));
        p.save(dir.path());
        let before = std::fs::read(dir.path().join(FILE)).unwrap();
        let stamp = Stamp::of(&dir.path().join(FILE)).unwrap();
        let p = Probes::load(dir.path());
        assert!(p.get(&a, entry(1, 5).stamp).is_some());
        assert!(p.get(&b, entry(2, 5).stamp).is_some());
        p.save(dir.path());
        assert_eq!(
            Stamp::of(&dir.path().join(FILE)),
            Some(stamp),
            "not rewritten"
        );
        let p = Probes::load(dir.path());
        assert!(p.get(&a, entry(1, 5).stamp).is_some());
        p.save(dir.path());
        let after = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
        assert_ne!(after.as_bytes(), &before[..]);
        assert!(
            after.contains("a.png") && !after.contains("b.png"),
            "{after}"
        );
    }

    #[test]
    fn damaged_lines_and_other_formats_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(FILE),
            format!("{HEADER}\nnot a line\n1 2 zz 3 4 png 1\tx.png\n1 2 ff 3 4 png 9\tbad.png\n1 2 ff 3 4 png 1\tok.png\n"),
        )
        .unwrap();
        let p = Probes::load(dir.path());
        assert_eq!(p.old.len(), 1);
        std::fs::write(
            dir.path().join(FILE),
            "sitrep-probes 2\n1 2 ff 3 4 png 1\tok.png\n",
        )
        .unwrap();
        assert!(Probes::load(dir.path()).old.is_empty());
    }
}
