//! MITRE ATT&CK Enterprise as published: a STIX 2.x bundle (about 45 MB). Only
//! `attack-pattern` objects and `revoked-by` relationships are read, and of those only the
//! fields a technique page shows; serde skips descriptions, references and the rest.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::{DataProblem, scan};

/// A technique (or sub-technique) as the site shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Technique {
    /// `T1190`, `T1059.001`.
    pub id: String,
    pub name: String,
    /// Tactic short names in the bundle's order (`initial-access`).
    pub tactics: Vec<String>,
    /// For a sub-technique, its parent's id.
    pub parent: Option<String>,
    pub revoked: bool,
    pub deprecated: bool,
    /// For a revoked technique, the id of the one that replaced it.
    pub replaced_by: Option<String>,
    /// The technique's page on attack.mitre.org.
    pub url: String,
}

/// The 14 Enterprise tactics: short name, display name, id, in ATT&CK's matrix order.
pub const TACTICS: &[(&str, &str, &str)] = &[
    ("reconnaissance", "Reconnaissance", "TA0043"),
    ("resource-development", "Resource Development", "TA0042"),
    ("initial-access", "Initial Access", "TA0001"),
    ("execution", "Execution", "TA0002"),
    ("persistence", "Persistence", "TA0003"),
    ("privilege-escalation", "Privilege Escalation", "TA0004"),
    ("defense-evasion", "Defense Evasion", "TA0005"),
    ("credential-access", "Credential Access", "TA0006"),
    ("discovery", "Discovery", "TA0007"),
    ("lateral-movement", "Lateral Movement", "TA0008"),
    ("collection", "Collection", "TA0009"),
    ("command-and-control", "Command and Control", "TA0011"),
    ("exfiltration", "Exfiltration", "TA0010"),
    ("impact", "Impact", "TA0040"),
];

/// The display name of a tactic short name (the short name itself when unknown).
pub fn tactic_name(short: &str) -> &str {
    TACTICS.iter().find(|t| t.0 == short).map_or(short, |t| t.1)
}

/// One STIX object, as far as a technique page needs it: of a relationship, only its
/// type and ends are decoded; of a technique, what its page shows.
#[derive(Default)]
struct Object<'a> {
    kind: Cow<'a, str>,
    id: Option<Cow<'a, str>>,
    name: Option<Cow<'a, str>>,
    revoked: bool,
    x_mitre_deprecated: bool,
    external_references: Vec<ExternalRef<'a>>,
    kill_chain_phases: Vec<Phase<'a>>,
    relationship_type: Option<Cow<'a, str>>,
    source_ref: Option<Cow<'a, str>>,
    target_ref: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ExternalRef<'a> {
    #[serde(borrow)]
    source_name: Cow<'a, str>,
    #[serde(borrow)]
    external_id: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Phase<'a> {
    #[serde(borrow)]
    kill_chain_name: Cow<'a, str>,
    #[serde(borrow)]
    phase_name: Cow<'a, str>,
}

/// A string that borrows from the input where it has no escapes.
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Object<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ObjectVisitor(std::marker::PhantomData))
    }
}

