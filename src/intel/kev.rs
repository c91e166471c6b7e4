//! The CISA Known Exploited Vulnerabilities catalog, as published: JSON (about 1.3 MB) or
//! CSV (about 0.7 MB). The whole file is read, and only the entries of CVEs the site
//! mentions are kept.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{DataProblem, line_of, ymd};
use crate::content::markdown::is_cve_id;

/// What a CVE page shows of a KEV entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KevEntry {
    pub vendor: String,
    pub product: String,
    pub name: String,
    pub date_added: String,
    pub due_date: Option<String>,
    /// `Known` or `Unknown`.
    pub ransomware: String,
    pub required_action: String,
}

/// The catalog's own version and release date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KevCatalog {
    pub version: String,
    /// `YYYY-MM-DD`.
    pub released: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    catalog_version: String,
    date_released: String,
    vulnerabilities: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry {
    #[serde(rename = "cveID")]
    cve_id: String,
    vendor_project: String,
    product: String,
    vulnerability_name: String,
    date_added: String,
    #[serde(default)]
    due_date: Option<String>,
    #[serde(default)]
    known_ransomware_campaign_use: Option<String>,
    #[serde(default)]
    required_action: Option<String>,
}

/// The catalog: its version and the entries of `wanted`. Bad entries are errors (`problems`
/// gets one per entry, the caller decides whether they fail the build).
pub fn parse(
    text: &str,
    wanted: &BTreeSet<String>,
    problems: &mut Vec<DataProblem>,
) -> Result<(KevCatalog, BTreeMap<String, KevEntry>), DataProblem> {
    let raw: Raw = serde_json::from_str(text).map_err(DataProblem::json)?;
    let released = ymd(&raw.date_released).ok_or_else(|| {
        DataProblem::msg(format!(
            "dateReleased {:?} is not a date",
            raw.date_released
        ))
        .at(line_of(text, "\"dateReleased\""))
    })?;
    let catalog = KevCatalog {
        version: raw.catalog_version,
        released,
    };
    let mut out = BTreeMap::new();
    for (i, v) in raw.vulnerabilities.into_iter().enumerate() {
        let id_hint = v.get("cveID").and_then(|x| x.as_str()).map(str::to_string);
        let wanted_here = id_hint.as_ref().is_none_or(|id| wanted.contains(id));
        let entry: RawEntry = match serde_json::from_value(v) {
            Ok(e) => e,
            Err(e) => {
                let line = id_hint
                    .as_ref()
                    .and_then(|id| line_of(text, &format!("\"{id}\"")));
                problems.push(
                    DataProblem::msg(format!(
                        "vulnerabilities[{i}]{}: {e}",
                        id_hint.map(|id| format!(" ({id})")).unwrap_or_default()
                    ))
                    .at(line),
                );
                continue;
            }
        };
        if !wanted_here {
            continue;
        }
        let line = || line_of(text, &format!("\"{}\"", entry.cve_id));
        if !is_cve_id(&entry.cve_id) {
            problems.push(
                DataProblem::msg(format!(
                    "vulnerabilities[{i}]: cveID {:?} is not a CVE id",
                    entry.cve_id
                ))
                .at(line()),
            );
            continue;
        }
        let Some(date_added) = ymd(&entry.date_added) else {
            problems.push(
                DataProblem::msg(format!(
                    "vulnerabilities[{i}] ({}): dateAdded {:?} is not a date",
                    entry.cve_id, entry.date_added
                ))
                .at(line()),
            );
            continue;
        };
        out.insert(
            entry.cve_id.clone(),
            KevEntry {
                vendor: entry.vendor_project,
                product: entry.product,
                name: entry.vulnerability_name,
                date_added,
                due_date: entry.due_date.as_deref().and_then(ymd),
                ransomware: entry
                    .known_ransomware_campaign_use
                    .unwrap_or_else(|| "Unknown".into()),
                required_action: entry.required_action.unwrap_or_default(),
            },
        );
    }
    Ok((catalog, out))
}

/// The header of the catalog's CSV edition, as CISA publishes it.
pub const CSV_HEADER: &[&str] = &[
    "cveID",
    "vendorProject",
    "product",
    "vulnerabilityName",
    "dateAdded",
    "shortDescription",
    "requiredAction",
    "dueDate",
    "knownRansomwareCampaignUse",
    "notes",
    "cwes",
];

