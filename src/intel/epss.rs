//! FIRST EPSS daily scores: `#model_version:…,score_date:…` (some copies lack it), then
//! `cve,epss,percentile` and one row per CVE (about 360,000). The file (decompressed when
//! gzipped) is scanned as bytes; only rows of CVEs the site mentions are decoded and kept.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3DefaultBuilder;

use super::{DataProblem, ymd};

/// A CVE's EPSS score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Epss {
    /// Probability of exploitation in the next 30 days, 0 to 1.
    pub score: f64,
    /// Share of CVEs with a lower score, 0 to 1.
    pub percentile: f64,
}

/// The model and date of the scores, from the comment line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpssMeta {
    pub model_version: Option<String>,
    /// `YYYY-MM-DD`.
    pub score_date: Option<String>,
}

/// Reads the scores of `wanted` from `input` (the whole file, decompressed). A malformed
/// file (wrong header, unreadable header text) is an `Err`; a bad row goes to `problems`
/// with its line.
///
/// The rows are scanned as bytes: only a row whose first column is a wanted CVE is
/// decoded and checked (a file has about 360,000 rows, a site mentions a few thousand).
pub fn parse(
    input: &[u8],
    wanted: &BTreeSet<String>,
    problems: &mut Vec<DataProblem>,
) -> Result<(EpssMeta, BTreeMap<String, Epss>), DataProblem> {
    let wanted_rows: HashSet<&[u8], Xxh3DefaultBuilder> =
        wanted.iter().map(|s| s.as_bytes()).collect();
    let filter = Filter::of(wanted);
    let mut meta = EpssMeta::default();
    let mut out = BTreeMap::new();
    let mut header_seen = false;
    let mut rest = input;
    let mut n = 0;
    while !rest.is_empty() {
        let (line, next) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        n += 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if !header_seen {
            let line = std::str::from_utf8(line).map_err(|_| {
                DataProblem::msg("the line is not UTF-8 text: not an EPSS CSV file").at(Some(n))
            })?;
            if let Some(comment) = line.strip_prefix('#') {
                read_comment(comment, n, &mut meta)?;
                continue;
            }
            let cols: Vec<&str> = line.split(',').map(str::trim).collect();
            if cols != ["cve", "epss", "percentile"] {
                return Err(DataProblem::msg(format!(
                    "the header is {line:?}; an EPSS file has `cve,epss,percentile`"
                ))
                .at(Some(n)));
            }
            header_seen = true;
            continue;
        }
        if line.is_empty() {
            continue;
        }
        // Cheap test first: most rows are of CVEs the site does not mention.
        let Some(comma) = memchr::memchr(b',', line) else {
            problems.push(
                DataProblem::msg(format!(
                    "row {:?} has not three columns",
                    String::from_utf8_lossy(line)
                ))
                .at(Some(n)),
            );
            continue;
        };
        if !filter.may_hold(&line[..comma]) || !wanted_rows.contains(&line[..comma]) {
            continue;
        }
        if let Some((cve, epss)) = read_row(line, n, problems) {
            out.insert(cve, epss);
        }
    }
    if !header_seen {
        return Err(DataProblem::msg(
            "the file has no `cve,epss,percentile` header",
        ));
    }
    Ok((meta, out))
}

/// A bit per hash of an id: a row whose id's bit is clear is not wanted, found without
/// hashing the id fully (most of the 360,000 rows). A set bit may be another id's: the
/// set decides.
struct Filter {
    bits: Vec<u64>,
}

impl Filter {
    const BITS: u32 = 20;

    fn of(wanted: &BTreeSet<String>) -> Filter {
        let mut bits = vec![0u64; 1 << (Self::BITS - 6)];
        for id in wanted {
            let h = Self::hash(id.as_bytes());
            bits[h >> 6] |= 1 << (h & 63);
        }
        Filter { bits }
    }

