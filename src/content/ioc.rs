//! Indicators of compromise: type detection, validation, defanging (for display), refanging
//! (for what a reader copies and what tools read) and STIX 2.1 patterns.
//!
//! A post lists IOCs in front matter (`iocs:` with `type`, `value`, `note`) or in an
//! `{% ioc() %}` block, one per line. Values may be written defanged (`hxxp://evil[.]example`):
//! they are refanged, checked for their type and kept in their real form. Pages show them
//! defanged and never as links; exports (`render::ioc_exports`) carry the real values.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use crate::content::markdown::is_cve_id;

/// What an indicator is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IocKind {
    Ipv4,
    Ipv6,
    Domain,
    Url,
    Email,
    Md5,
    Sha1,
    Sha256,
    Cve,
    File,
    Registry,
}

impl IocKind {
    pub const ALL: [IocKind; 11] = [
        IocKind::Ipv4,
        IocKind::Ipv6,
        IocKind::Domain,
        IocKind::Url,
        IocKind::Email,
        IocKind::Md5,
        IocKind::Sha1,
        IocKind::Sha256,
        IocKind::Cve,
        IocKind::File,
        IocKind::Registry,
    ];

    /// The name used in front matter and exports.
    pub fn name(self) -> &'static str {
        match self {
            IocKind::Ipv4 => "ipv4",
            IocKind::Ipv6 => "ipv6",
            IocKind::Domain => "domain",
            IocKind::Url => "url",
            IocKind::Email => "email",
            IocKind::Md5 => "md5",
            IocKind::Sha1 => "sha1",
            IocKind::Sha256 => "sha256",
            IocKind::Cve => "cve",
            IocKind::File => "file",
            IocKind::Registry => "registry",
        }
    }

    /// How a page labels it.
    pub fn label(self) -> &'static str {
        match self {
            IocKind::Ipv4 => "IPv4",
            IocKind::Ipv6 => "IPv6",
            IocKind::Domain => "Domain",
            IocKind::Url => "URL",
            IocKind::Email => "Email",
            IocKind::Md5 => "MD5",
            IocKind::Sha1 => "SHA-1",
            IocKind::Sha256 => "SHA-256",
            IocKind::Cve => "CVE",
            IocKind::File => "File name",
            IocKind::Registry => "Registry key",
        }
    }

    /// A `type:` of front matter: the names above, a few common spellings, and `ip` and
    /// `hash` (whose exact kind the value decides).
    pub fn parse_name(name: &str) -> Option<Option<IocKind>> {
        let n = name
            .trim()
            .to_ascii_lowercase()
            .replace(['-', '_', ' '], "");
        Some(Some(match n.as_str() {
            "ipv4" | "ipv4addr" => IocKind::Ipv4,
            "ipv6" | "ipv6addr" => IocKind::Ipv6,
            "domain" | "domainname" | "hostname" | "host" => IocKind::Domain,
            "url" | "uri" => IocKind::Url,
            "email" | "emailaddr" | "mail" => IocKind::Email,
            "md5" => IocKind::Md5,
            "sha1" => IocKind::Sha1,
            "sha256" => IocKind::Sha256,
            "cve" => IocKind::Cve,
            "file" | "filename" => IocKind::File,
            "registry" | "registrykey" | "regkey" => IocKind::Registry,
            "ip" | "hash" => return Some(None),
            _ => return None,
        }))
    }
}

impl fmt::Display for IocKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The front matter `type:` values an author may write.
pub const TYPE_NAMES: &str =
    "ipv4, ipv6, ip, domain, url, email, md5, sha1, sha256, hash, cve, file, registry";

/// One indicator, checked, with its real (refanged) value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ioc {
    pub kind: IocKind,
    pub value: String,
    pub note: String,
    /// Shown in the body by an `{% ioc() %}` block (else listed from front matter).
    pub in_body: bool,
}

impl Ioc {
    /// The value as a page shows it: never a working link or address.
    pub fn defanged(&self) -> String {
        defang(self.kind, &self.value)
    }
}

/// An `iocs:` entry of front matter: a value (its type detected) or `{type, value, note}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum IocEntry {
    Value(crate::content::frontmatter::Text),
    Full {
        #[serde(rename = "type", default)]
        kind: Option<crate::content::frontmatter::Text>,
        value: crate::content::frontmatter::Text,
        #[serde(default)]
        note: Option<crate::content::frontmatter::Text>,
    },
}

