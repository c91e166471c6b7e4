//! `sitrep serve` end to end: a real server on an ephemeral loopback port against a site in
//! a temp folder, spoken to with raw HTTP so that hostile paths reach it unchanged.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{TestSite, post, snapshot};

const TIMEOUT: Duration = Duration::from_secs(90);

/// A running `sitrep serve`; killed when dropped, even when a test fails.
struct Serve {
    child: Child,
    addr: SocketAddr,
    output: PathBuf,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn collect(stream: impl Read + Send + 'static, lines: Arc<Mutex<Vec<String>>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            lines.lock().unwrap().push(line);
        }
    });
}

impl Serve {
    /// Starts serve on port 0 for `site`, building into `output`, and waits for its address.
    fn start(site: &TestSite, output: &Path, extra: &[&str]) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sitrep"))
            .args(["serve", "--port", "0", "--output"])
            .arg(output)
            .args(extra)
            .current_dir(site.root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sitrep serve");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        collect(child.stdout.take().unwrap(), Arc::clone(&stdout));
        collect(child.stderr.take().unwrap(), Arc::clone(&stderr));
        let mut serve = Serve {
            child,
            addr: "127.0.0.1:1".parse().unwrap(),
            output: output.to_path_buf(),
            stdout,
            stderr,
        };
        let line = serve.wait_for_line(|l| l.starts_with("serving "));
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|s| s.strip_suffix("/ (Ctrl-C to stop)"))
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        serve.addr = addr.parse().unwrap();
        assert!(serve.addr.ip().is_loopback());
        assert_ne!(serve.addr.port(), 0);
        serve
    }

    /// Waits for a line of stdout that `pred` accepts; returns it.
    fn wait_for_line(&mut self, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            if let Some(l) = self.stdout.lock().unwrap().iter().find(|l| pred(l)) {
                return l.clone();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("serve exited with {status}; {}", self.output_text());
            }
            assert!(
                start.elapsed() < TIMEOUT,
                "timed out; {}",
                self.output_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn output_text(&self) -> String {
        format!(
            "stdout:\n{}\nstderr:\n{}",
            self.stdout.lock().unwrap().join("\n"),
            self.stderr.lock().unwrap().join("\n")
        )
    }

    fn get(&self, target: &str) -> Response {
        request(self.addr, "GET", target)
    }

    fn events(&self) -> Events {
        Events::open(self.addr)
    }
}

#[derive(Debug)]
struct Response {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One raw HTTP/1.1 request; the target is sent exactly as given.
fn request(addr: SocketAddr, method: &str, target: &str) -> Response {
    let mut s = TcpStream::connect_timeout(&addr, TIMEOUT).expect("connect");
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    write!(
        s,
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read response");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no head in {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    Response {
        status,
        head,
        body: raw[split + 4..].to_vec(),
    }
}

/// A GET of / with this Host header; the raw response.
fn request_with_host(addr: SocketAddr, host: &str) -> String {
    let mut s = TcpStream::connect_timeout(&addr, TIMEOUT).unwrap();
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    write!(s, "GET / HTTP/1.1\r\nHost: {host}\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text
}

/// A server-sent event stream of build ids.
struct Events {
    reader: BufReader<TcpStream>,
}

impl Events {
    fn open(addr: SocketAddr) -> Events {
        let mut s = TcpStream::connect_timeout(&addr, TIMEOUT).unwrap();
        s.set_read_timeout(Some(TIMEOUT)).unwrap();
        write!(s, "GET /__sitrep/events HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
        let mut reader = BufReader::new(s);
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert!(line.starts_with("HTTP/1.1 200"), "{line}");
        let mut head = String::new();
        while line.trim() != "" {
            line.clear();
            reader.read_line(&mut line).unwrap();
            head.push_str(&line);
        }
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: text/event-stream"),
            "{head}"
        );
        Events { reader }
    }

    /// The data of the next `build` event.
    fn next_build(&mut self) -> String {
        let mut event = String::new();
        loop {
            let mut line = String::new();
            let n = self
                .reader
                .read_line(&mut line)
                .expect("no build event in time");
            assert!(n > 0, "event stream closed");
            let line = line.trim_end();
            if let Some(e) = line.strip_prefix("event: ") {
                event = e.to_string();
            } else if let Some(data) = line.strip_prefix("data: ") {
                if event == "build" {
                    return data.to_string();
                }
            }
        }
    }
}

const TAG: &str = "<script src=\"/__sitrep/livereload.js\" defer></script>";

fn site() -> TestSite {
    let s = TestSite::new();
    s.write(
        "content/posts/first.md",
        &post(
            "First post",
            "2024-05-01",
            "tags: [patch]\n",
            "Original body text.",
        ),
    );
    s.write(
        "content/posts/second.md",
        &post("Second post", "2024-05-02", "", "## Details\n\nMore."),
    );
    s.write("content/about.md", "---\ntitle: About\n---\n\nAbout us.\n");
    s
}

fn out_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn serves_the_built_site_with_the_reload_script_only_in_responses() {
    let s = site();
    s.write_bytes("static/img/dot.png", b"\x89PNG\r\n\x1a\nfake");
    s.write("static/fonts/x.woff2", "w");
    let out = out_dir();
    let serve = Serve::start(&s, &out.path().join("site"), &[]);

    let home = serve.get("/");
    assert_eq!(home.status, 200, "{}", home.text());
    assert_eq!(
        home.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(home.text().matches(TAG).count(), 1);
    let head_end = home.text().find("</head>").unwrap();
    assert!(home.text()[..head_end].ends_with(TAG));

    // The served folder is exactly what `sitrep build` writes for the same address, and a
    // page differs from its file only by the script tag.
    let built = out.path().join("built");
    s.build(&[
        "--base-url",
        &format!("http://{}", serve.addr),
        "--output",
        built.to_str().unwrap(),
    ])
    .ok();
    assert_eq!(snapshot(&serve.output), snapshot(&built));
    let file = std::fs::read_to_string(serve.output.join("posts/first/index.html")).unwrap();
    assert!(!file.contains("livereload"));
    let page = serve.get("/posts/first/");
    assert_eq!(page.text().replacen(TAG, "", 1), file);
    assert_eq!(
        page.header("content-length").unwrap(),
        page.body.len().to_string()
    );
    assert!(
        !s.root().join("public").exists(),
        "serve wrote into public/"
    );

    for (path, ty) in [
        ("/style.css", "text/css; charset=utf-8"),
        ("/favicon.svg", "image/svg+xml"),
        ("/rss.xml", "application/xml"),
        ("/atom.xml", "application/xml"),
        ("/feed.json", "application/json"),
        ("/robots.txt", "text/plain; charset=utf-8"),
        ("/img/dot.png", "image/png"),
        ("/fonts/x.woff2", "font/woff2"),
        ("/__sitrep/livereload.js", "text/javascript; charset=utf-8"),
    ] {
        let r = serve.get(path);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("content-type").as_deref(), Some(ty), "{path}");
        assert!(!r.text().contains("livereload.js\" defer"), "{path}");
    }
    assert_eq!(serve.get("/img/dot.png").body, b"\x89PNG\r\n\x1a\nfake");
    let script = serve.get("/__sitrep/livereload.js").text();
    assert!(script.contains("EventSource(\"/__sitrep/events\")"));
}

#[test]
fn head_redirects_404_and_methods() {
    let s = site();
    let out = out_dir();
    let serve = Serve::start(&s, &out.path().join("site"), &[]);

    let get = serve.get("/posts/first/");
    let head = request(serve.addr, "HEAD", "/posts/first/");
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(
        head.header("content-length"),
        Some(get.body.len().to_string())
    );
    assert_eq!(head.header("content-type"), get.header("content-type"));

    let r = serve.get("/posts/first");
    assert!(matches!(r.status, 301 | 302), "{}", r.head);
    assert_eq!(r.header("location").as_deref(), Some("/posts/first/"));
    let r = serve.get("/about?x=1");
    assert_eq!(r.header("location").as_deref(), Some("/about/?x=1"));
    assert_eq!(serve.get("/about/?x=1").status, 200);

    let missing = serve.get("/no/such/page/");
    assert_eq!(missing.status, 404);
    let site_404 = std::fs::read_to_string(out.path().join("site/404.html")).unwrap();
    assert_eq!(missing.text().replacen(TAG, "", 1), site_404);
    assert!(missing.text().contains(TAG));
    assert_eq!(serve.get("/style.css/").status, 404);
    assert_eq!(serve.get("/__sitrep/other").status, 404);
    let head_404 = request(serve.addr, "HEAD", "/nope");
    assert_eq!(head_404.status, 404);
    assert!(head_404.body.is_empty());

    let post = request(serve.addr, "POST", "/");
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow").as_deref(), Some("GET, HEAD"));
}

#[test]
fn no_request_leaves_the_served_folder() {
    let s = site();
    let out = out_dir();
    std::fs::write(out.path().join("secret.txt"), "TOP-SECRET").unwrap();
    let serve = Serve::start(&s, &out.path().join("site"), &[]);
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(out.path().join("secret.txt"), serve.output.join("leak.txt"))
            .unwrap();
        std::os::unix::fs::symlink(out.path(), serve.output.join("up")).unwrap();
        std::os::unix::fs::symlink("/etc", serve.output.join("etc")).unwrap();
    }
    for target in [
        "/../secret.txt",
        "/posts/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/..%2fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/..%5csecret.txt",
        "/%5c..%5csecret.txt",
        "/..\\secret.txt",
        "/.%2e/secret.txt",
        "//secret.txt",
        "/%2f..%2fsecret.txt",
        "/secret.txt%00.html",
        "/etc/passwd",
        "/%2fetc%2fpasswd",
        "//etc/passwd",
        "/leak.txt",
        "/up/secret.txt",
        "/up/",
        "/etc/passwd",
        "/etc/hostname",
        "http://127.0.0.1/../secret.txt",
        "../secret.txt",
    ] {
        let r = request(serve.addr, "GET", target);
        assert!(
            matches!(r.status, 400 | 403 | 404),
            "{target}: {} {}",
            r.status,
            r.text()
        );
        assert!(!r.text().contains("TOP-SECRET"), "{target} leaked");
        assert!(!r.text().contains("root:"), "{target} leaked /etc/passwd");
    }
    #[cfg(unix)]
    {
        assert_eq!(serve.get("/leak.txt").status, 403);
        assert_eq!(serve.get("/up/secret.txt").status, 403);
    }
    assert_eq!(serve.get("/../secret.txt").status, 400);
    // A page whose name was pointed at 127.0.0.1 (DNS rebinding) cannot read the site.
    let text = request_with_host(serve.addr, &format!("evil.example:{}", serve.addr.port()));
    assert!(text.starts_with("HTTP/1.1 403"), "{text}");
    assert!(!text.contains("<html"), "{text}");
    let local = request_with_host(serve.addr, &format!("localhost:{}", serve.addr.port()));
    assert!(local.starts_with("HTTP/1.1 200"), "{local}");
    // The server is still up.
    assert_eq!(serve.get("/").status, 200);
}

/// Saves a file of the site the way many editors do: a temporary file renamed into place.
fn save(site: &TestSite, rel: &str, text: &str) {
    let path = site.root().join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let tmp = path.with_file_name(format!(
        ".{}.tmp",
        path.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
}

/// Waits for builds until `done` holds (a slow machine may build more than once per save).
fn until(events: &mut Events, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < TIMEOUT, "timed out waiting for {what}");
        events.next_build();
    }
}

#[test]
fn edits_reload_tabs_and_errors_show_until_fixed() {
    let s = site();
    let out = out_dir();
    let mut serve = Serve::start(&s, &out.path().join("site"), &[]);
    let mut events = serve.events();
    let first = events.next_build();
    // Another stream does not hold up requests.
    let _other = serve.events();
    assert!(
        serve
            .get("/posts/first/")
            .text()
            .contains("Original body text.")
    );

    // An edit: a new build id, and the page shows the change.
    save(
        &s,
        "content/posts/first.md",
        &post(
            "First post",
            "2024-05-01",
            "tags: [patch]\n",
            "Edited body text.",
        ),
    );
    let second = events.next_build();
    assert_ne!(first, second);
    until(&mut events, "the edit", || {
        serve
            .get("/posts/first/")
            .text()
            .contains("Edited body text.")
    });
    assert_eq!(serve.get("/posts/first/").status, 200);
    serve.wait_for_line(|l| l.starts_with("rebuilt in ") && l.ends_with(" ms"));
    serve.wait_for_line(|l| l == "changed: content/posts/first.md");

    // Broken front matter: every page is the error page, its message escaped, with the
    // reload script; the server goes on.
    save(
        &s,
        "content/posts/first.md",
        &post(
            "First post",
            "2024-05-01",
            "cves: [\"<script>alert(1)</script>\"]\n",
            "Edited body text.",
        ),
    );
    until(&mut events, "the error page", || {
        serve.get("/posts/first/").status == 500
    });
    for path in ["/posts/first/", "/", "/no/such/page/"] {
        let r = serve.get(path);
        assert_eq!(r.status, 500, "{path}");
        let text = r.text();
        assert!(text.contains("content/posts/first.md:4"), "{text}");
        assert!(
            text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{text}"
        );
        assert!(!text.contains("<script>alert"), "{text}");
        assert_eq!(text.matches(TAG).count(), 1, "{text}");
    }
    // Files other than pages are still served from the last good build.
    assert_eq!(serve.get("/style.css").status, 200);
    assert!(serve.output.join("posts/first/index.html").exists());
    let start = Instant::now();
    while !serve
        .stderr
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.contains("build failed"))
    {
        assert!(start.elapsed() < TIMEOUT, "{}", serve.output_text());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        serve
            .stderr
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("content/posts/first.md:4")),
        "{}",
        serve.output_text()
    );

    // Fixed: recovery without a restart.
    save(
        &s,
        "content/posts/first.md",
        &post("First post", "2024-05-01", "", "Fixed body text."),
    );
    until(&mut events, "recovery", || {
        serve.get("/posts/first/").status == 200
    });
    let page = serve.get("/posts/first/");
    assert!(page.text().contains("Fixed body text."));
    assert!(!page.text().contains("did not build"));

    // A new post and a new static folder are picked up too.
    save(
        &s,
        "content/posts/third.md",
        &post("Third post", "2024-05-03", "", "Brand new."),
    );
    until(&mut events, "the new post", || {
        serve.get("/posts/third/").text().contains("Brand new.")
    });
    s.write("static/new.txt", "fresh");
    until(&mut events, "the new static folder", || {
        serve.get("/new.txt").status == 200
    });
    assert_eq!(serve.get("/new.txt").text(), "fresh");
    // And a file in it, now that it is watched.
    save(&s, "static/new.txt", "fresher");
    until(&mut events, "the static file", || {
        serve.get("/new.txt").text() == "fresher"
    });
}

