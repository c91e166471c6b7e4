//! `sitrep serve`: build the site into a folder of its own, serve it over HTTP, watch the
//! sources, rebuild on every save and reload the open tabs.
//!
//! ```text
//! main thread      accept loop; one short-lived thread per connection
//! watch thread     SiteWatcher::next_changes -> Rebuilder::rebuild (write lock) -> BuildClock::bump
//! event streams    /__sitrep/events: one thread each, waiting on BuildClock
//! ```
//!
//! The output folder is behind a read/write lock: requests hold the read lock while they
//! find and open their file, a rebuild holds the write lock from start to end, so a request
//! never sees a half-built site. HTML responses get [`SCRIPT_TAG`] before `</head>` at
//! response time (the files stay exactly what `sitrep build` writes, and the script is a
//! file, so a `default-src 'self'` CSP still holds). The script listens to server-sent
//! events and reloads the tab when a build (good or failed) is done. While the last build
//! failed, pages are the error page, with its messages escaped and the same script, so the
//! tab recovers by itself on the next good save.

pub mod http;
pub mod rebuild;
pub mod watch;

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::build::BuildOptions;
use crate::config::CONFIG_FILE;
use crate::error::{BuildError, Diagnostic};
use crate::support::escape;
use crate::urls;
use http::{Reject, Resolved, SitePath};
pub use rebuild::{RebuildReport, Rebuilder};
use watch::SiteWatcher;

/// The tag serve adds to every HTML page it sends.
pub const SCRIPT_TAG: &str = "<script src=\"/__sitrep/livereload.js\" defer></script>";
/// The first path segment of serve's own files; never looked up in the site.
pub const RESERVED: &str = "__sitrep";
const LIVERELOAD_JS: &str = include_str!("livereload.js");

/// At most this many connections are handled at once; more get a 503.
const MAX_CONNECTIONS: usize = 256;
/// A client that sends or reads nothing for this long is dropped.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// An idle event stream gets a comment this often (and finds out the tab is gone).
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// `sitrep serve`'s settings.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The folder with site.toml.
    pub root: PathBuf,
    pub bind: IpAddr,
    /// 0 picks a free port.
    pub port: u16,
    pub drafts: bool,
    /// Where to build; a new temporary folder (removed on Ctrl-C) when `None`.
    pub output: Option<PathBuf>,
    /// The moment to build for (fixed while serving; see `BuildOptions::now`).
    pub now: Option<chrono::DateTime<chrono::Utc>>,
    /// Show scheduled posts, marked as such.
    pub future: bool,
}

/// A bound server, ready to [`run`](Server::run).
pub struct Server {
    listener: TcpListener,
    addr: SocketAddr,
    rebuilder: Rebuilder,
    root: PathBuf,
    /// Holds the temporary output folder while serving.
    temp: Option<tempfile::TempDir>,
}

impl Server {
    /// Binds the address and picks the output folder; builds nothing yet.
    pub fn bind(opts: &ServeOptions) -> Result<Server, Diagnostic> {
        // A later error is shown in the browser; no site at all is the wrong folder.
        if !opts.root.join(CONFIG_FILE).is_file() {
            return Err(Diagnostic::error(
                opts.root.join(CONFIG_FILE),
                format!("there is no site here: no {CONFIG_FILE} in {}", opts.root.display()),
            )
            .with_help("run `sitrep serve` in the site's folder, pass --root DIR, or create a site with `sitrep init DIR`"));
        }
        let listener = TcpListener::bind((opts.bind, opts.port)).map_err(|e| {
            Diagnostic::flag(
                "--bind/--port",
                format!(
                    "cannot listen on {}: {e}",
                    SocketAddr::new(opts.bind, opts.port)
                ),
            )
            .with_help(
                "pass another --port (or --port 0 for any free port), or stop the program using it",
            )
        })?;
        let addr = listener.local_addr().map_err(|e| {
            Diagnostic::flag("--bind", format!("cannot use the address listened on: {e}"))
        })?;
        let (output, temp) = match &opts.output {
            Some(dir) => (dir.clone(), None),
            None => {
                let temp = tempfile::Builder::new()
                    .prefix("sitrep-serve-")
                    .tempdir()
                    .map_err(|e| {
                        Diagnostic::io(&std::env::temp_dir(), "create a folder in", &e)
                            .with_help("pass --output DIR to build somewhere else")
                    })?;
                (temp.path().join("site"), Some(temp))
            }
        };
        let build = BuildOptions {
            root: opts.root.clone(),
            output: Some(output),
            drafts: opts.drafts,
            base_url: Some(format!("http://{addr}")),
            now: opts.now,
            future: opts.future,
            ..BuildOptions::default()
        };
        Ok(Server {
            listener,
            addr,
            rebuilder: Rebuilder::new(build),
            root: opts.root.clone(),
            temp,
        })
    }

