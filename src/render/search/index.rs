//! The search index, as static JSON files the client fetches piece by piece:
//!
//! - `search/index.json`, the manifest: the number of posts, the record chunk size and a
//!   key for every shard, in order: the shortest prefix of its first term that sorts after
//!   the last term of the shard before;
//! - `search/s/k<hex>.json`, the shards: terms in sorted order (UTF-16 code units, the order
//!   of JavaScript's `<`), each `[term, posts with the term, [id gap, impact, …]]`. A shard is
//!   named by the UTF-8 bytes of its key in hex, so the client knows the file from the
//!   manifest alone and a shard keeps its name while its first term stays;
//! - `search/r/<n>.json`, the records: `[url, title, date, [tldr], [tags]]` of posts
//!   `n * CHUNK` to `n * CHUNK + CHUNK - 1`.
//!
//! Post ids count from the oldest post, so a new post does not renumber the others. Shard
//! boundaries are content-defined (a term whose hash has its low bits zero ends a shard once
//! it is big enough), so a change moves only the boundaries near it: a warm build rewrites
//! only the shards whose bytes changed.
//!
//! Ranking is BM25 with field weights, split in two: the build stores each posting's
//! term-frequency part as an integer impact (title, tags, TLDR and body weighted, document
//! length normalised), and the client multiplies it by the term's inverse document frequency
//! from the number of posts having it. Posting lists longer than [`MAX_POSTINGS`] keep their
//! highest-impact postings, so no shard grows without bound with the site.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::tokenizer;
use crate::content::Page;
use crate::urls::Urls;

/// Posts per record file.
pub const CHUNK: usize = 8;
/// The longest posting list kept; a term in more posts keeps its best ones.
pub const MAX_POSTINGS: usize = 2500;
/// A shard ends at a content-defined boundary once it has this many bytes…
const SHARD_MIN: usize = 4_000;
/// …and before it would pass this many.
const SHARD_MAX: usize = 16_000;
/// One term in this many ends a shard (once it has `SHARD_MIN` bytes).
const BOUNDARY: u64 = 4;

/// Field weights of the ranking.
const W_TITLE: u32 = 6;
const W_TERMS: u32 = 4;
const W_TLDR: u32 = 3;
const W_BODY: u32 = 1;
const K1: f32 = 1.2;
const B: f32 = 0.75;
/// Impacts are the BM25 term-frequency part (0 to K1 + 1) times this, rounded, 1 to 99.
const IMPACT_SCALE: f32 = 45.0;

/// The folder of the index in the output.
pub const DIR: &str = "search";
/// The manifest.
pub const MANIFEST: &str = "search/index.json";

/// Bits of a packed body term's count; the others hold its length.
const COUNT_BITS: u32 = 20;
const COUNT_MASK: u32 = (1 << COUNT_BITS) - 1;
/// The longest term a packed length holds (the tokenizer's longest is 128 characters).
const MAX_TERM_BYTES: usize = (u32::MAX >> COUNT_BITS) as usize;

/// A body's search terms with their counts, made once when the page is parsed (and kept in
/// the build cache with it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BodyTerms {
    /// The distinct terms, by [`FIRST_BYTE_RANGES`], one after the other (one allocation
    /// per page).
    terms: String,
    /// Each term's length in bytes and count, as `length << COUNT_BITS | count`.
    packed: Vec<u32>,
    /// Where each of [`FIRST_BYTE_RANGES`] starts (byte offset in `terms`, index in
    /// `packed`), and their end.
    cuts: [(u32, u32); FIRST_BYTE_RANGES.len() + 1],
    /// Tokens in all.
    len: u32,
}

impl BodyTerms {
    /// The terms of a body's plain text.
    pub fn of(text: &str) -> BodyTerms {
        COUNTER.with_borrow_mut(|c| {
            let mut len = 0u32;
            tokenizer::tokenize(text, &mut |t, _| {
                len += 1;
                c.add(t, 1);
            });
            c.finish(len, |count| count)
        })
    }

    /// Terms one after the other in `terms`, with their packed lengths and counts.
    fn walk<'a>(terms: &'a str, packed: &'a [u32]) -> impl Iterator<Item = (&'a str, u32)> {
        let mut at = 0;
        packed.iter().map(move |&p| {
            let end = at + (p >> COUNT_BITS) as usize;
            let t = &terms[at..end];
            at = end;
            (t, p & COUNT_MASK)
        })
    }

    /// The terms in range `r` of [`FIRST_BYTE_RANGES`] with their counts, and the index of
    /// the first.
    fn range(&self, r: usize) -> (usize, impl Iterator<Item = (&str, u32)>) {
        self.ranges(r..r + 1)
    }

    /// The terms in ranges `rs` of [`FIRST_BYTE_RANGES`] (stored one after the other), with
    /// their counts, and the index of the first.
    fn ranges(&self, rs: std::ops::Range<usize>) -> (usize, impl Iterator<Item = (&str, u32)>) {
        let (from, to) = (self.cuts[rs.start], self.cuts[rs.end]);
        let terms = &self.terms[from.0 as usize..to.0 as usize];
        let packed = &self.packed[from.1 as usize..to.1 as usize];
        (from.1 as usize, Self::walk(terms, packed))
    }

    /// How many distinct terms are in ranges `rs` of [`FIRST_BYTE_RANGES`].
    fn count_in(&self, rs: std::ops::Range<usize>) -> usize {
        (self.cuts[rs.end].1 - self.cuts[rs.start].1) as usize
    }

    /// The terms that start with the byte `b`, and some that start with bytes near it.
    pub fn near(&self, b: u8) -> impl Iterator<Item = (&str, u32)> {
        self.range(usize::from(RANGE_OF[usize::from(b)])).1
    }

    /// Each term with its count (counts stop at [`COUNT_MASK`]: a term's ranking stopped
    /// growing long before).
    pub fn iter(&self) -> impl Iterator<Item = (&str, u32)> {
        Self::walk(&self.terms, &self.packed)
    }

    /// Tokens in all.
    pub fn len(&self) -> u32 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

