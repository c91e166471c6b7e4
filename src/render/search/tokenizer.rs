//! The search tokenizer: one set of rules for the index (here) and the query (the same
//! rules, written again in JavaScript, in the default theme's `static/search.js`).
//!
//! The two must agree exactly: `tests/search.rs` runs both over the table of cases in
//! `tests/fixtures/search/tokenizer_cases.json`. Change a rule in both places.
//!
//! The rules, in order:
//! 1. Fullwidth ASCII (`ＣＶＥ－２０２４`) is read as ASCII; letters are lowercased, one
//!    character at a time.
//! 2. CJK characters (Han, kana, Hangul) form runs of their own, indexed as overlapping
//!    bigrams (`能動的` → `能動`, `動的`); a run of one character is that character, and a
//!    query of one character matches the bigrams it begins.
//! 3. Other text splits into runs of letters, marks and digits joined by `. - _ : / \ @`;
//!    joiners at either end of a run are dropped (`2.4.49.` → `2.4.49`).
//! 4. A run that is a CVE id gives the id and its number: `CVE-2024-3400` → `cve-2024-3400`
//!    and `2024-3400`, both exact (so `CVE-2024-34003` never matches `CVE-2024-3400`).
//! 5. An ATT&CK sub-technique gives itself and its parent: `T1059.001` → `t1059.001`,
//!    `t1059`; a technique `T1059` is exact.
//! 6. Any other run with joiners (versions, IPs, file names, paths, URLs) is kept whole and
//!    exact (up to [`MAX_CHARS`] characters). Split at `/ \ : @ _` it gives its pieces, each
//!    read by these rules again; a piece with only `-` and `.` gives its parts that are not
//!    plain numbers, as words (`ntdll.dll` → `ntdll.dll`, `ntdll`, `dll`).
//! 7. A word: plain numbers are exact; single characters and English stop words are
//!    dropped; ASCII words of four letters or more are stemmed ([`stem`]); words match by
//!    prefix in queries (the client decides how long a prefix must be).

/// How a query token may match the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A word: a query token also matches the index terms it is a prefix of.
    Word,
    /// Only the same term.
    Exact,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Word => "word",
            Kind::Exact => "exact",
        }
    }
}

/// Longer runs and words are not indexed whole.
pub const MAX_CHARS: usize = 128;

/// English words too common to find anything.
pub const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have", "in",
    "is", "it", "its", "of", "on", "or", "that", "the", "this", "to", "was", "were", "will",
    "with",
];

/// Whether `w` is one of [`STOP_WORDS`]. A `match` rather than a search of the list: it
/// runs for most words of every body, and `examples/terms_bench` measured a binary search
/// of the list 25% slower for the whole tokenizer. A test keeps the two the same.
fn is_stop_word(w: &str) -> bool {
    matches!(
        w,
        "a" | "an"
            | "and"
            | "are"
            | "as"
            | "at"
            | "be"
            | "but"
            | "by"
            | "for"
            | "from"
            | "has"
            | "have"
            | "in"
            | "is"
            | "it"
            | "its"
            | "of"
            | "on"
            | "or"
            | "that"
            | "the"
            | "this"
            | "to"
            | "was"
            | "were"
            | "will"
            | "with"
    )
}

/// The characters that join parts of one run.
pub fn is_joiner(c: char) -> bool {
    matches!(c, '.' | '-' | '_' | ':' | '/' | '\\' | '@')
}

/// Joiners that separate pieces read again on their own (rule 6).
fn is_piece_joiner(c: char) -> bool {
    matches!(c, '_' | ':' | '/' | '\\' | '@')
}

/// Han, kana and Hangul: the scripts written without spaces between words.
pub fn is_cjk(c: char) -> bool {
    let u = c as u32;
    u >= 0x1100
        && matches!(u,
        0x3005..=0x3007
        | 0x3021..=0x3029
        | 0x3038..=0x303B
        | 0x3041..=0x309F
        | 0x30A1..=0x30FA
        | 0x30FC..=0x30FF
        | 0x3131..=0x318E
        | 0x31F0..=0x31FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xF900..=0xFAFF
        | 0xFF66..=0xFF9F
        | 0x1100..=0x11FF
        | 0xAC00..=0xD7AF
        | 0x20000..=0x3FFFF)
}

