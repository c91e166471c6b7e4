//! Slugs for posts and taxonomy terms.
//!
//! SPEC: lowercase; runs of spaces and punctuation become one `-`; letters of other scripts
//! are kept (`Tag With Spaces` -> `tag-with-spaces`, `日本` -> `日本`). A slug is therefore
//! always a single, safe path segment: it never contains `/`, `\`, `.` or control characters.

use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

/// Turns any text into a slug; may return an empty string (text with no letters or digits).
pub fn slugify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_dash = false;
    for c in text.chars() {
        if is_word_char(c) {
            if pending_dash && !out.is_empty() {
                out.push('-');
            }
            pending_dash = false;
            if c.is_ascii() {
                // (What to_lowercase gives an ASCII character, without its iterator.)
                out.push(c.to_ascii_lowercase());
            } else {
                out.extend(c.to_lowercase());
            }
        } else {
            pending_dash = true;
        }
    }
    out
}

/// Letters, combining marks and digits of any script are kept; everything else separates.
fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    matches!(
        c.general_category_group(),
        GeneralCategoryGroup::Letter | GeneralCategoryGroup::Mark | GeneralCategoryGroup::Number
    )
}

/// The slug of a content file name: the stem with a leading `YYYY-MM-DD-` removed.
pub fn slug_from_file_stem(stem: &str) -> String {
    slugify(strip_date_prefix(stem))
}

/// `2024-05-01-my-post` -> `my-post`; anything else is returned as it is.
pub fn strip_date_prefix(stem: &str) -> &str {
    let b = stem.as_bytes();
    let is_date = b.len() > 11
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
        && (b[10] == b'-' || b[10] == b'_');
    if is_date { &stem[11..] } else { stem }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_letters_lowercase_as_every_character_does() {
        for b in 0u8..128 {
            let c = char::from(b);
            let want = if c.is_ascii_alphanumeric() {
                format!("a{}b", c.to_lowercase())
            } else {
                "a-b".to_string()
            };
            assert_eq!(slugify(&format!("a{c}b")), want, "{b}");
        }
    }

    #[test]
    fn spec_examples() {
        assert_eq!(slugify("Tag With Spaces"), "tag-with-spaces");
        assert_eq!(slugify("日本"), "日本");
    }

    #[test]
    fn punctuation_runs_become_one_dash() {
        assert_eq!(
            slugify("  AT&T -- \"MOVEit\" (Transfer)!  "),
            "at-t-moveit-transfer"
        );
        assert_eq!(slugify("C++ / C#"), "c-c");
        assert_eq!(slugify("Zürich Versicherungen"), "zürich-versicherungen");
        assert_eq!(slugify("Nintendo (任天堂)"), "nintendo-任天堂");
        assert_eq!(slugify("हिन्दी समाचार"), "हिन्दी-समाचार");
    }

    #[test]
    fn never_a_path() {
        for hostile in [
            "../../etc/passwd",
            "a/b\\c",
            ".hidden",
            "..",
            "/",
            "a\0b",
            "x\r\ny",
        ] {
            let s = slugify(hostile);
            assert!(
                !s.contains(['/', '\\', '.', '\0', '\r', '\n']),
                "{hostile:?} -> {s:?}"
            );
        }
        assert_eq!(slugify("../../etc/passwd"), "etc-passwd");
        assert_eq!(slugify("!!!"), "");
    }

    #[test]
    fn date_prefix_removed() {
        assert_eq!(slug_from_file_stem("2024-05-01-Hello World"), "hello-world");
        assert_eq!(slug_from_file_stem("2024-05-01"), "2024-05-01");
        assert_eq!(slug_from_file_stem("20240501-x"), "20240501-x");
    }
}
