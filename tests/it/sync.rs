//! `sitrep data sync` against a server on 127.0.0.1 that serves the real-format fixtures:
//! success, 404, a server that never answers (short timeout), a truncated body, and old
//! files kept when a source fails. No test reaches the internet.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::common::{TestSite, post};

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/intel")
            .join(rel),
    )
    .unwrap()
}

/// How the server answers a path.
#[derive(Clone)]
enum Answer {
    Ok(Vec<u8>),
    /// A Content-Length larger than the body sent, then the connection closes.
    Truncated(Vec<u8>),
    /// Reads the request and sends nothing until the client gives up.
    Silent,
}

/// A loopback HTTP server for one test: answers by path (404 for others), for at most
/// `limit` connections, then stops by itself.
struct Server {
    port: u16,
    routes: Arc<Mutex<HashMap<String, Answer>>>,
    hits: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(limit: usize) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let routes: Arc<Mutex<HashMap<String, Answer>>> = Arc::default();
        let hits: Arc<Mutex<Vec<String>>> = Arc::default();
        let (r, h) = (Arc::clone(&routes), Arc::clone(&hits));
        std::thread::spawn(move || {
            for stream in listener.incoming().take(limit) {
                let Ok(mut stream) = stream else { continue };
                let r = Arc::clone(&r);
                let h = Arc::clone(&h);
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut first = String::new();
                    if reader.read_line(&mut first).is_err() {
                        return;
                    }
                    loop {
                        let mut l = String::new();
                        if reader.read_line(&mut l).unwrap_or(0) == 0 || l == "\r\n" {
                            break;
                        }
                    }
                    let path = first.split_whitespace().nth(1).unwrap_or("/").to_string();
                    h.lock().unwrap().push(path.clone());
                    let answer = r.lock().unwrap().get(&path).cloned();
                    match answer {
                        Some(Answer::Ok(body)) => {
                            let _ = write!(
                                stream,
                                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                                body.len()
                            );
                            let _ = stream.write_all(&body);
                        }
                        Some(Answer::Truncated(body)) => {
                            let _ = write!(
                                stream,
                                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                                body.len() * 2
                            );
                            let _ = stream.write_all(&body);
                        }
                        Some(Answer::Silent) => {
                            // Hold the connection until the client closes it.
                            let mut sink = Vec::new();
                            let _ = std::io::Read::read_to_end(&mut reader, &mut sink);
                        }
                        None => {
                            let _ = write!(
                                stream,
                                "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found"
                            );
                        }
                    }
                });
            }
        });
        Server { port, routes, hits }
    }

    fn route(&self, path: &str, answer: Answer) {
        self.routes.lock().unwrap().insert(path.to_string(), answer);
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

fn site(server: &Server) -> TestSite {
    let s = TestSite::new();
    s.write(
        "site.toml",
        &format!(
            "{}[data]\nkev_url = \"{}\"\nepss_url = \"{}\"\ncve_url = \"{}\"\nattack_url = \"{}\"\n",
            crate::common::SITE_TOML,
            server.url("/kev.json"),
            server.url("/epss.csv.gz"),
            server.url("/cves/{year}/{bucket}/{id}.json"),
            server.url("/attack.json"),
        ),
    );
    s.write(
        "content/posts/a.md",
        &post(
            "A",
            "2024-04-15",
            "cves: [CVE-2024-3400]\n",
            "And CVE-2024-6387.",
        ),
    );
    s
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn serve_all(server: &Server) {
    server.route("/kev.json", Answer::Ok(fixture("kev.json")));
    server.route("/epss.csv.gz", Answer::Ok(gz(&fixture("epss.csv"))));
    server.route(
        "/cves/2024/3xxx/CVE-2024-3400.json",
        Answer::Ok(fixture("cve/2024/3xxx/CVE-2024-3400.json")),
    );
    server.route(
        "/cves/2024/6xxx/CVE-2024-6387.json",
        Answer::Ok(fixture("cve/2024/6xxx/CVE-2024-6387.json")),
    );
    server.route(
        "/attack.json",
        Answer::Ok(fixture("attack/enterprise-attack.json")),
    );
}

#[test]
fn sync_downloads_every_source_and_the_site_builds_from_them() {
    let server = Server::start(100);
    serve_all(&server);
    let s = site(&server);
    let out = s.run(&["data", "sync", "--retries", "0"]).ok();
    assert!(
        out.stdout
            .contains("new       data/kev.json (catalog 2025.08.25 of 2025-08-25, 9 entries)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("new       data/epss.csv (model v2025.03.14, scores of 2025-08-15"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("new       data/cve/2024/3xxx/CVE-2024-3400.json (CVSS 3.1 10)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("new       data/attack/enterprise-attack.json (4 techniques)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("5 files changed, 0 unchanged, 0 failed"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("[1/5] KEV catalog"),
        "progress: {}",
        out.stderr
    );
    // Not a terminal: plain lines, each source's start and its size when complete, and
    // no carriage returns.
    let kev_size = sitrep::intel::sync::human_bytes(fixture("kev.json").len() as u64);
    assert!(
        out.stderr.contains(&format!(
            "[1/5] KEV catalog\n[1/5] KEV catalog: {kev_size} downloaded\n"
        )),
        "progress: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("ATT&CK: ") && out.stderr.contains(" kB downloaded"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains('\r'), "{:?}", out.stderr);
    // EPSS arrives compressed and is stored as data/epss.csv says: plain.
    assert_eq!(
        std::fs::read(s.root().join("data/epss.csv")).unwrap(),
        fixture("epss.csv")
    );
    assert_eq!(
        std::fs::read(s.root().join("data/kev.json")).unwrap(),
        fixture("kev.json")
    );
    s.build(&[]).ok();
    assert!(
        s.read("cve/CVE-2024-3400/index.html")
            .contains("Known exploited")
    );
    // Again: nothing changed.
    let out = s.run(&["data", "sync", "--retries", "0"]).ok();
    assert!(
        out.stdout
            .contains("0 files changed, 5 unchanged, 0 failed"),
        "{}",
        out.stdout
    );
    // No temporary files left beside the data.
    let names: Vec<String> = walkdir::WalkDir::new(s.root().join("data"))
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            e.path()
                .strip_prefix(s.root())
                .unwrap()
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(names.len(), 5, "{names:?}");
}

#[test]
fn a_failed_source_keeps_its_old_file_and_fails_the_command() {
    let server = Server::start(100);
    serve_all(&server);
    let s = site(&server);
    s.run(&["data", "sync", "--retries", "0"]).ok();
    let old_kev = std::fs::read(s.root().join("data/kev.json")).unwrap();
    let old_epss = std::fs::read(s.root().join("data/epss.csv")).unwrap();
    let old_record = std::fs::read(s.root().join("data/cve/2024/6xxx/CVE-2024-6387.json")).unwrap();

    // 404 for the KEV catalog; a truncated EPSS body; a record that is not JSON 5.
    server.routes.lock().unwrap().remove("/kev.json");
    let epss = gz(&fixture("epss.csv"));
    server.route(
        "/epss.csv.gz",
        Answer::Truncated(epss[..epss.len() / 2].to_vec()),
    );
    let rec = fixture("cve/2024/6xxx/CVE-2024-6387.json");
    server.route(
        "/cves/2024/6xxx/CVE-2024-6387.json",
        Answer::Ok(rec[..rec.len() / 2].to_vec()),
    );
    let err = s.run(&["data", "sync", "--retries", "1"]).failed();
    assert!(
        err.contains("data/kev.json") && err.contains("KEV catalog: the server answered 404"),
        "{err}"
    );
    assert!(err.contains("the old file is left as it was"), "{err}");
    assert!(
        err.contains("data/epss.csv") && err.contains("EPSS scores: the download broke off"),
        "{err}"
    );
    assert!(
        err.contains("(after 2 attempts)"),
        "a broken download is retried: {err}"
    );
    assert!(
        err.contains("CVE-2024-6387: the download is not usable: line"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(s.root().join("data/kev.json")).unwrap(),
        old_kev
    );
    assert_eq!(
        std::fs::read(s.root().join("data/epss.csv")).unwrap(),
        old_epss
    );
    assert_eq!(
        std::fs::read(s.root().join("data/cve/2024/6xxx/CVE-2024-6387.json")).unwrap(),
        old_record
    );
    // The 404 was not retried; the truncated body was.
    let hits = server.hits.lock().unwrap().clone();
    assert_eq!(
        hits.iter().filter(|h| *h == "/kev.json").count(),
        2,
        "{hits:?}"
    );
    assert_eq!(
        hits.iter().filter(|h| *h == "/epss.csv.gz").count(),
        3,
        "{hits:?}"
    );
}

#[test]
fn a_server_that_never_answers_times_out() {
    let server = Server::start(100);
    serve_all(&server);
    server.route("/kev.json", Answer::Silent);
    let s = site(&server);
    let err = s
        .run(&["data", "sync", "--timeout", "1", "--retries", "0"])
        .failed();
    assert!(
        err.contains("data/kev.json") && err.to_lowercase().contains("timeout"),
        "{err}"
    );
    assert!(!s.root().join("data/kev.json").exists());
    // The other sources went on.
    assert!(s.root().join("data/epss.csv").exists());
}

#[test]
fn sync_refuses_urls_that_are_not_http() {
    let server = Server::start(10);
    let s = site(&server);
    s.write(
        "site.toml",
        &format!(
            "{}[data]\nkev_url = \"file:///etc/passwd\"\nepss_url = \"\"\ncve_url = \"\"\n",
            crate::common::SITE_TOML
        ),
    );
    let err = s.run(&["data", "sync", "--retries", "0"]).failed();
    assert!(
        err.contains("\"file:///etc/passwd\" is not an http(s) URL"),
        "{err}"
    );
    assert!(!s.root().join("data").exists());
}