/// Letters, marks and digits (Unicode general categories L, M, N).
fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};
    matches!(
        c.general_category_group(),
        GeneralCategoryGroup::Letter | GeneralCategoryGroup::Mark | GeneralCategoryGroup::Number
    )
}

/// Fullwidth ASCII forms (U+FF01..U+FF5E) as ASCII.
fn fold(c: char) -> char {
    let u = c as u32;
    if (0xFF01..=0xFF5E).contains(&u) {
        char::from_u32(u - 0xFEE0).unwrap_or(c)
    } else {
        c
    }
}

/// Calls `emit` with every token of `text`, in order (repeats included).
pub fn tokenize(text: &str, emit: &mut impl FnMut(&str, Kind)) {
    let mut run = String::new();
    let mut cjk: Vec<char> = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            // ASCII: a stretch of run bytes at a time.
            if !cjk.is_empty() {
                flush_cjk(&mut cjk, emit);
            }
            if CLASS[b as usize] & RUN != 0 {
                let start = i;
                let mut class = 0;
                while i < bytes.len() && CLASS[bytes[i] as usize] & RUN != 0 {
                    class |= CLASS[bytes[i] as usize];
                    i += 1;
                }
                // A whole run (between ASCII bytes that join nothing) whose joiners, if any,
                // are only at its ends (`exploited.`, `note:`) is the word between them:
                // read in place, or lowercased in `run` first if it has capitals.
                if run.is_empty()
                    && bytes.get(i).is_none_or(|&b| b < 0x80)
                    && whole_word(&text[start..i], class, &mut run, emit)
                {
                    continue;
                }
                let at = run.len();
                run.push_str(&text[start..i]);
                run[at..].make_ascii_lowercase();
            } else {
                i += 1;
                if !run.is_empty() {
                    flush_run(&mut run, emit);
                }
            }
            continue;
        }
        let ch = text[i..].chars().next().unwrap_or('\u{FFFD}');
        i += ch.len_utf8();
        let c = fold(ch);
        if c.is_ascii() {
            if !cjk.is_empty() {
                flush_cjk(&mut cjk, emit);
            }
            if c.is_ascii_alphanumeric() || is_joiner(c) {
                run.push(c.to_ascii_lowercase());
            } else if !run.is_empty() {
                flush_run(&mut run, emit);
            }
        } else if is_cjk(c) {
            if !run.is_empty() {
                flush_run(&mut run, emit);
            }
            cjk.push(c);
        } else {
            if !cjk.is_empty() {
                flush_cjk(&mut cjk, emit);
            }
            if is_word_char(c) {
                run.extend(c.to_lowercase());
            } else if !run.is_empty() {
                flush_run(&mut run, emit);
            }
        }
    }
    flush_run(&mut run, emit);
    flush_cjk(&mut cjk, emit);
}

/// Reads a whole ASCII run of class bits `class` as rule 7 does (its joiners trimmed, its
/// capitals lowercased, in `scratch`), if it is one word: no joiner but at its ends.
/// `false`, having emitted nothing, for a run with a joiner inside (rules 4 to 6 read it).
fn whole_word(r: &str, class: u8, scratch: &mut String, emit: &mut impl FnMut(&str, Kind)) -> bool {
    let w = if class & JOINER == 0 {
        r
    } else {
        let w = trim_joiners(r);
        if w.is_empty() {
            // Joiners alone: no token.
            return true;
        }
        if w.bytes().any(is_joiner_byte) {
            return false;
        }
        w
    };
    // The bits of the joiners trimmed are no DIGIT or LOWER bits.
    if class & UPPER == 0 {
        word_of_class(w, class, emit);
        return true;
    }
    scratch.clear();
    scratch.push_str(w);
    scratch.make_ascii_lowercase();
    word_of_class(scratch, (class & (DIGIT | LOWER)) | LOWER, emit);
    scratch.clear();
    true
}

/// [`CLASS`] bits: a byte of a run (an ASCII letter, digit or joiner), a joiner, a
/// capital letter.
const RUN: u8 = 1;
const JOINER: u8 = 2;
const UPPER: u8 = 4;
/// A digit, a lowercase letter.
const DIGIT: u8 = 8;
const LOWER: u8 = 16;
/// In no byte's [`CLASS`]: [`word`] marks a byte that is no digit or lowercase letter.
const OTHER: u8 = 32;

