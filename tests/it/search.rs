//! Built-in search: the tokenizer rules in Rust and in the client's JavaScript, on one table
//! of cases; and the index a build writes, read the way the client reads it.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::common::{self, TestSite, post};
use serde_json::Value;
use sitrep::render::search::tokenizer;

const CASES: &str = "tests/fixtures/search/tokenizer_cases.json";

fn cases() -> Vec<Value> {
    let text = std::fs::read_to_string(CASES).unwrap();
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn expected(case: &Value) -> Vec<(String, String)> {
    case["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t[0].as_str().unwrap().to_string(),
                t[1].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn rust_tokens(text: &str) -> Vec<(String, String)> {
    tokenizer::tokens(text)
        .into_iter()
        .map(|(t, k)| (t, k.name().to_string()))
        .collect()
}

#[test]
fn rust_tokenizer_follows_the_table() {
    let cases = cases();
    assert!(cases.len() >= 30);
    for case in &cases {
        let text = case["text"].as_str().unwrap();
        assert_eq!(
            rust_tokens(text),
            expected(case),
            "rule {}: {text:?}",
            case["rule"]
        );
    }
}

#[test]
fn javascript_tokenizer_agrees_with_rust() {
    let out = match Command::new("node")
        .arg("tests/search/tokenize.cjs")
        .arg(CASES)
        .output()
    {
        Ok(o) => o,
        Err(e) if std::env::var_os("SITREP_SKIP_BROWSER").is_some() => {
            eprintln!("skipped: node is not available ({e})");
            return;
        }
        Err(e) => {
            panic!("node is needed to test the search client (or set SITREP_SKIP_BROWSER=1): {e}")
        }
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let js: Value = serde_json::from_slice(&out.stdout).unwrap();
    for (case, got) in cases().iter().zip(js.as_array().unwrap()) {
        let got: Vec<(String, String)> = got
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t[0].as_str().unwrap().into(), t[1].as_str().unwrap().into()))
            .collect();
        assert_eq!(
            got,
            expected(case),
            "JS, rule {}: {:?}",
            case["rule"],
            case["text"]
        );
    }
}

/// The index as the client reads it: the shard a term is in, and its postings (post id ->
/// impact).
struct Index {
    dir: std::path::PathBuf,
    manifest: Value,
}

impl Index {
    fn open(public: &Path) -> Index {
        let dir = public.join("search");
        let manifest =
            serde_json::from_str(&std::fs::read_to_string(dir.join("index.json")).unwrap())
                .unwrap();
        Index { dir, manifest }
    }

    fn keys(&self) -> Vec<String> {
        self.manifest["shards"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap().to_string())
            .collect()
    }

    /// Posting ids of `term`, exactly.
    fn posts(&self, term: &str) -> Vec<u64> {
        let keys = self.keys();
        let utf16 = |s: &str| s.encode_utf16().collect::<Vec<_>>();
        let Some(i) = keys.iter().rposition(|k| utf16(k) <= utf16(term)) else {
            return vec![];
        };
        let hex: String = keys[i].bytes().map(|b| format!("{b:02x}")).collect();
        let shard: Value = serde_json::from_str(
            &std::fs::read_to_string(self.dir.join(format!("s/k{hex}.json"))).unwrap(),
        )
        .unwrap();
        for e in shard.as_array().unwrap() {
            if e[0] == term {
                let flat = e[2].as_array().unwrap();
                let mut id = 0;
                return flat
                    .chunks(2)
                    .map(|p| {
                        id += p[0].as_u64().unwrap();
                        id
                    })
                    .collect();
            }
        }
        vec![]
    }

    /// The record (url, title, …) of post `id`.
    fn record(&self, id: u64) -> Value {
        let chunk = self.manifest["chunk"].as_u64().unwrap();
        let file: Value = serde_json::from_str(
            &std::fs::read_to_string(self.dir.join(format!("r/{}.json", id / chunk))).unwrap(),
        )
        .unwrap();
        file[(id % chunk) as usize].clone()
    }

    fn urls(&self, term: &str) -> Vec<String> {
        self.posts(term)
            .into_iter()
            .map(|id| self.record(id)[0].as_str().unwrap().to_string())
            .collect()
    }
}

fn search_site() -> TestSite {
    let s = TestSite::new();
    s.write("site.toml", common::SITE_TOML);
    s.write(
        "content/posts/pan.md",
        &post(
            "PAN-OS GlobalProtect flaw exploited",
            "2024-04-12",
            "tags: [zero-day]\ncves: [CVE-2024-3400]\ntldr: [\"Command injection in GlobalProtect.\"]\n",
            "Attackers used T1190 and T1059.003 against 203.0.113.7.\n",
        ),
    );
    s.write(
        "content/posts/other.md",
        &post(
            "A different bug",
            "2024-05-01",
            "cves: [CVE-2024-34003]\n",
            "Ransomware operators dropped `payload.dll`.\n",
        ),
    );
    s.write(
        "content/posts/jp.md",
        &post(
            "能動的サイバー防御の法案",
            "2024-06-01",
            "tldr: [\"政府は能動的サイバー防御を導入する。\"]\n",
            "能動的サイバー防御（ACD）について。T1059 とガベージコレクション。\n",
        ),
    );
    s
}

#[test]
fn the_index_finds_ids_words_and_cjk_exactly() {
    let s = search_site();
    s.build(&["--no-cache"]).ok();
    let idx = Index::open(&s.public());
    assert_eq!(idx.manifest["posts"], 3);
    // Ids count from the oldest post.
    assert_eq!(idx.record(0)[0], "/posts/pan/");
    assert_eq!(idx.record(2)[1], "能動的サイバー防御の法案");
    assert_eq!(idx.record(0)[4], serde_json::json!(["zero-day"]));
    assert_eq!(idx.urls("cve-2024-3400"), ["/posts/pan/"]);
    assert_eq!(idx.urls("2024-3400"), ["/posts/pan/"]);
    assert_eq!(idx.urls("cve-2024-34003"), ["/posts/other/"]);
    assert_eq!(idx.urls("t1059"), ["/posts/pan/", "/posts/jp/"]);
    assert_eq!(idx.urls("t1059.003"), ["/posts/pan/"]);
    assert_eq!(idx.urls("203.0.113.7"), ["/posts/pan/"]);
    assert_eq!(idx.urls("payload.dll"), ["/posts/other/"]);
    assert_eq!(idx.urls("ransomwar"), ["/posts/other/"]);
    assert_eq!(idx.urls("exploit"), ["/posts/pan/"]);
    assert_eq!(idx.urls("防御"), ["/posts/jp/"]);
    assert_eq!(idx.urls("ガベ"), ["/posts/jp/"]);
    assert!(idx.urls("nothing").is_empty());
    // The search page points at the manifest and has a form that works without script.
    let page = s.read("search/index.html");
    assert!(
        page.contains("data-search-index=\"/search/index.json\""),
        "{page}"
    );
    assert!(page.contains("<input type=\"search\" name=\"q\""), "{page}");
    assert!(page.contains("data-search-results"));
    assert!(s.exists("search.js"));
}

/// The client's engine (search.js, in node) over a built site: each query's result URLs.
fn client_results(public: &Path, queries: &[&str]) -> Option<Vec<Vec<String>>> {
    let out = match Command::new("node")
        .arg("tests/search/query.cjs")
        .arg(public)
        .args(queries)
        .output()
    {
        Ok(o) => o,
        Err(_) if std::env::var_os("SITREP_SKIP_BROWSER").is_some() => return None,
        Err(e) => panic!("node is needed to test the search client: {e}"),
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

#[test]
fn the_client_finds_what_the_issue_asks_for() {
    let s = search_site();
    s.build(&["--no-cache"]).ok();
    let queries = [
        "CVE-2024-3400",
        "cve-2024-3400",
        "2024-3400",
        "CVE-2024-34003",
        "T1059",
        "T1059.003",
        "ransom",
        "exploiting",
        "globalprotect command",
        "能動的サイバー防御",
        "ガベージコレクション",
        "防",
        "payload.dll",
        "203.0.113.7",
        "nothing-like-this",
    ];
    let Some(got) = client_results(&s.public(), &queries) else {
        return;
    };
    let pan = "/posts/pan/".to_string();
    let other = "/posts/other/".to_string();
    let jp = "/posts/jp/".to_string();
    let want: [Vec<String>; 15] = [
        vec![pan.clone()],
        vec![pan.clone()],
        vec![pan.clone()],
        vec![other.clone()],
        vec![pan.clone(), jp.clone()],
        vec![pan.clone()],
        vec![other.clone()],
        vec![pan.clone()],
        vec![pan.clone()],
        vec![jp.clone()],
        vec![jp.clone()],
        vec![jp.clone()],
        vec![other.clone()],
        vec![pan.clone()],
        vec![],
    ];
    for ((q, got), want) in queries.iter().zip(&got).zip(&want) {
        let mut got = got.clone();
        let mut want = want.clone();
        got.sort();
        want.sort();
        assert_eq!(got, want, "query {q:?}");
    }
}

#[test]
fn title_and_tags_outrank_the_body() {
    let s = TestSite::new();
    s.write("site.toml", common::SITE_TOML);
    s.write(
        "content/posts/a.md",
        &post("Kerberoasting explained", "2024-01-01", "", "Some text.\n"),
    );
    s.write(
        "content/posts/b.md",
        &post(
            "Other news",
            "2024-01-02",
            "",
            "It mentions kerberoasting once.\n",
        ),
    );
    s.build(&["--no-cache"]).ok();
    let idx = Index::open(&s.public());
    let shard_with = |term: &str| -> BTreeMap<u64, u64> {
        let keys = idx.keys();
        let i = keys.iter().rposition(|k| k.as_str() <= term).unwrap();
        let hex: String = keys[i].bytes().map(|b| format!("{b:02x}")).collect();
        let shard: Value = serde_json::from_str(
            &std::fs::read_to_string(idx.dir.join(format!("s/k{hex}.json"))).unwrap(),
        )
        .unwrap();
        let e = shard
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e[0] == term)
            .unwrap()
            .clone();
        let mut id = 0;
        e[2].as_array()
            .unwrap()
            .chunks(2)
            .map(|p| {
                id += p[0].as_u64().unwrap();
                (id, p[1].as_u64().unwrap())
            })
            .collect()
    };
    let impacts = shard_with("kerberoast");
    assert!(impacts[&0] > impacts[&1], "{impacts:?}");
}

/// A site with one long post: a lede, then 400 words of filler, then a word, a CVE id, an
/// ATT&CK id and a version found nowhere else; the post lists an indicator in front matter.
fn long_post_site(setting: &str) -> TestSite {
    let s = TestSite::new();
    s.write(
        "site.toml",
        &format!("{}\n{setting}\n", common::SITE_TOML.trim_end()),
    );
    let filler = "Defenders kept patching servers all week long. ".repeat(57);
    s.write(
        "content/posts/long.md",
        &post(
            "Long read",
            "2024-04-12",
            "iocs:\n  - {type: sha256, value: \"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}\n",
            &format!(
                "The lede names Volexity.\n\n{filler}\n\nLate in the story: Zyxelbridge, CVE-2024-21762, T1190 and 7.2.8.\n"
            ),
        ),
    );
    s
}

#[test]
fn search_reads_the_lede_word_by_word_and_ids_anywhere() {
    // The default: the first 150 words.
    let s = long_post_site("");
    s.build(&["--no-cache"]).ok();
    let idx = Index::open(&s.public());
    let long = ["/posts/long/"];
    assert_eq!(idx.urls("volexit"), long, "a lede word");
    assert_eq!(
        idx.urls("defend"),
        long,
        "the filler's start is in the lede"
    );
    assert!(idx.urls("zyxelbridg").is_empty(), "a word past the lede");
    assert!(idx.urls("7.2.8").is_empty(), "a version past the lede");
    // Ids in running text, anywhere, and indicators are found whatever the setting.
    assert_eq!(idx.urls("cve-2024-21762"), long);
    assert_eq!(idx.urls("2024-21762"), long);
    assert_eq!(
        idx.urls("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        long
    );
    // The whole body.
    let s = long_post_site("search_body_words = \"all\"");
    s.build(&["--no-cache"]).ok();
    let idx = Index::open(&s.public());
    assert_eq!(idx.urls("zyxelbridg"), long);
    assert_eq!(idx.urls("7.2.8"), long);
    assert_eq!(idx.urls("t1190"), long);
    // No body words at all: the title, ids and indicators only.
    let s = long_post_site("search_body_words = 0");
    s.build(&["--no-cache"]).ok();
    let idx = Index::open(&s.public());
    assert!(idx.urls("volexit").is_empty());
    assert_eq!(idx.urls("long"), long);
    assert_eq!(idx.urls("cve-2024-21762"), long);
}

#[test]
fn a_bad_search_body_words_names_the_line_and_the_fix() {
    for bad in ["\"most\"", "-5", "2.5"] {
        let s = long_post_site(&format!("search_body_words = {bad}"));
        let err = s.build(&["--no-cache"]).failed();
        assert!(err.contains("site.toml:6"), "{bad}: {err}");
        assert!(err.contains("search_body_words"), "{bad}: {err}");
        assert!(err.contains("\"all\""), "{bad}: {err}");
    }
}

#[test]
fn search_off_writes_no_index_and_no_page() {
    let s = search_site();
    s.write(
        "site.toml",
        &format!("{}\nsearch = false\n", common::SITE_TOML.trim_end()),
    );
    s.build(&["--no-cache"]).ok();
    assert!(!s.exists("search/index.json"));
    assert!(!s.exists("search/index.html"));
}

#[test]
fn a_page_at_search_clashes_with_the_search_page() {
    let s = search_site();
    s.write("content/search.md", "---\ntitle: Search\n---\nMine.\n");
    let err = s.build(&["--no-cache"]).failed();
    assert!(err.contains("content/search.md"), "{err}");
    assert!(err.contains("/search/"), "{err}");
}

#[test]
fn related_coverage_follows_shared_cves_and_skips_front_matter_links() {
    let s = TestSite::new();
    s.write("site.toml", common::SITE_TOML);
    s.write(
        "content/posts/a.md",
        &post(
            "First report",
            "2024-04-12",
            "tags: [firewall]\ncves: [CVE-2024-3400]\nrelated:\n  - post: c\n",
            "Body.\n",
        ),
    );
    s.write(
        "content/posts/b.md",
        &post(
            "Patch out",
            "2024-04-14",
            "tags: [firewall]\ncves: [CVE-2024-3400]\ntldr: [\"Hotfixes ship.\"]\n",
            "Body.\n",
        ),
    );
    s.write(
        "content/posts/c.md",
        &post(
            "Follow-up",
            "2024-04-20",
            "tags: [firewall]\ncves: [CVE-2024-3400]\n",
            "Body.\n",
        ),
    );
    s.write(
        "content/posts/d.md",
        &post("Unrelated", "2024-04-13", "tags: [phishing]\n", "Body.\n"),
    );
    s.build(&["--no-cache"]).ok();
    let a = s.read("posts/a/index.html");
    let coverage = &a[a.find("Related coverage").expect("a section")..];
    let coverage = &coverage[..coverage.find("</section>").unwrap()];
    // b shares the CVE and tag; c is already a front matter link, so not repeated.
    assert!(coverage.contains("href=\"/posts/b/\""), "{coverage}");
    assert!(coverage.contains("Hotfixes ship."), "{coverage}");
    assert!(!coverage.contains("/posts/c/"), "{coverage}");
    assert!(!coverage.contains("/posts/d/"), "{coverage}");
    assert!(a.contains("Related links"));
    // related_posts = 0: no section.
    s.write(
        "site.toml",
        &format!("{}\nrelated_posts = 0\n", common::SITE_TOML.trim_end()),
    );
    s.build(&["--no-cache"]).ok();
    assert!(!s.read("posts/b/index.html").contains("Related coverage"));
}

#[test]
fn cjk_reading_time_counts_characters_at_their_rate() {
    let s = TestSite::new();
    s.write("site.toml", common::SITE_TOML);
    // 1,500 CJK characters: 3 minutes at 500 a minute (as one "word", 1 minute before).
    let body = "能動的サイバー防御".repeat(166) + "防御一二三四";
    assert_eq!(body.chars().count(), 1500);
    s.write(
        "content/posts/jp.md",
        &post("日本語の記事", "2024-01-01", "", &body),
    );
    s.build(&["--no-cache"]).ok();
    let page = s.read("posts/jp/index.html");
    assert!(page.contains("3 min read"), "{page}");
    s.write(
        "site.toml",
        &format!(
            "{}\ncjk_chars_per_minute = 300\n",
            common::SITE_TOML.trim_end()
        ),
    );
    s.build(&["--no-cache"]).ok();
    assert!(s.read("posts/jp/index.html").contains("5 min read"));
}
