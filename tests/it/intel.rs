//! Threat intelligence from data files: small sites built with the real binary over REAL
//! records (tests/fixtures/intel/: CVE JSON 5 records from cvelistV5, a slice of the CISA
//! KEV catalog, EPSS rows with their comment line, a slice of the ATT&CK STIX bundle),
//! and the facts read back from the pages.

use std::path::Path;

use crate::common::{TestSite, post, snapshot};

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/intel")
            .join(rel),
    )
    .unwrap()
}

fn fixture_text(rel: &str) -> String {
    String::from_utf8(fixture(rel)).unwrap()
}

const RECORDS: &[&str] = &[
    "2024/3xxx/CVE-2024-3400.json",
    "2024/0xxx/CVE-2024-0012.json",
    "2024/6xxx/CVE-2024-6387.json",
    "2006/5xxx/CVE-2006-5051.json",
    "2025/53xxx/CVE-2025-53770.json",
];

/// A site whose posts mention the fixtures' CVEs and techniques, with every data file.
fn site() -> TestSite {
    let s = TestSite::new();
    for r in RECORDS {
        s.write_bytes(&format!("data/cve/{r}"), &fixture(&format!("cve/{r}")));
    }
    s.write_bytes("data/kev.json", &fixture("kev.json"));
    s.write_bytes("data/epss.csv", &fixture("epss.csv"));
    s.write_bytes(
        "data/attack/enterprise-attack.json",
        &fixture("attack/enterprise-attack.json"),
    );
    s.write(
        "content/posts/panos.md",
        &post(
            "PAN-OS flaws",
            "2024-11-20",
            "cves: [CVE-2024-0012]\n",
            "CVE-2024-3400 was exploited through T1190, then T1059.001 ran. T9999 is no technique; `T1190` in code stays.",
        ),
    );
    s.write(
        "content/posts/ssh.md",
        &post(
            "regreSSHion",
            "2024-07-02",
            "cves: [CVE-2024-6387, CVE-2006-5051]\nattack: [T1086]\n",
            "An old race returns.",
        ),
    );
    s.write(
        "content/posts/sharepoint.md",
        &post(
            "ToolShell",
            "2025-07-21",
            "attack: [t1190]\n",
            "CVE-2025-53770 in SharePoint.",
        ),
    );
    s
}

