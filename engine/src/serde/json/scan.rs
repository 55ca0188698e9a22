//! A minimal JSON scanner over bytes: finds the extent of values without
//! building them, and unescapes strings. The JSON SerDes use it to cut a
//! line into (key, raw value) pairs and convert only the values a query needs.

/// What a raw JSON value starts with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Object,
    Array,
    String,
    Number,
    True,
    False,
    Null,
}

/// Malformed JSON, with the byte offset where it was noticed.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub offset: usize,
    pub what: &'static str,
}

pub type Scan<T> = std::result::Result<T, SyntaxError>;

/// A cursor over one JSON text.
pub struct Scanner<'a> {
    pub b: &'a [u8],
    pub i: usize,
}

impl<'a> Scanner<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        Scanner { b, i: 0 }
    }

    pub fn err<T>(&self, what: &'static str) -> Scan<T> {
        Err(SyntaxError { offset: self.i, what })
    }

    #[inline]
    pub fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if c == b' ' || c == b'\t' || c == b'\n' || c == b'\r' {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    pub fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// Consume `c` (after white space) or fail.
    #[inline]
    pub fn expect(&mut self, c: u8, what: &'static str) -> Scan<()> {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            self.err(what)
        }
    }

    /// The body of a string whose opening quote was consumed: (start, end, has_escapes).
    #[inline]
    pub fn string_body(&mut self) -> Scan<(usize, usize, bool)> {
        let start = self.i;
        let mut escaped = false;
        loop {
            match memchr::memchr2(b'"', b'\\', &self.b[self.i..]) {
                None => {
                    self.i = self.b.len();
                    return self.err("unterminated string");
                }
                Some(k) => {
                    self.i += k;
                    if self.b[self.i] == b'"' {
                        let end = self.i;
                        self.i += 1;
                        return Ok((start, end, escaped));
                    }
                    escaped = true;
                    self.i += 2;
                    if self.i > self.b.len() {
                        return self.err("unterminated string");
                    }
                }
            }
        }
    }

    /// Skip one value, with strings and numbers (the common case) inline.
    #[inline]
    pub fn scalar_or_value(&mut self) -> Scan<(Kind, usize, usize)> {
        self.ws();
        let start = self.i;
        match self.peek() {
            Some(b'"') => {
                self.i += 1;
                self.string_body()?;
                Ok((Kind::String, start, self.i))
            }
            Some(c) if c == b'-' || c.is_ascii_digit() => {
                let rest = &self.b[self.i..];
                let n = rest
                    .iter()
                    .position(|&c| !(c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E')))
                    .unwrap_or(rest.len());
                self.i += n;
                Ok((Kind::Number, start, self.i))
            }
            _ => self.value(),
        }
    }

    /// Skip one value; returns its kind and extent.
    pub fn value(&mut self) -> Scan<(Kind, usize, usize)> {
        self.ws();
        let start = self.i;
        let kind = match self.peek() {
            None => return self.err("a value is missing"),
            Some(b'"') => {
                self.i += 1;
                self.string_body()?;
                Kind::String
            }
            Some(b'{') => {
                self.i += 1;
                self.ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                } else {
                    loop {
                        self.expect(b'"', "an object key must be a string")?;
                        self.string_body()?;
                        self.expect(b':', "':' expected after an object key")?;
                        self.value()?;
                        self.ws();
                        match self.peek() {
                            Some(b',') => self.i += 1,
                            Some(b'}') => {
                                self.i += 1;
                                break;
                            }
                            _ => return self.err("',' or '}' expected in an object"),
                        }
                    }
                }
                Kind::Object
            }
            Some(b'[') => {
                self.i += 1;
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                } else {
                    loop {
                        self.value()?;
                        self.ws();
                        match self.peek() {
                            Some(b',') => self.i += 1,
                            Some(b']') => {
                                self.i += 1;
                                break;
                            }
                            _ => return self.err("',' or ']' expected in an array"),
                        }
                    }
                }
                Kind::Array
            }
            Some(b't') => self.word(b"true", Kind::True)?,
            Some(b'f') => self.word(b"false", Kind::False)?,
            Some(b'n') => self.word(b"null", Kind::Null)?,
            Some(c) if c == b'-' || c.is_ascii_digit() => {
                while let Some(c) = self.peek() {
                    if c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E') {
                        self.i += 1;
                    } else {
                        break;
                    }
                }
                Kind::Number
            }
            Some(_) => return self.err("a value expected"),
        };
        Ok((kind, start, self.i))
    }

    fn word(&mut self, w: &[u8], kind: Kind) -> Scan<Kind> {
        if self.b[self.i..].starts_with(w) {
            self.i += w.len();
            Ok(kind)
        } else {
            self.err("a value expected")
        }
    }
}

/// Append the unescaped text of a JSON string body to `out`.
pub fn unescape(body: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        if c != b'\\' || i + 1 >= body.len() {
            out.push(c);
            i += 1;
            continue;
        }
        let e = body[i + 1];
        i += 2;
        match e {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'u' => {
                let hex = |s: &[u8]| std::str::from_utf8(s).ok().and_then(|h| u32::from_str_radix(h, 16).ok());
                let Some(mut cp) = body.get(i..i + 4).and_then(hex) else {
                    out.extend_from_slice(b"\\u");
                    continue;
                };
                i += 4;
                // A surrogate pair.
                if (0xD800..0xDC00).contains(&cp)
                    && body.get(i..i + 2) == Some(b"\\u")
                    && let Some(lo) = body.get(i + 2..i + 6).and_then(hex)
                    && (0xDC00..0xE000).contains(&lo)
                {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                }
                let ch = char::from_u32(cp).unwrap_or('\u{FFFD}');
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            }
            other => out.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_values_and_finds_errors() {
        let text = br#"{"a": [1, {"b": "x\"y"}], "c": -1.5e3, "d": null, "e": true}"#;
        let mut s = Scanner::new(text);
        assert_eq!(s.value().unwrap(), (Kind::Object, 0, text.len()));
        for bad in [&br#"{"a": }"#[..], br#"{"a" 1}"#, br#"{"a": "x"#, b"[1 2]", b"{a:1}"] {
            assert!(Scanner::new(bad).value().is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn unescapes_strings() {
        let mut out = Vec::new();
        unescape(br#"a\"b\\c\n\u00e9\ud83d\ude00"#, &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "a\"b\\c\né😀");
    }
}
