//! How long search and related coverage take once a site is loaded: `cargo run --release
//! --example index_bench -- DIR`. Loads DIR cold (as `build --no-cache` does, writing
//! nothing), then builds the search index files and the related posts five times each on
//! the build's thread pool and prints the best times.

use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let Some(root) = std::env::args().nth(1) else {
        eprintln!("usage: index_bench DIR");
        std::process::exit(2);
    };
    let opts = sitrep::BuildOptions {
        root: root.into(),
        no_cache: true,
        ..Default::default()
    };
    let hl = sitrep::content::highlight::Highlighter::new();
    let loaded = sitrep::build::load(&opts, &hl).unwrap_or_else(|_| {
        eprintln!("the site does not build");
        std::process::exit(1);
    });
    let posts = &loaded.site.posts;
    let n = loaded.config.related_posts.max(1);
    let none = vec![Vec::new(); posts.len()];
    let best = |f: &mut dyn FnMut() -> usize| {
        let mut best = f64::MAX;
        let mut size = 0;
        for _ in 0..5 {
            let start = Instant::now();
            size = f();
            best = best.min(start.elapsed().as_secs_f64());
        }
        (best * 1e3, size)
    };
    let (ms, bytes) = best(&mut || {
        sitrep::render::search::index::build(posts, &loaded.urls)
            .iter()
            .map(|f| f.1.len())
            .sum()
    });
    println!(
        "{} posts: search index {ms:.0} ms ({bytes} bytes)",
        posts.len()
    );
    let (ms, links) = best(&mut || {
        sitrep::index::related::related_posts(posts, n, &none)
            .iter()
            .map(Vec::len)
            .sum()
    });
    println!("related posts {ms:.0} ms ({links} links)");
}