/// The class bits of each byte (non-ASCII bytes have none: they are read as characters).
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || is_joiner_byte(c) {
            t[b] |= RUN;
        }
        if is_joiner_byte(c) {
            t[b] |= JOINER;
        }
        if c.is_ascii_uppercase() {
            t[b] |= UPPER;
        }
        if c.is_ascii_digit() {
            t[b] |= DIGIT;
        }
        if c.is_ascii_lowercase() {
            t[b] |= LOWER;
        }
        b += 1;
    }
    t
};

const fn is_joiner_byte(b: u8) -> bool {
    matches!(b, b'.' | b'-' | b'_' | b':' | b'/' | b'\\' | b'@')
}

/// Every token of `text` with its kind, in order (for tests and tools).
pub fn tokens(text: &str) -> Vec<(String, Kind)> {
    let mut out = Vec::new();
    tokenize(text, &mut |t, k| out.push((t.to_string(), k)));
    out
}

/// The tokens of a CJK run (made apart: never slices of the text).
fn flush_cjk(cjk: &mut Vec<char>, emit: &mut impl FnMut(&str, Kind)) {
    let mut buf = [0u8; 8];
    match cjk.len() {
        0 => {}
        1 => emit(cjk[0].encode_utf8(&mut buf), Kind::Word),
        _ => {
            let mut pair = String::with_capacity(8);
            for w in cjk.windows(2) {
                pair.clear();
                pair.push(w[0]);
                pair.push(w[1]);
                emit(&pair, Kind::Exact);
            }
        }
    }
    cjk.clear();
}

/// The tokens of a run gathered in `run` (made apart: never slices of the text).
fn flush_run(run: &mut String, emit: &mut impl FnMut(&str, Kind)) {
    read_run(run, emit);
    run.clear();
}

/// `run` without the joiners at either end (rule 3).
fn trim_joiners(run: &str) -> &str {
    run.trim_matches(is_joiner)
}

/// Rules 3 to 7 for one run (lowercased).
fn read_run(run: &str, emit: &mut impl FnMut(&str, Kind)) {
    // Joiners are ASCII: trimming and finding them by bytes keeps to char boundaries.
    let b = run.as_bytes();
    if !b.iter().any(|&c| is_joiner_byte(c)) {
        // A plain word, the common case.
        if !run.is_empty() {
            word(run, emit);
        }
        return;
    }
    let s = trim_joiners(run);
    if s.is_empty() {
        return;
    }
    if !s.bytes().any(is_joiner_byte) {
        word(s, emit);
        return;
    }
    if let Some(number) = cve_number(s) {
        emit(s, Kind::Exact);
        emit(number, Kind::Exact);
        return;
    }
    if is_attack_sub(s) {
        emit(s, Kind::Exact);
        emit(&s[..5], Kind::Exact);
        return;
    }
    if s.chars().count() <= MAX_CHARS {
        emit(s, Kind::Exact);
    }
    if s.contains(is_piece_joiner) {
        for piece in s.split(is_piece_joiner) {
            read_run(piece, emit);
        }
    } else {
        for part in s.split(['-', '.']) {
            if !part.is_empty() && !part.bytes().all(|b| b.is_ascii_digit()) {
                word(part, emit);
            }
        }
    }
}

/// Rule 7.
fn word<'w>(w: &'w str, emit: &mut impl FnMut(&'w str, Kind)) {
    let class = w.bytes().fold(0, |c, b| {
        let k = CLASS[usize::from(b)];
        c | if k & (DIGIT | LOWER) == 0 { OTHER } else { k }
    });
    word_of_class(w, class, emit);
}

/// Rule 7 for a word whose bytes' [`CLASS`] bits are `class` (ORed; [`OTHER`] for a byte
/// that is no ASCII digit or lowercase letter): the tokenizer's scan gathers them as it
/// goes, so a word read in place is not looked at again to learn what it is made of.
fn word_of_class<'w>(w: &'w str, class: u8, emit: &mut impl FnMut(&'w str, Kind)) {
    if class & OTHER != 0 {
        // Not lowercase ASCII alone (a non-ASCII letter, say): no number, technique, stop
        // word or stem.
        if w.chars().nth(1).is_some() && (w.len() <= MAX_CHARS || w.chars().count() <= MAX_CHARS) {
            emit(w, Kind::Word);
        }
    } else if w.len() > MAX_CHARS {
        // Too long to index whole (and ASCII: a byte is a character).
    } else if class & LOWER == 0 {
        // Digits only.
        emit(w, Kind::Exact);
    } else if class & DIGIT == 0 {
        // Letters only.
        if w.len() > 1 && !is_stop_word(w) {
            emit(stem_lowercase(w), Kind::Word);
        }
    } else if is_attack(w) {
        emit(w, Kind::Exact);
    } else {
        // Letters and digits: two characters at least, no stop word, not stemmed.
        emit(w, Kind::Word);
    }
}