/// The records of CSV `text` (RFC 4180: quoted fields may hold commas, doubled quotes and
/// line breaks), each with the line it starts on.
fn csv_records(text: &str) -> Result<Vec<(usize, Vec<String>)>, DataProblem> {
    let mut out = Vec::new();
    let mut line = 1;
    let mut chars = text.chars().peekable();
    while chars.peek().is_some() {
        let start = line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        loop {
            match chars.next() {
                None if quoted => {
                    return Err(DataProblem::msg(
                        "a quoted field is not closed before the end of the file",
                    )
                    .at(Some(start)));
                }
                None => break,
                Some('"') if quoted => {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        field.push('"');
                    } else {
                        quoted = false;
                    }
                }
                Some('"') if field.is_empty() => quoted = true,
                Some(c) if quoted => {
                    if c == '\n' {
                        line += 1;
                    }
                    field.push(c);
                }
                Some(',') => fields.push(std::mem::take(&mut field)),
                Some('\r') if chars.peek() == Some(&'\n') => {}
                Some('\n') => {
                    line += 1;
                    break;
                }
                Some(c) => field.push(c),
            }
        }
        fields.push(field);
        if fields.len() == 1 && fields[0].is_empty() {
            continue;
        }
        out.push((start, fields));
    }
    Ok(out)
}