    /// The address serve listens on (with the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Builds, starts watching and serves until the process is stopped.
    pub fn run(mut self) -> Result<(), Diagnostic> {
        let watcher = SiteWatcher::new(&self.root)?;
        let state = Arc::new(State {
            served: RwLock::new(Served {
                dir: self.rebuilder.output(),
                error: None,
            }),
            builds: BuildClock::new(),
            connections: AtomicUsize::new(0),
            addr: self.addr,
        });
        if let Some(temp) = self.temp.take() {
            remove_on_ctrl_c(temp, Arc::clone(&state));
        }
        rebuild_and_publish(&mut self.rebuilder, &state, &[]);
        let watch_state = Arc::clone(&state);
        let rebuilder = self.rebuilder;
        std::thread::Builder::new()
            .name("sitrep-watch".into())
            .spawn(move || watch_loop(watcher, rebuilder, &watch_state))
            .map_err(|e| Diagnostic::io(&self.root, "watch", &e))?;
        println!(
            "serving {} at http://{}/ (Ctrl-C to stop)",
            self.root.display(),
            self.addr
        );
        for stream in self.listener.incoming() {
            let Ok(stream) = stream else { continue };
            let n = state.connections.fetch_add(1, Ordering::SeqCst);
            let guard = ConnectionGuard(Arc::clone(&state));
            if n >= MAX_CONNECTIONS {
                let _ = plain(&mut &stream, 503, "too many connections\n", false);
                continue;
            }
            let spawned = std::thread::Builder::new()
                .name("sitrep-http".into())
                .spawn(move || handle(stream, &guard.0));
            if spawned.is_err() {
                eprintln!("warning: could not start a thread for a request");
            }
        }
        Ok(())
    }
}

/// The warning to print when serve listens on an address other computers can reach.
pub fn network_warning(addr: SocketAddr) -> Option<Diagnostic> {
    if addr.ip().is_loopback() {
        return None;
    }
    Some(
        Diagnostic::warning(
            "--bind",
            format!(
                "listening on {addr}: the site (and its drafts, with --drafts) is reachable from the network, not only from this computer"
            ),
        )
        .with_help("leave out --bind (or pass --bind 127.0.0.1) to serve to this computer only"),
    )
}

/// The folder being served and the error of the last build, if it failed.
struct Served {
    dir: PathBuf,
    /// The error page, while the last build failed.
    error: Option<String>,
}

struct State {
    served: RwLock<Served>,
    builds: BuildClock,
    connections: AtomicUsize,
    /// The address listened on, for the Host check.
    addr: SocketAddr,
}

/// Lowers the connection count when a connection's thread ends.
struct ConnectionGuard(Arc<State>);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Counts builds; event streams wait on it.
struct BuildClock {
    /// Distinguishes this run of serve from the last, so tabs reload after a restart too.
    epoch: u64,
    count: Mutex<u64>,
    changed: Condvar,
}

impl BuildClock {
    fn new() -> Self {
        let epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        BuildClock {
            epoch,
            count: Mutex::new(0),
            changed: Condvar::new(),
        }
    }

