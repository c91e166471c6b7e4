//! Resources: big posts, huge code blocks and regex-heavy code do not hang the build.
//! Highlighting has size bounds (`highlight::MAX_BYTES`, `MAX_LINES`, `MAX_LINE_BYTES`);
//! code over them is shown as plain text with a warning that names the file and line.
//!
//! The time limits below are far above what a release build needs (a few seconds); they
//! are there to fail a hang, not to benchmark.

use std::time::{Duration, Instant};

use crate::common::{TestSite, post};
use sitrep::content::highlight::{MAX_BYTES, MAX_LINE_BYTES, MAX_LINES};

const GENEROUS: Duration = Duration::from_secs(180);

fn timed_build(s: &TestSite) -> (crate::common::Run, Duration) {
    let start = Instant::now();
    let run = s.build(&[]).ok();
    (run, start.elapsed())
}

/// The `<code>` element of the first code block whose language is `lang`.
fn code_block<'a>(html: &'a str, lang: &str) -> &'a str {
    let open = format!("<code class=\"language-{lang}\">");
    let start = html
        .find(&open)
        .unwrap_or_else(|| panic!("no {lang} block"))
        + open.len();
    let end = start + html[start..].find("</code>").expect("closed");
    &html[start..end]
}

#[test]
fn ten_megabyte_post_builds() {
    let s = TestSite::new();
    let mut body = String::with_capacity(11 << 20);
    let mut n = 0;
    while body.len() < 10 << 20 {
        n += 1;
        body.push_str(&format!(
            "Paragraph {n} on CVE-2024-{:04} with **bold**, `code` and [a link](https://e.x/{n}).\n\n",
            n % 10_000
        ));
        if n % 200 == 0 {
            body.push_str("```python\nfor i in range(10):\n    print(i)\n```\n\n");
        }
    }
    body.push_str("The last paragraph.\n");
    s.write(
        "content/posts/big.md",
        &post("Big", "2024-05-01", "", &body),
    );
    let (run, took) = timed_build(&s);
    assert!(took < GENEROUS, "{took:?}");
    assert!(run.stdout.contains("built 1 post"), "{}", run.stdout);
    let html = s.read("posts/big/index.html");
    assert!(html.contains("<p>The last paragraph.</p>"));
    assert!(html.contains("<span class=\"hl-"), "code stays highlighted");
}

#[test]
fn hundred_thousand_line_code_block_is_plain_text_with_a_warning() {
    let s = TestSite::new();
    let code: String = (0..100_000).map(|i| format!("x_{i} = '<{i}>'\n")).collect();
    s.write(
        "content/posts/code.md",
        &post(
            "Code",
            "2024-05-01",
            "",
            &format!("Intro.\n\n```python\n{code}```\n\nAfter."),
        ),
    );
    let (run, took) = timed_build(&s);
    assert!(took < GENEROUS, "{took:?}");
    assert!(
        run.stderr.contains(&format!(
            "warning: content/posts/code.md:8: code block not highlighted: {} KiB of code (the limit is {} KiB)",
            code.len() / 1024,
            MAX_BYTES / 1024
        )),
        "{}",
        run.stderr
    );
    let html = s.read("posts/code/index.html");
    let block = code_block(&html, "python");
    assert!(!block.contains("<span"), "not highlighted");
    assert!(block.starts_with("x_0 = &#39;&lt;0&gt;&#39;\n"));
    assert!(block.ends_with("x_99999 = &#39;&lt;99999&gt;&#39;\n"));
}

