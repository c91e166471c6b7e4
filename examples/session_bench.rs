use std::path::PathBuf;
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
fn main() {
    let root = PathBuf::from(std::env::args().nth(1).unwrap());
    let opts = sitrep::BuildOptions {
        root: root.clone(),
        output: Some(PathBuf::from("/dev/shm/c/sess-out")),
        base_url: Some("http://127.0.0.1:1".into()),
        ..Default::default()
    };
    let mut s = sitrep::build::Session::new(opts);
    let r = s.build(&[]).unwrap();
    eprintln!("first: {:?}", r.elapsed);
    let posts = root.join("content/posts");
    let mut names: Vec<_> = std::fs::read_dir(&posts)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    let name = names[names.len() / 2].clone();
    let path = posts.join(&name);
    let orig = std::fs::read_to_string(&path).unwrap();
    for i in 0..30 {
        std::fs::write(&path, format!("{orig}\nextra {i}\n")).unwrap();
        let rel = PathBuf::from("content/posts").join(&name);
        let r = s.build(&[rel]).unwrap();
        if i % 10 == 9 {
            eprintln!(
                "edit {i}: {:?} written {}\n{}",
                r.elapsed,
                r.written,
                r.timings.report()
            );
        }
    }
    std::fs::write(&path, orig).unwrap();
}
