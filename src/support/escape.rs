//! Escaping for every output language, in one place: HTML, XML, and JSON that may end up
//! inside HTML.

/// Escapes text for HTML element content and double- or single-quoted attributes.
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    html_into(text, &mut out);
    out
}

/// Appends `text` escaped for HTML to `out`.
pub fn html_into(text: &str, out: &mut String) {
    html_chunks(text, |chunk| out.push_str(chunk));
}

/// Writes `text` escaped for HTML to `w` (Tera's escape function).
pub fn html_to(text: &str, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut result = Ok(());
    html_chunks(text, |chunk| {
        if result.is_ok() {
            result = w.write_all(chunk.as_bytes());
        }
    });
    result
}

/// Calls `emit` with runs of `text` that need no escaping and with the entities of
/// `& < > " '`, in order.
fn html_chunks(text: &str, mut emit: impl FnMut(&str)) {
    let mut last = 0;
    for (i, b) in text.bytes().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        if last < i {
            emit(&text[last..i]);
        }
        emit(rep);
        last = i + 1;
    }
    if last < text.len() {
        emit(&text[last..]);
    }
}

/// Escapes text for XML and drops the characters XML 1.0 cannot hold at all.
pub fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || matches!(c, '\u{FFFE}' | '\u{FFFF}') => {}
            c => out.push(c),
        }
    }
    out
}

/// Escapes serialized JSON so that it is inert inside HTML too: `<`, `>`, `&`, `'` and
/// U+2028/9 become `\uXXXX` (still the same JSON). No string can close a `<script>`.
pub fn json_for_html(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + 16);
    replace_into(json, &mut out, &HTML_UNSAFE_IN_JSON, html_escape_at);
    out
}

/// `s` as a JSON string (quotes included) appended to `out`, escaped as
/// [`json_for_html`] escapes serialized JSON: the same bytes as serializing `s` with
/// `serde_json` and passing the result through [`json_for_html`], in one pass.
pub fn json_str_for_html(s: &str, out: &mut String) {
    out.push('"');
    replace_into(s, out, &SPECIAL_IN_JSON_STR, |b, i| match b[i] {
        b'"' => Some(("\\\"", 1)),
        b'\\' => Some(("\\\\", 1)),
        c @ 0..0x20 => Some((CONTROL_IN_JSON[usize::from(c)], 1)),
        _ => html_escape_at(b, i),
    });
    out.push('"');
}

/// Appends `s` to `out` with what `at` gives in place of the bytes it replaces, looking
/// only at bytes marked in `special` (the others are copied in runs).
fn replace_into(
    s: &str,
    out: &mut String,
    special: &[bool; 256],
    at: impl Fn(&[u8], usize) -> Option<(&'static str, usize)>,
) {
    let b = s.as_bytes();
    let (mut last, mut i) = (0, 0);
    while i < b.len() {
        // Most bytes need nothing: one table lookup each.
        if !special[usize::from(b[i])] {
            i += 1;
            continue;
        }
        match at(b, i) {
            Some((rep, n)) => {
                out.push_str(&s[last..i]);
                out.push_str(rep);
                i += n;
                last = i;
            }
            None => i += 1,
        }
    }
    out.push_str(&s[last..]);
}

/// How JSON writes the control characters U+0000..U+001F (as `serde_json` does: the short
/// escapes where JSON has them).
const CONTROL_IN_JSON: [&str; 32] = [
    "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007", "\\b",
    "\\t", "\\n", "\\u000b", "\\f", "\\r", "\\u000e", "\\u000f", "\\u0010", "\\u0011", "\\u0012",
    "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017", "\\u0018", "\\u0019", "\\u001a",
    "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f",
];

/// What JSON for HTML writes in place of the bytes at `b[i..]`, and how many it replaces:
/// `<`, `>`, `&`, `'`, and U+2028/9 (`E2 80 A8`/`E2 80 A9` in UTF-8; an `E2` byte always
/// starts a character), each as a `\uXXXX` escape. `None`: the byte stays as it is.
fn html_escape_at(b: &[u8], i: usize) -> Option<(&'static str, usize)> {
    let c = b[i];
    // Most bytes are none of these: a table rules them out.
    if !HTML_UNSAFE_IN_JSON[usize::from(c)] {
        return None;
    }
    Some(match c {
        b'<' => ("\\u003c", 1),
        b'>' => ("\\u003e", 1),
        b'&' => ("\\u0026", 1),
        b'\'' => ("\\u0027", 1),
        0xE2 if b.get(i + 1) == Some(&0x80) && b.get(i + 2) == Some(&0xA8) => ("\\u2028", 3),
        0xE2 if b.get(i + 1) == Some(&0x80) && b.get(i + 2) == Some(&0xA9) => ("\\u2029", 3),
        _ => return None,
    })
}

/// The bytes [`html_escape_at`] may replace: `<`, `>`, `&`, `'`, and `E2`, which starts
/// U+2028 and U+2029.
const HTML_UNSAFE_IN_JSON: [bool; 256] = {
    let mut t = [false; 256];
    t[b'<' as usize] = true;
    t[b'>' as usize] = true;
    t[b'&' as usize] = true;
    t[b'\'' as usize] = true;
    t[0xE2] = true;
    t
};

/// The bytes [`json_str_for_html`] may replace: those of [`HTML_UNSAFE_IN_JSON`], control
/// characters, `"` and `\`.
const SPECIAL_IN_JSON_STR: [bool; 256] = {
    let mut t = HTML_UNSAFE_IN_JSON;
    let mut c = 0;
    while c < 0x20 {
        t[c] = true;
        c += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_for_html_are_serde_json_then_json_for_html() {
        let controls: String = (0u8..0x20).map(char::from).collect();
        for s in [
            controls.as_str(),
            "",
            "plain",
            "quote \" backslash \\ slash /",
            "<script>alert('x')</script> & more",
            "\u{0}\u{1}\u{8}\u{9}\u{a}\u{b}\u{c}\u{d}\u{1f}\u{7f}",
            "line\u{2028}para\u{2029}end \u{2027}\u{202a} é ガベージ 𝔘",
            "\u{e2}\u{80}",
        ] {
            let mut got = String::new();
            json_str_for_html(s, &mut got);
            let want = json_for_html(&serde_json::Value::from(s).to_string());
            assert_eq!(got, want, "{s:?}");
        }
    }

    #[test]
    fn html_escapes_everything_dangerous() {
        assert_eq!(
            html("<a href='x'>\"&"),
            "&lt;a href=&#39;x&#39;&gt;&quot;&amp;"
        );
    }

    #[test]
    fn xml_drops_forbidden_characters() {
        assert_eq!(xml("a\u{0}b\u{b}c\td'<"), "abc\td&apos;&lt;");
    }

    #[test]
    fn json_stays_json() {
        let s = json_for_html(&serde_json::to_string("</script><b>&'\u{2028}").unwrap());
        assert!(!s.contains('<') && !s.contains('>') && !s.contains('&'));
        let back: String = serde_json::from_str(&s).unwrap();
        assert_eq!(back, "</script><b>&'\u{2028}");
    }

    #[test]
    fn json_escapes_only_the_separators_among_e2_characters() {
        assert_eq!(
            json_for_html("a\u{2028}—\u{2029}€'<x>&\u{2027}"),
            "a\\u2028—\\u2029€\\u0027\\u003cx\\u003e\\u0026\u{2027}"
        );
        assert_eq!(json_for_html("plain"), "plain");
        assert_eq!(json_for_html(""), "");
    }
}