/// The catalog's CSV edition: its header is checked, and the entries of `wanted` are kept.
/// The CSV has no version or release date: the catalog's date is the newest `dateAdded`.
pub fn parse_csv(
    text: &str,
    wanted: &BTreeSet<String>,
    problems: &mut Vec<DataProblem>,
) -> Result<(KevCatalog, BTreeMap<String, KevEntry>), DataProblem> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let records = csv_records(text)?;
    let Some((header_line, header)) = records.first() else {
        return Err(
            DataProblem::msg("the file is empty: a KEV CSV file starts with its header")
                .at(Some(1)),
        );
    };
    if header
        .iter()
        .map(|h| h.trim())
        .ne(CSV_HEADER.iter().copied())
    {
        return Err(DataProblem::msg(format!(
            "the header is {:?}; a KEV CSV file has `{}`",
            header.join(","),
            CSV_HEADER.join(",")
        ))
        .at(Some(*header_line)));
    }
    let mut newest: Option<String> = None;
    let mut out = BTreeMap::new();
    for (line, f) in &records[1..] {
        let line = Some(*line);
        if f.len() != CSV_HEADER.len() {
            problems.push(
                DataProblem::msg(format!(
                    "the row has {} columns; a KEV row has {}",
                    f.len(),
                    CSV_HEADER.len()
                ))
                .at(line),
            );
            continue;
        }
        let id = f[0].trim();
        if !is_cve_id(id) {
            problems.push(DataProblem::msg(format!("cveID {id:?} is not a CVE id")).at(line));
            continue;
        }
        let Some(date_added) = ymd(f[4].trim()) else {
            problems.push(
                DataProblem::msg(format!("{id}: dateAdded {:?} is not a date", f[4])).at(line),
            );
            continue;
        };
        if newest.as_ref().is_none_or(|n| date_added > *n) {
            newest = Some(date_added.clone());
        }
        if !wanted.contains(id) {
            continue;
        }
        let ransomware = f[8].trim();
        out.insert(
            id.to_string(),
            KevEntry {
                vendor: f[1].clone(),
                product: f[2].clone(),
                name: f[3].clone(),
                date_added,
                due_date: ymd(f[7].trim()),
                ransomware: if ransomware.is_empty() {
                    "Unknown".into()
                } else {
                    ransomware.to_string()
                },
                required_action: f[6].clone(),
            },
        );
    }
    let released = newest.ok_or_else(|| {
        DataProblem::msg(
            "the file has no entries: a KEV CSV file lists the catalog's vulnerabilities",
        )
    })?;
    Ok((
        KevCatalog {
            version: String::new(),
            released,
        },
        out,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> String {
        std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/intel/kev.json"),
        )
        .unwrap()
    }

    fn want(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn keeps_only_wanted_entries() {
        let mut problems = Vec::new();
        let (cat, entries) = parse(
            &fixture(),
            &want(&["CVE-2024-3400", "CVE-1999-0001"]),
            &mut problems,
        )
        .unwrap();
        assert!(problems.is_empty());
        assert_eq!(cat.version, "2025.08.25");
        assert_eq!(cat.released, "2025-08-25");
        assert_eq!(entries.len(), 1);
        let e = &entries["CVE-2024-3400"];
        assert_eq!(e.vendor, "Palo Alto Networks");
        assert_eq!(e.product, "PAN-OS");
        assert_eq!(e.date_added, "2024-04-12");
        assert_eq!(e.due_date.as_deref(), Some("2024-04-19"));
        assert_eq!(
            e.name,
            "Palo Alto Networks PAN-OS Command Injection Vulnerability"
        );
    }

    #[test]
    fn bad_entry_named_with_its_line() {
        let text = fixture().replacen(
            "\"dateAdded\": \"2024-04-12\"",
            "\"dateAdded\": \"last week\"",
            1,
        );
        let mut problems = Vec::new();
        let (_, entries) = parse(&text, &want(&["CVE-2024-3400"]), &mut problems).unwrap();
        assert!(entries.is_empty());
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].message.contains("(CVE-2024-3400): dateAdded"),
            "{:?}",
            problems[0]
        );
        assert!(problems[0].line.is_some());
    }

    fn csv_fixture() -> String {
        std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/intel/kev.csv"),
        )
        .unwrap()
    }

    #[test]
    fn csv_edition_gives_the_same_entries_as_json() {
        let wanted = want(&["CVE-2024-3400", "CVE-2025-53770", "CVE-2023-34362"]);
        let (_, from_json) = parse(&fixture(), &wanted, &mut Vec::new()).unwrap();
        let mut problems = Vec::new();
        let (cat, from_csv) = parse_csv(&csv_fixture(), &wanted, &mut problems).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(from_csv, from_json);
        // No version in the CSV; its date is the newest dateAdded.
        assert_eq!(cat.version, "");
        assert_eq!(cat.released, "2025-08-25");
        // A quoted field with commas and doubled quotes, and a CRLF file.
        let crlf = csv_fixture().replace('\n', "\r\n");
        let (_, e) = parse_csv(&crlf, &wanted, &mut Vec::new()).unwrap();
        assert_eq!(e["CVE-2024-3400"].name, from_json["CVE-2024-3400"].name);
        let quoted = format!(
            "{}\nCVE-2024-3400,\"Palo, \"\"Alto\"\"\",PAN-OS,\"x\ny\",2024-04-12,d,a,2024-04-19,Known,n,CWE-77\n",
            CSV_HEADER.join(",")
        );
        let (_, e) = parse_csv(&quoted, &wanted, &mut Vec::new()).unwrap();
        assert_eq!(e["CVE-2024-3400"].vendor, "Palo, \"Alto\"");
        assert_eq!(e["CVE-2024-3400"].name, "x\ny");
    }

    #[test]
    fn csv_wrong_header_bad_rows_and_unclosed_quote() {
        let e =
            parse_csv("cve,vendor\nCVE-2024-3400,x\n", &want(&[]), &mut Vec::new()).unwrap_err();
        assert_eq!(e.line, Some(1));
        assert!(
            e.message
                .contains("a KEV CSV file has `cveID,vendorProject"),
            "{e:?}"
        );
        let text = csv_fixture().replacen(",2024-04-12,", ",soon,", 1);
        let line = text.lines().position(|l| l.contains(",soon,")).unwrap() + 1;
        let mut p = Vec::new();
        let (_, e) = parse_csv(&text, &want(&["CVE-2024-3400"]), &mut p).unwrap();
        assert!(e.is_empty());
        assert_eq!(p[0].line, Some(line));
        assert!(
            p[0].message.contains("CVE-2024-3400: dateAdded"),
            "{:?}",
            p[0]
        );
        let short = format!("{}\nCVE-2024-3400,a,b\n", CSV_HEADER.join(","));
        let mut p = Vec::new();
        parse_csv(&short, &want(&[]), &mut p).unwrap_err();
        assert!(p[0].message.contains("3 columns"), "{:?}", p[0]);
        let open = format!("{}\nCVE-2024-3400,\"a,b\n", CSV_HEADER.join(","));
        let e = parse_csv(&open, &want(&[]), &mut Vec::new()).unwrap_err();
        assert_eq!(e.line, Some(2));
    }

    #[test]
    fn truncated_file_is_an_error_with_line() {
        let text = fixture();
        let e = parse(&text[..text.len() - 200], &want(&[]), &mut Vec::new()).unwrap_err();
        assert!(e.line.is_some(), "{e:?}");
    }
}
