//! Leftover Hugo and Liquid (Jekyll) syntax in Markdown bodies, for `sitrep check`: sitrep
//! shows it as literal text, so a site moved from Hugo or Jekyll gets each one named with
//! its line and the sitrep way to write it.
//!
//! Hugo: `{{< name … >}}`, `{{% name … %}}` and their closing `{{< /name >}}`. Liquid:
//! `{% tag … %}` whose tag is not a sitrep call (`{% highlight %}`, `{% include %}`,
//! `{% raw %}`, `{% post_url %}` …) and `{{ site.… }}`, `{{ page.… }}`, `{{ include.… }}`.
//! Code blocks and inline code are skipped, as for shortcodes.

/// One leftover: its byte offset in the body, the text found (shortened) and what to write
/// in sitrep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    pub offset: usize,
    pub found: String,
    pub equivalent: String,
}

/// Every leftover in `body`, in order.
pub fn leftovers(body: &str) -> Vec<Leftover> {
    if !super::parser::may_have_calls(body) {
        return Vec::new();
    }
    let code = super::code_ranges(body);
    let mut out = Vec::new();
    let bytes = body.as_bytes();
    let mut i = 0;
    let mut skip = 0;
    while let Some(f) = memchr::memchr(b'{', &bytes[i..]) {
        let at = i + f;
        i = at + 1;
        while skip < code.len() && code[skip].end <= at {
            skip += 1;
        }
        if code.get(skip).is_some_and(|r| r.start <= at) {
            i = code[skip].end;
            continue;
        }
        let rest = &body[at..];
        let (close, kind) = if rest.starts_with("{{<") {
            (">}}", Syntax::HugoShortcode)
        } else if rest.starts_with("{{%") {
            ("%}}", Syntax::HugoMarkdown)
        } else if rest.starts_with("{%") {
            ("%}", Syntax::LiquidTag)
        } else if rest.starts_with("{{") {
            ("}}", Syntax::LiquidOutput)
        } else {
            continue;
        };
        let Some(len) = rest.find(close).map(|e| e + close.len()) else {
            continue;
        };
        let text = &rest[..len];
        if text.contains('\n') && text.lines().count() > 3 {
            continue;
        }
        let inner = text[2..text.len() - 2].trim_matches(|c: char| {
            c == '<' || c == '>' || c == '%' || c == '-' || c.is_whitespace()
        });
        let name = inner
            .split(|c: char| c.is_whitespace() || c == '(' || c == '.')
            .next()
            .unwrap_or("");
        let equivalent = match kind {
            Syntax::HugoShortcode | Syntax::HugoMarkdown => hugo(inner, name),
            Syntax::LiquidTag => {
                // `{% name(…) %}` and `{% end %}` are sitrep's own.
                if name == "end"
                    || inner[name.len()..].trim_start().starts_with('(')
                    || inner.starts_with("/*")
                {
                    continue;
                }
                liquid_tag(inner, name)
            }
            Syntax::LiquidOutput => {
                if !["site", "page", "include", "layout", "content", "paginator"].contains(&name)
                    || inner[name.len()..].trim_start().starts_with('(')
                {
                    continue;
                }
                format!(
                    "Liquid variables are not expanded in posts: write the value itself (templates/ can use `{{{{ {} }}}}` in Tera)",
                    inner
                )
            }
        };
        let found: String = text.chars().take(80).collect();
        out.push(Leftover {
            offset: at,
            found,
            equivalent,
        });
        i = at + len;
    }
    out
}

/// `sitrep check`'s report: every leftover of every page's source file (`root`-relative
/// `files`), each a problem with its file, line and column and the sitrep equivalent.
pub fn problems<'a>(
    root: &std::path::Path,
    files: impl Iterator<Item = &'a std::path::Path>,
) -> Vec<crate::error::Diagnostic> {
    let mut out = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(root.join(file)) else {
            continue;
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let Ok(parsed) = crate::content::frontmatter::parse(file, text) else {
            continue;
        };
        for l in leftovers(parsed.body) {
            let (line, col) = crate::error::line_col(parsed.body, l.offset);
            out.push(
                crate::error::Diagnostic::error(
                    file,
                    format!("leftover Hugo or Liquid syntax, shown as text: {}", l.found),
                )
                .at(parsed.body_line + line - 1, col)
                .with_help(format!("in sitrep: {}", l.equivalent)),
            );
        }
    }
    out
}

#[derive(Clone, Copy)]
enum Syntax {
    HugoShortcode,
    HugoMarkdown,
    LiquidTag,
    LiquidOutput,
}