thread_local! {
    /// The thread's [`Counter`], kept from one post to the next.
    static COUNTER: std::cell::RefCell<Counter> = Default::default();
}

/// Counts the distinct terms of a post, each with a weight: a hash table of indexes into
/// `found`, whose terms are slices of `bytes` (each distinct term copied once). Cleared,
/// not freed, after each post: no allocation per post but the result.
#[derive(Default)]
struct Counter {
    table: hashbrown::HashTable<u32>,
    found: Vec<Found>,
    bytes: String,
}

/// A distinct term while counting: its hash, where it is in [`Counter::bytes`], and its
/// weighted count (0 once [`Counter::take`]n).
struct Found {
    hash: u64,
    at: u32,
    len: u32,
    count: u32,
}

impl Counter {
    /// Where `t` is in `found`.
    fn find(&self, t: &str, hash: u64) -> Option<usize> {
        let Counter {
            table,
            found,
            bytes,
        } = self;
        let same = |&k: &u32| {
            let f = &found[k as usize];
            f.hash == hash && &bytes[f.at as usize..(f.at + f.len) as usize] == t
        };
        table.find(hash, same).map(|&k| k as usize)
    }

    /// Adds `w` to the count of `t`.
    fn add(&mut self, t: &str, w: u32) {
        // (No token is near MAX_TERM_BYTES: the tokenizer keeps none over MAX_CHARS.)
        if t.len() > MAX_TERM_BYTES {
            return;
        }
        let hash = term_hash(t);
        match self.find(t, hash) {
            Some(k) => self.found[k].count += w,
            None => {
                let Counter {
                    table,
                    found,
                    bytes,
                } = self;
                let k = found.len() as u32;
                found.push(Found {
                    hash,
                    at: bytes.len() as u32,
                    len: t.len() as u32,
                    count: w,
                });
                bytes.push_str(t);
                table.insert_unique(hash, k, |&k| found[k as usize].hash);
            }
        }
    }

    /// The count of `t`, leaving it out of [`Counter::finish`].
    fn take(&mut self, t: &str) -> Option<u32> {
        let k = self.find(t, term_hash(t))?;
        Some(std::mem::take(&mut self.found[k].count)).filter(|&c| c > 0)
    }

    /// A bit set of the terms counted, by [`sketch`].
    fn sketch(&self) -> [u64; 4] {
        let mut bits = [0u64; 4];
        for f in &self.found {
            let k = sketch(&self.bytes[f.at as usize..(f.at + f.len) as usize]);
            bits[k / 64] |= 1 << (k % 64);
        }
        bits
    }

    /// The terms counted (but those taken) in order of the first byte ranges the index is
    /// gathered by (within a range, in order of first use: the index sorts), placed by a
    /// counting sort, each with `value` of its count; `len` is the tokens in all. The
    /// counter is then empty.
    fn finish(&mut self, len: u32, value: impl Fn(u32) -> u32) -> BodyTerms {
        const R: usize = FIRST_BYTE_RANGES.len();
        let Counter {
            table,
            found,
            bytes,
        } = self;
        let range = |f: &Found| usize::from(range_of(&bytes[f.at as usize..]));
        let mut cuts = [(0u32, 0u32); R + 1];
        for f in found.iter().filter(|f| f.count > 0) {
            let r = range(f);
            cuts[r + 1].0 += f.len;
            cuts[r + 1].1 += 1;
        }
        for r in 0..R {
            cuts[r + 1].0 += cuts[r].0;
            cuts[r + 1].1 += cuts[r].1;
        }
        let mut at = cuts;
        let mut out = vec![0u8; cuts[R].0 as usize];
        let mut packed = vec![0u32; cuts[R].1 as usize];
        for f in found.iter().filter(|f| f.count > 0) {
            let r = range(f);
            let (b, k) = (at[r].0 as usize, at[r].1 as usize);
            out[b..b + f.len as usize]
                .copy_from_slice(&bytes.as_bytes()[f.at as usize..(f.at + f.len) as usize]);
            packed[k] = f.len << COUNT_BITS | value(f.count).min(COUNT_MASK);
            at[r].0 += f.len;
            at[r].1 += 1;
        }
        table.clear();
        found.clear();
        bytes.clear();
        // A post with very many terms does not keep its table's size for the rest.
        if found.capacity() > 1 << 16 {
            *self = Counter::default();
        }
        // Whole terms one after the other: UTF-8 still (cannot fail).
        let terms = String::from_utf8(out).unwrap_or_default();
        BodyTerms {
            terms,
            packed,
            cuts,
            len,
        }
    }
}

/// The hash of a term while counting.
fn term_hash(t: &str) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(t.as_bytes());
    h.finish()
}

/// A bit of 256 by a term's first byte and length: most body terms are in no other field
/// of the post, and a clear bit says so without hashing.
fn sketch(t: &str) -> usize {
    let b = t.as_bytes();
    (usize::from(b.first().copied().unwrap_or(0)) * 7 + b.len()) % 256
}