fn text_of(html: &str, selector: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(selector).unwrap();
    doc.select(&sel)
        .map(|e| {
            e.text()
                .collect::<String>()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[test]
fn cve_pages_show_the_facts_of_the_real_records() {
    let s = site();
    let out = s.build(&[]).ok();
    let page = s.read("cve/CVE-2024-3400/index.html");
    let facts = text_of(&page, ".facts dd").join(" | ");
    assert!(facts.contains("Critical 10.0 CVSS 3.1 base score from the CNA (palo_alto) CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"), "{facts}");
    assert!(facts.contains("Known exploited On CISA's KEV catalog since 2024-04-12; remediation due for US federal agencies by 2024-04-19. Known ransomware use: Known."), "{facts}");
    assert!(
        facts.contains("Palo Alto Networks PAN-OS Command Injection Vulnerability"),
        "{facts}"
    );
    assert!(facts.contains("EPSS 94.3%"), "{facts}");
    assert!(
        facts.contains("higher than 99.9% of all scored CVEs (scores of 2025-08-15)"),
        "{facts}"
    );
    assert!(
        facts.contains("Palo Alto Networks PAN-OS"),
        "KEV's vendor and product: {facts}"
    );
    assert!(facts.contains("CWE-77: Improper Neutralization of Special Elements used in a Command ('Command Injection')"), "{facts}");
    assert!(
        facts.contains("2024-04-12, record updated 2025-07-28"),
        "{facts}"
    );
    assert_eq!(
        text_of(&page, ".intel-name"),
        [
            "PAN-OS: Arbitrary File Creation Leads to OS Command Injection Vulnerability in GlobalProtect"
        ]
    );
    // The description is the record's text value, not its supportingMedia HTML.
    let description = text_of(&page, ".cve-description").join("");
    assert!(description.starts_with("A command injection as a result of arbitrary file creation"));
    assert!(!page.contains("<br><br>Cloud NGFW"));
    assert!(page.contains("href=\"https://nvd.nist.gov/vuln/detail/CVE-2024-3400\""));
    assert!(page.contains("href=\"https://www.cisa.gov/known-exploited-vulnerabilities-catalog?field_cve=CVE-2024-3400\""));
    assert!(
        page.contains("href=\"https://www.cve.org/CVERecord?id=CVE-2024-3400\""),
        "record link"
    );
    // Attribution with the data's own dates.
    let notice = text_of(&page, ".data-notice").join(" ");
    assert!(
        notice.contains("KEV catalog 2025.08.25 of 2025-08-25"),
        "{notice}"
    );
    assert!(
        notice.contains("EPSS model v2025.03.14 scores of 2025-08-15, by FIRST"),
        "{notice}"
    );
    assert!(notice.contains("CVE Terms of Use"), "{notice}");
    // JSON-LD about the CVE.
    let ld = text_of(&page, "script[type=\"application/ld+json\"]").join("");
    let ld: serde_json::Value = serde_json::from_str(&ld).unwrap();
    assert_eq!(ld["about"]["@type"], "DefinedTerm");
    assert_eq!(ld["about"]["termCode"], "CVE-2024-3400");

    // CVSS 4.0 preferred; the first of two scenarios.
    let page = s.read("cve/CVE-2024-0012/index.html");
    let facts = text_of(&page, ".facts dd").join(" | ");
    assert!(
        facts.contains("Critical 9.3 CVSS 4.0 base score"),
        "{facts}"
    );
    assert!(
        facts.contains("Not on CISA's KEV catalog of 2025-08-25."),
        "{facts}"
    );

    // An old record: no score, no CWE, `n/a` products left out.
    let page = s.read("cve/CVE-2006-5051/index.html");
    let facts = text_of(&page, ".facts dd").join(" | ");
    assert!(facts.contains("No CVSS score in the record."), "{facts}");
    assert!(!facts.contains("n/a"), "{facts}");

    // Chips on cards: severity as text, and the exploited marker.
    let home = s.read("index.html");
    let chips = text_of(&home, ".cve-chip").join(" | ");
    assert!(
        chips.contains("CVE-2024-3400 Critical severity, CVSS 10.0 Exploited"),
        "{chips}"
    );
    assert!(
        chips.contains("CVE-2024-6387 High severity, CVSS 8.1"),
        "{chips}"
    );
    // Post CVE box too.
    let p = s.read("posts/ssh/index.html");
    assert!(
        text_of(&p, ".post-cves li")
            .join(" | ")
            .contains("CVE-2024-6387 High severity, CVSS 8.1")
    );
    assert!(!out.stderr.contains("error"), "{}", out.stderr);
}

#[test]
fn cve_index_is_sorted_most_severe_first_and_kev_page_lists_exploited() {
    let s = site();
    s.build(&[]).ok();
    let index = s.read("cve/index.html");
    let order = text_of(&index, ".cve-table tbody th .cve-id");
    assert_eq!(
        order,
        [
            "CVE-2024-3400",
            "CVE-2025-53770",
            "CVE-2024-0012",
            "CVE-2024-6387",
            "CVE-2006-5051"
        ]
    );
    let kev = s.read("cve/kev/index.html");
    let listed = text_of(&kev, ".cve-table tbody th .cve-id");
    // Most recently added first.
    assert_eq!(listed, ["CVE-2025-53770", "CVE-2024-3400"]);
    let sitemap = s.read("sitemap.xml");
    assert!(sitemap.contains("<loc>https://news.example.com/cve/kev/</loc>"));
    assert!(sitemap.contains("<loc>https://news.example.com/attack/T1190/</loc>"));
    // Feeds carry CVE and technique ids as categories.
    let rss = s.read("rss.xml");
    assert!(rss.contains("<category>CVE-2024-3400</category>"), "{rss}");
    assert!(rss.contains("<category>T1190</category>"), "{rss}");
    let json: serde_json::Value = serde_json::from_str(&s.read("feed.json")).unwrap();
    let tags: Vec<String> = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| {
            i["tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_string())
        })
        .collect();
    assert!(tags.contains(&"T1086".to_string()), "{tags:?}");
}

#[test]
fn attack_ids_link_and_pages_follow_revocations() {
    let s = site();
    let out = s.build(&[]).ok();
    // The revoked id in front matter: a warning naming the post and the replacement.
    assert!(
        out.stderr
            .lines()
            .any(|l| l.contains("content/posts/ssh.md")
                && l.contains("T1086 (PowerShell) is revoked in ATT&CK: it is now T1059.001")),
        "{}",
        out.stderr
    );
    let p = s.read("posts/panos/index.html");
    assert!(
        p.contains("<a class=\"attack\" href=\"/attack/T1190/\">T1190</a>"),
        "{p}"
    );
    assert!(p.contains("<a class=\"attack\" href=\"/attack/T1059.001/\">T1059.001</a>"));
    assert!(
        !p.contains("/attack/T9999/"),
        "ids the data does not know stay text"
    );
    assert!(p.contains("<code>T1190</code>"));
    let box_ = text_of(&p, ".post-attack li").join(" | ");
    assert_eq!(
        box_,
        "T1190 Exploit Public-Facing Application | T1059.001 PowerShell"
    );

    let t = s.read("attack/T1086/index.html");
    assert!(
        text_of(&t, ".banner-rejected")
            .join("")
            .contains("Revoked. MITRE ATT&CK® revoked T1086: it is now T1059.001 PowerShell.")
    );
    assert!(t.contains("href=\"/attack/T1059.001/\""));
    let t = s.read("attack/T1059.001/index.html");
    let facts = text_of(&t, ".facts dd").join(" | ");
    assert!(facts.contains("Execution (TA0002)"), "{facts}");
    // The parent has no page of its own here: it links to attack.mitre.org.
    assert!(t.contains("href=\"https://attack.mitre.org/techniques/T1059/\""));
    assert!(t.contains("href=\"https://attack.mitre.org/techniques/T1059/001/\""));
    let t = s.read("attack/T1190/index.html");
    assert_eq!(
        text_of(&t, ".cards h2"),
        ["ToolShell", "PAN-OS flaws"],
        "newest first"
    );

    let list = s.read("attack/index.html");
    assert_eq!(
        text_of(&list, ".tactic h2"),
        ["Initial Access TA0001", "Execution TA0002"]
    );
    assert!(
        text_of(&list, ".data-notice")
            .join("")
            .contains("This site is not endorsed by MITRE")
    );
    assert!(!s.exists("attack/T9999/index.html"));
}

#[test]
fn a_rejected_record_gets_a_banner() {
    let s = site();
    // The rejected CNA container of the CVE JSON 5 schema's example, in a full record.
    s.write(
        "data/cve/2024/0xxx/CVE-2024-0001.json",
        r#"{"dataType": "CVE_RECORD", "dataVersion": "5.1",
 "cveMetadata": {"cveId": "CVE-2024-0001", "assignerOrgId": "00000000-0000-4000-9000-000000000000", "state": "REJECTED", "dateUpdated": "2024-01-02T00:00:00.000Z"},
 "containers": {"cna": {"providerMetadata": {"orgId": "00000000-0000-4000-9000-000000000000", "shortName": "example"},
  "rejectedReasons": [{"lang": "en", "value": "This CVE ID has been rejected or withdrawn by its CVE Numbering Authority."}]}}}"#,
    );
    s.write(
        "content/posts/r.md",
        &post("R", "2024-01-03", "cves: [CVE-2024-0001]\n", "x"),
    );
    s.build(&[]).ok();
    let page = s.read("cve/CVE-2024-0001/index.html");
    assert_eq!(
        text_of(&page, ".banner-rejected"),
        [
            "Rejected. This CVE id was rejected: This CVE ID has been rejected or withdrawn by its CVE Numbering Authority."
        ]
    );
    let index = s.read("cve/index.html");
    assert!(
        text_of(&index, ".cve-table tbody tr")
            .iter()
            .any(|r| r.starts_with("CVE-2024-0001 Rejected"))
    );
}

#[test]
fn a_site_without_data_shows_none_of_it() {
    let s = TestSite::new();
    s.write(
        "content/posts/a.md",
        &post(
            "A",
            "2024-01-01",
            "cves: [CVE-2024-3400]\nattack: [T1190]\n",
            "T1190 and CVE-2024-3400.",
        ),
    );
    let out = s.build(&[]).ok();
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    assert!(!s.exists("cve/kev/index.html"));
    assert!(!s.exists("attack/index.html"));
    for f in [
        "index.html",
        "cve/index.html",
        "cve/CVE-2024-3400/index.html",
        "posts/a/index.html",
    ] {
        let page = s.read(f);
        assert!(
            !page.contains("data-notice") && !page.contains("class=\"sev"),
            "{f}"
        );
    }
    assert!(!s.read("posts/a/index.html").contains("class=\"attack\""));
    assert!(!s.root().join(".sitrep-cache/intel").exists());
}

#[test]
fn gzip_epss_without_comment_line() {
    let s = site();
    s.remove("data/epss.csv");
    let csv = fixture_text("epss.csv");
    let body = csv.split_once('\n').unwrap().1;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, body.as_bytes()).unwrap();
    s.write_bytes("data/epss.csv.gz", &gz.finish().unwrap());
    s.build(&[]).ok();
    let page = s.read("cve/CVE-2024-6387/index.html");
    let facts = text_of(&page, ".facts dd").join(" | ");
    assert!(facts.contains("EPSS 62.7%"), "{facts}");
    assert!(
        !facts.contains("scores of"),
        "no date without the comment line: {facts}"
    );
}

#[test]
fn bad_data_fails_naming_file_and_line_and_keeps_the_old_output() {
    let s = site();
    s.build(&[]).ok();
    let before = snapshot(&s.public());
    let kev = fixture_text("kev.json");
    s.write(
        "data/kev.json",
        &kev.replacen(
            "\"dateAdded\": \"2024-04-12\"",
            "\"dateAdded\": \"soon\"",
            1,
        ),
    );
    let err = s.build(&[]).failed();
    let line = kev
        .lines()
        .position(|l| l.contains("\"cveID\": \"CVE-2024-3400\""))
        .unwrap()
        + 1;
    assert!(
        err.contains(&format!("data/kev.json:{line}"))
            && err.contains("(CVE-2024-3400): dateAdded \"soon\" is not a date"),
        "{err}"
    );
    assert!(
        err.contains("strict = false"),
        "the help says how to go on: {err}"
    );
    assert_eq!(
        snapshot(&s.public()),
        before,
        "a failed build leaves the output"
    );

    // Lenient: the bad entry is left out with a warning, the rest is used.
    s.write(
        "site.toml",
        &format!("{}[data]\nstrict = false\n", crate::common::SITE_TOML),
    );
    let out = s.build(&[]).ok();
    assert!(
        out.stderr.contains("warning: data/kev.json"),
        "{}",
        out.stderr
    );
    let page = s.read("cve/CVE-2024-3400/index.html");
    assert!(!page.contains("Known exploited"));
    assert!(page.contains("Critical 10.0"), "the record is still used");
    assert!(
        s.read("cve/CVE-2025-53770/index.html")
            .contains("Known exploited")
    );
    s.write("site.toml", crate::common::SITE_TOML);
    s.write_bytes("data/kev.json", kev.as_bytes());

    // EPSS: a score of 11, then a wrong header.
    let epss = fixture_text("epss.csv");
    s.write(
        "data/epss.csv",
        &epss.replace("CVE-2024-3400,0.94326", "CVE-2024-3400,11"),
    );
    let err = s.build(&[]).failed();
    assert!(
        err.contains("data/epss.csv:5") && err.contains("must be numbers from 0 to 1"),
        "{err}"
    );
    s.write(
        "data/epss.csv",
        &epss.replace("cve,epss,percentile", "cve,score"),
    );
    let err = s.build(&[]).failed();
    assert!(
        err.contains("data/epss.csv:2") && err.contains("cve,epss,percentile"),
        "{err}"
    );
    s.write_bytes("data/epss.csv", epss.as_bytes());

    // A record for another id, and a truncated record.
    let rec = fixture_text("cve/2024/6xxx/CVE-2024-6387.json");
    s.write(
        "data/cve/2024/6xxx/CVE-2024-6387.json",
        &fixture_text("cve/2024/3xxx/CVE-2024-3400.json"),
    );
    let err = s.build(&[]).failed();
    assert!(
        err.contains("data/cve/2024/6xxx/CVE-2024-6387.json")
            && err.contains("holds the record of \"CVE-2024-3400\""),
        "{err}"
    );
    s.write(
        "data/cve/2024/6xxx/CVE-2024-6387.json",
        &rec[..rec.len() / 2],
    );
    let err = s.build(&[]).failed();
    assert!(
        err.contains("data/cve/2024/6xxx/CVE-2024-6387.json:") && err.contains("truncated"),
        "{err}"
    );
    // Lenient: that record is left out, the others stay.
    s.write(
        "site.toml",
        &format!("{}[data]\nstrict = false\n", crate::common::SITE_TOML),
    );
    let out = s.build(&[]).ok();
    assert!(
        out.stderr
            .contains("warning: data/cve/2024/6xxx/CVE-2024-6387.json"),
        "{}",
        out.stderr
    );
    assert!(
        s.read("cve/CVE-2024-3400/index.html")
            .contains("Critical 10.0")
    );
    s.write("site.toml", crate::common::SITE_TOML);
    s.write("data/cve/2024/6xxx/CVE-2024-6387.json", &rec);

    // A STIX technique with no id.
    let stix = fixture_text("attack/enterprise-attack.json");
    s.write(
        "data/attack/enterprise-attack.json",
        &stix.replacen(
            "\"id\": \"attack-pattern--3f886f2a-874f-4333-b794-aa6075009b1c\",",
            "",
            1,
        ),
    );
    let err = s.build(&[]).failed();
    assert!(
        err.contains("data/attack/enterprise-attack.json")
            && err.contains("objects[0]: an attack-pattern with no id"),
        "{err}"
    );
    s.write("data/attack/enterprise-attack.json", &stix);
    s.build(&[]).ok();
    assert_eq!(
        snapshot(&s.public()),
        before,
        "fixed data builds the same site again"
    );
}

#[test]
fn hostile_data_is_text() {
    let s = site();
    let rec = fixture_text("cve/2024/3xxx/CVE-2024-3400.json")
        .replace(
            "\"title\": \"PAN-OS: Arbitrary",
            "\"title\": \"\\\"><img src=x onerror=alert(1)> PAN-OS: Arbitrary",
        )
        .replacen(
            "\"value\": \"A command injection",
            "\"value\": \"</script><script>alert(1)</script> A command injection",
            2,
        );
    s.write("data/cve/2024/3xxx/CVE-2024-3400.json", &rec);
    let kev = fixture_text("kev.json").replace(
        "Palo Alto Networks PAN-OS Command Injection Vulnerability",
        "<script>alert(2)</script>",
    );
    s.write("data/kev.json", &kev);
    s.build(&[]).ok();
    for f in [
        "cve/CVE-2024-3400/index.html",
        "cve/index.html",
        "cve/kev/index.html",
        "index.html",
    ] {
        let page = s.read(f);
        assert!(!page.contains("<script>alert"), "{f}");
        assert!(!page.contains("<img src=x"), "{f}");
    }
    let page = s.read("cve/CVE-2024-3400/index.html");
    assert!(
        page.contains("&lt;&#x2F;script&gt;&lt;script&gt;alert(1)")
            || page.contains("&lt;/script&gt;&lt;script&gt;alert(1)"),
        "{page}"
    );
    // JSON-LD still parses and holds the text.
    let ld = text_of(&page, "script[type=\"application/ld+json\"]").join("");
    let ld: serde_json::Value = serde_json::from_str(&ld).unwrap();
    assert!(
        ld["about"]["description"]
            .as_str()
            .unwrap()
            .starts_with("</script><script>")
    );
}

#[test]
fn warm_builds_equal_cold_builds_when_data_changes() {
    let s = site();
    s.build(&[]).ok();
    let check = |what: &str| {
        let warm = s.build(&[]).ok();
        let cold = s.root().join("cold-out");
        let _ = std::fs::remove_dir_all(&cold);
        s.build(&["--no-cache", "--output", "cold-out"]).ok();
        assert_eq!(snapshot(&s.public()), snapshot(&cold), "{what}");
        warm.stdout
    };
    let out = check("unchanged");
    assert!(out.contains("(0 written)"), "{out}");
    assert!(s.root().join(".sitrep-cache/intel/feeds.bin").exists());
    assert!(s.root().join(".sitrep-cache/intel/attack.bin").exists());
    // New EPSS scores: the pages showing them change, and only those.
    let epss = fixture_text("epss.csv")
        .replace("2025-08-15", "2025-08-16")
        .replace("CVE-2024-6387,0.62715", "CVE-2024-6387,0.70000");
    s.write("data/epss.csv", &epss);
    let out = check("epss changed");
    assert!(
        s.read("cve/CVE-2024-6387/index.html")
            .contains("EPSS 70.0%")
    );
    assert!(!out.contains("(0 written)"), "{out}");
    // A KEV entry gone; a record gone; the ATT&CK file gone.
    s.write(
        "data/kev.json",
        &crate::common::kev_without(fixture_text("kev.json").as_bytes(), "CVE-2025-53770"),
    );
    check("kev changed");
    assert!(
        !s.read("cve/CVE-2025-53770/index.html")
            .contains("Known exploited")
    );
    // The KEV catalog switched to its CSV edition; then a CSV entry gone.
    s.remove("data/kev.json");
    let csv = fixture_text("kev.csv");
    s.write("data/kev.csv", &csv);
    check("kev json replaced by csv");
    assert!(
        s.read("cve/CVE-2024-3400/index.html")
            .contains("Known exploited")
    );
    let slim: String = csv
        .lines()
        .filter(|l| !l.starts_with("CVE-2024-3400,"))
        .map(|l| format!("{l}\n"))
        .collect();
    s.write("data/kev.csv", &slim);
    check("kev csv changed");
    assert!(
        !s.read("cve/CVE-2024-3400/index.html")
            .contains("Known exploited")
    );
    s.remove("data/cve/2024/6xxx/CVE-2024-6387.json");
    check("record removed");
    s.remove("data/attack/enterprise-attack.json");
    check("attack removed");
    assert!(!s.exists("attack/index.html"));
    assert!(
        !s.read("posts/panos/index.html")
            .contains("class=\"attack\"")
    );
}

#[test]
fn kev_csv_edition_is_read_and_a_bad_header_fails_with_file_and_line() {
    let s = site();
    s.build(&[]).ok();
    let json_page = s.read("cve/CVE-2024-3400/index.html");
    // The CSV edition as CISA publishes it (a real slice) instead of the JSON one.
    s.remove("data/kev.json");
    s.write_bytes("data/kev.csv", &fixture("kev.csv"));
    let out = s.build(&[]).ok();
    assert!(!out.stderr.contains("error"), "{}", out.stderr);
    let page = s.read("cve/CVE-2024-3400/index.html");
    let facts = text_of(&page, ".facts dd").join(" | ");
    assert!(facts.contains("Known exploited On CISA's KEV catalog since 2024-04-12; remediation due for US federal agencies by 2024-04-19. Known ransomware use: Known."), "{facts}");
    assert_eq!(
        text_of(&page, ".facts dd").len(),
        text_of(&json_page, ".facts dd").len()
    );
    // No catalog version in the CSV: its date is the newest entry's.
    let notice = text_of(&page, ".data-notice").join(" ");
    assert!(notice.contains("KEV catalog of 2025-08-25"), "{notice}");
    assert!(s.exists("cve/kev/index.html"));

    let before = snapshot(&s.public());
    let csv = fixture_text("kev.csv");
    s.write("data/kev.csv", &csv.replacen("cveID,", "cve,", 1));
    let err = s.build(&[]).failed();
    assert!(
        err.contains("data/kev.csv:1")
            && err.contains("a KEV CSV file has `cveID,vendorProject,product"),
        "{err}"
    );
    assert_eq!(snapshot(&s.public()), before, "the old output stays");
    // A bad row names its line.
    s.write("data/kev.csv", &csv.replacen(",2024-04-12,", ",soon,", 1));
    let line = csv
        .lines()
        .position(|l| l.starts_with("CVE-2024-3400,"))
        .unwrap()
        + 1;
    let err = s.build(&[]).failed();
    assert!(
        err.contains(&format!("data/kev.csv:{line}"))
            && err.contains("CVE-2024-3400: dateAdded \"soon\" is not a date"),
        "{err}"
    );
}

#[test]
fn latest_from_blog_marks_each_posts_most_severe_cve() {
    let s = site();
    s.build(&[]).ok();
    let page = s.read("404.html");
    let marks = text_of(&page, ".latest .mini-cve");
    // ToolShell: CVE-2025-53770 (9.8, on KEV); PAN-OS: CVE-2024-3400 (10.0, on KEV) and
    // one more; regreSSHion: CVE-2024-6387 (8.1, not on KEV) and one more.
    assert_eq!(
        marks,
        [
            "CVE-2025-53770 Critical severity, CVSS 9.8 Exploited",
            "CVE-2024-3400 Critical severity, CVSS 10.0 Exploited +1 more",
            "CVE-2024-6387 High severity, CVSS 8.1 +1 more",
        ]
    );
}

/// The cards of `cve` shortcodes in `html`, as text, in order.
fn cards(html: &str) -> Vec<String> {
    text_of(html, ".content .cve-card")
}

#[test]
fn cve_shortcode_cards_get_severity_and_exploited_from_the_data() {
    let s = site();
    // CVE-2024-6387 is named only in a shortcode here (and in another post's front matter);
    // CVE-2024-9999 is known to no data file.
    s.write(
        "content/posts/cards.md",
        &post(
            "Cards",
            "2024-12-01",
            "updates:\n  - {date: 2024-12-02, note: \"Now {{ cve(id='CVE-2024-3400') }} too.\"}\n",
            "See {{ cve(id=\"cve-2024-3400\") }} and {{ cve(id=\"CVE-2024-6387\") }}.\n\n> {{ cve(id=\"CVE-2024-9999\") }}\n",
        ),
    );
    s.write(
        "content/notes.md",
        "---\ntitle: Notes\n---\n{{ cve(id=\"CVE-2025-53770\") }}\n",
    );
    s.build(&[]).ok();
    let page = s.read("posts/cards/index.html");
    assert_eq!(
        cards(&page),
        [
            "CVE-2024-3400 Critical severity, CVSS 10.0 Exploited",
            "CVE-2024-6387 High severity, CVSS 8.1",
            "CVE-2024-9999",
        ],
        "{page}"
    );
    // Text and class, not colour alone; no placeholder is left.
    assert!(page.contains("<span class=\"sev sev-critical\">Critical<span class=\"visually-hidden\"> severity, CVSS</span> 10.0</span> <span class=\"kev-mark\">Exploited</span></span>"), "{page}");
    assert!(!page.contains("cve-facts"), "{page}");
    // A card in an update note gets them too.
    assert_eq!(
        text_of(&page, ".updates .cve-card"),
        ["CVE-2024-3400 Critical severity, CVSS 10.0 Exploited"]
    );
    // The post's CVE list holds the ids named only in shortcodes.
    assert_eq!(
        text_of(&page, ".post-cves .cve-id"),
        ["CVE-2024-3400", "CVE-2024-6387", "CVE-2024-9999"]
    );
    // A standalone page's card gets the facts too (the id is a post's CVE as well).
    let notes = s.read("notes/index.html");
    assert_eq!(
        cards(&notes),
        ["CVE-2025-53770 Critical severity, CVSS 9.8 Exploited"],
        "{notes}"
    );
    // Feeds show the card without facts, and without a placeholder's markup changing.
    let rss = s.read("rss.xml");
    assert!(rss.contains("CVE-2024-3400"), "{rss}");
    assert!(!rss.contains("Exploited"), "{rss}");
    // A theme's own partial decides what the facts look like.
    s.write(
        "templates/partials/cve_facts.html",
        "{% if cve.intel and cve.intel.kev %}<b class=\"kev\">KEV {{ cve.id }}</b>{% endif %}",
    );
    s.build(&[]).ok();
    let page = s.read("posts/cards/index.html");
    assert_eq!(
        cards(&page),
        [
            "CVE-2024-3400KEV CVE-2024-3400",
            "CVE-2024-6387",
            "CVE-2024-9999"
        ]
    );
}

#[test]
fn a_cve_named_only_on_a_standalone_page_gets_its_facts() {
    let s = TestSite::new();
    s.write_bytes(
        "data/cve/2024/6xxx/CVE-2024-6387.json",
        &fixture("cve/2024/6xxx/CVE-2024-6387.json"),
    );
    s.write(
        "content/posts/plain.md",
        &post("Plain", "2024-07-02", "", "No CVE here."),
    );
    s.write(
        "content/advisories.md",
        "---\ntitle: Advisories\n---\n{{ cve(id=\"CVE-2024-6387\") }}\n",
    );
    s.build(&[]).ok();
    let page = s.read("advisories/index.html");
    assert!(page.contains("<span class=\"sev sev-high\">High"), "{page}");
    // No post names it: it has no CVE page of its own.
    assert!(!s.exists("cve/CVE-2024-6387/index.html"));
}
