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
const SHARD_MIN: usize = 6_000;
/// …and before it would pass this many.
const SHARD_MAX: usize = 24_000;
/// One term in this many ends a shard (once it has `SHARD_MIN` bytes).
const BOUNDARY: u64 = 4;

/// Field weights of the ranking.
const W_TITLE: f32 = 6.0;
const W_TERMS: f32 = 4.0;
const W_TLDR: f32 = 3.0;
const W_BODY: f32 = 1.0;
const K1: f32 = 1.2;
const B: f32 = 0.75;
/// Impacts are the BM25 term-frequency part (0 to K1 + 1) times this, rounded, 1 to 99.
const IMPACT_SCALE: f32 = 45.0;

/// The folder of the index in the output.
pub const DIR: &str = "search";
/// The manifest.
pub const MANIFEST: &str = "search/index.json";

/// A body's search terms with their counts, made once when the page is parsed (and kept in
/// the build cache with it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BodyTerms {
    /// The distinct terms, sorted by bytes, each followed by `\n` (one allocation per page).
    terms: String,
    counts: Vec<u32>,
    /// Tokens in all.
    len: u32,
}

impl BodyTerms {
    /// The terms of a body's plain text.
    pub fn of(text: &str) -> BodyTerms {
        // Every token into one buffer, then sorted and counted: no allocation per term.
        let mut arena = String::with_capacity(text.len());
        let mut spans: Vec<(u32, u32)> = Vec::with_capacity(text.len() / 6);
        tokenizer::tokenize(text, &mut |t, _| {
            spans.push((arena.len() as u32, t.len() as u32));
            arena.push_str(t);
        });
        // Counted by hash, then only the distinct terms sorted.
        let mut counts: HashMap<&str, u32, xxhash_rust::xxh3::Xxh3DefaultBuilder> =
            HashMap::with_capacity_and_hasher(spans.len() / 2, Default::default());
        for &(s, l) in &spans {
            *counts
                .entry(&arena[s as usize..(s + l) as usize])
                .or_insert(0) += 1;
        }
        let mut list: Vec<(&str, u32)> = counts.into_iter().collect();
        list.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut terms = String::with_capacity(list.iter().map(|(t, _)| t.len() + 1).sum());
        for (t, _) in &list {
            terms.push_str(t);
            terms.push('\n');
        }
        let counts: Vec<u32> = list.into_iter().map(|(_, c)| c).collect();
        BodyTerms {
            terms,
            counts,
            len: spans.len() as u32,
        }
    }

    /// Each term with its count.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u32)> {
        self.terms
            .split_terminator('\n')
            .zip(self.counts.iter().copied())
    }

    /// Tokens in all.
    pub fn len(&self) -> u32 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The files of the index: path (relative to the output folder) and bytes, in a stable
/// order. `posts` newest first, as the site sorts them.
pub fn build(posts: &[Arc<Page>], urls: &Urls) -> Vec<(String, Vec<u8>)> {
    let n = posts.len();
    let avgdl = length_norm(posts);
    // Each post's impacts, in parallel: one per body term (in the body terms' order), and
    // the terms only its other fields have. Post `i` has id `n - 1 - i`.
    let per_post: Vec<Impacts> = posts.par_iter().map(|p| impacts(p, avgdl)).collect();
    // Posting lists, gathered in parallel by ranges of first byte: each post's body terms
    // are sorted by bytes, so each range is a slice of them.
    let ranges: Vec<(u8, u8)> = FIRST_BYTE_RANGES.to_vec();
    let parts: Vec<Vec<Postings<'_>>> = ranges
        .par_iter()
        .enumerate()
        .map(|(r, &(lo, hi))| {
            let mut map: HashMap<&str, Vec<(u32, u8)>, xxhash_rust::xxh3::Xxh3DefaultBuilder> =
                HashMap::default();
            let in_range = |t: &str| t.as_bytes().first().is_some_and(|b| (lo..=hi).contains(b));
            for (i, (p, imp)) in posts.iter().zip(&per_post).enumerate().rev() {
                let id = (n - 1 - i) as u32;
                let (from, to) = (imp.cuts[r], imp.cuts[r + 1]);
                let (bytes, index) = (from.0 as usize..to.0 as usize, from.1 as usize);
                for (t, q) in p.body_terms.terms[bytes]
                    .split_terminator('\n')
                    .zip(&imp.body[index..])
                {
                    map.entry(t).or_default().push((id, *q));
                }
                for (t, q) in &imp.fields {
                    if in_range(t) {
                        map.entry(t.as_str()).or_default().push((id, *q));
                    }
                }
            }
            map.into_iter().collect()
        })
        .collect();
    let mut terms: Vec<Postings<'_>> = parts.into_iter().flatten().collect();
    terms.par_sort_unstable_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
    let entries: Vec<(&str, String)> = terms
        .into_par_iter()
        .map(|(t, list)| (t, entry(t, list)))
        .collect();

    let mut files = Vec::new();
    // Each shard's key: the shortest prefix of its first term that sorts after the last
    // term of the shard before (the manifest stays small; lookups find the same shard).
    let mut keys: Vec<&str> = Vec::new();
    let mut shard = String::new();
    let mut key = "";
    let mut last: Option<&str> = None;
    let flush = |shard: &mut String, key: &str, files: &mut Vec<(String, Vec<u8>)>| {
        if shard.is_empty() {
            return;
        }
        shard.push(']');
        files.push((shard_path(key), std::mem::take(shard).into_bytes()));
    };
    for (t, e) in &entries {
        if !shard.is_empty() && shard.len() + e.len() > SHARD_MAX {
            flush(&mut shard, key, &mut files);
        }
        if shard.is_empty() {
            shard.push('[');
            key = separator(last, t);
            keys.push(key);
        } else {
            shard.push(',');
        }
        shard.push_str(e);
        last = Some(t);
        if shard.len() >= SHARD_MIN && xxhash_rust::xxh3::xxh3_64(t.as_bytes()) % BOUNDARY == 0 {
            flush(&mut shard, key, &mut files);
        }
    }
    flush(&mut shard, key, &mut files);

    let manifest = serde_json::json!({
        "version": 1,
        "posts": n,
        "chunk": CHUNK,
        "shards": keys,
    });
    files.push((MANIFEST.to_string(), json(&manifest)));

    // Records, oldest first.
    let chunks: Vec<(String, Vec<u8>)> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let records: Vec<serde_json::Value> = (c * CHUNK..((c + 1) * CHUNK).min(n))
                .map(|id| record(&posts[n - 1 - id], urls))
                .collect();
            (
                format!("{DIR}/r/{c}.json"),
                json(&serde_json::Value::from(records)),
            )
        })
        .collect();
    files.extend(chunks);
    files
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