#[test]
fn a_site_that_does_not_build_at_start_is_served_as_its_error_page() {
    let s = site();
    s.write("content/posts/bad.md", "---\ntitle: [unclosed\n---\nx\n");
    let out = out_dir();
    let mut serve = Serve::start(&s, &out.path().join("site"), &[]);
    let r = serve.get("/");
    assert_eq!(r.status, 500);
    assert!(r.text().contains("content/posts/bad.md"), "{}", r.text());
    let mut events = serve.events();
    let before = events.next_build();
    s.remove("content/posts/bad.md");
    assert_ne!(events.next_build(), before);
    assert_eq!(serve.get("/").status, 200);
    serve.wait_for_line(|l| l.starts_with("rebuilt in "));
}

#[test]
fn drafts_only_with_the_flag() {
    let s = site();
    s.write(
        "content/posts/draft.md",
        &post("Draft post", "2024-05-04", "draft: true\n", "Not yet."),
    );
    let out = out_dir();
    let serve = Serve::start(&s, &out.path().join("a"), &[]);
    assert_eq!(serve.get("/posts/draft/").status, 404);
    drop(serve);
    let serve = Serve::start(&s, &out.path().join("b"), &["--drafts"]);
    assert_eq!(serve.get("/posts/draft/").status, 200);
}

