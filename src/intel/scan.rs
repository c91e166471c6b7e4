//! A fast walk over a large STIX bundle: the objects of its `objects` array are found by
//! skipping strings and balanced brackets with `memchr`, without decoding them, so that
//! only the few objects a site needs are handed to serde. (The ATT&CK bundle is about
//! 45 MB; its techniques and revocations are about 3 MB of it.)
//!
//! Skipped objects are not checked beyond their brackets and strings: a truncated file
//! is still an error, with its line.

use std::borrow::Cow;

use super::DataProblem;

/// The 1-based line of byte `at`.
pub fn line_at(bytes: &[u8], at: usize) -> usize {
    memchr::memchr_iter(b'\n', &bytes[..at.min(bytes.len())]).count() + 1
}

fn truncated(bytes: &[u8]) -> DataProblem {
    DataProblem::msg("the file ends in the middle of the JSON (truncated?)")
        .at(Some(line_at(bytes, bytes.len())))
}

fn expected(bytes: &[u8], at: usize, what: &str) -> DataProblem {
    let found = bytes
        .get(at)
        .map_or("the end of the file".to_string(), |c| {
            format!("{:?}", *c as char)
        });
    DataProblem::msg(format!("expected {what}, found {found}")).at(Some(line_at(bytes, at)))
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\n' | b'\r' | b'\t') {
        i += 1;
    }
    i
}

/// The end (one past the closing quote) of the string opening at `i`.
fn skip_string(b: &[u8], i: usize) -> Result<usize, DataProblem> {
    let mut j = i + 1;
    loop {
        let at = j + memchr::memchr(b'"', &b[j..]).ok_or_else(|| truncated(b))?;
        // Escaped when an odd number of backslashes stands before it.
        let backslashes = b[j..at].iter().rev().take_while(|&&c| c == b'\\').count();
        if backslashes % 2 == 0 {
            return Ok(at + 1);
        }
        j = at + 1;
    }
}

/// The end of the object or array opening at `i` (`open` and `close` are its brackets;
/// the other kind balances inside it, outside strings).
fn skip_nested(b: &[u8], i: usize, open: u8, close: u8) -> Result<usize, DataProblem> {
    let mut depth = 0usize;
    let mut j = i;
    loop {
        let k = memchr::memchr3(b'"', open, close, &b[j..]).ok_or_else(|| truncated(b))?;
        let at = j + k;
        match b[at] {
            b'"' => j = skip_string(b, at)?,
            c if c == open => {
                depth += 1;
                j = at + 1;
            }
            _ => {
                depth -= 1;
                j = at + 1;
                if depth == 0 {
                    return Ok(j);
                }
            }
        }
    }
}

/// The end of the JSON value starting at `i`.
fn skip_value(b: &[u8], i: usize) -> Result<usize, DataProblem> {
    match b.get(i) {
        None => Err(truncated(b)),
        Some(b'"') => skip_string(b, i),
        Some(b'{') => skip_nested(b, i, b'{', b'}'),
        Some(b'[') => skip_nested(b, i, b'[', b']'),
        Some(_) => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')
            {
                j += 1;
            }
            if j == i {
                return Err(expected(b, i, "a value"));
            }
            Ok(j)
        }
    }
}

/// The string at `i` decoded, and its end.
fn string_at(b: &[u8], i: usize) -> Result<(Cow<'_, str>, usize), DataProblem> {
    if b.get(i) != Some(&b'"') {
        return Err(expected(b, i, "a string"));
    }
    let end = skip_string(b, i)?;
    let raw = &b[i + 1..end - 1];
    if !raw.contains(&b'\\')
        && let Ok(s) = std::str::from_utf8(raw)
    {
        return Ok((Cow::Borrowed(s), end));
    }
    let s: String = serde_json::from_slice(&b[i..end])
        .map_err(|e| DataProblem::msg(e.to_string()).at(Some(line_at(b, i))))?;
    Ok((Cow::Owned(s), end))
}

/// The bundle's top-level `type`, and the byte range of each element of its `objects`.
pub struct Bundle {
    pub kind: Option<String>,
    /// `None` when the bundle has no `objects` array.
    pub objects: Option<Vec<(usize, usize)>>,
}