/// Checks front matter's `iocs:`; each bad entry is an error with the file and its line
/// (`line_of` finds a value's line in the front matter).
pub fn from_front_matter(
    entries: &[IocEntry],
    file: &std::path::Path,
    line_of: &dyn Fn(&str) -> Option<usize>,
    errors: &mut Vec<crate::error::Diagnostic>,
) -> Vec<Ioc> {
    let mut out = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        let (kind, value, note) = match e {
            IocEntry::Value(v) => (None, v.0.as_str(), ""),
            IocEntry::Full { kind, value, note } => (
                kind.as_ref().map(|k| k.0.as_str()),
                value.0.as_str(),
                note.as_ref().map_or("", |n| n.0.as_str()),
            ),
        };
        let fail = |msg: String, help: String| {
            crate::error::Diagnostic::error(file, msg)
                .at_opt(line_of(value.trim()).or_else(|| line_of("iocs")))
                .with_help(help)
        };
        let parsed_kind = match kind {
            Some(k) => match IocKind::parse_name(k) {
                Some(pk) => Some(pk),
                None => {
                    errors.push(fail(
                        format!("iocs entry {}: `type: {k}` is not an indicator type", i + 1),
                        format!(
                            "use one of: {TYPE_NAMES}; or leave `type` out to have it detected"
                        ),
                    ));
                    continue;
                }
            },
            None => None,
        };
        match check_typed(parsed_kind, value) {
            Ok((kind, value)) => out.push(Ioc {
                kind,
                value,
                note: note.trim().to_string(),
                in_body: false,
            }),
            Err(why) => errors.push(fail(
                format!("iocs entry {}: {:?} {why}", i + 1, value.trim()),
                "fix the value, or give its `type` (one of: ".to_string() + TYPE_NAMES + ")",
            )),
        }
    }
    out
}

/// Turns common defanging back: `hxxp(s)`/`hXXp`, `fxp`, `[.]`, `(.)`, `[dot]`, `[@]`,
/// `[at]`, `[:]`, `[://]`, `[/]`.
pub fn refang(raw: &str) -> String {
    let mut s = raw.trim().to_string();
    for (from, to) in [
        ("[://]", "://"),
        ("[:]//", "://"),
        ("[:]", ":"),
        ("[.]", "."),
        ("(.)", "."),
        ("{.}", "."),
        ("[dot]", "."),
        ("(dot)", "."),
        ("[@]", "@"),
        ("(@)", "@"),
        ("[at]", "@"),
        ("(at)", "@"),
        ("[/]", "/"),
    ] {
        if s.contains(from) {
            s = s.replace(from, to);
        }
    }
    let lower = s.to_ascii_lowercase();
    for (fanged, real) in [
        ("hxxps://", "https://"),
        ("hxxp://", "http://"),
        ("fxp://", "ftp://"),
        ("fxps://", "ftps://"),
    ] {
        if lower.starts_with(fanged) {
            s = format!("{real}{}", &s[fanged.len()..]);
            break;
        }
    }
    s
}

/// The value as a page shows it: schemes `hxxp(s)`/`fxp`, the dots of domains, URL hosts
/// and email domains as `[.]`, `@` as `[@]`, the last dot of an IPv4 address and the
/// colons of an IPv6 address bracketed. Hashes, CVE ids, file names and registry keys are
/// not addresses and stay as they are.
pub fn defang(kind: IocKind, value: &str) -> String {
    match kind {
        IocKind::Ipv4 => match value.rfind('.') {
            Some(i) => format!("{}[.]{}", &value[..i], &value[i + 1..]),
            None => value.to_string(),
        },
        IocKind::Ipv6 => value.replace(':', "[:]"),
        IocKind::Domain => value.replace('.', "[.]"),
        IocKind::Email => match value.rsplit_once('@') {
            Some((local, domain)) => format!("{local}[@]{}", domain.replace('.', "[.]")),
            None => value.to_string(),
        },
        IocKind::Url => defang_url(value),
        _ => value.to_string(),
    }
}