/// The search index of a site: every term with its postings and its shard entry, and the
/// record files. [`Index::files`] gives the files; `serve` keeps an index and
/// [`Index::update`]s it after an edit instead of building it again.
pub struct Index {
    /// Posts in the index.
    n: usize,
    /// Tokens in all bodies, for the length norm.
    total_len: u64,
    avgdl: f32,
    /// Every term in UTF-16 order (the order of the client's lookups).
    terms: Vec<Term>,
    /// Whether `terms` keep their postings (for [`Index::update`]).
    kept: bool,
    /// The bytes of each record file, oldest posts first.
    records: Vec<Vec<u8>>,
}

/// A term of the index.
struct Term {
    term: Box<str>,
    /// Its postings, by id (empty unless the index keeps them).
    postings: Vec<(u32, u8)>,
    /// Its shard entry, `["term",df,[gap,impact,…]]` (JSON text).
    entry: Vec<u8>,
}

impl Index {
    /// The index of `posts` (newest first, as the site sorts them). With `keep`, the
    /// postings are kept for [`Index::update`]; without, only the shard entries.
    pub fn build(posts: &[Arc<Page>], urls: &Urls, keep: bool) -> Index {
        let n = posts.len();
        let total_len = total_len(posts);
        let avgdl = length_norm(total_len, n);
        // Each post's impacts (one per body term, in the body terms' order, and the terms
        // only its other fields have) and the record files, in parallel by record file: a
        // post's fields are read for its record while its impacts left them in the cache.
        // Post `i` has id `n - 1 - i`; record file `c` has ids `c * CHUNK` and up.
        let (by_id, records): (Vec<Vec<Impacts>>, Vec<Vec<u8>>) = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let ids = c * CHUNK..((c + 1) * CHUNK).min(n);
                let imps = ids.map(|id| impacts(&posts[n - 1 - id], avgdl)).collect();
                (imps, record_chunk(posts, c, urls))
            })
            .unzip();
        let mut per_post: Vec<Impacts> = by_id.into_iter().flatten().collect();
        per_post.reverse();
        // Posting lists, gathered in parallel by groups of ranges of first byte: each post's
        // terms are stored by those ranges, so a group is one slice of them. One group per
        // thread: each group reads every post once.
        let groups = rayon::current_num_threads().clamp(1, FIRST_BYTE_RANGES.len());
        let parts: Vec<Gathered<'_>> = (0..groups)
            .into_par_iter()
            .map(|g| gather(posts, &per_post, group(g, groups)))
            .collect();
        let mut terms: Vec<Postings<'_>> = parts
            .iter()
            .flat_map(|g| g.terms.iter().map(|(t, at)| (*t, &g.postings[at.clone()])))
            .collect();
        terms.par_sort_unstable_by(|a, b| utf16_cmp(a.0, b.0));
        let terms: Vec<Term> = terms
            .into_par_iter()
            .map(|(t, list)| Term {
                term: t.into(),
                entry: entry(t, list),
                postings: if keep { list.to_vec() } else { Vec::new() },
            })
            .collect();
        Index {
            n,
            total_len,
            avgdl,
            terms,
            kept: keep,
            records,
        }
    }

    /// Puts post `i`'s new version (now `posts[i]`) in place of `old`, which had the same
    /// place in the site (date, and so id). `false` when that cannot be done in place (the
    /// index kept no postings, or the average length moved the length norm): build the
    /// index again.
    pub fn update(&mut self, posts: &[Arc<Page>], i: usize, old: &Page, urls: &Urls) -> bool {
        let new = &posts[i];
        let total =
            self.total_len - u64::from(old.body_terms.len()) + u64::from(new.body_terms.len());
        if !self.kept || posts.len() != self.n || length_norm(total, self.n) != self.avgdl {
            return false;
        }
        self.total_len = total;
        let id = (self.n - 1 - i) as u32;
        // Only postings that changed are touched: after a small edit most of the post's
        // terms keep their impact.
        let mut before: HashMap<String, u8> = all_impacts(old, self.avgdl).into_iter().collect();
        let mut after = all_impacts(new, self.avgdl);
        after.retain(|(t, q)| before.remove(t) != Some(*q));
        let mut touched = Vec::new();
        for t in before.keys() {
            if let Ok(k) = self.find(t) {
                let list = &mut self.terms[k].postings;
                if let Ok(at) = list.binary_search_by_key(&id, |p| p.0) {
                    list.remove(at);
                    touched.push(k);
                }
            }
        }
        let mut added = Vec::new();
        for (t, q) in after {
            match self.find(&t) {
                Ok(k) => {
                    let list = &mut self.terms[k].postings;
                    match list.binary_search_by_key(&id, |p| p.0) {
                        Ok(at) => list[at].1 = q,
                        Err(at) => list.insert(at, (id, q)),
                    }
                    touched.push(k);
                }
                Err(_) => added.push(Term {
                    entry: entry(&t, &[(id, q)]),
                    term: t.into(),
                    postings: vec![(id, q)],
                }),
            }
        }
        touched.sort_unstable();
        touched.dedup();
        for &k in &touched {
            let term = &mut self.terms[k];
            term.entry = entry(&term.term, &term.postings);
        }
        let emptied = touched.iter().any(|&k| self.terms[k].postings.is_empty());
        if !added.is_empty() || emptied {
            added.sort_unstable_by(|a, b| utf16_cmp(&a.term, &b.term));
            let old_terms = std::mem::take(&mut self.terms);
            self.terms = merge_sorted(old_terms, added);
        }
        let c = id as usize / CHUNK;
        self.records[c] = record_chunk(posts, c, urls);
        true
    }

    /// Where `term` is in `terms`.
    fn find(&self, term: &str) -> Result<usize, usize> {
        self.terms.binary_search_by(|t| utf16_cmp(&t.term, term))
    }

    /// The files of the index: path (relative to the output folder) and bytes, in a stable
    /// order.
    pub fn files(&self) -> Vec<(String, Vec<u8>)> {
        let mut files = self.shards();
        files.extend(
            self.records
                .iter()
                .enumerate()
                .map(|(c, bytes)| (record_path(c), bytes.clone())),
        );
        files
    }

    /// [`Index::files`], taking the index apart.
    pub fn into_files(self) -> Vec<(String, Vec<u8>)> {
        let mut files = self.shards();
        drop(self.terms);
        files.extend(
            self.records
                .into_iter()
                .enumerate()
                .map(|(c, bytes)| (record_path(c), bytes)),
        );
        files
    }

    /// The shards and the manifest.
    fn shards(&self) -> Vec<(String, Vec<u8>)> {
        let mut files = Vec::new();
        // Each shard's key: the shortest prefix of its first term that sorts after the last
        // term of the shard before (the manifest stays small; lookups find the same shard).
        let mut keys: Vec<&str> = Vec::new();
        let mut shard: Vec<u8> = Vec::new();
        let mut key = "";
        let mut last: Option<&str> = None;
        let flush = |shard: &mut Vec<u8>, key: &str, files: &mut Vec<(String, Vec<u8>)>| {
            if shard.is_empty() {
                return;
            }
            shard.push(b']');
            files.push((shard_path(key), std::mem::take(shard)));
        };
        for Term {
            term: t, entry: e, ..
        } in &self.terms
        {
            if !shard.is_empty() && shard.len() + e.len() > SHARD_MAX {
                flush(&mut shard, key, &mut files);
            }
            if shard.is_empty() {
                shard.reserve(SHARD_MAX + 2);
                shard.push(b'[');
                key = separator(last, t);
                keys.push(key);
            } else {
                shard.push(b',');
            }
            shard.extend_from_slice(e);
            last = Some(t);
            if shard.len() >= SHARD_MIN && xxhash_rust::xxh3::xxh3_64(t.as_bytes()) % BOUNDARY == 0
            {
                flush(&mut shard, key, &mut files);
            }
        }
        flush(&mut shard, key, &mut files);
        let manifest = serde_json::json!({
            "version": 1,
            "posts": self.n,
            "chunk": CHUNK,
            "shards": keys,
        });
        files.push((MANIFEST.to_string(), json(&manifest)));
        files
    }
}

