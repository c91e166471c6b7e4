//! Highlighting cost per language on a corpus: `cargo run --release --example
//! highlight_bench -- DIR` (DIR with content/posts/*.md, e.g. a gen_corpus.py site). Prints
//! the time per line for each language, through one highlighting session, and how many lines
//! repeat (what the line memo can save).

use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: highlight_bench DIR");
        std::process::exit(2);
    };
    let mut blocks: Vec<(String, String)> = Vec::new();
    for entry in std::fs::read_dir(format!("{dir}/content/posts")).expect("content/posts") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).unwrap_or_default();
        let mut current: Option<(String, String)> = None;
        for event in Parser::new(&text) {
            match event {
                Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(lang))) => {
                    current = Some((lang.to_string(), String::new()))
                }
                Event::Text(t) => {
                    if let Some(c) = current.as_mut() {
                        c.1.push_str(&t);
                    }
                }
                Event::End(TagEnd::CodeBlock) => blocks.extend(current.take()),
                _ => {}
            }
        }
    }
    let hl = sitrep::content::highlight::Highlighter::new();
    let mut session = hl.session();
    session.highlight("rust", "fn warm_up() {}\n");
    let mut per: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    for (lang, code) in &blocks {
        let t = Instant::now();
        let _ = session.highlight(lang, code);
        let e = per.entry(lang.clone()).or_default();
        e.0 += t.elapsed().as_secs_f64();
        e.1 += code.lines().count();
    }
    let mut total = 0.0;
    for (lang, (secs, lines)) in &per {
        total += secs;
        println!(
            "{lang:12} {:8.1} ms {lines:7} lines {:6.1} us/line",
            secs * 1e3,
            secs * 1e6 / *lines as f64
        );
    }
    println!("total {:.1} ms for {} blocks", total * 1e3, blocks.len());
    let mut seen = HashSet::new();
    let (mut all, mut repeated) = (0, 0);
    for (lang, code) in &blocks {
        for line in code.lines() {
            all += 1;
            repeated += usize::from(!seen.insert((lang.as_str(), line)));
        }
    }
    println!(
        "lines {all}, repeated (language, text) {repeated} = {:.1}%",
        repeated as f64 * 100.0 / all.max(1) as f64
    );
}