struct ObjectVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for ObjectVisitor<'a> {
    type Value = Object<'a>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a STIX object")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Object<'a>, M::Error> {
        let mut o = Object::default();
        // Until `type` is read, every field that any kind needs is kept.
        let (mut technique, mut relationship) = (true, true);
        while let Some(Text(key)) = map.next_key::<Text>()? {
            match key.as_ref() {
                "type" => {
                    o.kind = map.next_value::<Text>()?.0;
                    technique = o.kind == "attack-pattern";
                    relationship = o.kind == "relationship";
                }
                "id" if technique => o.id = Some(map.next_value::<Text>()?.0),
                "name" if technique => o.name = map.next_value::<Option<Text>>()?.map(|t| t.0),
                "revoked" if technique => {
                    o.revoked = map.next_value::<Option<bool>>()? == Some(true)
                }
                "x_mitre_deprecated" if technique => {
                    o.x_mitre_deprecated = map.next_value::<Option<bool>>()? == Some(true)
                }
                "external_references" if technique => {
                    o.external_references = map.next_value::<Option<_>>()?.unwrap_or_default()
                }
                "kill_chain_phases" if technique => {
                    o.kill_chain_phases = map.next_value::<Option<_>>()?.unwrap_or_default()
                }
                "relationship_type" if relationship => {
                    o.relationship_type = map.next_value::<Option<Text>>()?.map(|t| t.0)
                }
                "source_ref" if relationship => {
                    o.source_ref = map.next_value::<Option<Text>>()?.map(|t| t.0)
                }
                "target_ref" if relationship => {
                    o.target_ref = map.next_value::<Option<Text>>()?.map(|t| t.0)
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(o)
    }
}

/// Whether `id` is a technique id: `T` and four digits, optionally `.` and three.
pub fn is_technique_id(id: &str) -> bool {
    let b = id.as_bytes();
    let main = b.len() >= 5 && b[0] == b'T' && b[1..5].iter().all(u8::is_ascii_digit);
    main && (b.len() == 5
        || (b.len() == 9 && b[5] == b'.' && b[6..].iter().all(u8::is_ascii_digit)))
}

/// The technique's page on attack.mitre.org: `T1059.001` -> `.../techniques/T1059/001/`.
pub fn technique_url(id: &str) -> String {
    format!(
        "https://attack.mitre.org/techniques/{}/",
        id.replace('.', "/")
    )
}

/// Byte ranges of the technique ids of `known` standing as words in `text`. A
/// sub-technique id (`T1059.001`) matches whole or not at all.
pub fn find_ids(text: &str, known: &std::collections::BTreeSet<String>) -> Vec<(usize, usize)> {
    if known.is_empty() {
        return Vec::new();
    }
    let b = text.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut out = Vec::new();
    let mut i = 0;
    // `memchr`'s vector search: most text fragments hold no `T`, or few.
    while let Some(pos) = memchr::memchr(b'T', &b[i..]) {
        let start = i + pos;
        i = start + 1;
        if start > 0 && word(b[start - 1]) {
            continue;
        }
        let digits = |from: usize, n: usize| {
            b.len() >= from + n && b[from..from + n].iter().all(u8::is_ascii_digit)
        };
        if !digits(start + 1, 4) {
            continue;
        }
        let mut end = start + 5;
        if b.get(end) == Some(&b'.') && digits(end + 1, 3) {
            end += 4;
        }
        if b.get(end).is_some_and(|&c| word(c)) {
            continue;
        }
        // `T1059.` followed by digits that are not three: not an id.
        if b.get(end) == Some(&b'.') && b.get(end + 1).is_some_and(u8::is_ascii_digit) {
            continue;
        }
        if known.contains(&text[start..end]) {
            out.push((start, end));
        }
        i = end;
    }
    out
}

/// The ids of `found` in `text` that are not in `seen` yet, each once.
pub fn new_ids(text: &str, found: &[(usize, usize)], seen: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for &(s, e) in found {
        let id = &text[s..e];
        if !seen.iter().any(|x| x == id) && !out.iter().any(|x| x == id) {
            out.push(id.to_string());
        }
    }
    out
}

/// The URL path prefix of technique pages, from the CVE pages' (`/blog/cve/` ->
/// `/blog/attack/`).
pub fn prefix_from_cve(cve_prefix: &str) -> String {
    format!("{}attack/", cve_prefix.strip_suffix("cve/").unwrap_or("/"))
}

/// The opening tag of a link to technique `id`'s page.
pub fn link_open(cve_prefix: &str, id: &str) -> String {
    format!(
        "<a class=\"attack\" href=\"{}{id}/\">",
        prefix_from_cve(cve_prefix)
    )
}

/// Every technique of the bundle by id. Objects that are not techniques are skipped; a
/// technique object without a STIX id or ATT&CK id goes to `problems`.
pub fn parse(
    bytes: &[u8],
    problems: &mut Vec<DataProblem>,
) -> Result<BTreeMap<String, Technique>, DataProblem> {
    let bundle = scan::bundle(bytes)?;
    if bundle.kind.as_deref() != Some("bundle") {
        return Err(DataProblem::msg(format!(
            "the top-level type is {:?}; an ATT&CK file is a STIX `bundle`",
            bundle.kind.as_deref().unwrap_or("")
        )));
    }
    // Only techniques and revocations are decoded; an object whose `type` comes first
    // and names anything else is skipped unread (a relationship only when it cannot be
    // `revoked-by`).
    let ranges = bundle
        .objects
        .ok_or_else(|| DataProblem::msg("the bundle has no `objects` array"))?;
    let mut objects: Vec<(usize, Object)> = Vec::new();
    for (i, &(start, end)) in ranges.iter().enumerate() {
        let slice = &bytes[start..end];
        let wanted = match scan::first_type(slice) {
            Some(b"attack-pattern") | None => true,
            Some(b"relationship") => {
                memchr::memmem::find(slice, b"revoked-by").is_some()
                    || memchr::memmem::find(slice, b"\\u").is_some()
            }
            Some(_) => false,
        };
        if !wanted {
            continue;
        }
        let o: Object = serde_json::from_slice(slice).map_err(|e| {
            let mut p = DataProblem::json(e);
            let first = scan::line_at(bytes, start);
            p.line = Some(first + p.line.unwrap_or(1) - 1);
            p.column = None;
            p
        })?;
        objects.push((i, o));
    }
    let mut by_stix: HashMap<String, String> = HashMap::new();
    let mut out: BTreeMap<String, Technique> = BTreeMap::new();
    let mut revocations: Vec<(String, String)> = Vec::new();
    for (i, o) in &objects {
        match o.kind.as_ref() {
            "attack-pattern" => {
                let Some(stix_id) = o.id.as_deref() else {
                    problems.push(DataProblem::msg(format!(
                        "objects[{i}]: an attack-pattern with no id"
                    )));
                    continue;
                };
                let Some(id) = o
                    .external_references
                    .iter()
                    .find(|r| r.source_name == "mitre-attack")
                    .and_then(|r| r.external_id.as_deref())
                    .filter(|id| is_technique_id(id))
                    .map(str::to_string)
                else {
                    problems.push(DataProblem::msg(format!(
                        "objects[{i}] ({stix_id}): no mitre-attack technique id in external_references"
                    )));
                    continue;
                };
                let Some(name) = o.name.as_deref().map(str::to_string) else {
                    problems.push(DataProblem::msg(format!("objects[{i}] ({id}): no name")));
                    continue;
                };
                // The bundle may hold an id twice (a revoked copy and the live one): the
                // live one wins.
                if out.get(&id).is_some_and(|t| !t.revoked) && o.revoked {
                    by_stix.insert(stix_id.to_string(), id);
                    continue;
                }
                let tactics = o
                    .kill_chain_phases
                    .iter()
                    .filter(|p| p.kill_chain_name == "mitre-attack")
                    .map(|p| p.phase_name.to_string())
                    .collect();
                let parent = id.split_once('.').map(|(p, _)| p.to_string());
                by_stix.insert(stix_id.to_string(), id.clone());
                out.insert(
                    id.clone(),
                    Technique {
                        url: technique_url(&id),
                        id,
                        name,
                        tactics,
                        parent,
                        revoked: o.revoked,
                        deprecated: o.x_mitre_deprecated,
                        replaced_by: None,
                    },
                );
            }
            "relationship" if o.relationship_type.as_deref() == Some("revoked-by") => {
                match (&o.source_ref, &o.target_ref) {
                    (Some(s), Some(t)) => revocations.push((s.to_string(), t.to_string())),
                    _ => problems.push(DataProblem::msg(format!(
                        "objects[{i}]: a revoked-by relationship without source_ref and target_ref"
                    ))),
                }
            }
            _ => {}
        }
    }
    for (source, target) in revocations {
        if let (Some(old), Some(new)) = (by_stix.get(&source), by_stix.get(&target))
            && let Some(t) = out.get_mut(old)
            && t.revoked
        {
            t.replaced_by = Some(new.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Vec<u8> {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/intel/attack/enterprise-attack.json"),
        )
        .unwrap()
    }

    #[test]
    fn techniques_sub_techniques_and_revocations() {
        let mut p = Vec::new();
        let t = parse(&fixture(), &mut p).unwrap();
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(t["T1190"].name, "Exploit Public-Facing Application");
        assert_eq!(t["T1190"].tactics, ["initial-access"]);
        assert_eq!(t["T1059.001"].parent.as_deref(), Some("T1059"));
        assert_eq!(
            t["T1059.001"].url,
            "https://attack.mitre.org/techniques/T1059/001/"
        );
        assert!(t["T1086"].revoked);
        assert_eq!(t["T1086"].replaced_by.as_deref(), Some("T1059.001"));
        assert!(!t["T1059.001"].revoked);
    }

    #[test]
    fn object_without_id_is_a_problem() {
        let text = String::from_utf8(fixture()).unwrap().replacen(
            "\"id\": \"attack-pattern--3f886f2a-874f-4333-b794-aa6075009b1c\",",
            "",
            1,
        );
        let mut p = Vec::new();
        let t = parse(text.as_bytes(), &mut p).unwrap();
        assert!(!t.contains_key("T1190"));
        assert_eq!(p.len(), 1);
        assert!(p[0].message.contains("objects[0]"), "{:?}", p[0]);
    }

    #[test]
    fn finds_only_known_ids_as_words() {
        let known: std::collections::BTreeSet<String> = ["T1190", "T1059.001", "T1059"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let text = "T1190, xT1190 T11900 T1059.001. T1059.01 T1059 T1027 (T1190)";
        let found: Vec<&str> = find_ids(text, &known)
            .iter()
            .map(|&(s, e)| &text[s..e])
            .collect();
        assert_eq!(found, ["T1190", "T1059.001", "T1059", "T1190"]);
        assert_eq!(prefix_from_cve("/blog/cve/"), "/blog/attack/");
    }

    #[test]
    fn ids() {
        assert!(is_technique_id("T1190"));
        assert!(is_technique_id("T1059.001"));
        assert!(!is_technique_id("T119"));
        assert!(!is_technique_id("T1059.01"));
        assert!(!is_technique_id("TA0001"));
    }
}