/// The files of the index of `posts` (newest first, as the site sorts them): path
/// (relative to the output folder) and bytes, in a stable order.
pub fn build(posts: &[Arc<Page>], urls: &Urls) -> Vec<(String, Vec<u8>)> {
    Index::build(posts, urls, false).into_files()
}

/// The postings of the terms in a group of [`FIRST_BYTE_RANGES`]: each distinct term with
/// where its postings are in `postings` (by id, as the posts are newest first), in no
/// order.
struct Gathered<'p> {
    terms: Vec<(&'p str, std::ops::Range<usize>)>,
    postings: Vec<(u32, u8)>,
}

/// A distinct term while gathering: its hash, its first eight bytes (zero-padded) and its
/// length, which tell most terms apart without reading the text, the text, and its number.
struct Seen<'p> {
    hash: u64,
    head: u64,
    len: usize,
    term: &'p str,
    k: u32,
}

impl Seen<'_> {
    /// Whether this is the term `t`, whose first eight bytes are `head`: the text is read
    /// only when those and the length are the same and there is more of it.
    fn is(&self, t: &str, head: u64) -> bool {
        self.head == head && self.len == t.len() && (t.len() <= 8 || self.term == t)
    }
}

/// The first eight bytes of `t`, zero-padded, as a number.
fn head(t: &str) -> u64 {
    let b = t.as_bytes();
    let mut h = [0u8; 8];
    let n = b.len().min(8);
    h[..n].copy_from_slice(&b[..n]);
    u64::from_le_bytes(h)
}

/// Group `g` of `groups` (nearly equal, one after the other) of [`FIRST_BYTE_RANGES`].
fn group(g: usize, groups: usize) -> std::ops::Range<usize> {
    let at = |g: usize| g * FIRST_BYTE_RANGES.len() / groups;
    at(g)..at(g + 1)
}