fn defang_url(value: &str) -> String {
    let Some(sep) = value.find("://") else {
        return value.replace('.', "[.]");
    };
    let scheme = &value[..sep];
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" => "hxxp".to_string(),
        "https" => "hxxps".to_string(),
        "ftp" => "fxp".to_string(),
        "ftps" => "fxps".to_string(),
        _ => scheme.to_string(),
    };
    let rest = &value[sep + 3..];
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(host_end);
    // user@host:port — the host's dots and any `@` are defanged.
    let authority = authority.replace('.', "[.]").replace('@', "[@]");
    format!("{scheme}://{authority}{path}")
}

/// Detects the kind of a (refanged) value and checks it. `Err` says what is wrong.
pub fn detect(value: &str) -> Result<(IocKind, String), String> {
    let v = value.trim();
    if v.is_empty() {
        return Err("the value is empty".into());
    }
    if v.chars().any(char::is_control) {
        return Err("the value contains a control character".into());
    }
    if let Some(sep) = v.find("://")
        && sep > 0
        && v[..sep]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+.-".contains(&b))
    {
        return check(IocKind::Url, v).map(|s| (IocKind::Url, s));
    }
    if is_registry(v) {
        return check(IocKind::Registry, v).map(|s| (IocKind::Registry, s));
    }
    if v.len() > 4 && v[..4].eq_ignore_ascii_case("cve-") {
        return check(IocKind::Cve, v).map(|s| (IocKind::Cve, s));
    }
    if looks_like_ipv4(v) {
        return check(IocKind::Ipv4, v).map(|s| (IocKind::Ipv4, s));
    }
    if v.contains(':')
        && v.bytes()
            .all(|b| b.is_ascii_hexdigit() || b":./".contains(&b))
    {
        return check(IocKind::Ipv6, v).map(|s| (IocKind::Ipv6, s));
    }
    if v.bytes().all(|b| b.is_ascii_hexdigit()) && v.len() >= 16 {
        let kind = match v.len() {
            32 => IocKind::Md5,
            40 => IocKind::Sha1,
            64 => IocKind::Sha256,
            n => {
                return Err(format!(
                    "looks like a hash but has {n} hex digits: MD5 has 32, SHA-1 40, SHA-256 64"
                ));
            }
        };
        return Ok((kind, v.to_ascii_lowercase()));
    }
    if v.contains('@') && !v.contains(char::is_whitespace) {
        return check(IocKind::Email, v).map(|s| (IocKind::Email, s));
    }
    if has_file_extension(v) || v.contains(char::is_whitespace) {
        return check(IocKind::File, v).map(|s| (IocKind::File, s));
    }
    if v.contains('.') {
        return check(IocKind::Domain, v).map(|s| (IocKind::Domain, s));
    }
    Err(
        "is not an IP address, domain, URL, email address, hash, CVE id, file name or registry key"
            .into(),
    )
}