/// Walks the top level of a bundle.
pub fn bundle(b: &[u8]) -> Result<Bundle, DataProblem> {
    let mut out = Bundle {
        kind: None,
        objects: None,
    };
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return Err(expected(b, i, "a JSON object (`{`)"));
    }
    i = skip_ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        return Ok(out);
    }
    loop {
        let (key, end) = string_at(b, i)?;
        i = skip_ws(b, end);
        if b.get(i) != Some(&b':') {
            return Err(expected(b, i, "`:`"));
        }
        i = skip_ws(b, i + 1);
        match key.as_ref() {
            "type" => {
                let (v, end) = string_at(b, i)?;
                out.kind = Some(v.into_owned());
                i = end;
            }
            "objects" => i = objects(b, i, out.objects.get_or_insert_with(Vec::new))?,
            _ => i = skip_value(b, i)?,
        }
        i = skip_ws(b, i);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => break,
            None => return Err(truncated(b)),
            Some(_) => return Err(expected(b, i, "`,` or `}`")),
        }
    }
    if skip_ws(b, i + 1) != b.len() {
        return Err(expected(b, skip_ws(b, i + 1), "the end of the file"));
    }
    Ok(out)
}

/// The elements of the array at `i` into `ranges`; returns the array's end.
fn objects(b: &[u8], i: usize, ranges: &mut Vec<(usize, usize)>) -> Result<usize, DataProblem> {
    if b.get(i) != Some(&b'[') {
        return Err(expected(b, i, "an array (`[`)"));
    }
    let mut i = skip_ws(b, i + 1);
    if b.get(i) == Some(&b']') {
        return Ok(i + 1);
    }
    loop {
        let end = skip_value(b, i)?;
        ranges.push((i, end));
        i = skip_ws(b, end);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b']') => return Ok(i + 1),
            None => return Err(truncated(b)),
            Some(_) => return Err(expected(b, i, "`,` or `]`")),
        }
    }
}

/// The value of an object's `type` when it is the object's first key and a plain string
/// (as in the published bundles); `None` otherwise.
pub fn first_type(obj: &[u8]) -> Option<&[u8]> {
    let i = skip_ws(obj, 1);
    let rest = obj.get(i..)?.strip_prefix(b"\"type\"")?;
    let j = skip_ws(rest, 0);
    let rest = rest.get(j..)?.strip_prefix(b":")?;
    let j = skip_ws(rest, 0);
    let rest = rest.get(j..)?.strip_prefix(b"\"")?;
    let end = memchr::memchr2(b'"', b'\\', rest)?;
    (rest[end] == b'"').then(|| &rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_objects_past_strings_and_nesting() {
        let text = br#"{"type": "bundle", "id": "b\\", "x": [1, {"a": "}]\"\\"}],
  "objects": [
    {"type": "attack-pattern", "name": "a \"quoted\" {name}", "n": [1, [2]]},
    {"id": "y", "type": "relationship"}, 3
  ]}"#;
        let b = bundle(text).unwrap();
        assert_eq!(b.kind.as_deref(), Some("bundle"));
        let objs: Vec<&[u8]> = b
            .objects
            .unwrap()
            .iter()
            .map(|&(s, e)| &text[s..e])
            .collect();
        assert_eq!(objs.len(), 3);
        assert!(objs[0].ends_with(b"[2]]}"));
        assert_eq!(first_type(objs[0]), Some(&b"attack-pattern"[..]));
        assert_eq!(first_type(objs[1]), None);
        assert_eq!(objs[2], b"3");
    }

    #[test]
    fn truncated_and_malformed_files_are_errors_with_lines() {
        let text = b"{\"type\": \"bundle\",\n \"objects\": [\n {\"type\": \"x\", \"a\": \"b";
        let e = bundle(text).err().unwrap();
        assert!(e.message.contains("truncated"), "{e:?}");
        assert_eq!(e.line, Some(3));
        let e = bundle(b"{\"type\": \"bundle\"\n \"objects\": []}")
            .err()
            .unwrap();
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("expected `,` or `}`"), "{e:?}");
        assert!(bundle(b"[]").is_err());
    }
}
