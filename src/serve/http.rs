//! The small part of HTTP/1.1 that `sitrep serve` speaks: read one request, map its path
//! to a file of the served folder without ever leaving it, and write one response.
//!
//! Every connection carries one request (`Connection: close`). Only `GET` and `HEAD` are
//! served. A request path is percent-decoded once and then split into segments; a `.` or
//! `..` segment, an empty segment (`//`), a backslash, a NUL or any control character is a
//! 400 before the file system is touched. The file found is then canonicalized and must
//! still be inside the served folder (a symbolic link out of it is a 403).

use std::io::{self, BufRead, Read, Write};
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};

use crate::urls::percent_decode;

/// The most bytes a request line and its headers may take.
const MAX_HEAD: usize = 16 * 1024;

/// A parsed request: what sitrep needs of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The request target as sent (`/posts/x/?q=1`).
    pub target: String,
    /// The `Host` header, if sent.
    pub host: Option<String>,
}

impl Request {
    pub fn is_head(&self) -> bool {
        self.method == "HEAD"
    }
}

/// Why a request cannot be served; each maps to a status code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reject {
    /// 400: malformed request or a path that tries to leave the site.
    BadRequest(&'static str),
    /// 405: a method other than GET and HEAD.
    MethodNotAllowed,
}

/// Reads the request line and headers (headers are read and dropped).
pub fn read_request(reader: &mut impl BufRead) -> Result<Request, Reject> {
    let mut used = 0usize;
    let mut line = Vec::new();
    read_line(reader, &mut line, &mut used)?;
    let request_line = String::from_utf8(line.clone())
        .map_err(|_| Reject::BadRequest("request line is not UTF-8"))?;
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Reject::BadRequest("malformed request line"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(Reject::BadRequest("unsupported HTTP version"));
    }
    let mut host = None;
    loop {
        read_line(reader, &mut line, &mut used)?;
        if line.is_empty() {
            break;
        }
        let text = String::from_utf8_lossy(&line);
        if let Some((name, value)) = text.split_once(':')
            && name.trim().eq_ignore_ascii_case("host")
            && host.replace(value.trim().to_string()).is_some()
        {
            return Err(Reject::BadRequest("more than one Host header"));
        }
    }
    if method != "GET" && method != "HEAD" {
        return Err(Reject::MethodNotAllowed);
    }
    Ok(Request {
        method: method.to_string(),
        target: target.to_string(),
        host,
    })
}

/// Reads one line of the request head into `line` (without its line end), counting the
/// bytes against [`MAX_HEAD`].
fn read_line<R: BufRead>(
    reader: &mut R,
    line: &mut Vec<u8>,
    used: &mut usize,
) -> Result<(), Reject> {
    line.clear();
    let limit = (MAX_HEAD - *used) as u64 + 1;
    let n = <&mut R as Read>::take(reader, limit)
        .read_until(b'\n', line)
        .map_err(|_| Reject::BadRequest("could not read the request"))?;
    *used += n;
    if *used > MAX_HEAD {
        return Err(Reject::BadRequest("request head too large"));
    }
    if n == 0 || line.last() != Some(&b'\n') {
        return Err(Reject::BadRequest("incomplete request"));
    }
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    Ok(())
}

/// Whether a server listening on `addr` answers a request for `host`. On a loopback
/// address only the names of this computer are answered (`127.0.0.1:PORT`, `localhost:PORT`,
/// `[::1]:PORT`), so a web page whose own name has been pointed at 127.0.0.1 (DNS
/// rebinding) cannot read the site, drafts included. Bound to the network, any name goes.
pub fn host_allowed(host: Option<&str>, addr: SocketAddr) -> bool {
    let Some(host) = host else {
        return true; // HTTP/1.0 clients; browsers always send Host
    };
    if !addr.ip().is_loopback() {
        return true;
    }
    let host = host.to_ascii_lowercase();
    let port = addr.port();
    let (name, host_port) = match host.rsplit_once(':') {
        Some((n, p)) if !n.is_empty() && !p.contains(']') => (n, p.parse::<u16>().ok()),
        _ => (host.as_str(), Some(80)),
    };
    host_port == Some(port)
        && (name == "localhost"
            || name == "[::1]"
            || name
                .parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.is_loopback()))
}