/// The first quoted or positional argument, or `key=value`'s value.
fn arg(inner: &str, key: &str) -> Option<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote = None;
    for c in inner.chars() {
        match (quote, c) {
            (None, '"' | '\'' | '`') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    let named = words
        .iter()
        .find_map(|w| w.strip_prefix(&format!("{key}=")).map(str::to_string));
    named.or_else(|| words.get(1).filter(|w| !w.contains('=')).cloned())
}

fn hugo(inner: &str, name: &str) -> String {
    if let Some(closing) = name.strip_prefix('/') {
        return format!("close a body shortcode with {{% end %}} (this closes Hugo's `{closing}`)");
    }
    let id = arg(inner, "id").unwrap_or_else(|| "...".into());
    match name {
        "figure" => format!(
            "{{{{ figure(src=\"{}\", alt=\"...\", caption=\"...\") }}}}",
            arg(inner, "src").unwrap_or_else(|| "...".into())
        ),
        "youtube" => format!("{{{{ youtube(id=\"{id}\") }}}}"),
        "vimeo" => format!("{{{{ vimeo(id=\"{id}\") }}}}"),
        "tweet" | "twitter" | "x" => format!(
            "{{{{ x(user=\"{}\", id=\"{id}\") }}}}",
            arg(inner, "user").unwrap_or_else(|| "...".into())
        ),
        "gist" => "{{ gist(user=\"...\", id=\"...\") }}".into(),
        "details" => "{% details(summary=\"...\") %} … {% end %}".into(),
        "highlight" => "a fenced code block: ```lang … ```".into(),
        "ref" | "relref" => "a Markdown link to the page's path, such as [text](/posts/slug/)".into(),
        "notice" | "note" | "hint" | "alert" | "admonition" | "callout" | "warning" | "tip" => {
            "a callout: > [!NOTE] (or [!TIP], [!WARNING] …), or {% callout(kind=\"note\") %} … {% end %}".into()
        }
        "param" => "front matter `extra:` values are for templates; write the value in the text".into(),
        _ => format!(
            "a sitrep shortcode: templates/shortcodes/{name}.html called as {{{{ {name}(key=\"value\") }}}} (docs/shortcodes.md)"
        ),
    }
}

fn liquid_tag(inner: &str, name: &str) -> String {
    match name {
        "highlight" => format!(
            "a fenced code block: ```{} … ``` (and remove {{% endhighlight %}})",
            inner.split_whitespace().nth(1).unwrap_or("")
        ),
        "endhighlight" => "the closing ``` of a fenced code block".into(),
        "include" | "include_relative" => {
            "a shortcode: put the HTML in templates/shortcodes/NAME.html and call {{ NAME() }} (docs/shortcodes.md)".into()
        }
        "raw" | "endraw" => "nothing: sitrep leaves {{ … }} that is not a call as text; to show a call, write {{/* name() */}}".into(),
        "post_url" | "link" => format!(
            "a Markdown link to the post's path: [text](/posts/{}/)",
            inner
                .split_whitespace()
                .nth(1)
                .map(|p| p.trim_start_matches("_posts/").trim_end_matches(".md"))
                .unwrap_or("slug")
        ),
        "youtube" => "{{ youtube(id=\"...\") }}".into(),
        "comment" | "endcomment" => "an HTML comment: <!-- … -->".into(),
        "if" | "endif" | "for" | "endfor" | "unless" | "endunless" | "assign" | "capture" | "endcapture" | "else" | "elsif" => {
            "logic belongs in templates (Tera, docs/templates.md), not in posts".into()
        }
        _ => format!(
            "a sitrep shortcode: templates/shortcodes/{name}.html called as {{% {name}() %}} … {{% end %}} or {{{{ {name}() }}}} (docs/shortcodes.md)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hugo_and_liquid_leftovers_with_equivalents() {
        let body = concat!(
            "{{< youtube id=\"abc123def45\" >}}\n",
            "{{< figure src=\"/a.png\" title=\"x\" >}}\n",
            "{{% notice warning %}}\nx\n{{% /notice %}}\n",
            "{% highlight ruby %}\nputs 1\n{% endhighlight %}\n",
            "{% include chart.html %}\n",
            "Title: {{ site.title }} and {{ page.date }}\n",
            "{% post_url 2019-01-01-old %}\n",
            "`{{< youtube x >}}` stays: code.\n",
            "{{ youtube(id=\"abc123def45\") }} {% callout() %}x{% end %} {{ other }}\n",
        );
        let found = leftovers(body);
        let eq: Vec<&str> = found.iter().map(|l| l.equivalent.as_str()).collect();
        assert_eq!(found.len(), 10, "{found:#?}");
        assert_eq!(eq[0], "{{ youtube(id=\"abc123def45\") }}");
        assert!(eq[1].starts_with("{{ figure(src=\"/a.png\""), "{}", eq[1]);
        assert!(eq[2].contains("[!NOTE]"));
        assert!(eq[3].contains("{% end %}"));
        assert!(eq[4].contains("```ruby"));
        assert!(eq[5].contains("closing ```"));
        assert!(eq[6].contains("templates/shortcodes/"));
        assert!(eq[7].contains("site.title"));
        assert!(eq[8].contains("page.date"));
        assert!(eq[9].contains("/posts/2019-01-01-old/"));
        assert_eq!(found[0].offset, 0);
        assert_eq!(found[0].found, "{{< youtube id=\"abc123def45\" >}}");
    }

    #[test]
    fn nothing_in_plain_text() {
        assert!(leftovers("just { text } with braces").is_empty());
        assert!(leftovers("```\n{{< x >}}\n```\n").is_empty());
    }
}
