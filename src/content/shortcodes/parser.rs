//! Zola's shortcode syntax, found in Markdown source with the byte offset of each call.
//!
//! - inline: `{{ name(key="value", n=3, on=true, list=["a", 1]) }}`
//! - with a body: `{% name(args) %}Markdown{% end %}` (bodies may hold other shortcodes)
//! - shown as written: `{{/* name() */}}` and `{%/* name() */%}` give `{{ name() }}` and
//!   `{% name() %}`.
//!
//! Only `{{`/`{%` followed by a name and `(` is a call: `{{ site.title }}` or Hugo's
//! `{{< x >}}` are left as text (`sitrep check` reports those). Offsets inside `skip` ranges
//! (code blocks and inline code) are never calls.

use std::ops::Range;

/// An argument value.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgValue {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Array(Vec<ArgValue>),
}

impl ArgValue {
    /// The value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            ArgValue::Str(_) => "a string",
            ArgValue::Int(_) => "an integer",
            ArgValue::Float(_) => "a number",
            ArgValue::Bool(_) => "a boolean",
            ArgValue::Array(_) => "an array",
        }
    }

    pub fn to_tera(&self) -> tera::Value {
        match self {
            ArgValue::Str(s) => tera::Value::from(s.as_str()),
            ArgValue::Int(i) => tera::Value::from(*i),
            ArgValue::Float(f) => tera::Value::from(*f),
            ArgValue::Bool(b) => tera::Value::from(*b),
            ArgValue::Array(a) => {
                tera::Value::from(a.iter().map(ArgValue::to_tera).collect::<Vec<_>>())
            }
        }
    }
}

/// A named argument and the offset of its name.
#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    pub name: String,
    pub value: ArgValue,
    pub offset: usize,
}

/// A call's name and arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub name: String,
    pub args: Vec<Arg>,
    /// Offset of the `{{` or `{%`.
    pub offset: usize,
}

/// What the scan finds, in source order, each with its byte range.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `{{ name(...) }}`.
    Inline(Call, Range<usize>),
    /// `{% name(...) %}`: a body follows, up to its [`Item::End`].
    Open(Call, Range<usize>),
    /// `{% end %}`.
    End(Range<usize>),
    /// `{{/* … */}}`: the text to show instead.
    Escaped(String, Range<usize>),
}

/// A syntax error at a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub message: String,
    pub help: String,
}

fn err(offset: usize, message: impl Into<String>, help: impl Into<String>) -> ParseError {
    ParseError {
        offset,
        message: message.into(),
        help: help.into(),
    }
}

/// Whether `src` may hold a shortcode at all (a fast test for the common case).
pub fn may_have_calls(src: &str) -> bool {
    static OPEN: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new("{{"));
    static OPEN_BODY: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new("{%"));
    OPEN.find(src.as_bytes()).is_some() || OPEN_BODY.find(src.as_bytes()).is_some()
}