/// The postings of the terms in ranges `rs` of [`FIRST_BYTE_RANGES`]: each posting is
/// numbered by its term as it is read (one table lookup), then all are placed by a counting
/// sort, so postings of a term stay in the order read and no term has a list of its own to
/// grow.
fn gather<'p>(
    posts: &'p [Arc<Page>],
    per_post: &'p [Impacts],
    rs: std::ops::Range<usize>,
) -> Gathered<'p> {
    let n = posts.len();
    let mut table: hashbrown::HashTable<Seen<'p>> = hashbrown::HashTable::new();
    let mut terms: Vec<&'p str> = Vec::new();
    let mut counts: Vec<u32> = Vec::new();
    // Room for every posting of these ranges: the list is not copied as it grows.
    let postings_read = posts
        .iter()
        .zip(per_post)
        .map(|(p, i)| p.body_terms.count_in(rs.clone()) + i.fields.count_in(rs.clone()))
        .sum();
    let mut read: Vec<(u32, u32, u8)> = Vec::with_capacity(postings_read);
    let mut add = |t: &'p str, id: u32, q: u8| {
        let hash = term_hash(t);
        let head = head(t);
        let same = |s: &Seen<'p>| s.is(t, head);
        let k = match table.find(hash, same) {
            Some(s) => s.k,
            None => {
                let k = terms.len() as u32;
                terms.push(t);
                counts.push(0);
                let seen = Seen {
                    hash,
                    head,
                    len: t.len(),
                    term: t,
                    k,
                };
                table.insert_unique(hash, seen, |s| s.hash);
                k
            }
        };
        counts[k as usize] += 1;
        read.push((k, id, q));
    };
    for (i, (p, imp)) in posts.iter().zip(per_post).enumerate().rev() {
        let id = (n - 1 - i) as u32;
        let (index, body) = p.body_terms.ranges(rs.clone());
        for ((t, _), q) in body.zip(&imp.body[index..]) {
            add(t, id, *q);
        }
        for (t, q) in imp.fields.ranges(rs.clone()).1 {
            add(t, id, q as u8);
        }
    }
    debug_assert_eq!(
        read.len(),
        postings_read,
        "the room made was for every posting"
    );
    // Where each term's postings start, then each posting in its place.
    let mut at = Vec::with_capacity(counts.len());
    let mut total = 0usize;
    for c in &counts {
        at.push(total);
        total += *c as usize;
    }
    let ranges = terms
        .iter()
        .zip(&at)
        .zip(&counts)
        .map(|((t, &a), &c)| (*t, a..a + c as usize))
        .collect();
    let mut postings = vec![(0u32, 0u8); total];
    for (k, id, q) in read {
        let slot = &mut at[k as usize];
        postings[*slot] = (id, q);
        *slot += 1;
    }
    Gathered {
        terms: ranges,
        postings,
    }
}

/// Two lists of terms in UTF-16 order as one, leaving out terms no post has any more.
fn merge_sorted(a: Vec<Term>, b: Vec<Term>) -> Vec<Term> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let mut b = b.into_iter().peekable();
    for t in a {
        while let Some(x) = b.next_if(|x| utf16_cmp(&x.term, &t.term).is_lt()) {
            out.push(x);
        }
        if !t.postings.is_empty() {
            out.push(t);
        }
    }
    out.extend(b);
    out
}

/// The order of JavaScript's `<` on strings (UTF-16 code units), without re-encoding: it is
/// the byte order but where one string has U+E000..U+FFFF (lead byte `EE` or `EF`) and
/// the other a supplementary character (lead byte `F0` and up, a surrogate pair in UTF-16).
pub fn utf16_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    let Some(i) = x.iter().zip(y).position(|(p, q)| p != q) else {
        return x.len().cmp(&y.len());
    };
    let (p, q) = (x[i], y[i]);
    match (p, q) {
        (0xEE..=0xEF, 0xF0..) => std::cmp::Ordering::Greater,
        (0xF0.., 0xEE..=0xEF) => std::cmp::Ordering::Less,
        _ => p.cmp(&q),
    }
}

/// The file of record chunk `c`.
fn record_path(c: usize) -> String {
    format!("{DIR}/r/{c}.json")
}

/// The bytes of record chunk `c`: posts (by id) `c * CHUNK` up to `c * CHUNK + CHUNK - 1`,
/// each `[url, title, date, [tldr], [tags]]`.
fn record_chunk(posts: &[Arc<Page>], c: usize, urls: &Urls) -> Vec<u8> {
    use crate::support::escape::json_str_for_html as push_str;
    let n = posts.len();
    let list = |items: &[String], out: &mut String| {
        out.push('[');
        for (k, s) in items.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            push_str(s, out);
        }
        out.push(']');
    };
    let mut out = String::with_capacity(CHUNK * 320);
    out.push('[');
    for id in c * CHUNK..((c + 1) * CHUNK).min(n) {
        if id > c * CHUNK {
            out.push(',');
        }
        let p = &posts[n - 1 - id];
        out.push('[');
        push_str(&urls.url(&p.route), &mut out);
        out.push(',');
        push_str(&p.title, &mut out);
        out.push(',');
        push_str(&p.date.map(|d| d.ymd()).unwrap_or_default(), &mut out);
        out.push(',');
        list(&p.tldr, &mut out);
        out.push(',');
        list(&p.tags, &mut out);
        out.push(']');
    }
    out.push(']');
    out.into_bytes()
}

/// JSON text with `<`, `>`, `&` and `'` as `\u` escapes: the same data, and no markup
/// whatever a browser takes the file for.
fn json(value: &serde_json::Value) -> Vec<u8> {
    crate::support::escape::json_for_html(&value.to_string()).into_bytes()
}

/// The shortest prefix of `first` that sorts after `last` (in UTF-16 order); empty for the
/// first shard.
fn separator<'t>(last: Option<&str>, first: &'t str) -> &'t str {
    let Some(last) = last else {
        return "";
    };
    let last: Vec<u16> = last.encode_utf16().collect();
    for (i, c) in first.char_indices() {
        let prefix = &first[..i + c.len_utf8()];
        if prefix.encode_utf16().cmp(last.iter().copied()) == std::cmp::Ordering::Greater {
            return prefix;
        }
    }
    first
}

/// The file of the shard with the key `first`.
pub fn shard_path(first: &str) -> String {
    let mut p = format!("{DIR}/s/k");
    for b in first.as_bytes() {
        let _ = write!(p, "{b:02x}");
    }
    p.push_str(".json");
    p
}

