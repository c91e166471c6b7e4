//! How long the search tokenizer takes over a site's posts: `cargo run --release --example
//! terms_bench -- DIR [WORDS]`. Reads every Markdown file under DIR/content and makes its
//! body terms (as the content stage does with the plain text of each body; with WORDS, of
//! the first WORDS words of the body, as a lede), three times on one thread, and prints the
//! best time and the throughput.

use std::time::Instant;

use sitrep::render::search::index::BodyTerms;

fn main() {
    let Some(root) = std::env::args().nth(1) else {
        eprintln!("usage: terms_bench DIR [WORDS]");
        std::process::exit(2);
    };
    let words: Option<usize> = std::env::args().nth(2).and_then(|w| w.parse().ok());
    let texts: Vec<String> = walkdir::WalkDir::new(std::path::Path::new(&root).join("content"))
        .sort_by_file_name()
        .into_iter()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .map(|t| match words {
            // The body after the front matter, cut at `words` words (as a lede).
            Some(n) => {
                let body = t.splitn(3, "---").nth(2).unwrap_or(&t).to_string();
                body.split_whitespace()
                    .take(n)
                    .collect::<Vec<_>>()
                    .join(" ")
            }
            None => t,
        })
        .collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    let mut best = f64::MAX;
    let mut terms = 0;
    for _ in 0..3 {
        let start = Instant::now();
        terms = texts
            .iter()
            .map(|t| BodyTerms::of(t).iter().count())
            .sum::<usize>();
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "{} files, {:.1} MB: {:.0} ms, {:.0} MB/s, {terms} distinct terms by post",
        texts.len(),
        bytes as f64 / 1e6,
        best * 1e3,
        bytes as f64 / 1e6 / best
    );
}