/// `cve-YYYY-N…` (4 to 7 digits): the part after `cve-`.
fn cve_number(s: &str) -> Option<&str> {
    let rest = s.strip_prefix("cve-")?;
    let b = rest.as_bytes();
    let ok = b.len() >= 9
        && b.len() <= 12
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..].iter().all(u8::is_ascii_digit);
    ok.then_some(rest)
}

/// `t` and four digits: an ATT&CK technique.
fn is_attack(s: &str) -> bool {
    is_technique(s.as_bytes())
}

/// `t####` as bytes.
fn is_technique(b: &[u8]) -> bool {
    b.len() == 5 && b[0] == b't' && b[1..].iter().all(u8::is_ascii_digit)
}

/// `t####.###`: an ATT&CK sub-technique. (By bytes: the first five need not end on a
/// character boundary, as in `aaaaé.12`.)
fn is_attack_sub(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 9 && is_technique(&b[..5]) && b[5] == b'.' && b[6..].iter().all(u8::is_ascii_digit)
}

/// Whether a token is an ATT&CK technique or sub-technique id (`t1059`, `t1059.001`).
pub fn is_attack_id(t: &str) -> bool {
    is_attack(t) || is_attack_sub(t)
}

/// A light English stemmer for lowercase ASCII words of four letters or more: a plural
/// (`-ies`, `-sses` → `-ss`, `-s` but not `-ss`, `-us`, `-is`), then one of `-ation`,
/// `-ing`, `-ed`, `-er`, `-e`, `-y`, each only where three letters stay. `exploited`,
/// `exploits` and `exploitation` all become `exploit`; `patches`, `patched` → `patch`.
pub fn stem(w: &str) -> &str {
    if !w.bytes().all(|b| b.is_ascii_lowercase()) {
        return w;
    }
    stem_lowercase(w)
}