#[test]
fn scheduled_posts_only_with_future_and_marked() {
    let s = site();
    s.write(
        "content/posts/embargoed.md",
        &post("Embargoed story", "2027-03-01T09:00:00Z", "", "Not yet."),
    );
    let out = out_dir();
    let serve = Serve::start(
        &s,
        &out.path().join("a"),
        &["--now", "2026-11-30T00:00:00Z"],
    );
    assert_eq!(serve.get("/posts/embargoed/").status, 404);
    assert!(!serve.get("/").text().contains("Embargoed story"));
    drop(serve);
    let serve = Serve::start(
        &s,
        &out.path().join("b"),
        &["--now", "2026-11-30T00:00:00Z", "--future"],
    );
    let page = serve.get("/posts/embargoed/");
    assert_eq!(page.status, 200);
    assert!(
        page.text().contains("class=\"scheduled-note\""),
        "{}",
        page.text()
    );
    drop(serve);
    let serve = Serve::start(
        &s,
        &out.path().join("c"),
        &["--now", "2027-03-01T09:00:00Z"],
    );
    let page = serve.get("/posts/embargoed/");
    assert_eq!(page.status, 200);
    assert!(!page.text().contains("scheduled-note"));
}

/// Runs serve where it should fail at once; kills it if it does not exit in time.
fn serve_failure(dir: &Path, args: &[&str]) -> String {
    let child = Command::new(env!("CARGO_BIN_EXE_sitrep"))
        .arg("serve")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut serve = Serve {
        child,
        addr: "127.0.0.1:1".parse().unwrap(),
        output: PathBuf::new(),
        stdout: Arc::default(),
        stderr: Arc::default(),
    };
    let stderr = serve.child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = BufReader::new(stderr).read_to_string(&mut text);
        text
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = serve.child.try_wait().unwrap() {
            break status;
        }
        assert!(start.elapsed() < TIMEOUT, "serve did not fail");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!status.success());
    reader.join().unwrap()
}