/// Checks `value` (refanged) as a `kind`, returning it in its canonical form (hashes, domains
/// and CVE ids case-normalised).
pub fn check(kind: IocKind, value: &str) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() {
        return Err("the value is empty".into());
    }
    if v.chars().any(char::is_control) {
        return Err("the value contains a control character".into());
    }
    match kind {
        IocKind::Ipv4 => {
            let (addr, prefix) = split_prefix(v);
            addr.parse::<Ipv4Addr>().map_err(|_| {
                format!("{addr:?} is not a valid IPv4 address (four numbers from 0 to 255)")
            })?;
            check_prefix(prefix, 32)?;
            Ok(v.to_string())
        }
        IocKind::Ipv6 => {
            let (addr, prefix) = split_prefix(v);
            addr.parse::<Ipv6Addr>()
                .map_err(|_| format!("{addr:?} is not a valid IPv6 address"))?;
            check_prefix(prefix, 128)?;
            Ok(v.to_ascii_lowercase())
        }
        IocKind::Domain => check_domain(v).map(|()| v.to_lowercase()),
        IocKind::Url => {
            let sep = v
                .find("://")
                .ok_or("a URL needs a scheme, such as https://")?;
            if v.contains(char::is_whitespace) {
                return Err("a URL cannot contain spaces (encode them as %20)".into());
            }
            let rest = &v[sep + 3..];
            let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
            let host = authority.rsplit('@').next().unwrap_or("");
            let host = if host.starts_with('[') {
                host.split(']').next().unwrap_or("").trim_start_matches('[')
            } else {
                host.split(':').next().unwrap_or("")
            };
            if host.is_empty() {
                return Err("the URL has no host".into());
            }
            if host.parse::<Ipv6Addr>().is_err() && !looks_like_ipv4(host) {
                check_domain(host).map_err(|why| format!("the URL's host: {why}"))?;
            } else if looks_like_ipv4(host) {
                host.parse::<Ipv4Addr>()
                    .map_err(|_| format!("the URL's host {host:?} is not a valid IPv4 address"))?;
            }
            Ok(v.to_string())
        }
        IocKind::Email => {
            let (local, domain) = v.rsplit_once('@').ok_or("an email address needs an `@`")?;
            if local.is_empty() || local.contains(char::is_whitespace) {
                return Err("the part before `@` is empty or has spaces".into());
            }
            check_domain(domain).map_err(|why| format!("the email domain: {why}"))?;
            Ok(format!("{local}@{}", domain.to_lowercase()))
        }
        IocKind::Md5 | IocKind::Sha1 | IocKind::Sha256 => {
            let want = match kind {
                IocKind::Md5 => 32,
                IocKind::Sha1 => 40,
                _ => 64,
            };
            if !v.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("a {} hash is hex digits only", kind.label()));
            }
            if v.len() != want {
                return Err(format!(
                    "a {} hash has {want} hex digits, this one {}",
                    kind.label(),
                    v.len()
                ));
            }
            Ok(v.to_ascii_lowercase())
        }
        IocKind::Cve => {
            let id = v.to_ascii_uppercase();
            if is_cve_id(&id) {
                Ok(id)
            } else {
                Err("is not a CVE id (CVE-YYYY-NNNN)".into())
            }
        }
        IocKind::File => {
            if v.contains(['/', '\\']) {
                return Err("a file name has no `/` or `\\` (give the name only)".into());
            }
            if v.chars().count() > 255 {
                return Err("a file name is at most 255 characters".into());
            }
            Ok(v.to_string())
        }
        IocKind::Registry => {
            if !is_registry(v) {
                return Err(
                    "a registry key starts with its hive, such as HKEY_LOCAL_MACHINE\\ or HKLM\\"
                        .into(),
                );
            }
            Ok(v.to_string())
        }
    }
}

/// Checks a value of front matter, whose `type` may name a kind, `ip` or `hash` (or be
/// absent: detected).
pub fn check_typed(kind: Option<Option<IocKind>>, raw: &str) -> Result<(IocKind, String), String> {
    let v = refang(raw);
    match kind {
        None | Some(None) => {
            let (k, value) = detect(&v)?;
            match (kind, raw.trim()) {
                (Some(None), _)
                    if !matches!(
                        k,
                        IocKind::Ipv4
                            | IocKind::Ipv6
                            | IocKind::Md5
                            | IocKind::Sha1
                            | IocKind::Sha256
                    ) =>
                {
                    Err(format!("is a {}, not an IP address or a hash", k.label()))
                }
                _ => Ok((k, value)),
            }
        }
        Some(Some(k)) => check(k, &v).map(|value| (k, value)),
    }
}

fn split_prefix(v: &str) -> (&str, Option<&str>) {
    match v.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (v, None),
    }
}

fn check_prefix(prefix: Option<&str>, max: u8) -> Result<(), String> {
    match prefix {
        None => Ok(()),
        Some(p) => match p.parse::<u8>() {
            Ok(n) if n <= max && !p.starts_with('+') => Ok(()),
            _ => Err(format!(
                "the network prefix /{p} is not a number from 0 to {max}"
            )),
        },
    }
}

fn looks_like_ipv4(v: &str) -> bool {
    let (addr, prefix) = split_prefix(v);
    let parts: Vec<&str> = addr.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && prefix.is_none_or(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

fn is_registry(v: &str) -> bool {
    let upper = v.to_ascii_uppercase();
    let hive = upper.split('\\').next().unwrap_or("");
    v.contains('\\')
        && matches!(
            hive,
            "HKLM"
                | "HKCU"
                | "HKCR"
                | "HKU"
                | "HKCC"
                | "HKEY_LOCAL_MACHINE"
                | "HKEY_CURRENT_USER"
                | "HKEY_CLASSES_ROOT"
                | "HKEY_USERS"
                | "HKEY_CURRENT_CONFIG"
        )
}

/// Extensions that make `name.ext` a file rather than a domain (some, like `.zip`, are also
/// top-level domains: give `type: domain` in front matter for those).
const FILE_EXTENSIONS: &[&str] = &[
    "exe", "dll", "sys", "scr", "com", "bat", "cmd", "ps1", "psm1", "vbs", "vbe", "js", "jse",
    "wsf", "hta", "lnk", "msi", "msp", "jar", "apk", "dmg", "pkg", "deb", "rpm", "elf", "bin",
    "so", "dylib", "sh", "py", "pl", "rb", "php", "asp", "aspx", "jsp", "zip", "rar", "7z", "gz",
    "tgz", "tar", "iso", "img", "vhd", "vhdx", "doc", "docx", "docm", "xls", "xlsx", "xlsm", "ppt",
    "pptx", "pdf", "rtf", "one", "txt", "log", "dat", "tmp", "ini", "cfg", "json", "xml", "html",
    "htm", "svg", "png", "jpg", "jpeg", "gif",
];

fn has_file_extension(v: &str) -> bool {
    v.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty() && FILE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str())
    })
}