    fn current(&self) -> u64 {
        *self.count.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn bump(&self) {
        *self.count.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.changed.notify_all();
    }

    /// Waits until the count differs from `seen`, or `timeout`; returns the count.
    fn wait(&self, seen: u64, timeout: Duration) -> u64 {
        let count = self.count.lock().unwrap_or_else(|e| e.into_inner());
        let (count, _) = self
            .changed
            .wait_timeout_while(count, timeout, |c| *c == seen)
            .unwrap_or_else(|e| e.into_inner());
        *count
    }

    fn id(&self, count: u64) -> String {
        format!("{}-{count}", self.epoch)
    }
}

fn watch_loop(mut watcher: SiteWatcher, mut rebuilder: Rebuilder, state: &State) {
    loop {
        match watcher.next_changes() {
            Ok((changed, warnings)) => {
                for d in &warnings {
                    eprintln!("{d}");
                }
                if !changed.is_empty() {
                    rebuild_and_publish(&mut rebuilder, state, &changed);
                }
            }
            Err(stopped) => {
                eprintln!("{stopped}");
                return;
            }
        }
    }
}

/// Rebuilds under the write lock, records the outcome and tells every open tab.
fn rebuild_and_publish(rebuilder: &mut Rebuilder, state: &State, changed: &[PathBuf]) {
    if !changed.is_empty() {
        println!("changed: {}", describe(rebuilder.root(), changed));
    }
    let result = {
        let mut served = state.served.write().unwrap_or_else(|e| e.into_inner());
        let result = rebuilder.rebuild(changed);
        served.error = result.as_ref().err().map(error_page);
        result
    };
    state.builds.bump();
    match result {
        Ok(report) => {
            for w in &report.warnings {
                eprintln!("{w}");
            }
            if changed.is_empty() {
                println!("{}", report.summary);
            } else {
                println!("rebuilt in {} ms", report.elapsed.as_millis());
            }
        }
        Err(err) => {
            for d in &err.diagnostics {
                eprintln!("{d}");
            }
            let n = err.errors().count();
            eprintln!(
                "build failed with {n} error{}; the browser shows them until the next good save",
                if n == 1 { "" } else { "s" }
            );
        }
    }
}

/// Up to three of the changed files, those that still exist first (editors' temporary
/// files come and go within one save).
fn describe(root: &Path, changed: &[PathBuf]) -> String {
    let mut shown: Vec<&PathBuf> = changed.iter().collect();
    shown.sort_by_key(|p| !root.join(p).exists());
    let mut s = shown
        .iter()
        .take(3)
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if shown.len() > 3 {
        s.push_str(&format!(" and {} more", shown.len() - 3));
    }
    s
}

/// Removes the temporary output folder when serve is stopped with Ctrl-C (or SIGTERM).
fn remove_on_ctrl_c(temp: tempfile::TempDir, state: Arc<State>) {
    let temp = Mutex::new(Some(temp));
    let installed = ctrlc::set_handler(move || {
        // Keep the next rebuild from starting, but do not wait for one in progress.
        let _served = state.served.try_write();
        if let Some(t) = temp.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let path = t.keep();
            // A build still writing may add files while the folder goes: try again.
            for _ in 0..3 {
                if std::fs::remove_dir_all(&path).is_ok() || !path.exists() {
                    break;
                }
            }
        }
        std::process::exit(0);
    });
    if installed.is_err() {
        eprintln!("warning: could not handle Ctrl-C; the temporary build folder stays behind");
    }
}

/// The page shown instead of the site while the last build failed.
pub fn error_page(err: &BuildError) -> String {
    let mut s = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Build failed · sitrep</title>\n",
    );
    s.push_str(SCRIPT_TAG);
    s.push_str(
        "\n</head>\n<body>\n<h1>The site did not build</h1>\n\
         <p>Fix the problem and save: this page reloads by itself.</p>\n<pre>",
    );
    escape::html_into(&err.to_string(), &mut s);
    s.push_str("</pre>\n</body>\n</html>\n");
    s
}

