use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};
use std::collections::BTreeMap;
use std::time::Instant;
fn main() {
    let dir = std::env::args().nth(1).unwrap();
    let mut blocks: Vec<(String, String)> = Vec::new();
    for e in std::fs::read_dir(format!("{dir}/content/posts")).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        let mut cur: Option<(String, String)> = None;
        for ev in Parser::new(&text) {
            match ev {
                Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(l))) => {
                    cur = Some((l.to_string(), String::new()))
                }
                Event::Text(t) => {
                    if let Some(c) = cur.as_mut() {
                        c.1.push_str(&t)
                    }
                }
                Event::End(TagEnd::CodeBlock) => blocks.push(cur.take().unwrap()),
                _ => {}
            }
        }
    }
    let hl0 = sitrep::highlight::Highlighter::new();
    let mut hl = hl0.session();
    hl.highlight("rust", "fn x(){}\n");
    let mut per: BTreeMap<String, (f64, usize, usize)> = BTreeMap::new();
    for (lang, code) in &blocks {
        let t = Instant::now();
        let _ = hl.highlight(lang, code);
        let e = per.entry(lang.clone()).or_default();
        e.0 += t.elapsed().as_secs_f64();
        e.1 += code.lines().count();
        e.2 += code.len();
    }
    let mut total = 0.0;
    for (l, (t, lines, bytes)) in &per {
        total += t;
        println!(
            "{l:12} {:8.1} ms  {lines:6} lines {bytes:8} bytes  {:6.1} us/line",
            t * 1000.0,
            t * 1e6 / *lines as f64
        );
    }
    println!("total {:.1} ms for {} blocks", total * 1000.0, blocks.len());
    let mut seen = std::collections::HashSet::new();
    let (mut all, mut rep) = (0, 0);
    for (lang, code) in &blocks {
        for l in code.lines() {
            all += 1;
            if !seen.insert((lang.clone(), l.to_string())) {
                rep += 1;
            }
        }
    }
    println!(
        "lines {all}, repeated (lang, text) {rep} = {:.1}%",
        rep as f64 * 100.0 / all as f64
    );
}
#[allow(dead_code)]
fn _unused() {}