/// What the results list shows of a post.
fn record(p: &Page, urls: &Urls) -> serde_json::Value {
    serde_json::json!([
        urls.url(&p.route),
        p.title,
        p.date.map(|d| d.ymd()).unwrap_or_default(),
        p.tldr,
        p.tags,
    ])
}

/// One term's shard entry: `["term",df,[gap,impact,…]]`.
fn entry(term: &str, mut list: Vec<(u32, u8)>) -> String {
    let df = list.len();
    if list.len() > MAX_POSTINGS {
        // The best postings: highest impact, then newest.
        list.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
        list.truncate(MAX_POSTINGS);
        list.sort_unstable_by_key(|p| p.0);
    }
    let mut s = String::with_capacity(term.len() + 16 + list.len() * 6);
    s.push_str(&crate::support::escape::json_for_html(
        &serde_json::Value::from(term).to_string(),
    ));
    let _ = write!(s, ",{df},[");
    s.insert(0, '[');
    let mut last = 0u32;
    for (k, (id, q)) in list.iter().enumerate() {
        if k > 0 {
            s.push(',');
        }
        let _ = write!(s, "{},{q}", id - last);
        last = *id;
    }
    s.push_str("]]");
    s
}

/// A term and its postings: (post id, impact), by id.
type Postings<'a> = (&'a str, Vec<(u32, u8)>);

/// A post's impacts: one per body term, in order, and the terms only its other fields
/// (title, TLDR, tags, categories, CVEs) have.
struct Impacts {
    body: Vec<u8>,
    /// Where each of [`FIRST_BYTE_RANGES`] starts in the body terms (byte offset, index),
    /// and their end.
    cuts: [(u32, u32); FIRST_BYTE_RANGES.len() + 1],
    fields: Vec<(String, u8)>,
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

/// The average body length, rounded to a power of two so that it rarely changes (and with
/// it every impact) from one build to the next.
fn length_norm(posts: &[Arc<Page>]) -> f32 {
    if posts.is_empty() {
        return 1.0;
    }
    let total: u64 = posts.iter().map(|p| u64::from(p.body_terms.len())).sum();
    let mean = (total / posts.len() as u64).max(1);
    mean.next_power_of_two() as f32
}

/// A post's impacts.
fn impacts(p: &Page, avgdl: f32) -> Impacts {
    let mut fields: HashMap<String, f32> = HashMap::new();
    let mut add = |text: &str, w: f32| {
        tokenizer::tokenize(text, &mut |t, _| match fields.get_mut(t) {
            Some(x) => *x += w,
            None => {
                fields.insert(t.to_string(), w);
            }
        })
    };
    add(&p.title, W_TITLE);
    for t in &p.tldr {
        add(t, W_TLDR);
    }
    for t in p.tags.iter().chain(&p.categories).chain(&p.cves) {
        add(t, W_TERMS);
    }
    let dl = p.body_terms.len() as f32 + 8.0;
    let norm = K1 * (1.0 - B + B * dl / avgdl);
    let impact = |wtf: f32| {
        let part = wtf * (K1 + 1.0) / (wtf + norm);
        (part * IMPACT_SCALE).round().clamp(1.0, 99.0) as u8
    };
    let mut cuts = [(0u32, 0u32); FIRST_BYTE_RANGES.len() + 1];
    let mut range = 0;
    let mut offset = 0u32;
    let mut body = Vec::with_capacity(p.body_terms.counts.len());
    for (k, (t, c)) in p.body_terms.iter().enumerate() {
        let first = t.as_bytes().first().copied().unwrap_or(0);
        while first > FIRST_BYTE_RANGES[range].1 {
            range += 1;
            cuts[range] = (offset, k as u32);
        }
        body.push(impact(c as f32 * W_BODY + fields.remove(t).unwrap_or(0.0)));
        offset += t.len() as u32 + 1;
    }
    for cut in &mut cuts[range + 1..] {
        *cut = (offset, body.len() as u32);
    }
    let mut rest: Vec<(String, f32)> = fields.into_iter().collect();
    rest.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Impacts {
        body,
        cuts,
        fields: rest.into_iter().map(|(t, w)| (t, impact(w))).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let e = entry("x", list);
        let v: serde_json::Value = serde_json::from_str(&e).unwrap();
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