/// Serves one connection: one request, one response.
fn handle(stream: TcpStream, state: &State) {
    let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
    let mut out = &stream;
    let request = http::read_request(&mut BufReader::new(&stream));
    let request = match request {
        Ok(r) => r,
        Err(reject) => {
            let _ = rejected(&mut out, reject, false);
            return;
        }
    };
    let head = request.is_head();
    if !http::host_allowed(request.host.as_deref(), state.addr) {
        let msg = format!(
            "forbidden: this server answers only to http://{}/ (or localhost)\n",
            state.addr
        );
        let _ = plain(&mut out, 403, &msg, head);
        return;
    }
    let path = match http::parse_target(&request.target) {
        Ok(p) => p,
        Err(reject) => {
            let _ = rejected(&mut out, reject, head);
            return;
        }
    };
    let _ = if path.segments.first().is_some_and(|s| s == RESERVED) {
        serve_own(&mut out, &path, state, head)
    } else {
        serve_site(&mut out, &path, state, head)
    };
}

fn rejected(w: &mut impl Write, reject: Reject, head: bool) -> io::Result<()> {
    match reject {
        Reject::BadRequest(why) => plain(w, 400, &format!("bad request: {why}\n"), head),
        Reject::MethodNotAllowed => {
            let body = "only GET and HEAD are served\n";
            http::write_head(
                w,
                405,
                &[
                    ("Allow", "GET, HEAD"),
                    ("Content-Type", "text/plain; charset=utf-8"),
                ],
                Some(body.len() as u64),
            )?;
            w.write_all(body.as_bytes())
        }
    }
}

fn plain(w: &mut impl Write, status: u16, body: &str, head: bool) -> io::Result<()> {
    send(
        w,
        status,
        "text/plain; charset=utf-8",
        body.as_bytes(),
        head,
    )
}

fn send(
    w: &mut impl Write,
    status: u16,
    content_type: &str,
    body: &[u8],
    head: bool,
) -> io::Result<()> {
    http::write_head(
        w,
        status,
        &[("Content-Type", content_type)],
        Some(body.len() as u64),
    )?;
    if !head {
        w.write_all(body)?;
    }
    w.flush()
}

/// `/__sitrep/livereload.js` and `/__sitrep/events`.
fn serve_own(w: &mut impl Write, path: &SitePath, state: &State, head: bool) -> io::Result<()> {
    match (
        path.segments.get(1).map(String::as_str),
        path.segments.len(),
    ) {
        (Some("livereload.js"), 2) => send(
            w,
            200,
            "text/javascript; charset=utf-8",
            LIVERELOAD_JS.as_bytes(),
            head,
        ),
        (Some("events"), 2) => events(w, state, head),
        _ => plain(w, 404, "not found\n", head),
    }
}

/// A server-sent event stream: the current build's id now, and a new one after each build.
fn events(w: &mut impl Write, state: &State, head: bool) -> io::Result<()> {
    http::write_head(w, 200, &[("Content-Type", "text/event-stream")], None)?;
    if head {
        return Ok(());
    }
    let mut seen = state.builds.current();
    write!(
        w,
        "retry: 500\n\nevent: build\ndata: {}\n\n",
        state.builds.id(seen)
    )?;
    w.flush()?;
    loop {
        let now = state.builds.wait(seen, KEEP_ALIVE);
        if now == seen {
            w.write_all(b": keep-alive\n\n")?;
        } else {
            seen = now;
            write!(w, "event: build\ndata: {}\n\n", state.builds.id(seen))?;
        }
        w.flush()?;
    }
}

