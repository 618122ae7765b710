//! EDN syntax: a small reader of EDN forms into [`Value`]s, tracking line numbers.
//!
//! Mapping: `nil` is `null`; `true`/`false` booleans; integers (`42`, `-3`, `42N`)
//! 64-bit signed (larger ones are an error, not a float); `1.5`, `1e3`, `1.5M` floats;
//! strings with the escapes `\" \\ \n \t \r \b \f \uXXXX`; keywords (`:f`,
//! `:jepsen/x`) and symbols become strings without the colon; characters (`\a`,
//! `\newline`) one-character strings; vectors, lists and sets (`#{}`) lists; maps
//! objects (keyword or string keys by name, other keys by their JSON text); a tagged
//! form (`#inst "…"`, `#jepsen.history.Op{…}`) is its form; `#_ form` is discarded;
//! `;` comments run to the end of the line.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::value::Value;

/// Deepest nesting accepted (deeper input is refused rather than overflowing the stack).
const MAX_DEPTH: usize = 200;

/// Reads EDN forms from a text, one after another.
pub(crate) struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    /// The 1-based line the parser is on (where the last error happened, after one).
    pub line: usize,
    depth: usize,
    /// Keywords seen so far, shared (`:type`, `:invoke`, … recur on every line).
    keywords: FxHashMap<&'a str, Arc<str>>,
}