/// One term's shard entry: `["term",df,[gap,impact,…]]`, as JSON text.
fn entry(term: &str, list: &[(u32, u8)]) -> Vec<u8> {
    let df = list.len();
    let best;
    let list = if list.len() > MAX_POSTINGS {
        // The best postings: highest impact, then newest.
        // (Ids are distinct: the order is total, and so the postings kept.)
        let mut l = list.to_vec();
        l.select_nth_unstable_by(MAX_POSTINGS - 1, |a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
        l.truncate(MAX_POSTINGS);
        l.sort_unstable_by_key(|p| p.0);
        best = l;
        &best[..]
    } else {
        list
    };
    let mut s = Vec::with_capacity(term.len() + 16 + list.len() * 6);
    s.push(b'[');
    if term
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b".-_:/@".contains(&b))
    {
        // Nothing to escape.
        s.push(b'"');
        s.extend_from_slice(term.as_bytes());
        s.push(b'"');
    } else {
        let mut quoted = String::new();
        crate::support::escape::json_str_for_html(term, &mut quoted);
        s.extend_from_slice(quoted.as_bytes());
    }
    s.push(b',');
    s.extend_from_slice(itoa::Buffer::new().format(df).as_bytes());
    s.extend_from_slice(b",[");
    let mut last = 0u32;
    for (k, &(id, q)) in list.iter().enumerate() {
        // `,gap,impact` (no comma before the first), made on the stack and copied once.
        let mut b = [b','; 16];
        let mut at = usize::from(k > 0);
        at += decimal(id - last, &mut b[at..]);
        at += 1;
        at += decimal(u32::from(q), &mut b[at..]);
        s.extend_from_slice(&b[..at]);
        last = id;
    }
    s.extend_from_slice(b"]]");
    s
}

/// Writes `n` in decimal at the start of `out` (which has room for ten digits) and
/// gives the number of digits. (Every impact and most gaps are under 100: those are
/// written from a table of two-digit pairs.)
fn decimal(n: u32, out: &mut [u8]) -> usize {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";
    if n < 10 {
        out[0] = b'0' + n as u8;
        1
    } else if n < 100 {
        let k = 2 * n as usize;
        out[..2].copy_from_slice(&PAIRS[k..k + 2]);
        2
    } else {
        let mut buf = itoa::Buffer::new();
        let d = buf.format(n).as_bytes();
        out[..d.len()].copy_from_slice(d);
        d.len()
    }
}

/// A term and its postings: (post id, impact), by id.
type Postings<'a> = (&'a str, &'a [(u32, u8)]);

/// A post's impacts: one per body term, in order, and the terms only its other fields
/// (title, TLDR, tags, categories, CVEs, ATT&CK techniques, indicators) have.
struct Impacts {
    body: Vec<u8>,
    /// With their impacts in place of counts.
    fields: BodyTerms,
}

/// Ranges of first bytes that split the terms into parts of similar size, gathered in
/// parallel (every byte is in one range).
const FIRST_BYTE_RANGES: [(u8, u8); 8] = [
    (0, b'9'),
    (b'9' + 1, b'c'),
    (b'c' + 1, b'e'),
    (b'e' + 1, b'k'),
    (b'k' + 1, b'o'),
    (b'o' + 1, b'r'),
    (b'r' + 1, b'u'),
    (b'u' + 1, 255),
];

/// Tokens in all bodies.
fn total_len(posts: &[Arc<Page>]) -> u64 {
    posts.iter().map(|p| u64::from(p.body_terms.len())).sum()
}

/// Which of [`FIRST_BYTE_RANGES`] a term is in.
fn range_of(term: &str) -> u8 {
    RANGE_OF[term.as_bytes().first().copied().unwrap_or(0) as usize]
}

/// [`FIRST_BYTE_RANGES`] as a table by byte.
const RANGE_OF: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut r = 0;
    while r < FIRST_BYTE_RANGES.len() {
        let (lo, hi) = FIRST_BYTE_RANGES[r];
        let mut b = lo as usize;
        while b <= hi as usize {
            t[b] = r as u8;
            b += 1;
        }
        r += 1;
    }
    t
};

/// The average body length, rounded to a power of two so that it rarely changes (and with
/// it every impact) from one build to the next.
fn length_norm(total: u64, posts: usize) -> f32 {
    if posts == 0 {
        return 1.0;
    }
    let mean = (total / posts as u64).max(1);
    mean.next_power_of_two() as f32
}

/// Every term of a post with its impact (body terms and the terms only other fields have).
fn all_impacts(p: &Page, avgdl: f32) -> Vec<(String, u8)> {
    let imp = impacts(p, avgdl);
    let mut all: Vec<(String, u8)> = p
        .body_terms
        .iter()
        .zip(imp.body)
        .map(|((t, _), q)| (t.to_string(), q))
        .collect();
    all.extend(imp.fields.iter().map(|(t, q)| (t.to_string(), q as u8)));
    all
}

