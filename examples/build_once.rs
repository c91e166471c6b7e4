fn main() {
    let root = std::path::PathBuf::from(std::env::args().nth(1).unwrap());
    let out = std::path::PathBuf::from(std::env::args().nth(2).unwrap());
    let opts = sitrep::BuildOptions {
        root,
        output: Some(out),
        no_cache: true,
        ..Default::default()
    };
    let r = sitrep::build(&opts, &sitrep::highlight::Highlighter::new()).unwrap();
    eprintln!("{}", r.summary());
}