#[test]
fn serve_outside_a_site_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = serve_failure(dir.path(), &["--port", "0"]);
    assert!(err.contains("no site.toml"), "{err}");
    assert!(err.contains("sitrep init"), "{err}");
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let s = site();
    let err = serve_failure(s.root(), &["--port", &port]);
    assert!(err.contains("cannot listen on 127.0.0.1:"), "{err}");
    assert!(err.contains("--port"), "{err}");
    drop(taken);
}

#[cfg(unix)]
#[test]
fn ctrl_c_removes_the_temporary_build_folder() {
    let s = site();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sitrep"))
        .args(["serve", "--port", "0"])
        .current_dir(s.root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = Arc::new(Mutex::new(Vec::new()));
    collect(child.stdout.take().unwrap(), Arc::clone(&stdout));
    let mut serve = Serve {
        child,
        addr: "127.0.0.1:1".parse().unwrap(),
        output: PathBuf::new(),
        stdout,
        stderr: Arc::default(),
    };
    serve.wait_for_line(|l| l.starts_with("serving "));
    let summary = serve.wait_for_line(|l| l.starts_with("built "));
    let folder = PathBuf::from(summary.rsplit(" -> ").next().unwrap());
    assert!(folder.join("index.html").is_file(), "{summary}");
    assert!(!folder.starts_with(s.root()), "serve built inside the site");
    let pid = serve.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let start = Instant::now();
    let status = loop {
        if let Some(status) = serve.child.try_wait().unwrap() {
            break status;
        }
        assert!(start.elapsed() < TIMEOUT, "serve did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
    assert!(!folder.exists(), "{} is left behind", folder.display());
    assert!(!folder.parent().unwrap().exists());
}
