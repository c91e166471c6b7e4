//! "Related coverage": for each post, the posts that share the most with it.
//!
//! A post's features are its CVE ids (strongest), the ATT&CK techniques it names, its tags,
//! its categories and the words of its title and TLDR. A shared feature scores its weight
//! times its rarity (`ln(1 + N / posts with it)`); ties go to the post nearest in date, then
//! to the newer one. Front matter `related` posts come first on the page, so they are left
//! out here, as is the post itself.
//!
//! Not O(N²): candidates are found through an inverted index from feature to posts, and a
//! feature's list is read only in a window of [`WINDOW`] posts around the post (lists are in
//! date order, so the window holds the posts nearest in time); the weakest features, title
//! and TLDR words and categories, read [`WEAK_WINDOW`] (they mostly rank posts the strong
//! ones found, and each post has many of them). Work per post is bounded by its number of
//! features times the window, whatever the size of the site.

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;

use crate::content::Page;
use crate::render::search::tokenizer::{self, Kind};
use crate::support::slug::slugify;

/// Posts read from each feature's list, around the post.
pub const WINDOW: usize = 64;
/// Posts read from the lists of words and categories.
pub const WEAK_WINDOW: usize = 16;

const W_CVE: f32 = 8.0;
const W_ATTACK: f32 = 5.0;
const W_TAG: f32 = 3.0;
const W_CATEGORY: f32 = 1.0;
const W_WORD: f32 = 1.0;

/// Whether two versions of a post have the same features: then every post's related
/// coverage is the same with either.
pub fn same_features(a: &Page, b: &Page) -> bool {
    let mut slugs = Slugs::default();
    features(a, &mut slugs) == features(b, &mut slugs)
}

/// The feature keys of tags and categories by their text (one map per kind), kept from
/// post to post on a thread: a site has few of them, each on many posts, and slugifying one
/// allocates.
#[derive(Default)]
struct Slugs([HashMap<Box<str>, u64, rustc_hash::FxBuildHasher>; 2]);

impl Slugs {
    /// The key of the term `t` of the kind `seed` (its slug hashed with the seed), which is
    /// [`TAG`] or [`CATEGORY`].
    fn key(&mut self, t: &str, seed: u64) -> u64 {
        let map = &mut self.0[usize::from(seed == CATEGORY)];
        if let Some(&k) = map.get(t) {
            return k;
        }
        let k = xxhash_rust::xxh3::xxh3_64_with_seed(slugify(t).as_bytes(), seed);
        map.insert(t.into(), k);
        k
    }
}

/// Feature kinds, as seeds of their keys: a tag and a word with the same text are
/// different features.
const CVE: u64 = 1;
const ATTACK: u64 = 2;
const TAG: u64 = 3;
const CATEGORY: u64 = 4;
const WORD: u64 = 5;

/// A post's features: a key (a 64-bit hash of the kind and the value; no allocation per
/// feature) and a weight, each key once.
fn features(p: &Page, slugs: &mut Slugs) -> Vec<(u64, f32)> {
    use xxhash_rust::xxh3::xxh3_64_with_seed as key;
    let mut out: Vec<(u64, f32)> = Vec::with_capacity(48);
    for c in &p.cves {
        out.push((key(&ascii_case(c, true), CVE), W_CVE));
    }
    // Techniques the post names (front matter, and ids the data knows anywhere in the
    // body), and technique-shaped ids in the part of the body search reads.
    for t in &p.attack {
        out.push((key(&ascii_case(t, false), ATTACK), W_ATTACK));
    }
    for (t, _) in p.body_terms.near(b't') {
        if tokenizer::is_attack_id(t) {
            out.push((key(t.as_bytes(), ATTACK), W_ATTACK));
        }
    }
    for t in &p.tags {
        out.push((slugs.key(t, TAG), W_TAG));
    }
    for c in &p.categories {
        out.push((slugs.key(c, CATEGORY), W_CATEGORY));
    }
    let words = |text: &str, out: &mut Vec<(u64, f32)>| {
        tokenizer::tokenize(text, &mut |t, k| {
            if k == Kind::Word {
                out.push((key(t.as_bytes(), WORD), W_WORD));
            } else if tokenizer::is_attack_id(t) {
                out.push((key(t.as_bytes(), ATTACK), W_ATTACK));
            }
        })
    };
    words(&p.title, &mut out);
    for t in &p.tldr {
        words(t, &mut out);
    }
    // Each feature once, at its highest weight.
    // (Entries equal in this order are the same: an unstable sort gives one result.)
    out.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

/// `s` in ASCII upper or lower case, copied only when it is not already.
fn ascii_case(s: &str, upper: bool) -> std::borrow::Cow<'_, [u8]> {
    let b = s.as_bytes();
    if b.iter().any(|c| {
        if upper {
            c.is_ascii_lowercase()
        } else {
            c.is_ascii_uppercase()
        }
    }) {
        let mut v = b.to_vec();
        if upper {
            v.make_ascii_uppercase();
        } else {
            v.make_ascii_lowercase();
        }
        v.into()
    } else {
        b.into()
    }
}

