//! How long `serve`'s rebuilds take after an edit, without the server: `cargo run --release
//! --example rebuild_bench -- DIR [body|title]`. Builds DIR once through a
//! `build::Session`, then edits the middle post 20 times (its body, or its title) and prints
//! each rebuild's stages. The post is restored at the end.

use std::path::PathBuf;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(root) = args.next().map(PathBuf::from) else {
        eprintln!("usage: rebuild_bench DIR [body|title]");
        std::process::exit(2);
    };
    let title = args.next().as_deref() == Some("title");
    let out = std::env::temp_dir().join("sitrep-rebuild-bench");
    let opts = sitrep::BuildOptions {
        root: root.clone(),
        output: Some(out.clone()),
        base_url: Some("http://127.0.0.1:1111".into()),
        ..Default::default()
    };
    let mut session = sitrep::build::Session::new(opts);
    let first = session.build(&[]).expect("first build");
    println!("first build: {:.2} s", first.elapsed.as_secs_f64());
    let posts = root.join("content/posts");
    let mut names: Vec<_> = std::fs::read_dir(&posts)
        .expect("posts")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    names.sort();
    let name = names[names.len() / 2].clone();
    let path = posts.join(&name);
    let original = std::fs::read_to_string(&path).expect("post");
    let rel = PathBuf::from("content/posts").join(&name);
    let mut times = Vec::new();
    for i in 0..20 {
        let edited = if title {
            original.replacen("title: \"", &format!("title: \"({i}) "), 1)
        } else {
            format!("{original}\nOne more sentence, number {i}.\n")
        };
        std::fs::write(&path, edited).expect("write");
        let r = session.build(std::slice::from_ref(&rel)).expect("rebuild");
        times.push(r.elapsed.as_secs_f64() * 1e3);
        if i == 19 {
            println!(
                "last rebuild: {} files written\n{}",
                r.written,
                r.timings.report()
            );
        }
    }
    std::fs::write(&path, original).expect("restore");
    let _ = std::fs::remove_dir_all(&out);
    times.sort_by(f64::total_cmp);
    println!(
        "{} edits: median {:.1} ms, min {:.1} ms, max {:.1} ms",
        if title { "title" } else { "body" },
        times[10],
        times[0],
        times[19]
    );
}