/// A request path, decoded and checked: plain segments only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SitePath {
    /// Decoded segments, none empty, `.` or `..`.
    pub segments: Vec<String>,
    /// Whether the path ended in `/` (always true for `/`).
    pub trailing_slash: bool,
    /// The query string with its `?`, or empty.
    pub query: String,
}

impl SitePath {
    /// The path re-encoded, for a `Location` header: `/a/b`.
    pub fn encoded(&self) -> String {
        let mut s = String::new();
        for seg in &self.segments {
            s.push('/');
            for b in seg.bytes() {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                    s.push(b as char);
                } else {
                    s.push_str(&format!("%{b:02X}"));
                }
            }
        }
        if self.trailing_slash || s.is_empty() {
            s.push('/');
        }
        s
    }
}

/// Decodes and checks a request target. Only origin-form targets (`/path?query`) are served.
pub fn parse_target(target: &str) -> Result<SitePath, Reject> {
    let bad = Reject::BadRequest;
    if !target.starts_with('/') {
        return Err(bad("the request path must start with /"));
    }
    let (path, query) = match target.find('?') {
        Some(i) => (&target[..i], &target[i..]),
        None => (target, ""),
    };
    let path = path.split('#').next().unwrap_or("");
    let decoded = percent_decode(path).ok_or(bad("malformed percent-encoding"))?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad("the path is not UTF-8"))?;
    if decoded.chars().any(char::is_control) {
        return Err(bad("control characters in the path"));
    }
    if decoded.contains('\\') {
        return Err(bad("backslash in the path"));
    }
    let rest = &decoded[1..];
    let trailing_slash = rest.is_empty() || rest.ends_with('/');
    let mut segments = Vec::new();
    if !rest.is_empty() {
        let body = rest.strip_suffix('/').unwrap_or(rest);
        for seg in body.split('/') {
            match seg {
                "" => return Err(bad("empty segment in the path")),
                "." | ".." => return Err(bad("`.` or `..` in the path")),
                _ => {}
            }
            // One plain component (no drive prefix, root or separator on any platform).
            let mut comps = Path::new(seg).components();
            if !matches!(
                (comps.next(), comps.next()),
                (Some(Component::Normal(_)), None)
            ) {
                return Err(bad("the path is not plain"));
            }
            segments.push(seg.to_string());
        }
    }
    Ok(SitePath {
        segments,
        trailing_slash,
        query: query.to_string(),
    })
}

/// Where a path leads inside the served folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// A file (canonical path) inside the folder.
    File(PathBuf),
    /// A folder asked for without its `/`: redirect here.
    Redirect(String),
    NotFound,
    /// Resolves outside the folder (a symbolic link out).
    Forbidden,
}

/// Maps a checked path onto `dir` (pretty URLs: a folder is its `index.html`).
pub fn resolve(dir: &Path, path: &SitePath) -> Resolved {
    let Ok(base) = dir.canonicalize() else {
        return Resolved::NotFound;
    };
    let mut candidate = base.clone();
    candidate.extend(&path.segments);
    let inside = |p: &Path| -> Option<Result<PathBuf, ()>> {
        let real = p.canonicalize().ok()?;
        Some(if real.starts_with(&base) {
            Ok(real)
        } else {
            Err(())
        })
    };
    let real = match inside(&candidate) {
        None => return Resolved::NotFound,
        Some(Err(())) => return Resolved::Forbidden,
        Some(Ok(real)) => real,
    };
    if real.is_dir() {
        if !path.trailing_slash {
            let mut to = SitePath {
                trailing_slash: true,
                ..path.clone()
            }
            .encoded();
            to.push_str(&path.query);
            return Resolved::Redirect(to);
        }
        match inside(&real.join("index.html")) {
            None => Resolved::NotFound,
            Some(Err(())) => Resolved::Forbidden,
            Some(Ok(index)) if index.is_file() => Resolved::File(index),
            Some(Ok(_)) => Resolved::NotFound,
        }
    } else if path.trailing_slash {
        // `/style.css/` is not a folder.
        Resolved::NotFound
    } else if real.is_file() {
        Resolved::File(real)
    } else {
        Resolved::NotFound
    }
}