/// A post's impacts.
fn impacts(p: &Page, avgdl: f32) -> Impacts {
    COUNTER.with_borrow_mut(|c| {
        let mut add = |text: &str, w: u32| tokenizer::tokenize(text, &mut |t, _| c.add(t, w));
        add(&p.title, W_TITLE);
        for t in &p.tldr {
            add(t, W_TLDR);
        }
        // CVE ids and ATT&CK techniques named anywhere in the post, and its indicators,
        // count with the tags: found whatever part of the body search reads word by word.
        for t in p
            .tags
            .iter()
            .chain(&p.categories)
            .chain(&p.cves)
            .chain(&p.attack)
        {
            add(t, W_TERMS);
        }
        for i in &p.iocs {
            add(&i.value, W_TERMS);
        }
        let dl = p.body_terms.len() as f32 + 8.0;
        let norm = K1 * (1.0 - B + B * dl / avgdl);
        let impact = |wtf: u32| {
            let wtf = wtf as f32;
            let part = wtf * (K1 + 1.0) / (wtf + norm);
            (part * IMPACT_SCALE).round().clamp(1.0, 99.0) as u8
        };
        // The impact of a body term in no other field, by its count (most counts are
        // small).
        let by_count: [u8; 16] = std::array::from_fn(|n| impact(n as u32 * W_BODY));
        let maybe = c.sketch();
        let mut body = Vec::with_capacity(p.body_terms.packed.len());
        for (t, n) in p.body_terms.iter() {
            let k = sketch(t);
            let other = if maybe[k / 64] & (1 << (k % 64)) == 0 {
                None
            } else {
                c.take(t)
            };
            body.push(match other {
                None if (n as usize) < by_count.len() => by_count[n as usize],
                _ => impact(n * W_BODY + other.unwrap_or(0)),
            });
        }
        Impacts {
            body,
            fields: c.finish(0, |w| u32::from(impact(w))),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_in_decimal() {
        for n in (0..1000).chain([9999, 10_000, 65_535, 999_999_999, u32::MAX]) {
            let mut b = [b'x'; 12];
            let len = decimal(n, &mut b[1..11]);
            assert_eq!(
                std::str::from_utf8(&b[..1 + len]),
                Ok(format!("x{n}").as_str())
            );
            assert_eq!(b[1 + len], b'x', "{n}: nothing written past its digits");
        }
    }

    #[test]
    fn body_terms_count_each_term() {
        let b = BodyTerms::of("Patch CVE-2024-3400 now; patches for CVE-2024-3400 ship.");
        let got: Vec<(&str, u32)> = b.iter().collect();
        assert_eq!(
            got,
            [
                ("2024-3400", 2),
                ("cve-2024-3400", 2),
                ("now", 1),
                ("patch", 2),
                ("ship", 1)
            ]
        );
        assert_eq!(b.len(), 8);
    }

    #[test]
    fn body_terms_are_a_plain_count_of_the_tokens() {
        let text = "Exploited exploits: CVE-2024-3400 and cve-2024-3400, T1059.001 on café \
                    Straße ÉCOLE x86_64 ntdll.dll 10.0.0.1 ガベージコレクション the THE patch \
                    Patch PATCH patched -- v2.4.49. tls1.3";
        let b = BodyTerms::of(text);
        let mut want = std::collections::BTreeMap::<String, u32>::new();
        tokenizer::tokenize(text, &mut |t, _| {
            *want.entry(t.to_string()).or_default() += 1
        });
        let got: std::collections::BTreeMap<String, u32> =
            b.iter().map(|(t, c)| (t.to_string(), c)).collect();
        assert_eq!(got, want);
        assert_eq!(b.len(), want.values().sum::<u32>());
        // By ranges of first bytes, each range where `cuts` says.
        let ranges: Vec<u8> = b.iter().map(|(t, _)| range_of(t)).collect();
        assert!(ranges.is_sorted(), "{ranges:?}");
        let near_t: Vec<&str> = b.near(b't').map(|(t, _)| t).collect();
        assert!(near_t.contains(&"t1059.001") && near_t.contains(&"t1059"));
        assert!(near_t.iter().all(|t| range_of(t) == range_of("t")));
        let in_range = ranges.iter().filter(|&&r| r == range_of("t")).count();
        assert_eq!(near_t.len(), in_range);
    }

    #[test]
    fn body_term_counts_stop_at_the_packed_maximum() {
        let text = "beacon ".repeat(COUNT_MASK as usize + 5);
        let b = BodyTerms::of(&text);
        assert_eq!(b.iter().collect::<Vec<_>>(), [("beacon", COUNT_MASK)]);
        assert_eq!(b.len(), COUNT_MASK + 5);
    }

    /// `count` posts with words drawn from a small vocabulary, CJK and supplementary
    /// characters included, so that shards, shared terms and rare terms all occur.
    fn site(count: usize) -> Vec<Arc<Page>> {
        let vocab = [
            "exploit",
            "firewall",
            "patch",
            "T1190",
            "CVE-2024-3400",
            "能動的",
            "𠮷野家",
            "\u{FF5E}x",
            "ransomware",
            "10.0.0.1",
            "vpn",
            "ガベージ",
        ];
        (0..count)
            .map(|i| {
                let body: Vec<String> = (0..40)
                    .map(|k| format!("{} w{}", vocab[(i * 7 + k * 3) % vocab.len()], (i * k) % 97))
                    .collect();
                crate::index::related::tests::post(
                    &format!("p{i}"),
                    &format!("Post {i} about {}", vocab[i % vocab.len()]),
                    &[vocab[(i + 1) % vocab.len()]],
                    &[],
                    &body.join(" "),
                )
            })
            .collect()
    }

    fn edited(p: &Page, body: &str) -> Arc<Page> {
        let mut q = p.clone();
        q.body_terms = BodyTerms::of(body);
        Arc::new(q)
    }

    #[test]
    fn utf16_order_is_javascripts() {
        let words = [
            "a", "ab", "b", "é", "\u{E000}", "\u{FFFD}", "𠮷", "日本", "z",
        ];
        for a in words {
            for b in words {
                let js = a.encode_utf16().cmp(b.encode_utf16());
                assert_eq!(utf16_cmp(a, b), js, "{a:?} against {b:?}");
            }
        }
    }

    #[test]
    fn updating_in_place_equals_building_again() {
        let urls = Urls::new("https://example.com");
        let mut posts = site(300);
        let mut index = Index::build(&posts, &urls, true);
        assert_eq!(index.files(), build(&posts, &urls));
        // New terms (one only this post has), lost terms, and a post's words moved.
        let edits = [
            (5, "zzyzx uniqueword exploit 能動的 𠮷 firewall"),
            (5, "firewall"),
            (
                299,
                "a brand new body with 𠮷野家 and CVE-2024-9999 and T1059.001",
            ),
            (0, "exploit exploit exploit patch"),
        ];
        for (i, body) in edits {
            let old = Arc::clone(&posts[i]);
            posts[i] = edited(&old, body);
            assert!(index.update(&posts, i, &old, &urls), "edit of post {i}");
            assert_eq!(
                index.files(),
                build(&posts, &urls),
                "after editing post {i}"
            );
        }
        // A body long enough to move the length norm cannot be put in place.
        let old = Arc::clone(&posts[7]);
        posts[7] = edited(&old, &"long body words ".repeat(50_000));
        assert!(!index.update(&posts, 7, &old, &urls));
        // An index without postings cannot be updated at all.
        let mut bare = Index::build(&posts, &urls, false);
        let old = Arc::clone(&posts[1]);
        posts[1] = edited(&old, "other words");
        assert!(!bare.update(&posts, 1, &old, &urls));
    }

    #[test]
    fn a_gathered_term_is_told_apart_by_its_whole_text() {
        let seen = |t: &'static str| Seen {
            hash: 0,
            head: head(t),
            len: t.len(),
            term: t,
            k: 0,
        };
        for (a, b, same) in [
            ("payload12.exe", "payload12.exe", true),
            ("payload12.exe", "payload13.exe", false),
            ("payload12.exe", "payload12.ex", false),
            ("abcdefgh", "abcdefgh", true),
            ("abcdefgh", "abcdefgi", false),
            ("ab", "ab", true),
            ("ab", "ac", false),
            ("ab", "abc", false),
            ("日本", "日本", true),
            ("日本語の", "日本語を", false),
        ] {
            assert_eq!(seen(a).is(b, head(b)), same, "{a} and {b}");
        }
    }

    #[test]
    fn gathering_gives_each_term_its_posts_in_order_whatever_the_groups() {
        let mut posts = site(120);
        // Terms alike in their first eight bytes and their length, told apart by the rest.
        let alike = "payload12.exe payload13.exe abcdefghij abcdefghik";
        for (i, body) in [(3, alike), (40, "payload13.exe abcdefghik"), (77, alike)] {
            posts[i] = edited(&posts[i], body);
        }
        let n = posts.len();
        let avgdl = length_norm(total_len(&posts), n);
        let per_post: Vec<Impacts> = posts.iter().map(|p| impacts(p, avgdl)).collect();
        // The rule written out: each term's (id, impact) postings, ids increasing.
        let mut want: std::collections::BTreeMap<&str, Vec<(u32, u8)>> = Default::default();
        for (i, (p, imp)) in posts.iter().zip(&per_post).enumerate().rev() {
            let id = (n - 1 - i) as u32;
            for ((t, _), q) in p.body_terms.iter().zip(&imp.body) {
                want.entry(t).or_default().push((id, *q));
            }
            for (t, q) in imp.fields.iter() {
                want.entry(t).or_default().push((id, q as u8));
            }
        }
        for t in ["payload12.exe", "payload13.exe", "abcdefghij", "abcdefghik"] {
            assert!(want.contains_key(t), "{t} is a term of its own");
        }
        let ranges = FIRST_BYTE_RANGES.len();
        for groups in [1, 2, 3, ranges] {
            let mut got = std::collections::BTreeMap::new();
            for g in 0..groups {
                let part = gather(&posts, &per_post, group(g, groups));
                for (t, at) in &part.terms {
                    let list = part.postings[at.clone()].to_vec();
                    assert!(got.insert(*t, list).is_none(), "{t} gathered twice");
                }
            }
            assert_eq!(got, want, "in {groups} groups");
        }
    }

    #[test]
    fn shard_keys_are_the_shortest_separating_prefix() {
        assert_eq!(separator(None, "apple"), "");
        assert_eq!(separator(Some("apple"), "apricot"), "apr");
        assert_eq!(separator(Some("ab"), "abc"), "abc");
        assert_eq!(separator(Some("zz"), "日本"), "日");
    }

    #[test]
    fn shard_names_are_the_key_in_hex() {
        assert_eq!(shard_path("ab"), "search/s/k6162.json");
        assert_eq!(shard_path("日"), "search/s/ke697a5.json");
    }

    #[test]
    fn long_posting_lists_keep_their_best_postings() {
        let list: Vec<(u32, u8)> = (0..MAX_POSTINGS as u32 + 10)
            .map(|i| (i, if i % 100 == 0 { 50 } else { 10 }))
            .collect();
        let e = entry("x", &list);
        let v: serde_json::Value = serde_json::from_slice(&e).unwrap();
        assert_eq!(v[0], "x");
        assert_eq!(v[1], MAX_POSTINGS + 10, "df counts every post");
        let flat = v[2].as_array().unwrap();
        assert_eq!(flat.len(), 2 * MAX_POSTINGS);
        // Every high-impact posting is kept; gaps decode to increasing ids.
        let mut id = 0;
        let mut high = 0;
        for pair in flat.chunks(2) {
            id += pair[0].as_u64().unwrap();
            if pair[1] == 50 {
                assert_eq!(id % 100, 0);
                high += 1;
            }
        }
        assert_eq!(high, (MAX_POSTINGS + 10).div_ceil(100));
    }
}
