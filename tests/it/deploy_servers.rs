//! The deploy files behind real servers: a small site under a sub-path
//! (`https://user.example.io/blog/`), built with `[deploy] precompress` and `htaccess`, served
//! on 127.0.0.1 by Debian's nginx, Apache and Caddy with the configuration sitrep makes
//! (`sitrep deploy-config nginx|caddy`, the `.htaccess`), and checked with real HTTP requests:
//!
//! - every security header of `[headers]`, on pages, assets, redirects and the 404 page;
//! - aliases and `…/page/1/` answer 301 to the right address;
//! - the hashed stylesheet is cached for a year (`immutable`), HTML and feeds revalidate;
//! - a client that sends `Accept-Encoding` gets the precompressed file, which decompresses
//!   to the built file byte for byte; one that does not gets the file itself;
//! - a missing page answers 404 with the site's 404 page;
//! - every link of every page, followed from the home page, resolves (sitrep's own link
//!   resolution, `check::resolve_link`, on the served pages).
//!
//! Each server runs as the current user (as `nobody` where it insists on dropping root),
//! with its configuration, pid and log files in a temporary folder, on a free port, and is
//! killed when its test ends, also on failure. The servers come from Debian's `nginx`,
//! `apache2` and `caddy` packages: a missing one fails its test with what to install; set
//! `SITREP_SKIP_SERVERS=1` to skip these tests where they cannot be had.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{TestSite, post};
use sitrep::check::{LinkTarget, resolve_link};
use sitrep::urls::Urls;

const BASE_URL: &str = "https://user.example.io/blog";
const BASE: &str = "/blog";
/// The moment the site is built for.
const NOW: &str = "2026-06-01T00:00:00Z";

// ------------------------------------------------------------------ the site

fn site() -> TestSite {
    let s = TestSite::new();
    // `sitrep build` checks Expires against its moment (`--now`, below).
    let expires = "2026-12-01T00:00:00Z";
    s.write(
        "site.toml",
        &format!(
            "title = \"Served Dispatch\"\nbase_url = \"{BASE_URL}/\"\ndescription = \"Deploy tests\"\nposts_per_page = 2\n\n[headers]\nstrict_transport_security = \"max-age=63072000\"\n\n[headers.extra]\n\"X-Robots-Tag\" = \"noai\"\n\n[deploy]\nprecompress = true\nhtaccess = true\n\n[security_txt]\ncontact = \"mailto:security@example.com\"\nexpires = \"{expires}\"\n"
        ),
    );
    let long = "Attackers chained two flaws in the appliance. ".repeat(80);
    s.write(
        "content/posts/appliance-flaws.md",
        &post(
            "Appliance flaws exploited",
            "2024-04-15T07:45:00Z",
            "tags: [vulnerability, zero-day]\ncategories: [Vulnerabilities]\ncves: [CVE-2024-3400]\naliases: [/2024/04/appliance/, /old/appliance-flaws.html]\ntldr:\n  - Two flaws chained.\n",
            &format!("## What happened\n\n{long}\n\nSee [the other post](../ransomware-wave/) and [about](/blog/about/)."),
        ),
    );
    s.write(
        "content/posts/ransomware-wave.md",
        &post(
            "Ransomware wave",
            "2024-04-10",
            "tags: [ransomware]\naliases: [/2024/ransomware/]\n",
            "A wave of ransomware hit hospitals.",
        ),
    );
    s.write(
        "content/posts/patch-day.md",
        &post(
            "Patch day",
            "2024-04-09",
            "tags: [vulnerability]\n",
            "Patch day brought 150 fixes.",
        ),
    );
    s.write(
        "content/about.md",
        "---\ntitle: About\naliases: [/who/]\n---\n\nWe write about security.\n",
    );
    s.build(&["--now", NOW]).ok();
    // Servers that drop root (to `nobody`) must read the site.
    open_up(s.root());
    s
}

/// Makes `dir` and everything in it readable by every user.
fn open_up(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for e in walkdir::WalkDir::new(dir) {
        let e = e.unwrap();
        let mode = if e.file_type().is_dir() { 0o755 } else { 0o644 };
        std::fs::set_permissions(e.path(), std::fs::Permissions::from_mode(mode)).unwrap();
    }
}