/// The `Content-Type` of a file, from its extension.
pub fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/xml",
        "txt" => "text/plain; charset=utf-8",
        "md" => "text/markdown; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "pdf" => "application/pdf",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "mp3" => "audio/mpeg",
        "wasm" => "application/wasm",
        "webmanifest" => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

/// Whether a content type is HTML (and gets the reload script).
pub fn is_html(content_type: &str) -> bool {
    content_type.starts_with("text/html")
}

/// Inserts `tag` before `</head>`, else before `</body>`, else at the end.
pub fn inject(html: &[u8], tag: &str) -> Vec<u8> {
    let find = |needle: &[u8]| {
        html.windows(needle.len())
            .position(|w| w.eq_ignore_ascii_case(needle))
    };
    let at = find(b"</head>")
        .or_else(|| find(b"</body>"))
        .unwrap_or(html.len());
    let mut out = Vec::with_capacity(html.len() + tag.len());
    out.extend_from_slice(&html[..at]);
    out.extend_from_slice(tag.as_bytes());
    out.extend_from_slice(&html[at..]);
    out
}

/// The reason phrase of the status codes sitrep sends.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// Writes a status line and headers; `Content-Length` and `Connection: close` are added.
pub fn write_head(
    w: &mut impl Write,
    status: u16,
    headers: &[(&str, &str)],
    length: Option<u64>,
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (k, v) in headers {
        head.push_str(k);
        head.push_str(": ");
        head.push_str(v);
        head.push_str("\r\n");
    }
    if let Some(n) = length {
        head.push_str(&format!("Content-Length: {n}\r\n"));
    }
    head.push_str(
        "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
    );
    w.write_all(head.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(target: &str) -> SitePath {
        parse_target(target).unwrap_or_else(|e| panic!("{target}: {e:?}"))
    }

    #[test]
    fn paths_decode_into_segments() {
        let p = ok("/posts/x/?q=1");
        assert_eq!(p.segments, ["posts", "x"]);
        assert!(p.trailing_slash);
        assert_eq!(p.query, "?q=1");
        let p = ok("/tags/%E6%97%A5%E6%9C%AC");
        assert_eq!(p.segments, ["tags", "日本"]);
        assert!(!p.trailing_slash);
        assert_eq!(p.encoded(), "/tags/%E6%97%A5%E6%9C%AC");
        assert_eq!(ok("/").segments, Vec::<String>::new());
        assert_eq!(ok("/").encoded(), "/");
        assert_eq!(ok("/a%20b.txt").segments, ["a b.txt"]);
    }

    #[test]
    fn escapes_are_rejected_before_the_file_system() {
        for bad in [
            "/../etc/passwd",
            "/a/../../etc/passwd",
            "/%2e%2e/etc/passwd",
            "/%2E%2E/etc/passwd",
            "/..%2fetc/passwd",
            "/..%2Fetc%2Fpasswd",
            "/%2e%2e%5cetc",
            "/..\\etc",
            "/a%5c..%5c..%5cetc",
            "//etc/passwd",
            "/%2fetc/passwd",
            "/a//b",
            "/./a",
            "/a%00.html",
            "/a%0d%0aSet-Cookie:x",
            "/%zz",
            "/%e6%97",
            "http://example.com/",
            "*",
            "etc/passwd",
        ] {
            assert!(
                matches!(parse_target(bad), Err(Reject::BadRequest(_))),
                "{bad:?} was accepted"
            );
        }
    }

    #[test]
    fn requests_parse_and_limit() {
        let mut r = io::Cursor::new(b"GET /a/ HTTP/1.1\r\nHost: x\r\n\r\n".to_vec());
        let req = read_request(&mut r).unwrap();
        assert_eq!(req.target, "/a/");
        assert_eq!(req.host.as_deref(), Some("x"));
        let mut r = io::Cursor::new(b"GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n".to_vec());
        assert!(read_request(&mut r).is_err());
        assert!(!req.is_head());
        let mut r = io::Cursor::new(b"POST / HTTP/1.1\r\n\r\n".to_vec());
        assert_eq!(read_request(&mut r), Err(Reject::MethodNotAllowed));
        let mut r = io::Cursor::new(b"GET / HTTP/1.1\r\n".to_vec());
        assert!(read_request(&mut r).is_err());
        let mut huge = b"GET / HTTP/1.1\r\n".to_vec();
        huge.extend(std::iter::repeat_n(b'a', MAX_HEAD));
        huge.extend(b"\r\n\r\n");
        assert!(read_request(&mut io::Cursor::new(huge)).is_err());
        let mut r = io::Cursor::new(b"GET / SPDY/3\r\n\r\n".to_vec());
        assert!(read_request(&mut r).is_err());
    }

    #[test]
    fn only_local_names_are_answered_on_loopback() {
        let local: SocketAddr = "127.0.0.1:1111".parse().unwrap();
        for ok in [
            None,
            Some("127.0.0.1:1111"),
            Some("localhost:1111"),
            Some("LOCALHOST:1111"),
            Some("[::1]:1111"),
            Some("127.0.0.2:1111"),
        ] {
            assert!(host_allowed(ok, local), "{ok:?}");
        }
        for bad in [
            "evil.example:1111",
            "evil.example",
            "localhost:2222",
            "localhost",
            "127.0.0.1",
            "localhost.evil.example:1111",
            "10.0.0.1:1111",
            "",
        ] {
            assert!(!host_allowed(Some(bad), local), "{bad:?}");
        }
        let port80: SocketAddr = "127.0.0.1:80".parse().unwrap();
        assert!(host_allowed(Some("localhost"), port80));
        let network: SocketAddr = "0.0.0.0:1111".parse().unwrap();
        assert!(host_allowed(Some("myhost.lan:1111"), network));
    }

    #[test]
    fn resolution_uses_pretty_urls_and_stays_inside() {
        let tmp = tempfile::tempdir().unwrap();
        let site = tmp.path().join("site");
        std::fs::create_dir_all(site.join("posts/x")).unwrap();
        std::fs::write(site.join("posts/x/index.html"), "x").unwrap();
        std::fs::write(site.join("style.css"), "c").unwrap();
        std::fs::create_dir(site.join("empty")).unwrap();
        std::fs::write(tmp.path().join("secret.txt"), "s").unwrap();
        let r = |t: &str| resolve(&site, &ok(t));
        let canon = site.canonicalize().unwrap();
        assert_eq!(
            r("/posts/x/"),
            Resolved::File(canon.join("posts/x/index.html"))
        );
        assert_eq!(
            r("/posts/x?a=b"),
            Resolved::Redirect("/posts/x/?a=b".into())
        );
        assert_eq!(r("/style.css"), Resolved::File(canon.join("style.css")));
        assert_eq!(r("/style.css/"), Resolved::NotFound);
        assert_eq!(r("/nope/"), Resolved::NotFound);
        assert_eq!(r("/empty/"), Resolved::NotFound);
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(tmp.path().join("secret.txt"), site.join("out.txt"))
                .unwrap();
            std::os::unix::fs::symlink(tmp.path(), site.join("up")).unwrap();
            assert_eq!(r("/out.txt"), Resolved::Forbidden);
            assert_eq!(r("/up/secret.txt"), Resolved::Forbidden);
            assert_eq!(r("/up/"), Resolved::Forbidden);
        }
    }

    #[test]
    fn content_types() {
        for (file, ty) in [
            ("a.html", "text/html; charset=utf-8"),
            ("a.CSS", "text/css; charset=utf-8"),
            ("a.js", "text/javascript; charset=utf-8"),
            ("rss.xml", "application/xml"),
            ("feed.json", "application/json"),
            ("a.svg", "image/svg+xml"),
            ("a.png", "image/png"),
            ("a.jpg", "image/jpeg"),
            ("a.webp", "image/webp"),
            ("a.woff2", "font/woff2"),
            ("robots.txt", "text/plain; charset=utf-8"),
            ("noext", "application/octet-stream"),
        ] {
            assert_eq!(content_type(Path::new(file)), ty, "{file}");
        }
    }

    #[test]
    fn script_goes_before_head_end() {
        let tag = "<script src=\"/s.js\" defer></script>";
        assert_eq!(
            inject(b"<html><HEAD></HEAD><body></body>", tag),
            format!("<html><HEAD>{tag}</HEAD><body></body>").into_bytes()
        );
        assert_eq!(
            inject(b"<p>x</p></body>", tag),
            format!("<p>x</p>{tag}</body>").into_bytes()
        );
        assert_eq!(inject(b"x", tag), format!("x{tag}").into_bytes());
    }
}