/// Finds every call in `src`, checking that bodies are closed. `skip` are sorted,
/// non-overlapping ranges (code) where nothing is a call.
pub fn scan(src: &str, skip: &[Range<usize>]) -> Result<Vec<Item>, ParseError> {
    let bytes = src.as_bytes();
    let mut items = Vec::new();
    let mut open: Vec<(usize, String)> = Vec::new();
    let mut i = 0;
    let mut skip_at = 0;
    while let Some(found) = memchr::memchr(b'{', &bytes[i..]) {
        let at = i + found;
        if let Some(end) = skipped(skip, &mut skip_at, at) {
            i = end;
            continue;
        }
        let Some(&kind) = bytes.get(at + 1).filter(|b| **b == b'{' || **b == b'%') else {
            i = at + 1;
            continue;
        };
        let body = kind == b'%';
        let close = if body { "%}" } else { "}}" };
        let mut p = Parser { src, pos: at + 2 };
        p.ws();
        if p.eat("/*") {
            items.push(escaped(&mut p, at, close)?);
            i = p.pos;
            continue;
        }
        let Some(name) = p.ident() else {
            i = at + 2;
            continue;
        };
        if body && name == "end" {
            p.ws();
            if p.eat("%}") {
                if open.pop().is_none() {
                    return Err(err(
                        at,
                        "`{% end %}` closes no shortcode",
                        "remove it, or open a body shortcode before it: {% callout(kind=\"note\") %}",
                    ));
                }
                items.push(Item::End(at..p.pos));
                i = p.pos;
                continue;
            }
            i = at + 2;
            continue;
        }
        p.ws();
        if !p.eat("(") {
            i = at + 2;
            continue;
        }
        let args = p.args()?;
        close_call(&mut p, at, body, name)?;
        let call = Call {
            name: name.to_string(),
            args,
            offset: at,
        };
        if body {
            open.push((at, name.to_string()));
            items.push(Item::Open(call, at..p.pos));
        } else {
            items.push(Item::Inline(call, at..p.pos));
        }
        i = p.pos;
    }
    if let Some((at, name)) = open.pop() {
        return Err(err(
            at,
            format!("the body of `{name}` is never closed"),
            "end the body with {% end %} on its own line",
        ));
    }
    Ok(items)
}

/// Where the skipped range holding `at` ends, if one does; `skip_at` moves past the ranges
/// before `at`.
fn skipped(skip: &[Range<usize>], skip_at: &mut usize, at: usize) -> Option<usize> {
    while *skip_at < skip.len() && skip[*skip_at].end <= at {
        *skip_at += 1;
    }
    skip.get(*skip_at).filter(|r| r.start <= at).map(|r| r.end)
}

/// A shortcode shown as text, `{{/* name() */}}`, opened at `at`; `p` is just after `/*`
/// and ends after the closing `}}` or `%}`.
fn escaped(p: &mut Parser, at: usize, close: &str) -> Result<Item, ParseError> {
    let src = p.src;
    let Some(end) = src[p.pos..].find("*/") else {
        return Err(err(
            at,
            format!("`{}/*` is never closed with `*/{close}`", &src[at..at + 2]),
            format!(
                "write `{}/* name() */{close}` to show a shortcode as text",
                &src[at..at + 2]
            ),
        ));
    };
    let inner = &src[p.pos..p.pos + end];
    p.pos += end + 2;
    p.ws();
    if !p.eat(close) {
        return Err(err(
            p.pos,
            format!("expected `{close}` after `*/`"),
            "close the shown shortcode with `*/` and `}}` (or `%}`)",
        ));
    }
    Ok(Item::Escaped(
        format!("{}{inner}{close}", &src[at..at + 2]),
        at..p.pos,
    ))
}

