//! A small HTML writer that escapes every string it is given: markup can
//! only come from `&'static str` (this program's own text), so a string
//! from a capture (a host name, a DNS zone, a file name) always goes
//! through [`escape`].

use std::fmt::Write;

/// `s` with `& < > " '` replaced by entities: safe in text and in quoted
/// attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An attribute: a fixed name and a value that will be escaped.
pub type Attr<'a> = (&'static str, &'a str);

#[derive(Default)]
pub struct Html {
    out: String,
}

impl Html {
    pub fn new() -> Html {
        Html::default()
    }

    /// Markup written by this program.
    pub fn raw(&mut self, markup: &'static str) -> &mut Html {
        self.out.push_str(markup);
        self
    }

    /// Text, escaped.
    pub fn text(&mut self, s: &str) -> &mut Html {
        self.out.push_str(&escape(s));
        self
    }

    fn tag(&mut self, tag: &'static str, attrs: &[Attr<'_>]) {
        self.out.push('<');
        self.out.push_str(tag);
        for (name, value) in attrs {
            let _ = write!(self.out, " {name}=\"{}\"", escape(value));
        }
    }

    pub fn open(&mut self, tag: &'static str, attrs: &[Attr<'_>]) -> &mut Html {
        self.tag(tag, attrs);
        self.out.push('>');
        self
    }

    pub fn close(&mut self, tag: &'static str) -> &mut Html {
        let _ = write!(self.out, "</{tag}>");
        self
    }

    /// An element with no content (`<circle …/>`: SVG's syntax).
    pub fn empty(&mut self, tag: &'static str, attrs: &[Attr<'_>]) -> &mut Html {
        self.tag(tag, attrs);
        self.out.push_str("/>");
        self
    }

    /// An element holding only text.
    pub fn elem(&mut self, tag: &'static str, attrs: &[Attr<'_>], text: &str) -> &mut Html {
        self.open(tag, attrs).text(text).close(tag)
    }

    pub fn append(&mut self, other: Html) -> &mut Html {
        self.out.push_str(&other.out);
        self
    }

    pub fn into_string(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attributes_are_escaped() {
        let mut h = Html::new();
        h.elem(
            "p",
            &[("title", "\"><script>x</script>")],
            "<img src=x onerror='y'>&",
        );
        let s = h.into_string();
        assert_eq!(
            s,
            "<p title=\"&quot;&gt;&lt;script&gt;x&lt;/script&gt;\">\
             &lt;img src=x onerror=&#39;y&#39;&gt;&amp;</p>"
        );
    }
}