// ------------------------------------------------------------------ servers

/// A running server, killed when dropped (also when a test panics).
struct Running {
    name: &'static str,
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    /// The server's error log, for failure messages.
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn skip() -> bool {
    let skip = std::env::var("SITREP_SKIP_SERVERS").as_deref() == Ok("1");
    if skip {
        println!("server test skipped: SITREP_SKIP_SERVERS=1");
    }
    skip
}

/// The path of a server binary, or a failure saying which Debian package brings it.
fn binary(candidates: &[&str], package: &str) -> PathBuf {
    for c in candidates {
        let p = Path::new(c);
        if p.is_file() {
            return p.to_path_buf();
        }
    }
    panic!(
        "this test needs {} (apt-get install {package}); set SITREP_SKIP_SERVERS=1 to skip it",
        candidates[0]
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Starts `cmd` and waits until its port answers.
fn start(
    name: &'static str,
    mut cmd: Command,
    port: u16,
    log: PathBuf,
    dir: tempfile::TempDir,
) -> Running {
    let out = std::fs::File::create(dir.path().join("output.log")).unwrap();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {name}: {e}"));
    let mut running = Running {
        name,
        child,
        port,
        log,
        _dir: dir,
    };
    // Readiness, not speed: the bound only stops a server that never comes up.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return running;
        }
        if let Ok(Some(status)) = running.child.try_wait() {
            let output =
                std::fs::read_to_string(running._dir.path().join("output.log")).unwrap_or_default();
            panic!("{name} exited with {status}:\n{output}\n{}", running.log());
        }
        assert!(
            Instant::now() < deadline,
            "{name} did not listen on port {port}:\n{}",
            running.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn deploy_config(s: &TestSite, server: &str, listen: &str) -> String {
    let run = s
        .run(&["deploy-config", server, "--listen", listen, "--now", NOW])
        .ok();
    run.stdout
}

fn nginx(s: &TestSite) -> Running {
    let bin = binary(&["/usr/sbin/nginx"], "nginx");
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let server = deploy_config(s, "nginx", &format!("127.0.0.1:{port}"));
    assert!(
        server.contains(&format!("alias \"{}/\";", s.public().display())),
        "{server}"
    );
    let user = if is_root() {
        "user nobody nogroup;\n"
    } else {
        ""
    };
    let conf = format!(
        "daemon off;\nmaster_process off;\n{user}pid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{}}\nhttp {{\n    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n    access_log off;\n    client_body_temp_path {d}/body;\n    proxy_temp_path {d}/proxy;\n    fastcgi_temp_path {d}/fastcgi;\n    uwsgi_temp_path {d}/uwsgi;\n    scgi_temp_path {d}/scgi;\n{server}}}\n"
    );
    std::fs::write(dir.path().join("nginx.conf"), &conf).unwrap();
    let mut cmd = Command::new(bin);
    cmd.args([
        "-p",
        &d,
        "-e",
        &format!("{d}/error.log"),
        "-c",
        &format!("{d}/nginx.conf"),
    ]);
    let log = dir.path().join("error.log");
    start("nginx", cmd, port, log, dir)
}

fn caddy(s: &TestSite) -> Running {
    let bin = binary(&["/usr/bin/caddy"], "caddy");
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let site = deploy_config(s, "caddy", &format!("127.0.0.1:{port}"));
    let conf = format!("{{\n\tadmin off\n\tauto_https off\n}}\n{site}");
    let file = dir.path().join("Caddyfile");
    std::fs::write(&file, &conf).unwrap();
    let mut cmd = Command::new(bin);
    cmd.args(["run", "--adapter", "caddyfile", "--config"])
        .arg(&file)
        .env("HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path());
    let log = dir.path().join("output.log");
    start("caddy", cmd, port, log, dir)
}

fn apache(s: &TestSite) -> Running {
    let bin = binary(&["/usr/sbin/apache2"], "apache2");
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let modules = "/usr/lib/apache2/modules";
    let load: String = [
        "mpm_prefork",
        "authz_core",
        "dir",
        "mime",
        "headers",
        "rewrite",
        "alias",
    ]
    .iter()
    .map(|m| format!("LoadModule {m}_module {modules}/mod_{m}.so\n"))
    .collect();
    let user = if is_root() {
        "User nobody\nGroup nogroup\n"
    } else {
        ""
    };
    std::fs::create_dir(dir.path().join("docroot")).unwrap();
    let public = s.public().display().to_string();
    let conf = format!(
        "ServerRoot {d}\n{load}{user}Listen 127.0.0.1:{port}\nServerName 127.0.0.1\nPidFile {d}/apache.pid\nErrorLog {d}/error.log\nLogLevel warn\nTypesConfig /etc/mime.types\nDocumentRoot {d}/docroot\nAlias {BASE} \"{public}\"\n<Directory \"{public}\">\n    AllowOverride All\n    Options FollowSymLinks\n    Require all granted\n</Directory>\n"
    );
    std::fs::write(dir.path().join("httpd.conf"), &conf).unwrap();
    let mut cmd = Command::new(bin);
    cmd.args(["-X", "-f", &format!("{d}/httpd.conf")])
        .env("APACHE_RUN_DIR", &d)
        .env("APACHE_LOCK_DIR", &d)
        .env("APACHE_LOG_DIR", &d);
    let log = dir.path().join("error.log");
    start("apache", cmd, port, log, dir)
}

// ------------------------------------------------------------------ HTTP

#[derive(Debug)]
struct Response {
    status: u16,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map_or("", String::as_str)
    }

    /// The body as the client sees it once decoded.
    fn decoded(&self) -> Vec<u8> {
        match self.header("content-encoding") {
            "gzip" => {
                let mut out = Vec::new();
                flate2::read::GzDecoder::new(&self.body[..])
                    .read_to_end(&mut out)
                    .expect("a valid gzip body");
                out
            }
            "br" => {
                let mut out = Vec::new();
                brotli::Decompressor::new(&self.body[..], 4096)
                    .read_to_end(&mut out)
                    .expect("a valid brotli body");
                out
            }
            "" | "identity" => self.body.clone(),
            other => panic!("unexpected Content-Encoding {other}"),
        }
    }

    /// The path of `Location`, whether the server sent it absolute or not.
    fn location_path(&self) -> String {
        let l = self.header("location");
        match l.split_once("://") {
            Some((_, rest)) => rest
                .find('/')
                .map_or("/".to_string(), |i| rest[i..].to_string()),
            None => l.to_string(),
        }
    }
}

/// One HTTP/1.1 GET on a fresh connection.
fn get(port: u16, path: &str, accept_encoding: Option<&str>) -> Response {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let ae = accept_encoding.map_or(String::new(), |a| format!("Accept-Encoding: {a}\r\n"));
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: sitrep-test\r\n{ae}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| {
            panic!(
                "no end of headers for {path}: {}",
                String::from_utf8_lossy(&raw)
            )
        });
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line for {path}: {head}"));
    let mut headers = BTreeMap::new();
    for l in lines {
        if let Some((n, v)) = l.split_once(':') {
            let n = n.trim().to_ascii_lowercase();
            let v = v.trim().to_string();
            headers
                .entry(n)
                .and_modify(|old: &mut String| {
                    old.push_str(", ");
                    old.push_str(&v);
                })
                .or_insert(v);
        }
    }
    let mut body = raw[end + 4..].to_vec();
    if headers
        .get("transfer-encoding")
        .is_some_and(|t| t.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size line");
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

// ------------------------------------------------------------------ the checks

/// The security headers the site's `[headers]` asks for.
fn expected_headers() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "content-security-policy",
            "default-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        ),
        ("referrer-policy", "strict-origin-when-cross-origin"),
        (
            "permissions-policy",
            "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
        ),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("cross-origin-opener-policy", "same-origin"),
        ("strict-transport-security", "max-age=63072000"),
        ("x-robots-tag", "noai"),
    ]
}

fn assert_security_headers(server: &Running, what: &str, r: &Response) {
    for (name, value) in expected_headers() {
        assert_eq!(
            r.header(name),
            value,
            "{}: {what}: header {name} (status {}, headers {:?})",
            server.name,
            r.status,
            r.headers
        );
    }
}

fn check_server(s: &TestSite, server: &Running) {
    let port = server.port;
    let name = server.name;
    let fail_log = || format!("\n{name} log:\n{}", server.log());

    // Pages, with every security header and revalidation.
    let home = get(port, &format!("{BASE}/"), None);
    assert_eq!(
        home.status,
        200,
        "{name}: home {:?}{}",
        home.headers,
        fail_log()
    );
    assert_security_headers(server, "home page", &home);
    assert!(
        home.header("content-type").starts_with("text/html"),
        "{name}: {:?}",
        home.headers
    );
    assert_eq!(home.header("cache-control"), "no-cache", "{name}: home");
    assert_eq!(
        home.decoded(),
        std::fs::read(s.public().join("index.html")).unwrap()
    );
    let feed = get(port, &format!("{BASE}/rss.xml"), None);
    assert_eq!(feed.status, 200, "{name}: feed");
    assert_eq!(feed.header("cache-control"), "no-cache", "{name}: feed");

    // Aliases and page 1 of listings: 301 to the right place.
    for (from, to) in [
        ("/2024/04/appliance/", "/posts/appliance-flaws/"),
        ("/old/appliance-flaws.html", "/posts/appliance-flaws/"),
        ("/2024/ransomware/", "/posts/ransomware-wave/"),
        ("/who/", "/about/"),
        ("/page/1/", "/"),
        ("/tags/vulnerability/page/1/", "/tags/vulnerability/"),
        ("/cve/CVE-2024-3400/page/1/", "/cve/CVE-2024-3400/"),
    ] {
        let r = get(port, &format!("{BASE}{from}"), None);
        assert_eq!(
            r.status,
            301,
            "{name}: {from} {:?}{}",
            r.headers,
            fail_log()
        );
        assert_eq!(r.location_path(), format!("{BASE}{to}"), "{name}: {from}");
        assert_security_headers(server, from, &r);
    }

    // The hashed stylesheet the pages link: cached for a year.
    let html = String::from_utf8(home.decoded()).unwrap();
    let css = html
        .split("<link rel=\"stylesheet\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a stylesheet link");
    assert!(
        css.starts_with(&format!("{BASE}/style.")) && css.len() > "/blog/style..css".len() + 8,
        "{css}"
    );
    let r = get(port, css, Some("gzip"));
    assert_eq!(r.status, 200, "{name}: {css}");
    assert_eq!(
        r.header("cache-control"),
        "public, max-age=31536000, immutable",
        "{name}: {css}"
    );
    assert!(
        r.header("content-type").starts_with("text/css"),
        "{name}: {:?}",
        r.headers
    );
    assert_eq!(
        r.decoded(),
        std::fs::read(s.public().join(&css[BASE.len() + 1..])).unwrap()
    );
    assert_security_headers(server, css, &r);

    // Precompressed files, to clients that take them; the file itself to others.
    let post_file = std::fs::read(s.public().join("posts/appliance-flaws/index.html")).unwrap();
    assert!(post_file.len() > 2048);
    let path = format!("{BASE}/posts/appliance-flaws/");
    let gz = get(port, &path, Some("gzip"));
    assert_eq!(gz.status, 200, "{name}");
    assert_eq!(
        gz.header("content-encoding"),
        "gzip",
        "{name}: {:?}{}",
        gz.headers,
        fail_log()
    );
    assert_eq!(
        gz.body,
        std::fs::read(s.public().join("posts/appliance-flaws/index.html.gz")).unwrap(),
        "{name}: the .gz file as written"
    );
    assert_eq!(gz.decoded(), post_file, "{name}: gzip body");
    assert!(
        gz.header("content-type").starts_with("text/html"),
        "{name}: {:?}",
        gz.headers
    );
    assert!(
        gz.header("vary")
            .to_ascii_lowercase()
            .contains("accept-encoding"),
        "{name}: {:?}",
        gz.headers
    );
    assert_security_headers(server, "gzip page", &gz);
    let plain = get(port, &path, None);
    assert_eq!(plain.header("content-encoding"), "", "{name}");
    assert_eq!(plain.body, post_file, "{name}: plain body");
    // nginx needs a module for .br (Debian: libnginx-mod-http-brotli-static), which the
    // server block leaves commented out.
    if name != "nginx" {
        let br = get(port, &path, Some("br, gzip"));
        assert_eq!(
            br.header("content-encoding"),
            "br",
            "{name}: {:?}",
            br.headers
        );
        assert_eq!(br.decoded(), post_file, "{name}: brotli body");
        let feed_br = get(port, &format!("{BASE}/atom.xml"), Some("br"));
        assert_eq!(feed_br.header("content-encoding"), "br", "{name}: atom.xml");
        assert_eq!(
            feed_br.decoded(),
            std::fs::read(s.public().join("atom.xml")).unwrap()
        );
    }

    // The 404 page, with status 404.
    let missing = get(port, &format!("{BASE}/no-such-story/"), None);
    assert_eq!(
        missing.status,
        404,
        "{name}: {:?}{}",
        missing.headers,
        fail_log()
    );
    assert_eq!(
        missing.decoded(),
        std::fs::read(s.public().join("404.html")).unwrap(),
        "{name}: the 404 page"
    );
    assert_security_headers(server, "404 page", &missing);

    // security.txt.
    let txt = get(port, &format!("{BASE}/.well-known/security.txt"), None);
    assert_eq!(txt.status, 200, "{name}: security.txt");
    assert!(
        String::from_utf8_lossy(&txt.decoded()).contains("Contact: mailto:security@example.com")
    );

    // Every link of every page, from the home page on, resolves.
    crawl(server);
}

/// Follows every internal link from the home page (sitrep's link resolution) and asks
/// the server for it: each must answer 200 (after at most one redirect, for a folder
/// asked without its slash), and HTML pages are crawled in turn.
fn crawl(server: &Running) {
    let urls = Urls::new(BASE_URL);
    let mut queue: VecDeque<String> = VecDeque::from([String::new()]);
    let mut seen: BTreeSet<String> = BTreeSet::from([String::new()]);
    let mut checked = 0;
    while let Some(route) = queue.pop_front() {
        let link = urls.url(&route);
        let mut r = get(server.port, &link, None);
        if r.status == 301 || r.status == 308 {
            let to = r.location_path();
            r = get(server.port, &to, None);
        }
        assert_eq!(r.status, 200, "{}: {link} (from the crawl)", server.name);
        checked += 1;
        if !r.header("content-type").starts_with("text/html") {
            continue;
        }
        let html = String::from_utf8_lossy(&r.decoded()).into_owned();
        for attr in ["href=\"", "src=\""] {
            for piece in html.split(attr).skip(1) {
                let dest = piece.split('"').next().unwrap_or("").replace("&amp;", "&");
                match resolve_link(&dest, &route, &urls) {
                    LinkTarget::Internal { path, .. } => {
                        if seen.insert(path.clone()) {
                            queue.push_back(path);
                        }
                    }
                    LinkTarget::External => {}
                    LinkTarget::Invalid(why) => {
                        panic!("{}: {dest:?} on {link} {why}", server.name)
                    }
                }
            }
        }
    }
    assert!(
        checked >= 20,
        "{}: only {checked} links crawled",
        server.name
    );
}

#[test]
fn nginx_serves_the_deploy_config() {
    if skip() {
        return;
    }
    let s = site();
    let server = nginx(&s);
    check_server(&s, &server);
}

#[test]
fn caddy_serves_the_deploy_config() {
    if skip() {
        return;
    }
    let s = site();
    let server = caddy(&s);
    check_server(&s, &server);
}

#[test]
fn apache_serves_the_htaccess() {
    if skip() {
        return;
    }
    let s = site();
    let server = apache(&s);
    check_server(&s, &server);
}