    /// The id's last eight bytes (CVE ids differ at the end) and length, mixed.
    fn hash(id: &[u8]) -> usize {
        let tail = &id[id.len().saturating_sub(8)..];
        let mut word = [0u8; 8];
        word[..tail.len()].copy_from_slice(tail);
        let x = (u64::from_le_bytes(word) ^ id.len() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (x >> (64 - Self::BITS)) as usize
    }

    fn may_hold(&self, id: &[u8]) -> bool {
        let h = Self::hash(id);
        self.bits[h >> 6] & (1 << (h & 63)) != 0
    }
}

/// The `#model_version:…,score_date:…` line (without its `#`) of line `n` into `meta`.
fn read_comment(comment: &str, n: usize, meta: &mut EpssMeta) -> Result<(), DataProblem> {
    for part in comment.split(',') {
        if let Some((k, v)) = part.split_once(':') {
            match k.trim() {
                "model_version" => meta.model_version = Some(v.trim().to_string()),
                "score_date" => {
                    meta.score_date = Some(ymd(v.trim()).ok_or_else(|| {
                        DataProblem::msg(format!("score_date {:?} is not a date", v.trim()))
                            .at(Some(n))
                    })?)
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// The CVE and scores of row `line` (line `n`), or `None` with the problem in `problems`.
fn read_row(line: &[u8], n: usize, problems: &mut Vec<DataProblem>) -> Option<(String, Epss)> {
    let text = String::from_utf8_lossy(line);
    let mut f = text.split(',');
    let (Some(cve), Some(score), Some(pct), None) = (f.next(), f.next(), f.next(), f.next()) else {
        problems.push(DataProblem::msg(format!("row {text:?} has not three columns")).at(Some(n)));
        return None;
    };
    let num = |s: &str| {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|x| (0.0..=1.0).contains(x))
    };
    match (num(score), num(pct)) {
        (Some(score), Some(percentile)) => Some((cve.to_string(), Epss { score, percentile })),
        _ => {
            problems.push(
                DataProblem::msg(format!(
                    "{cve}: epss {score:?} and percentile {pct:?} must be numbers from 0 to 1"
                ))
                .at(Some(n)),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn want(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    fn fixture() -> Vec<u8> {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/intel/epss.csv"),
        )
        .unwrap()
    }

    #[test]
    fn reads_comment_line_and_wanted_rows() {
        let mut p = Vec::new();
        let (meta, rows) = parse(&fixture()[..], &want(&["CVE-2024-3400"]), &mut p).unwrap();
        assert!(p.is_empty());
        assert_eq!(meta.model_version.as_deref(), Some("v2025.03.14"));
        assert_eq!(meta.score_date.as_deref(), Some("2025-08-15"));
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows["CVE-2024-3400"],
            Epss {
                score: 0.94326,
                percentile: 0.99942
            }
        );
    }

    #[test]
    fn without_comment_line() {
        let text = String::from_utf8(fixture()).unwrap();
        let text = text.split_once('\n').unwrap().1;
        let (meta, rows) =
            parse(text.as_bytes(), &want(&["CVE-2024-6387"]), &mut Vec::new()).unwrap();
        assert_eq!(meta, EpssMeta::default());
        assert_eq!(rows["CVE-2024-6387"].score, 0.62715);
    }

    #[test]
    fn the_prefilter_keeps_every_wanted_row_and_no_other() {
        // Ids of every length the bit filter hashes differently (4 to 7 digits).
        let ids: Vec<String> = (0..6000u32)
            .map(|n| {
                format!(
                    "CVE-{}-{:0w$}",
                    2000 + n % 26,
                    n * 7,
                    w = 4 + (n % 4) as usize
                )
            })
            .collect();
        let wanted: BTreeSet<String> = ids.iter().step_by(3).cloned().collect();
        let mut text = String::from("cve,epss,percentile\n");
        for id in &ids {
            text.push_str(&format!("{id},0.5,0.25\n"));
        }
        let (_, rows) = parse(text.as_bytes(), &wanted, &mut Vec::new()).unwrap();
        assert_eq!(rows.keys().cloned().collect::<BTreeSet<_>>(), wanted);
    }

    #[test]
    fn wrong_header_and_bad_rows() {
        let e = parse(
            &b"cve,score\nCVE-2024-3400,1,1\n"[..],
            &want(&[]),
            &mut Vec::new(),
        )
        .unwrap_err();
        assert_eq!(e.line, Some(1));
        let mut p = Vec::new();
        let (_, rows) = parse(
            &b"cve,epss,percentile\nCVE-2024-3400,11,0.5\nCVE-2024-6387,0.1,0.2\n"[..],
            &want(&["CVE-2024-3400", "CVE-2024-6387"]),
            &mut p,
        )
        .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(p[0].line, Some(2));
        assert!(p[0].message.contains("CVE-2024-3400"), "{:?}", p[0]);
    }
}