/// [`stem`] of a word known to be lowercase ASCII letters. (By its last byte: each suffix
/// ends with a different letter, so at most one can be stripped; a test checks this
/// against the rules written out one after the other.)
fn stem_lowercase(w: &str) -> &str {
    let b = w.as_bytes();
    let n = b.len();
    if n < 4 {
        return w;
    }
    let mut m = n;
    if b[n - 1] == b's' {
        if n >= 6 && b.ends_with(b"ies") {
            m = n - 3; // `vulnerabilities` -> `vulnerabilit`, as `vulnerability` below
        } else if b.ends_with(b"sses") {
            m = n - 2;
        } else if !matches!(b[n - 2], b's' | b'u' | b'i') {
            m = n - 1;
        }
    }
    let s = &b[..m];
    let cut = match s.last() {
        Some(b'n') if s.ends_with(b"ation") => 5,
        Some(b'g') if s.ends_with(b"ing") => 3,
        Some(b'd') if s.ends_with(b"ed") => 2,
        Some(b'r') if s.ends_with(b"er") => 2,
        Some(b'e' | b'y') => 1,
        _ => 0,
    };
    // Three letters stay, or the suffix stays.
    let m = if cut > 0 && m - cut >= 3 { m - cut } else { m };
    &w[..m]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_words_read_by_their_class_bits_are_read_as_words_are() {
        // The scan reads a lowercase ASCII word in place with the class bits it gathered;
        // word() gathers them itself: the same tokens.
        let long = "a".repeat(MAX_CHARS + 1);
        let longest = "b".repeat(MAX_CHARS);
        for w in [
            "a",
            "7",
            "it",
            "the",
            "with",
            "patch",
            "patches",
            "exploited",
            "2024",
            "0",
            "t1059",
            "t10590",
            "x86",
            "64bit",
            "v2",
            "tls13",
            "ies",
            "sses",
            &long,
            &longest,
        ] {
            let mut slow = Vec::new();
            word(w, &mut |t, k| slow.push((t.to_string(), k)));
            assert_eq!(tokens(w), slow, "{w}");
        }
        // And words with other characters keep rule 7: two characters at least, no stem.
        for (w, want) in [
            ("é", vec![]),
            ("été", vec![("été".to_string(), Kind::Word)]),
        ] {
            let mut got = Vec::new();
            word(w, &mut |t, k| got.push((t.to_string(), k)));
            assert_eq!(got, want, "{w}");
        }
        let long_accented = "é".repeat(MAX_CHARS + 1);
        let mut got = Vec::new();
        word(&long_accented, &mut |t, k| got.push((t.to_string(), k)));
        assert!(got.is_empty());
        let longest_accented = "é".repeat(MAX_CHARS);
        let mut got = Vec::new();
        word(&longest_accented, &mut |t, k| got.push((t.to_string(), k)));
        assert_eq!(got.len(), 1);
    }

    /// The stemmer's rules written out one after the other, as the docs of [`stem`] say.
    fn stem_by_the_rules(w: &str) -> &str {
        if w.len() < 4 {
            return w;
        }
        let mut s = w;
        if let Some(x) = s.strip_suffix("ies").filter(|x| x.len() >= 3) {
            s = x;
        } else if s.ends_with("sses") {
            s = &s[..s.len() - 2];
        } else if s.ends_with('s') && !s.ends_with("ss") && !s.ends_with("us") && !s.ends_with("is")
        {
            s = &s[..s.len() - 1];
        }
        for suffix in ["ation", "ing", "ed", "er", "e", "y"] {
            if let Some(x) = s.strip_suffix(suffix)
                && x.len() >= 3
            {
                return x;
            }
        }
        s
    }

    #[test]
    fn stemmer_follows_its_rules_for_every_ending() {
        // Every stem of up to five letters before every two endings (and none): each rule,
        // at, below and above its three letters.
        let stems = [
            "", "a", "ab", "abc", "abcd", "abcde", "s", "ss", "u", "i", "e", "at",
        ];
        let ends = [
            "", "s", "es", "ies", "sses", "ss", "us", "is", "ation", "ing", "ed", "er", "e", "y",
            "ys", "ion", "tion", "ng", "d", "r", "n", "g",
        ];
        let mut n = 0;
        for st in stems {
            for a in ends {
                for b in ends {
                    let w = format!("{st}{a}{b}");
                    if w.is_empty() {
                        continue;
                    }
                    assert_eq!(stem(&w), stem_by_the_rules(&w), "{w}");
                    n += 1;
                }
            }
        }
        assert!(n > 5000);
        for w in [
            "exploited",
            "exploits",
            "exploitation",
            "patches",
            "patched",
            "policies",
        ] {
            assert_eq!(stem(w), stem_by_the_rules(w), "{w}");
        }
        assert_eq!(stem("exploitation"), "exploit");
        assert_eq!(stem("vulnerabilities"), "vulnerabilit");
    }

    #[test]
    fn whole_runs_with_capitals_or_end_joiners_read_as_runs_are() {
        // The scan reads a run with capitals, or with joiners only at its ends, where it
        // stands; read_run reads it lowercased from a copy: the same tokens, in every
        // context a run can end in.
        let long = format!("A{}", "b".repeat(MAX_CHARS));
        let longest = format!("A{}", "b".repeat(MAX_CHARS - 1));
        let runs = [
            "The",
            "THE",
            "A",
            "I",
            "Exploited",
            "Patches",
            "OpenSSH",
            "T1059",
            "X86",
            "CVE",
            "exploited.",
            "note:",
            "...",
            "-",
            "--x--",
            ".The.",
            "Exploits:",
            "v2.",
            "2024.",
            "T1059.",
            "@user",
            "/path",
            "a.",
            "ab.",
            "Ab.",
            "it.",
            "It.",
            "_",
            "x_",
            &long,
            &longest,
            "e.g.",
            "U.S.",
            "CVE-2024-3400.",
            "Server-Side",
            "T1059.001.",
        ];
        for r in runs {
            let mut slow = Vec::new();
            read_run(&r.to_ascii_lowercase(), &mut |t, k| {
                slow.push((t.to_string(), k))
            });
            for (before, after) in [("", ""), ("", " x"), ("", ","), ("(", ")"), ("é ", " é")] {
                let text = format!("{before}{r}{after}");
                let mut want = tokens(before);
                want.extend(slow.iter().cloned());
                want.extend(tokens(after));
                assert_eq!(tokens(&text), want, "{text:?}");
            }
        }
    }

    #[test]
    fn ascii_text_reads_as_its_runs_read_one_by_one() {
        // Random ASCII texts (a fixed generator): the scan, with its words read in place,
        // gives what reading each run lowercased gives.
        let alphabet = b"aaaaaaaabcdeeeeefghiiijklmnoooopqrsssttttuvwxyzAEZT0159.-_:/@ ,;()\n";
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..3000 {
            let len = (next() % 60) as usize;
            let text: String = (0..len)
                .map(|_| char::from(alphabet[(next() % alphabet.len() as u64) as usize]))
                .collect();
            let mut want = Vec::new();
            for r in text.split(|c: char| !(c.is_ascii_alphanumeric() || is_joiner(c))) {
                read_run(&r.to_ascii_lowercase(), &mut |t, k| {
                    want.push((t.to_string(), k))
                });
            }
            assert_eq!(tokens(&text), want, "{text:?}");
        }
    }

    #[test]
    fn stop_word_match_is_the_list() {
        for w in STOP_WORDS {
            assert!(is_stop_word(w), "{w}");
        }
        let matched = ["a", "an", "the", "with", "will", "its"]
            .iter()
            .filter(|w| is_stop_word(w))
            .count();
        assert_eq!(matched, 6);
        for w in ["", "th", "thee", "withs", "patch", "A"] {
            assert_eq!(is_stop_word(w), STOP_WORDS.contains(&w), "{w}");
        }
    }

    #[test]
    fn words_read_in_place_give_the_tokens_their_capitalised_forms_give() {
        // Lowercase ASCII words are read where they stand; with a capital they are copied
        // and lowercased first. Both ways give the same tokens.
        let text = "Exploited exploits CVE-2024-3400 cve-2024-3400 T1059.001 t1059 café \
                    ÉCOLE x86_64 ntdll.dll 10.0.0.1 ＣＶＥ ガベージ the THE patch Patch 2024 \
                    éa ab aé v2.4.49. 能動的 x";
        let lower = tokens(text);
        assert_eq!(tokens(&text.to_ascii_uppercase()), lower);
        assert!(lower.contains(&("exploit".into(), Kind::Word)), "{lower:?}");
        assert!(lower.contains(&("t1059".into(), Kind::Exact)), "{lower:?}");
    }

    #[test]
    fn nine_byte_runs_with_a_character_across_byte_five() {
        // Nine bytes with `.` at byte 5, as a sub-technique has, but `é` across bytes 4
        // and 5: read as a run, not an ATT&CK id (this once panicked on the boundary).
        assert_eq!(t("aaaaé.12"), ["aaaaé.12", "aaaaé"]);
        assert_eq!(t("tttté.12"), ["tttté.12", "tttté"]);
        assert!(is_attack_id("t1059.001") && is_attack_id("t1059"));
        assert!(!is_attack_id("aaaaé.12") && !is_attack_id("t1059.01") && !is_attack_id("t105"));
    }

    fn t(text: &str) -> Vec<String> {
        tokens(text).into_iter().map(|(t, _)| t).collect()
    }

    fn kinds(text: &str) -> Vec<(String, &'static str)> {
        tokens(text)
            .into_iter()
            .map(|(t, k)| (t, k.name()))
            .collect()
    }

    #[test]
    fn rule1_fullwidth_and_case() {
        assert_eq!(
            t("ＣＶＥ－２０２４－３４００"),
            ["cve-2024-3400", "2024-3400"]
        );
        assert_eq!(t("OpenSSH"), ["openssh"]);
        assert_eq!(t("ÉCOLE Straße"), ["école", "straße"]);
    }

    #[test]
    fn rule2_cjk_bigrams() {
        assert_eq!(
            t("ガベージコレクション"),
            [
                "ガベ", "ベー", "ージ", "ジコ", "コレ", "レク", "クシ", "ショ", "ョン"
            ]
        );
        assert_eq!(
            t("能動的サイバー防御"),
            [
                "能動", "動的", "的サ", "サイ", "イバ", "バー", "ー防", "防御"
            ]
        );
        // A single character stays, and matches by prefix; CJK punctuation separates.
        assert_eq!(kinds("脆"), [("脆".to_string(), "word")]);
        assert_eq!(t("日本、中国"), ["日本", "中国"]);
        // Scripts switch without spaces.
        assert_eq!(
            t("CVE-2024-3400を悪用"),
            ["cve-2024-3400", "2024-3400", "を悪", "悪用"]
        );
        assert_eq!(
            t("韓国語 보안 취약점"),
            ["韓国", "国語", "보안", "취약", "약점"]
        );
    }

    #[test]
    fn rule3_joiners_at_the_ends_are_dropped() {
        assert_eq!(t("version 2.4.49."), ["version", "2.4.49"]);
        assert_eq!(t("--flag"), ["flag"]);
        assert_eq!(t("... -- //"), Vec::<String>::new());
    }

    #[test]
    fn rule4_cve_ids_are_exact_with_their_number() {
        assert_eq!(
            kinds("(CVE-2024-3400)"),
            [
                ("cve-2024-3400".to_string(), "exact"),
                ("2024-3400".to_string(), "exact")
            ]
        );
        assert_eq!(t("cve-2021-44228's"), ["cve-2021-44228", "2021-44228"]);
        assert_eq!(t("CVE-2024-34003"), ["cve-2024-34003", "2024-34003"]);
        // The number alone is a compound that matches the CVE's second token.
        assert_eq!(t("2024-3400"), ["2024-3400"]);
        assert_eq!(
            t("CVE-2024-3400/CVE-2024-3401"),
            [
                "cve-2024-3400/cve-2024-3401",
                "cve-2024-3400",
                "2024-3400",
                "cve-2024-3401",
                "2024-3401"
            ]
        );
    }

    #[test]
    fn rule5_attack_ids() {
        assert_eq!(
            kinds("T1059.001"),
            [
                ("t1059.001".to_string(), "exact"),
                ("t1059".to_string(), "exact")
            ]
        );
        assert_eq!(kinds("T1190"), [("t1190".to_string(), "exact")]);
        assert_eq!(kinds("TA0001"), [("ta0001".to_string(), "word")]);
    }

    #[test]
    fn rule6_compounds_whole_and_in_parts() {
        assert_eq!(t("ntdll.dll"), ["ntdll.dll", "ntdll", "dll"]);
        assert_eq!(t("192.168.1.1"), ["192.168.1.1"]);
        assert_eq!(t("zero-day"), ["zero-day", "zero", "day"]);
        assert_eq!(t("/etc/passwd"), ["etc/passwd", "etc", "passwd"]);
        assert_eq!(
            t(r"C:\Windows\System32\cmd.exe"),
            [
                r"c:\windows\system32\cmd.exe",
                "window",
                "system32",
                "cmd.exe",
                "cmd",
                "exe"
            ]
        );
        assert_eq!(t("2001:db8::1"), ["2001:db8::1", "2001", "db8", "1"]);
        assert_eq!(
            t("log4j-core-2.14.1.jar"),
            ["log4j-core-2.14.1.jar", "log4j", "cor", "jar"]
        );
        let long = format!("{}.com", "a".repeat(130));
        assert_eq!(t(&long), ["com"]);
    }

    #[test]
    fn rule7_words() {
        assert_eq!(kinds("2024"), [("2024".to_string(), "exact")]);
        assert_eq!(t("a I the of"), Vec::<String>::new());
        let sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(kinds(sha), [(sha.to_string(), "word")]);
        assert_eq!(
            t("exploited exploits exploitation exploiting"),
            ["exploit"; 4]
        );
        assert_eq!(t("patches patched patch"), ["patch"; 3]);
        assert_eq!(
            t("vulnerabilities vulnerability"),
            ["vulnerabilit", "vulnerabilit"]
        );
        assert_eq!(
            t("process processes user users virus"),
            ["process", "process", "user", "user", "virus"]
        );
    }

    #[test]
    fn stems_keep_three_letters() {
        assert_eq!(stem("need"), "need");
        assert_eq!(stem("ransomware"), "ransomwar");
        assert_eq!(stem("attackers"), "attack");
        assert_eq!(stem("naïve"), "naïve");
    }
}