/// Eats the `}}` (or `%}` for a call with a body) after the arguments of the call `name`
/// opened at `at`.
fn close_call(p: &mut Parser, at: usize, body: bool, name: &str) -> Result<(), ParseError> {
    let src = p.src;
    let close = if body { "%}" } else { "}}" };
    p.ws();
    if !p.eat(close) {
        let other = if body { "}}" } else { "%}" };
        let help = if src[p.pos..].starts_with(other) {
            format!(
                "a call opened with `{}` closes with `{close}`",
                &src[at..at + 2]
            )
        } else {
            format!("close the call with `{close}`")
        };
        return Err(err(
            p.pos,
            format!("expected `{close}` after the arguments of `{name}`"),
            help,
        ));
    }
    Ok(())
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn ws(&mut self) {
        let r = self.rest();
        self.pos += r.len() - r.trim_start().len();
    }

    fn eat(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    fn ident(&mut self) -> Option<&'a str> {
        let r = self.rest();
        let b = r.as_bytes();
        if !b
            .first()
            .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
        {
            return None;
        }
        let n = b
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
            .count();
        self.pos += n;
        Some(&r[..n])
    }

    fn args(&mut self) -> Result<Vec<Arg>, ParseError> {
        let mut args: Vec<Arg> = Vec::new();
        loop {
            self.ws();
            if self.eat(")") {
                return Ok(args);
            }
            let at = self.pos;
            let Some(name) = self.ident() else {
                return Err(err(
                    at,
                    "expected an argument name or `)`",
                    "arguments are named: name(key=\"value\", other=3)",
                ));
            };
            if args.iter().any(|a| a.name == name) {
                return Err(err(
                    at,
                    format!("the argument `{name}` is given twice"),
                    "give each argument once",
                ));
            }
            self.ws();
            if !self.eat("=") {
                return Err(err(
                    self.pos,
                    format!("expected `=` after the argument name `{name}`"),
                    "arguments are named: name(key=\"value\", other=3)",
                ));
            }
            self.ws();
            let value = self.value(0)?;
            args.push(Arg {
                name: name.to_string(),
                value,
                offset: at,
            });
            self.ws();
            if self.eat(",") {
                continue;
            }
            if self.eat(")") {
                return Ok(args);
            }
            return Err(err(
                self.pos,
                "expected `,` or `)` after an argument",
                "separate arguments with commas: name(a=1, b=\"x\")",
            ));
        }
    }

    fn value(&mut self, depth: usize) -> Result<ArgValue, ParseError> {
        let at = self.pos;
        let r = self.rest();
        let Some(first) = r.chars().next() else {
            return Err(err(
                at,
                "the call ends in the middle of an argument",
                "close the call",
            ));
        };
        match first {
            '"' | '\'' | '`' => {
                let mut out = String::new();
                let mut chars = r.char_indices().skip(1);
                while let Some((k, c)) = chars.next() {
                    if c == first {
                        self.pos += k + 1;
                        return Ok(ArgValue::Str(out));
                    }
                    if c == '\\'
                        && let Some((_, n)) = chars.clone().next()
                        && (n == first || n == '\\')
                    {
                        chars.next();
                        out.push(n);
                        continue;
                    }
                    out.push(c);
                }
                Err(err(
                    at,
                    "a string argument is never closed",
                    format!("end the string with {first}"),
                ))
            }
            '[' => {
                if depth > 8 {
                    return Err(err(
                        at,
                        "arrays nest too deep",
                        "nest arrays at most 8 deep",
                    ));
                }
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.ws();
                    if self.eat("]") {
                        return Ok(ArgValue::Array(items));
                    }
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    if self.eat(",") {
                        continue;
                    }
                    if self.eat("]") {
                        return Ok(ArgValue::Array(items));
                    }
                    return Err(err(
                        self.pos,
                        "expected `,` or `]` in an array",
                        "write arrays as [\"a\", \"b\"]",
                    ));
                }
            }
            _ => {
                let n = r
                    .find(|c: char| {
                        !(c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '+' || c == '_')
                    })
                    .unwrap_or(r.len());
                let word = &r[..n];
                let v = match word {
                    "true" => Some(ArgValue::Bool(true)),
                    "false" => Some(ArgValue::Bool(false)),
                    _ if word.contains('.') => word
                        .parse::<f64>()
                        .ok()
                        .filter(|f| f.is_finite())
                        .map(ArgValue::Float),
                    _ => word.parse::<i64>().ok().map(ArgValue::Int),
                };
                match v {
                    Some(v) if n > 0 => {
                        self.pos += n;
                        Ok(v)
                    }
                    _ => Err(err(
                        at,
                        format!(
                            "`{}` is not a value",
                            if word.is_empty() {
                                &r[..first.len_utf8()]
                            } else {
                                word
                            }
                        ),
                        "values are strings in quotes, numbers, true or false, or arrays: key=\"text\", n=3, on=true, list=[\"a\", \"b\"]",
                    )),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(src: &str) -> Item {
        let items = scan(src, &[]).unwrap();
        assert_eq!(items.len(), 1, "{items:?}");
        items.into_iter().next().unwrap()
    }

    #[test]
    fn inline_call_with_every_kind_of_value() {
        let src = r#"a {{ x(s="q\"s", t='it\'s', n=-3, f=1.5, b=true, l=["a", 2, [false]],) }} b"#;
        let Item::Inline(call, range) = one(src) else {
            panic!()
        };
        assert_eq!(call.name, "x");
        assert_eq!(&src[range], &src[2..src.len() - 2]);
        let vals: Vec<&ArgValue> = call.args.iter().map(|a| &a.value).collect();
        assert_eq!(vals[0], &ArgValue::Str("q\"s".into()));
        assert_eq!(vals[1], &ArgValue::Str("it's".into()));
        assert_eq!(call.args[2].name, "n");
        assert_eq!(vals[2], &ArgValue::Int(-3));
        assert_eq!(vals[3], &ArgValue::Float(1.5));
        assert_eq!(vals[4], &ArgValue::Bool(true));
        assert_eq!(
            vals[5],
            &ArgValue::Array(vec![
                ArgValue::Str("a".into()),
                ArgValue::Int(2),
                ArgValue::Array(vec![ArgValue::Bool(false)])
            ])
        );
        assert_eq!(call.args[0].offset, 7);
    }

    #[test]
    fn bodies_nest_and_end() {
        let src = "{% a() %}\nx {% b(k=1) %}y{% end %}\n{% end %}";
        let items = scan(src, &[]).unwrap();
        let kinds: Vec<&str> = items
            .iter()
            .map(|i| match i {
                Item::Open(c, _) => {
                    if c.name == "a" {
                        "open a"
                    } else {
                        "open b"
                    }
                }
                Item::End(_) => "end",
                _ => "other",
            })
            .collect();
        assert_eq!(kinds, ["open a", "open b", "end", "end"]);
    }

    #[test]
    fn not_calls_are_left_alone() {
        for src in [
            "{{ site.title }}",
            "{{< youtube abc >}}",
            "{{% notice %}}",
            "{% highlight ruby %}",
            "{% include foo.html %}",
            "a { b } {{",
            "{{ x }}",
            "{%end",
        ] {
            assert_eq!(scan(src, &[]).unwrap(), vec![], "{src}");
        }
    }

    #[test]
    fn code_ranges_are_skipped() {
        let src = "`{{ x() }}` {{ y() }}";
        let code = [Range { start: 0, end: 11 }];
        let items = scan(src, &code).unwrap();
        assert_eq!(items.len(), 1);
        assert!(matches!(&items[0], Item::Inline(c, _) if c.name == "y"));
    }

    #[test]
    fn escaped_calls_show_as_written() {
        let Item::Escaped(text, _) = one("{{/* youtube(id=\"x\") */}}") else {
            panic!()
        };
        assert_eq!(text, "{{ youtube(id=\"x\") }}");
        let Item::Escaped(text, _) = one("{%/* callout() */%}") else {
            panic!()
        };
        assert_eq!(text, "{% callout() %}");
    }

    #[test]
    fn syntax_errors_have_offsets() {
        for (src, at, msg) in [
            ("ab {{ x(a=\"open) }}", 10, "never closed"),
            ("{{ x(a=1 b=2) }}", 9, "expected `,` or `)`"),
            ("{{ x(a) }}", 6, "expected `=`"),
            ("{{ x(a=nope) }}", 7, "`nope` is not a value"),
            ("{{ x(a=1, a=2) }}", 10, "given twice"),
            ("{{ x() %}", 7, "expected `}}`"),
            ("text {% x() %} body", 5, "never closed"),
            ("{% end %}", 0, "closes no shortcode"),
            ("{{ x(1) }}", 5, "argument name"),
        ] {
            let e = scan(src, &[]).unwrap_err();
            assert_eq!(e.offset, at, "{src}: {e:?}");
            assert!(e.message.contains(msg), "{src}: {e:?}");
        }
    }

    #[test]
    fn fast_check() {
        assert!(!may_have_calls("plain text { with braces } and %"));
        assert!(may_have_calls("x {{ y() }}"));
        assert!(may_have_calls("{% y() %}"));
    }
}