/// A file of the site, its 404 page, or the error page of the last build.
fn serve_site(w: &mut impl Write, path: &SitePath, state: &State, head: bool) -> io::Result<()> {
    enum Reply {
        Html(u16, Vec<u8>),
        File(File, u64, &'static str),
        Redirect(String),
        Plain(u16, &'static str),
    }
    let reply = {
        let served = state.served.read().unwrap_or_else(|e| e.into_inner());
        let error_page = || Reply::Html(500, served.error.clone().unwrap_or_default().into_bytes());
        match http::resolve(&served.dir, path) {
            Resolved::Redirect(to) => Reply::Redirect(to),
            Resolved::Forbidden => Reply::Plain(403, "forbidden: outside the site\n"),
            Resolved::NotFound if served.error.is_some() => error_page(),
            Resolved::NotFound => match std::fs::read(served.dir.join(urls::NOT_FOUND)) {
                Ok(page) => Reply::Html(404, http::inject(&page, SCRIPT_TAG)),
                Err(_) => Reply::Plain(404, "not found\n"),
            },
            Resolved::File(file) => {
                let ty = http::content_type(&file);
                if http::is_html(ty) {
                    if served.error.is_some() {
                        error_page()
                    } else {
                        match std::fs::read(&file) {
                            Ok(page) => Reply::Html(200, http::inject(&page, SCRIPT_TAG)),
                            Err(_) => Reply::Plain(404, "not found\n"),
                        }
                    }
                } else {
                    // Opened under the lock; read after it, from the same file.
                    match File::open(&file).and_then(|f| Ok((f.metadata()?.len(), f))) {
                        Ok((len, f)) => Reply::File(f, len, ty),
                        Err(_) => Reply::Plain(404, "not found\n"),
                    }
                }
            }
        }
    };
    match reply {
        Reply::Html(status, body) => send(w, status, "text/html; charset=utf-8", &body, head),
        Reply::Plain(status, body) => plain(w, status, body, head),
        Reply::Redirect(to) => {
            let body = format!("moved to {to}\n");
            http::write_head(
                w,
                302,
                &[
                    ("Location", &to),
                    ("Content-Type", "text/plain; charset=utf-8"),
                ],
                Some(body.len() as u64),
            )?;
            if !head {
                w.write_all(body.as_bytes())?;
            }
            w.flush()
        }
        Reply::File(file, len, ty) => {
            http::write_head(w, 200, &[("Content-Type", ty)], Some(len))?;
            if !head {
                io::copy(&mut file.take(len), w)?;
            }
            w.flush()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_network_addresses_are_warned_about() {
        for local in ["127.0.0.1:1111", "127.0.0.2:1", "[::1]:1111"] {
            assert!(network_warning(local.parse().unwrap()).is_none(), "{local}");
        }
        for open in ["0.0.0.0:1111", "[::]:1111", "192.168.1.5:1111"] {
            let w = network_warning(open.parse().unwrap()).unwrap();
            assert!(w.message.contains("reachable from the network"), "{open}");
        }
    }

    #[test]
    fn error_page_escapes_and_reloads() {
        let err = BuildError::from(
            Diagnostic::error("content/posts/<x>.md", "bad <script>\"'&").at_line(3),
        );
        let page = error_page(&err);
        assert!(
            page.contains("content/posts/&lt;x&gt;.md:3: bad &lt;script&gt;&quot;&#39;&amp;"),
            "{page}"
        );
        assert!(!page.contains("<script>\""));
        assert_eq!(page.matches(SCRIPT_TAG).count(), 1);
        assert!(
            !page.contains("<style") && !page.contains(" style="),
            "no inline style under a strict CSP"
        );
    }

    #[test]
    fn build_clock_wakes_waiters() {
        let clock = Arc::new(BuildClock::new());
        let seen = clock.current();
        let c = Arc::clone(&clock);
        let waiter = std::thread::spawn(move || c.wait(seen, Duration::from_secs(10)));
        std::thread::sleep(Duration::from_millis(20));
        clock.bump();
        assert_eq!(waiter.join().unwrap(), seen + 1);
        assert_eq!(clock.wait(seen + 1, Duration::from_millis(10)), seen + 1);
        assert_ne!(clock.id(1), clock.id(2));
    }
}