impl<'a> Parser<'a> {
    /// A parser at the start of `text`, on line `line`.
    pub fn new(text: &'a str, line: usize) -> Parser<'a> {
        Parser {
            s: text.as_bytes(),
            pos: 0,
            line,
            depth: 0,
            keywords: FxHashMap::default(),
        }
    }

    /// The next byte, after whitespace, commas, comments and discarded forms.
    pub fn peek_form(&mut self) -> Result<Option<u8>, String> {
        loop {
            self.skip_ws();
            if self.peek() == Some(b'#') && self.s.get(self.pos + 1) == Some(&b'_') {
                self.pos += 2;
                self.form()?;
                continue;
            }
            return Ok(self.peek());
        }
    }

    /// Consumes one byte (after [`Parser::peek_form`] showed it).
    pub fn bump(&mut self) {
        self.pos += 1;
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                b'\n' => {
                    self.line += 1;
                    self.pos += 1;
                }
                b' ' | b'\t' | b'\r' | b',' | 0x0c => self.pos += 1,
                b';' => {
                    while self.peek().is_some_and(|c| c != b'\n') {
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
    }

    /// Reads the next form.
    pub fn form(&mut self) -> Result<Value, String> {
        let Some(c) = self.peek_form()? else {
            return Err("unexpected end of input; expected a value".into());
        };
        if self.depth >= MAX_DEPTH {
            return Err(format!(
                "forms nested deeper than {MAX_DEPTH} levels; expected a flatter value"
            ));
        }
        self.depth += 1;
        let v = self.form_at(c);
        self.depth -= 1;
        v
    }

    fn form_at(&mut self, c: u8) -> Result<Value, String> {
        match c {
            b'{' => {
                self.pos += 1;
                self.map()
            }
            b'[' => {
                self.pos += 1;
                self.items(b']').map(Value::List)
            }
            b'(' => {
                self.pos += 1;
                self.items(b')').map(Value::List)
            }
            b'#' => {
                self.pos += 1;
                match self.peek() {
                    Some(b'{') => {
                        self.pos += 1;
                        self.items(b'}').map(Value::List)
                    }
                    Some(c) if c.is_ascii_alphabetic() => {
                        // A tagged form: `#tag form`; records are their map.
                        self.token();
                        self.form()
                    }
                    _ => Err("`#` is not followed by `{`, `_` or a tag; expected a set `#{…}` or a tagged form such as `#inst \"…\"`".into()),
                }
            }
            b'"' => self.string(),
            b':' => {
                self.pos += 1;
                let t = self.token();
                if t.is_empty() {
                    return Err(
                        "a `:` with no keyword name; expected a keyword such as :read".into(),
                    );
                }
                let k = self.keywords.entry(t).or_insert_with(|| Arc::from(t));
                Ok(Value::Str(Arc::clone(k)))
            }
            b'\\' => {
                self.pos += 1;
                self.character()
            }
            b']' | b'}' | b')' => Err(format!("unexpected `{}`; expected a value", c as char)),
            _ => {
                let t = self.token();
                match t {
                    "nil" => Ok(Value::Null),
                    "true" => Ok(Value::Bool(true)),
                    "false" => Ok(Value::Bool(false)),
                    _ if starts_number(t) => number(t),
                    _ => Ok(Value::str(t)),
                }
            }
        }
    }

    fn map(&mut self) -> Result<Value, String> {
        let items = self.items(b'}')?;
        if items.len() % 2 != 0 {
            return Err("a map has an odd number of forms; expected key value pairs".into());
        }
        let mut fields = Vec::with_capacity(items.len() / 2);
        let mut it = items.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            let k = match k {
                Value::Str(s) => s,
                other => Arc::from(other.to_string().as_str()),
            };
            fields.push((k, v));
        }
        Ok(Value::Map(fields))
    }

    fn items(&mut self, close: u8) -> Result<Vec<Value>, String> {
        let mut items = Vec::new();
        loop {
            match self.peek_form()? {
                None => {
                    return Err(format!(
                        "unexpected end of input; expected `{}`",
                        close as char
                    ))
                }
                Some(c) if c == close => {
                    self.pos += 1;
                    return Ok(items);
                }
                Some(c @ (b']' | b'}' | b')')) => {
                    return Err(format!(
                        "unexpected `{}`; expected `{}`",
                        c as char, close as char
                    ))
                }
                _ => items.push(self.form()?),
            }
        }
    }

    fn token(&mut self) -> &'a str {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_ascii_whitespace() || b",()[]{}\";".contains(&c) {
                break;
            }
            self.pos += 1;
        }
        // Tokens end at ASCII bytes, so they are whole UTF-8 sequences of valid text.
        std::str::from_utf8(&self.s[start..self.pos]).unwrap_or("")
    }

    fn character(&mut self) -> Result<Value, String> {
        let t = self.token();
        let c = match t {
            "newline" => '\n',
            "space" => ' ',
            "tab" => '\t',
            "return" => '\r',
            "backspace" => '\u{8}',
            "formfeed" => '\u{c}',
            _ if t.chars().count() == 1 => t.chars().next().unwrap_or(' '),
            _ if t.len() == 5 && t.starts_with('u') => hex_char(&t[1..])?,
            _ => {
                return Err(format!(
                    "`\\{t}` is not a character; expected e.g. \\a, \\newline or \\u0041"
                ))
            }
        };
        Ok(Value::str(c.encode_utf8(&mut [0; 4])))
    }

    fn string(&mut self) -> Result<Value, String> {
        self.pos += 1;
        let start_line = self.line;
        let mut out = String::new();
        loop {
            // Copy the run of plain bytes at once.
            let run = self.pos;
            while self
                .peek()
                .is_some_and(|c| c != b'"' && c != b'\\' && c != b'\n')
            {
                self.pos += 1;
            }
            out.push_str(std::str::from_utf8(&self.s[run..self.pos]).unwrap_or(""));
            let Some(c) = self.peek() else {
                return Err(format!(
                    "the string opened on line {start_line} is not closed; expected `\"`"
                ));
            };
            self.pos += 1;
            match c {
                b'"' => return Ok(Value::str(&out)),
                b'\n' => {
                    self.line += 1;
                    out.push('\n');
                }
                _ => {
                    let e = self.peek().ok_or("a string ends in `\\`; expected `\"`")?;
                    self.pos += 1;
                    out.push(match e {
                        b'n' => '\n',
                        b't' => '\t',
                        b'r' => '\r',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'"' => '"',
                        b'\\' => '\\',
                        b'u' => {
                            let hex = self
                                .s
                                .get(self.pos..self.pos + 4)
                                .and_then(|h| std::str::from_utf8(h).ok())
                                .ok_or("`\\u` needs four hex digits")?;
                            self.pos += 4;
                            hex_char(hex)?
                        }
                        other => {
                            return Err(format!(
                                "unknown escape `\\{}` in a string; expected one of \\\" \\\\ \\n \\t \\r \\b \\f \\uXXXX",
                                other as char
                            ))
                        }
                    });
                }
            }
        }
    }
}