fn check_domain(d: &str) -> Result<(), String> {
    let d = d.strip_suffix('.').unwrap_or(d);
    if d.len() > 253 {
        return Err("a domain name is at most 253 characters".into());
    }
    let labels: Vec<&str> = d.split('.').collect();
    if labels.len() < 2 {
        return Err(format!("{d:?} is not a domain name (it needs a dot)"));
    }
    for l in &labels {
        let ok_chars = l
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_');
        if l.is_empty() || l.len() > 63 || !ok_chars || l.starts_with('-') || l.ends_with('-') {
            return Err(format!(
                "{d:?} is not a valid domain name (labels of letters, digits and `-`, 1 to 63 characters)"
            ));
        }
    }
    let tld = labels[labels.len() - 1];
    if !tld.chars().any(char::is_alphabetic) {
        return Err(format!(
            "{d:?} is not a domain name: its last label has no letter"
        ));
    }
    Ok(())
}

/// The STIX 2.1 pattern that matches the indicator (none for CVE ids, which are
/// vulnerabilities, not observables).
pub fn stix_pattern(kind: IocKind, value: &str) -> Option<String> {
    let lit = stix_literal(value);
    Some(match kind {
        IocKind::Ipv4 => format!("[ipv4-addr:value = '{lit}']"),
        IocKind::Ipv6 => format!("[ipv6-addr:value = '{lit}']"),
        IocKind::Domain => format!("[domain-name:value = '{lit}']"),
        IocKind::Url => format!("[url:value = '{lit}']"),
        IocKind::Email => format!("[email-addr:value = '{lit}']"),
        IocKind::Md5 => format!("[file:hashes.MD5 = '{lit}']"),
        IocKind::Sha1 => format!("[file:hashes.'SHA-1' = '{lit}']"),
        IocKind::Sha256 => format!("[file:hashes.'SHA-256' = '{lit}']"),
        IocKind::File => format!("[file:name = '{lit}']"),
        IocKind::Registry => format!("[windows-registry-key:key = '{lit}']"),
        IocKind::Cve => return None,
    })
}

/// A STIX pattern string literal's content: `\` and `'` escaped.
fn stix_literal(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\'', "\\'")
}

/// The STIX 2.1 namespace for deterministic identifiers (specification, 2.9).
pub const STIX_NAMESPACE: [u8; 16] = [
    0x00, 0xab, 0xed, 0xb4, 0xaa, 0x42, 0x46, 0x6c, 0x9c, 0x01, 0xfe, 0xd2, 0x33, 0x15, 0xa9, 0xb7,
];