#[test]
fn code_over_the_byte_and_line_length_bounds_is_plain_text() {
    let s = TestSite::new();
    let long_line = format!("x = \"{}\"\n", "a".repeat(MAX_LINE_BYTES));
    // Under the line count, over the byte count.
    let many_bytes =
        "y = 1 # padding padding padding padding padding padding\n".repeat(MAX_LINES - 1);
    assert!(many_bytes.len() > MAX_BYTES);
    s.write(
        "content/posts/code.md",
        &post(
            "Code",
            "2024-05-01",
            "",
            &format!("```python\n{long_line}```\n\n```ruby\n{many_bytes}```\n\n```rust\nfn ok() {{}}\n```\n"),
        ),
    );
    let run = s.build(&[]).ok();
    assert!(
        run.stderr.contains(&format!(
            "warning: content/posts/code.md:6: code block not highlighted: a line of {} bytes (the limit is {MAX_LINE_BYTES})",
            MAX_LINE_BYTES + 6
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("warning: content/posts/code.md:10: code block not highlighted:")
            && run.stderr.contains(&format!(
                "{} KiB of code (the limit is {} KiB)",
                many_bytes.len() / 1024,
                MAX_BYTES / 1024
            )),
        "{}",
        run.stderr
    );
    let html = s.read("posts/code/index.html");
    assert!(!code_block(&html, "python").contains("<span"));
    assert!(!code_block(&html, "ruby").contains("<span"));
    assert!(code_block(&html, "rust").contains("<span class=\"hl-"));
}

#[test]
fn thousands_of_oversized_code_blocks_build_in_linear_time() {
    let s = TestSite::new();
    let block = format!(
        "```js\nvar x = '{}';\n```\n\n",
        "z".repeat(MAX_LINE_BYTES + 1)
    );
    s.write(
        "content/posts/many.md",
        &post("Many", "2024-05-01", "", &block.repeat(2_000)),
    );
    let (run, took) = timed_build(&s);
    assert!(took < GENEROUS, "{took:?}");
    assert_eq!(
        run.stderr.matches("code block not highlighted").count(),
        2_000
    );
    // The last warning is on the last block's line.
    let last_line = 5 + 2_000 * 4 - 4 + 1;
    assert!(
        run.stderr.contains(&format!(
            "warning: content/posts/many.md:{last_line}: code block not highlighted"
        )),
        "{}",
        &run.stderr[run.stderr.len().saturating_sub(600)..]
    );
}

/// Lines within the bounds on which syntect's grammars backtrack (measured in a release
/// build on one 2,000-byte line: Java `1e1e…` 0.1 s, C# 0.03 s, shell tabs 0.03 s). Each line
/// differs from the others (by its length), so the highlighter's memo of lines it has
/// already seen cannot help.
fn pathological(lang: &str, unit: &str, lines: usize) -> String {
    let full = (MAX_LINE_BYTES - 2) / unit.len();
    let body: String = (0..lines)
        .map(|i| format!("{}\n", unit.repeat(full - i % 200)))
        .collect();
    format!("```{lang}\n{body}```\n\n")
}

#[test]
fn regex_heavy_code_is_bounded_and_never_lost() {
    let s = TestSite::new();
    // About 12 s of Java highlighting in one block (on the machine this was measured on),
    // then more of the same. How many blocks the budgets stop depends on the machine's
    // speed (the budgets themselves are tested with a counted clock beside the code), so
    // this asserts what holds everywhere: the build ends, and each block is either
    // highlighted or named in a warning on its own line.
    let mut body = pathological("java", "1e", 120);
    for (lang, unit) in [
        ("cs", "1e"),
        ("sh", "\t "),
        ("matlab", "a*"),
        ("java", "1e"),
    ] {
        body.push_str(&pathological(lang, unit, 120));
    }
    body.push_str(&pathological("java", "1e", 120).repeat(6));
    body.push_str("```rust\nfn fine() {}\n```\n");
    s.write(
        "content/posts/slow.md",
        &post("Slow", "2024-05-01", "", &body),
    );
    let (run, took) = timed_build(&s);
    assert!(took < GENEROUS, "{took:?}");
    let html = s.read("posts/slow/index.html");
    let blocks: Vec<&str> = html.split("<pre class=\"code\"").skip(1).collect();
    assert_eq!(blocks.len(), 12);
    let plain = blocks
        .iter()
        .filter(|b| !b[..b.find("</pre>").unwrap()].contains("<span"))
        .count();
    let warned = run.stderr.matches("code block not highlighted").count();
    assert_eq!(plain, warned, "{}", run.stderr);
    for line in run
        .stderr
        .lines()
        .filter(|l| l.contains("code block not highlighted"))
    {
        // A block's budget is 2 s or what is left of the file's 10 s, whichever is less.
        let took_longer = line
            .split_once("highlighting it took longer than ")
            .and_then(|(_, secs)| secs.strip_suffix(" s"))
            .and_then(|secs| secs.parse::<f64>().ok())
            .is_some_and(|secs| (0.0..=2.0).contains(&secs));
        assert!(
            line.starts_with("warning: content/posts/slow.md:")
                && (took_longer
                    || line.ends_with(
                        "the code blocks before it took 10 s to highlight, the most for one file"
                    )),
            "{line}"
        );
    }
}