/// For each post (newest first, as the site sorts them), up to `n` related posts, best
/// first, leaving out those in `exclude[i]` (its front matter `related` posts).
pub fn related_posts(posts: &[Arc<Page>], n: usize, exclude: &[Vec<usize>]) -> Vec<Vec<usize>> {
    if n == 0 || posts.len() < 2 {
        return vec![Vec::new(); posts.len()];
    }
    let per_post: Vec<Vec<(u64, f32)>> = posts
        .par_iter()
        .map_init(Slugs::default, |slugs, p| features(p, slugs))
        .collect();
    // Feature ids, and each feature's posts in site order (newest first).
    let mut ids: HashMap<u64, u32, rustc_hash::FxBuildHasher> =
        HashMap::with_capacity_and_hasher(posts.len() * 4, Default::default());
    let mut lists: Vec<Vec<u32>> = Vec::new();
    // Each feature of each post, with where the post is in the feature's list (its window
    // is around that place: no search of the list).
    let feats: Vec<Vec<(u32, f32, u32)>> = per_post
        .iter()
        .enumerate()
        .map(|(i, fs)| {
            fs.iter()
                .map(|(key, w)| {
                    let id = *ids.entry(*key).or_insert_with(|| {
                        lists.push(Vec::new());
                        (lists.len() - 1) as u32
                    });
                    let list = &mut lists[id as usize];
                    list.push(i as u32);
                    (id, *w, (list.len() - 1) as u32)
                })
                .collect()
        })
        .collect();
    let total = posts.len() as f32;
    let rarity: Vec<f32> = lists
        .iter()
        .map(|l| (1.0 + total / l.len() as f32).ln())
        .collect();
    (0..posts.len())
        .into_par_iter()
        .map_init(
            // Scores by post, and the posts scored: reset after each post.
            || (vec![0f32; posts.len()], Vec::<u32>::new()),
            |(scores, touched), i| {
                // Room for every posting read: a post scored for the first time is written
                // at the end of `touched` and kept there only then (no branch per posting).
                let most = feats[i].len() * WINDOW.max(WEAK_WINDOW);
                if touched.len() < most {
                    touched.resize(most, 0);
                }
                let mut kept = 0;
                for &(f, w, at) in &feats[i] {
                    let list = &lists[f as usize];
                    if list.len() < 2 {
                        continue;
                    }
                    let window = if w > W_WORD.max(W_CATEGORY) {
                        WINDOW
                    } else {
                        WEAK_WINDOW
                    };
                    let at = at as usize;
                    let lo = at.saturating_sub(window / 2);
                    let hi = (lo + window).min(list.len());
                    let lo = hi.saturating_sub(window);
                    let add = w * rarity[f as usize];
                    // The post itself is in the window too: scored like the others, and
                    // passed over below (no test per posting).
                    for &j in &list[lo..hi] {
                        let s = &mut scores[j as usize];
                        touched[kept] = j;
                        kept += usize::from(*s == 0.0);
                        *s += add;
                    }
                }
                let excluded = |j: u32| exclude.get(i).is_some_and(|e| e.contains(&(j as usize)));
                let distance = |j: u32| (j as usize).abs_diff(i);
                let best = |a: &(u32, f32), b: &(u32, f32)| {
                    b.1.total_cmp(&a.1)
                        .then(distance(a.0).cmp(&distance(b.0)))
                        .then(a.0.cmp(&b.0))
                };
                // The best `n` in one pass, best first: most candidates score below the
                // last kept and are passed over with one comparison of scores (positive and
                // finite: `<` orders them as `total_cmp` does).
                let mut ranked: Vec<(u32, f32)> = Vec::with_capacity(n + 1);
                let mut floor = 0.0f32;
                for &j in &touched[..kept] {
                    let candidate = (j, std::mem::take(&mut scores[j as usize]));
                    if candidate.1 < floor
                        || j as usize == i
                        || (ranked.len() == n && best(&candidate, &ranked[n - 1]).is_ge())
                        || excluded(j)
                    {
                        continue;
                    }
                    let at = ranked.partition_point(|x| best(x, &candidate).is_lt());
                    ranked.insert(at, candidate);
                    ranked.truncate(n);
                    if ranked.len() == n {
                        floor = ranked[n - 1].1;
                    }
                }
                ranked.into_iter().map(|(j, _)| j as usize).collect()
            },
        )
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::content::PageKind;

    /// A post for tests (also the search index's).
    pub(crate) fn post(
        slug: &str,
        title: &str,
        tags: &[&str],
        cves: &[&str],
        body: &str,
    ) -> Arc<Page> {
        Arc::new(Page {
            kind: PageKind::Post,
            file: format!("content/posts/{slug}.md").into(),
            route: format!("posts/{slug}/"),
            slug: slug.into(),
            title: title.into(),
            date: None,
            updated: None,
            publish_at: None,
            expires: None,
            updates: Vec::new(),
            tldr: vec![],
            description: String::new(),
            tags: tags.iter().map(|s| s.to_string()).collect(),
            categories: vec!["News".into()],
            authors: vec![],
            related: vec![],
            cves: cves.iter().map(|s| s.to_string()).collect(),
            attack: vec![],
            draft: false,
            image: None,
            aliases: vec![],
            extra: serde_json::Value::Null,
            html: Default::default(),
            word_count: 0,
            reading_time: 1,
            body_terms: crate::render::search::index::BodyTerms::of(body),
            iocs: Vec::new(),
            features: Vec::new(),
            headings: vec![],
            links: vec![],
            source_hash: 0,
        })
    }

    /// Posts newest first: 0 is the newest.
    fn fixture() -> Vec<Arc<Page>> {
        vec![
            post(
                "pan-follow-up",
                "GlobalProtect exploitation continues",
                &["firewall"],
                &["CVE-2024-3400"],
                "More on it.",
            ),
            post(
                "edge-roundup",
                "Edge devices under attack",
                &["firewall", "vpn"],
                &[],
                "Uses T1190.",
            ),
            post(
                "pan-patch",
                "Palo Alto patches GlobalProtect",
                &["vpn"],
                &["CVE-2024-3400"],
                "Exploit T1190.",
            ),
            post(
                "phishing",
                "Phishing kit sold",
                &["phishing"],
                &[],
                "Nothing shared.",
            ),
            post(
                "ivanti",
                "Ivanti VPN flaws",
                &["vpn"],
                &["CVE-2023-46805"],
                "Also T1190.",
            ),
        ]
    }

    #[test]
    fn shared_cves_score_highest_then_techniques_and_tags() {
        let posts = fixture();
        let r = related_posts(&posts, 3, &vec![vec![]; posts.len()]);
        // pan-patch: the CVE twin first, then the posts sharing T1190 and `vpn`.
        assert_eq!(r[2][0], 0);
        assert_eq!(r[2][1..].to_vec(), vec![1, 4]);
        // The follow-up: its CVE twin first.
        assert_eq!(r[0][0], 2);
        // Never itself, never more than asked.
        for (i, list) in r.iter().enumerate() {
            assert!(!list.contains(&i));
            assert!(list.len() <= 3);
        }
    }

    #[test]
    fn front_matter_related_posts_are_left_out() {
        let posts = fixture();
        let mut exclude = vec![vec![]; posts.len()];
        exclude[2] = vec![0];
        let r = related_posts(&posts, 3, &exclude);
        assert!(!r[2].contains(&0));
        assert_eq!(r[2][0], 1, "{:?}", r[2]);
    }

    #[test]
    fn deterministic_and_zero_means_none() {
        let posts = fixture();
        let none = vec![vec![]; posts.len()];
        assert_eq!(
            related_posts(&posts, 3, &none),
            related_posts(&posts, 3, &none)
        );
        assert!(related_posts(&posts, 0, &none).iter().all(Vec::is_empty));
    }

    /// `n` posts titled "Story i", one a day, each with `tags`.
    fn stories(n: usize, tags: &[&str]) -> Vec<Arc<Page>> {
        (0..n)
            .map(|i| post(&format!("p{i}"), &format!("Story {i}"), tags, &[], ""))
            .collect()
    }

    #[test]
    fn the_window_bounds_the_work() {
        // A tag every post has: each post reads at most WINDOW posts of its list.
        let posts = stories(WINDOW * 3, &["common"]);
        let r = related_posts(&posts, 3, &vec![vec![]; posts.len()]);
        // With equal scores, the nearest posts in date come first.
        assert_eq!(r[WINDOW], vec![WINDOW - 1, WINDOW + 1, WINDOW - 2]);
    }

    #[test]
    fn words_and_categories_read_a_narrower_window() {
        // Posts that share only a title word and their category: each reads WEAK_WINDOW of
        // the others' lists, the nearest in date.
        let posts = stories(WEAK_WINDOW * 3, &[]);
        let r = related_posts(&posts, WEAK_WINDOW * 2, &vec![vec![]; posts.len()]);
        let i = WEAK_WINDOW * 3 / 2;
        assert_eq!(r[i].len(), WEAK_WINDOW - 1, "{:?}", r[i]);
        assert!(
            r[i].iter().all(|&j| j.abs_diff(i) <= WEAK_WINDOW / 2),
            "{:?}",
            r[i]
        );
        // A tag (a strong feature) reads the wider window.
        let tagged = stories(WEAK_WINDOW * 3, &["common"]);
        let r = related_posts(&tagged, WEAK_WINDOW * 2, &vec![vec![]; tagged.len()]);
        assert_eq!(r[i].len(), WEAK_WINDOW * 2);
    }

    /// Related posts as the module docs say, written out plainly: every feature's posts
    /// in site order, the window around the post, scores summed, sorted, excluded posts
    /// left out.
    fn reference(posts: &[Arc<Page>], n: usize, exclude: &[Vec<usize>]) -> Vec<Vec<usize>> {
        let mut slugs = Slugs::default();
        let per_post: Vec<Vec<(u64, f32)>> =
            posts.iter().map(|p| features(p, &mut slugs)).collect();
        let mut lists: HashMap<u64, Vec<usize>> = HashMap::new();
        for (i, fs) in per_post.iter().enumerate() {
            for (k, _) in fs {
                lists.entry(*k).or_default().push(i);
            }
        }
        let total = posts.len() as f32;
        (0..posts.len())
            .map(|i| {
                let mut scores = vec![0f32; posts.len()];
                for (k, w) in &per_post[i] {
                    let list = &lists[k];
                    if list.len() < 2 {
                        continue;
                    }
                    let window = if *w > W_WORD.max(W_CATEGORY) {
                        WINDOW
                    } else {
                        WEAK_WINDOW
                    };
                    let at = list.iter().position(|&j| j == i).unwrap();
                    let hi = (at.saturating_sub(window / 2) + window).min(list.len());
                    let lo = hi.saturating_sub(window);
                    let rarity = (1.0 + total / list.len() as f32).ln();
                    for &j in &list[lo..hi] {
                        if j != i {
                            scores[j] += w * rarity;
                        }
                    }
                }
                let mut ranked: Vec<usize> = (0..posts.len())
                    .filter(|&j| scores[j] > 0.0 && !exclude[i].contains(&j))
                    .collect();
                ranked.sort_by(|&a, &b| {
                    scores[b]
                        .total_cmp(&scores[a])
                        .then(a.abs_diff(i).cmp(&b.abs_diff(i)))
                        .then(a.cmp(&b))
                });
                ranked.truncate(n);
                ranked
            })
            .collect()
    }

    #[test]
    fn a_kept_slug_key_is_the_key_of_the_slug() {
        use xxhash_rust::xxh3::xxh3_64_with_seed as key;
        let mut slugs = Slugs::default();
        for _ in 0..2 {
            for t in ["Ransomware", "ransomware", "Zero Day", "Café", "日本"] {
                assert_eq!(slugs.key(t, TAG), key(slugify(t).as_bytes(), TAG));
                assert_eq!(slugs.key(t, CATEGORY), key(slugify(t).as_bytes(), CATEGORY));
            }
        }
        assert_ne!(slugs.key("News", TAG), slugs.key("News", CATEGORY));
    }

    #[test]
    fn related_posts_are_those_the_rules_written_out_give() {
        // Random posts from a fixed generator: few tags, CVEs and techniques (so lists
        // overflow the windows), titles and TLDRs from a small vocabulary, some exclusions.
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = |m: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % m
        };
        const WORDS: [&str; 12] = [
            "patch",
            "exploit",
            "ransomware",
            "router",
            "firmware",
            "botnet",
            "leak",
            "phishing",
            "zero-day",
            "wiper",
            "loader",
            "cloud",
        ];
        let mut posts = Vec::new();
        let mut exclude = Vec::new();
        for i in 0..400 {
            let pick = |k: u64, next: &mut dyn FnMut(u64) -> u64| -> Vec<String> {
                (0..next(k))
                    .map(|_| WORDS[next(12) as usize].to_string())
                    .collect()
            };
            let title = pick(5, &mut next).join(" ");
            let tags: Vec<String> = (0..next(4)).map(|_| format!("tag{}", next(9))).collect();
            let cves: Vec<String> = (0..next(3))
                .map(|_| format!("CVE-2024-{}", 1000 + next(40)))
                .collect();
            let body = if next(4) == 0 {
                format!("Uses T{}.", 1000 + next(5))
            } else {
                String::new()
            };
            let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
            let cves: Vec<&str> = cves.iter().map(String::as_str).collect();
            let mut p = post(&format!("p{i}"), &title, &tags, &cves, &body);
            let tldr = pick(4, &mut next).join(" ");
            Arc::get_mut(&mut p).unwrap().tldr = vec![tldr];
            posts.push(p);
            exclude.push(if next(10) == 0 {
                vec![next(400) as usize]
            } else {
                vec![]
            });
        }
        for n in [1, 3, 7] {
            assert_eq!(
                related_posts(&posts, n, &exclude),
                reference(&posts, n, &exclude),
                "n = {n}"
            );
        }
    }
}