/// A name-based (version 5, SHA-1) UUID, RFC 9562.
pub fn uuid_v5(namespace: &[u8; 16], name: &str) -> String {
    use sha1::{Digest, Sha1};
    let mut h = Sha1::new();
    h.update(namespace);
    h.update(name.as_bytes());
    let digest = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Parses the body of an `{% ioc() %}` block: one indicator per line, optionally followed
/// by ` # note`; blank lines and lines starting with `#` are skipped. Each item is
/// `(line index in the body, result)`.
pub fn parse_block(body: &str) -> Vec<(usize, Result<Ioc, String>)> {
    body.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let line = line.trim();
            let line = line
                .strip_prefix("- ")
                .or_else(|| line.strip_prefix("* "))
                .unwrap_or(line)
                .trim();
            if line.is_empty() || line.starts_with('#') {
                return None;
            }
            let (value, note) = match line.split_once(" # ") {
                Some((v, n)) => (v.trim(), n.trim()),
                None => (line, ""),
            };
            let value = value.trim_matches('`');
            Some((
                i,
                check_typed(None, value).map(|(kind, value)| Ioc {
                    kind,
                    value,
                    note: note.to_string(),
                    in_body: true,
                }),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(v: &str) -> IocKind {
        detect(&refang(v)).unwrap_or_else(|e| panic!("{v}: {e}")).0
    }

    #[test]
    fn every_type_is_detected() {
        for (v, k) in [
            ("203.0.113.7", IocKind::Ipv4),
            ("203.0.113.0/24", IocKind::Ipv4),
            ("203.0.113[.]7", IocKind::Ipv4),
            ("2001:db8::1", IocKind::Ipv6),
            ("2001:db8::/32", IocKind::Ipv6),
            ("evil.example", IocKind::Domain),
            ("cdn.evil[.]example", IocKind::Domain),
            ("https://evil.example/x?a=1", IocKind::Url),
            ("hxxps://evil[.]example/x", IocKind::Url),
            ("http://203.0.113.7:8080/gate.php", IocKind::Url),
            ("user@evil.example", IocKind::Email),
            ("user[@]evil[.]example", IocKind::Email),
            ("d41d8cd98f00b204e9800998ecf8427e", IocKind::Md5),
            ("da39a3ee5e6b4b0d3255bfef95601890afd80709", IocKind::Sha1),
            (
                "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
                IocKind::Sha256,
            ),
            ("CVE-2024-3400", IocKind::Cve),
            ("cve-2024-3400", IocKind::Cve),
            ("invoice.pdf.exe", IocKind::File),
            ("Q3 report.docm", IocKind::File),
            (
                "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\updater",
                IocKind::Registry,
            ),
            (
                "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\evil",
                IocKind::Registry,
            ),
        ] {
            assert_eq!(kind(v), k, "{v}");
        }
    }

    #[test]
    fn invalid_values_are_refused_with_a_reason() {
        for (v, why) in [
            ("300.1.1.1", "not a valid IPv4"),
            ("203.0.113.7/33", "/33"),
            ("2001:db8:::1", "not a valid IPv6"),
            ("d41d8cd98f00b204e9800998ecf8427", "31 hex digits"),
            ("https:///nohost", "no host"),
            ("https://evil example/", "spaces"),
            ("user@localhost", "needs a dot"),
            ("nodot", "is not an IP address"),
            ("-bad-.example", "not a valid domain"),
            ("", "empty"),
        ] {
            let err = detect(&refang(v)).expect_err(v);
            assert!(err.contains(why), "{v}: {err}");
        }
        assert!(
            check(IocKind::Sha256, "abc")
                .unwrap_err()
                .contains("64 hex digits")
        );
        assert!(
            check(IocKind::Md5, "zz")
                .unwrap_err()
                .contains("hex digits only")
        );
        assert!(check(IocKind::File, "C:\\x.exe").is_err());
        assert!(check(IocKind::Registry, "Software\\x").is_err());
        assert!(check(IocKind::Cve, "CVE-24-1").is_err());
        assert!(check_typed(Some(None), "evil.example").is_err());
        assert_eq!(
            check_typed(Some(None), "203.0.113.9").unwrap().0,
            IocKind::Ipv4
        );
        // An explicit type decides what a value is: `update.zip` the domain.
        assert_eq!(
            check_typed(Some(Some(IocKind::Domain)), "update.zip").unwrap(),
            (IocKind::Domain, "update.zip".to_string())
        );
        assert_eq!(kind("update.zip"), IocKind::File);
    }

    #[test]
    fn defanging_as_the_issue_shows_it() {
        assert_eq!(
            defang(IocKind::Url, "https://evil.example/x"),
            "hxxps://evil[.]example/x"
        );
        assert_eq!(
            defang(IocKind::Url, "http://a.b.example:8080/p.php?q=1.2"),
            "hxxp://a[.]b[.]example:8080/p.php?q=1.2"
        );
        assert_eq!(
            defang(IocKind::Url, "ftp://files.example/"),
            "fxp://files[.]example/"
        );
        assert_eq!(defang(IocKind::Ipv4, "203.0.113.7"), "203.0.113[.]7");
        assert_eq!(defang(IocKind::Ipv4, "203.0.113.0/24"), "203.0.113[.]0/24");
        assert_eq!(defang(IocKind::Ipv6, "2001:db8::1"), "2001[:]db8[:][:]1");
        assert_eq!(
            defang(IocKind::Domain, "cdn.evil.example"),
            "cdn[.]evil[.]example"
        );
        assert_eq!(
            defang(IocKind::Email, "user@evil.example"),
            "user[@]evil[.]example"
        );
        for k in [IocKind::Md5, IocKind::Cve, IocKind::File, IocKind::Registry] {
            assert_eq!(defang(k, "a.b"), "a.b");
        }
    }

    #[test]
    fn refanging_undoes_defanging() {
        for v in [
            "https://evil.example/x",
            "http://203.0.113.7:8080/gate.php",
            "203.0.113.7",
            "2001:db8::1",
            "cdn.evil.example",
            "user@evil.example",
        ] {
            let (k, real) = detect(v).unwrap();
            assert_eq!(refang(&defang(k, &real)), real, "{v}");
        }
        assert_eq!(refang("hXXps[:]//evil[dot]example"), "https://evil.example");
        assert_eq!(refang("user(at)evil(.)example"), "user@evil.example");
    }

    #[test]
    fn stix_patterns_per_type() {
        let p = |k, v| stix_pattern(k, v).unwrap();
        assert_eq!(
            p(IocKind::Ipv4, "203.0.113.7"),
            "[ipv4-addr:value = '203.0.113.7']"
        );
        assert_eq!(
            p(IocKind::Ipv4, "203.0.113.0/24"),
            "[ipv4-addr:value = '203.0.113.0/24']"
        );
        assert_eq!(
            p(IocKind::Ipv6, "2001:db8::1"),
            "[ipv6-addr:value = '2001:db8::1']"
        );
        assert_eq!(
            p(IocKind::Domain, "evil.example"),
            "[domain-name:value = 'evil.example']"
        );
        assert_eq!(
            p(IocKind::Url, "https://evil.example/x"),
            "[url:value = 'https://evil.example/x']"
        );
        assert_eq!(
            p(IocKind::Email, "a@evil.example"),
            "[email-addr:value = 'a@evil.example']"
        );
        assert_eq!(
            p(IocKind::Md5, "d41d8cd98f00b204e9800998ecf8427e"),
            "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"
        );
        assert!(p(IocKind::Sha1, "x").starts_with("[file:hashes.'SHA-1' = "));
        assert!(p(IocKind::Sha256, "x").starts_with("[file:hashes.'SHA-256' = "));
        assert_eq!(p(IocKind::File, "it's.exe"), "[file:name = 'it\\'s.exe']");
        assert_eq!(
            p(IocKind::Registry, "HKLM\\Software\\x"),
            "[windows-registry-key:key = 'HKLM\\\\Software\\\\x']"
        );
        assert_eq!(stix_pattern(IocKind::Cve, "CVE-2024-3400"), None);
    }

    #[test]
    fn uuid_v5_matches_rfc_and_python() {
        // uuid.uuid5(uuid.NAMESPACE_DNS, "python.org") in Python.
        let dns = [
            0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4,
            0x30, 0xc8,
        ];
        assert_eq!(
            uuid_v5(&dns, "python.org"),
            "886313e1-3b8a-5372-9b90-0c9aee199e5d"
        );
        let a = uuid_v5(&STIX_NAMESPACE, "x");
        assert_eq!(a, uuid_v5(&STIX_NAMESPACE, "x"));
        assert_ne!(a, uuid_v5(&STIX_NAMESPACE, "y"));
        assert_eq!(&a[14..15], "5");
    }

    #[test]
    fn blocks_take_one_indicator_per_line_with_notes() {
        let items = parse_block(
            "\n203.0.113.7 # C2 server\n- hxxps://evil[.]example/x\n# a comment\n\n`d41d8cd98f00b204e9800998ecf8427e`\n300.1.1.1\n",
        );
        assert_eq!(items.len(), 4);
        let ok: Vec<&Ioc> = items.iter().filter_map(|(_, r)| r.as_ref().ok()).collect();
        assert_eq!(ok[0].value, "203.0.113.7");
        assert_eq!(ok[0].note, "C2 server");
        assert_eq!(ok[1].value, "https://evil.example/x");
        assert_eq!(ok[2].kind, IocKind::Md5);
        assert_eq!(items[3].0, 6);
        assert!(items[3].1.is_err());
    }
}