/// The character of four hex digits.
fn hex_char(hex: &str) -> Result<char, String> {
    u32::from_str_radix(hex, 16)
        .ok()
        .filter(|_| hex.len() == 4)
        .and_then(char::from_u32)
        .ok_or_else(|| format!("`\\u{hex}` is not a character; expected four hex digits"))
}

/// Whether a token is meant as a number: a digit, or a sign then a digit.
fn starts_number(t: &str) -> bool {
    let b = t.as_bytes();
    match b.first() {
        Some(c) if c.is_ascii_digit() => true,
        Some(b'+' | b'-') => b.get(1).is_some_and(u8::is_ascii_digit),
        _ => false,
    }
}

/// An EDN number: `42`, `-3`, `42N`, `1.5`, `1e3`, `1.5M`.
fn number(t: &str) -> Result<Value, String> {
    let is_float = t.contains(['.', 'e', 'E']) || t.ends_with('M');
    if !is_float {
        let digits = t.strip_suffix('N').unwrap_or(t);
        return match digits.parse::<i64>() {
            Ok(i) => Ok(Value::Int(i)),
            Err(_) if digits.bytes().skip(1).all(|c| c.is_ascii_digit()) => Err(format!(
                "integer {t} is too large; faultline takes integers that fit in 64-bit signed"
            )),
            Err(_) => Err(format!(
                "`{t}` is not a number; expected an integer such as 42 or a decimal such as 1.5"
            )),
        };
    }
    t.strip_suffix('M')
        .unwrap_or(t)
        .parse::<f64>()
        .map(Value::Float)
        .map_err(|_| {
            format!(
                "`{t}` is not a number; expected an integer such as 42 or a decimal such as 1.5"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Result<Value, String> {
        Parser::new(text, 1).form()
    }

    #[test]
    fn scalars_read_as_json_values() {
        assert_eq!(one("nil").unwrap(), Value::Null);
        assert_eq!(one("true").unwrap(), Value::Bool(true));
        assert_eq!(one("-42").unwrap(), Value::Int(-42));
        assert_eq!(one("42N").unwrap(), Value::Int(42));
        assert_eq!(one("1.5").unwrap(), Value::Float(1.5));
        assert_eq!(one(":timed-out").unwrap(), Value::str("timed-out"));
        assert_eq!(one("\\a").unwrap(), Value::str("a"));
        assert_eq!(one("\\newline").unwrap(), Value::str("\n"));
    }

    #[test]
    fn strings_unescape_and_unicode_escapes_are_decoded() {
        assert_eq!(
            one(r#""a\"b\\c\n\u00e9""#).unwrap(),
            Value::str("a\"b\\c\né")
        );
        let e = one(r#""a\qb""#).unwrap_err();
        assert!(e.contains("unknown escape `\\q`"), "{e}");
    }

    #[test]
    fn collections_sets_tags_and_discards_read() {
        let v = one("{:a [1 (2 3)] :b #{:x} :c #inst \"2024\" :d #_ 9 nil}").unwrap();
        assert_eq!(
            v.to_string(),
            r#"{"a":[1,[2,3]],"b":["x"],"c":"2024","d":null}"#
        );
        assert_eq!(one("[1 #_2]").unwrap().to_string(), "[1]");
    }

    #[test]
    fn an_integer_too_large_is_an_error_not_a_float() {
        let e = one("99999999999999999999").unwrap_err();
        assert!(e.contains("too large"), "{e}");
        assert!(one("12abc").unwrap_err().contains("not a number"));
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing() {
        let text = "[".repeat(100_000);
        assert!(one(&text).unwrap_err().contains("nested deeper"));
    }

    #[test]
    fn mismatched_brackets_are_named() {
        let e = one("[1 2}").unwrap_err();
        assert!(e.contains("unexpected `}`; expected `]`"), "{e}");
        assert!(one("#").unwrap_err().contains("`#` is not followed"));
    }

    #[test]
    fn the_parser_counts_lines_through_strings_and_comments() {
        let mut p = Parser::new("; c\n\"a\nb\"\n  oops}", 1);
        assert_eq!(p.form().unwrap(), Value::str("a\nb"));
        assert_eq!(p.form().unwrap(), Value::str("oops")); // a symbol
        assert!(p.form().is_err());
        assert_eq!(p.line, 4);
    }
}
