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
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\'' => out.push_str("\\u0027"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
