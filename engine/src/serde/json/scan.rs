//! A minimal JSON scanner over bytes: finds the extent of values without
//! building them, and unescapes strings. The JSON SerDes use it to cut a
//! line into (key, raw value) pairs and convert only the values a query needs.
//!
//! Nesting is bounded: a value nested deeper than [`MAX_DEPTH`] arrays and
//! objects is a syntax error (malformed line, with the SerDe's rules for
//! those), never a stack overflow. serde_json's limit is the same 128.
//!
//! What it accepts that strict JSON (RFC 8259) does not, checked by a
//! differential test against `serde_json`: numbers are any run of digits,
//! signs, `.`, `e`/`E` (`01`, `1.`, `+-1` pass the scanner; the column's
//! type conversion then reads them or yields NULL, as Hive's lenient
//! readers do); control characters and invalid escapes inside strings are
//! kept as they are; invalid UTF-8 is not checked here (strings are decoded
//! lossily when converted); text after the top-level value is the caller's
//! business (the SerDes ignore trailing white space and reject the rest).

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

/// How deep arrays and objects may nest.
pub const MAX_DEPTH: u32 = 128;

/// A cursor over one JSON text.
pub struct Scanner<'a> {
    pub b: &'a [u8],
    pub i: usize,
    /// Arrays and objects open around the cursor.
    depth: u32,
}

impl<'a> Scanner<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        Scanner { b, i: 0, depth: 0 }
    }

    /// Enter an array or object, refusing past [`MAX_DEPTH`].
    fn enter(&mut self) -> Scan<()> {
        if self.depth >= MAX_DEPTH {
            return self.err("nested deeper than 128 arrays and objects");
        }
        self.depth += 1;
        Ok(())
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
                self.enter()?;
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
                self.depth -= 1;
                Kind::Object
            }
            Some(b'[') => {
                self.enter()?;
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
                self.depth -= 1;
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

    /// A deeply nested line is malformed, not a stack overflow.
    #[test]
    fn nesting_is_bounded() {
        let deep = "[".repeat(200_000);
        assert!(Scanner::new(deep.as_bytes()).value().unwrap_err().what.contains("nested deeper"));
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH as usize), "]".repeat(MAX_DEPTH as usize));
        assert!(Scanner::new(ok.as_bytes()).value().is_ok());
        let objects = "{\"a\":".repeat(100_000);
        assert!(Scanner::new(objects.as_bytes()).value().is_err());
    }

    fn random_value(rng: &mut impl rand::Rng, depth: u32, out: &mut String) {
        let pick = if depth > 6 { rng.random_range(0..5) } else { rng.random_range(0..7) };
        match pick {
            0 => out.push_str("null"),
            1 => out.push_str(if rng.random() { "true" } else { "false" }),
            2 => {
                let n: f64 = rng.random_range(-1e6..1e6);
                out.push_str(&serde_json::to_string(&if rng.random() { n.trunc() } else { n }).unwrap());
            }
            3 | 4 => {
                let choices = ["a", "é", "😀", "\"", "\\", "\n", "\u{1}", "x y", "", "\u{7f}"];
                let s: String =
                    (0..rng.random_range(0..6)).map(|_| choices[rng.random_range(0..choices.len())]).collect();
                out.push_str(&serde_json::to_string(&s).unwrap());
            }
            5 => {
                out.push('[');
                for k in 0..rng.random_range(0..4) {
                    if k > 0 {
                        out.push(',');
                    }
                    random_value(rng, depth + 1, out);
                }
                out.push(']');
            }
            _ => {
                out.push('{');
                for k in 0..rng.random_range(0..4) {
                    if k > 0 {
                        out.push_str(if rng.random() { "," } else { " , " });
                    }
                    out.push_str(&format!("\"k{k}\":"));
                    random_value(rng, depth + 1, out);
                }
                out.push('}');
            }
        }
    }

    /// Differential test against serde_json on generated and mutated lines:
    /// every line serde_json accepts, the scanner accepts with the same
    /// extent, and each object member's raw value is, for serde_json, the
    /// same value; no line (however mangled) panics or overruns.
    #[test]
    fn agrees_with_serde_json_on_generated_and_mutated_lines() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
        let mut accepted_both = 0;
        for round in 0..20_000 {
            let mut line = String::from("{\"top\":");
            random_value(&mut rng, 0, &mut line);
            line.push('}');
            let mut bytes = line.into_bytes();
            if round % 2 == 1 {
                for _ in 0..rng.random_range(1..4) {
                    let at = rng.random_range(0..bytes.len());
                    match rng.random_range(0..3) {
                        0 => {
                            bytes.remove(at);
                        }
                        1 => {
                            let alphabet = b"{}[]\":,\\0-e. ";
                            bytes.insert(at, alphabet[rng.random_range(0..alphabet.len())]);
                        }
                        _ => bytes[at] = rng.random(),
                    }
                    if bytes.is_empty() {
                        bytes.push(b'{');
                    }
                }
            }
            let strict = serde_json::from_slice::<serde_json::Value>(&bytes);
            let mut sc = Scanner::new(&bytes);
            let ours = sc.value().map(|(k, s, e)| {
                let mut t = Scanner::new(&bytes);
                t.i = e;
                t.ws();
                (k, s, e, t.i == bytes.len())
            });
            if let Ok(v) = strict {
                let (kind, start, _, whole) = ours.unwrap_or_else(|e| {
                    panic!("serde_json accepts what the scanner refuses ({e:?}): {}", String::from_utf8_lossy(&bytes))
                });
                assert!(
                    whole && bytes[..start].iter().all(u8::is_ascii_whitespace) && kind == Kind::Object,
                    "{}",
                    String::from_utf8_lossy(&bytes)
                );
                let serde_json::Value::Object(members) = v else { continue };
                let mut cut = serde_json::Map::new();
                let mut m = Scanner::new(&bytes);
                m.expect(b'{', "").unwrap();
                m.ws();
                while m.peek() == Some(b'"') {
                    m.i += 1;
                    let (ks, ke, _) = m.string_body().unwrap();
                    m.expect(b':', "").unwrap();
                    let (_, vs, ve) = m.value().unwrap();
                    let mut key = Vec::new();
                    unescape(&bytes[ks..ke], &mut key);
                    let raw: serde_json::Value = serde_json::from_slice(&bytes[vs..ve]).unwrap();
                    cut.insert(String::from_utf8(key).unwrap(), raw); // the last of a repeated key wins, as in serde_json
                    m.ws();
                    if m.peek() == Some(b',') {
                        m.i += 1;
                        m.ws();
                    }
                }
                assert_eq!(cut, members, "{}", String::from_utf8_lossy(&bytes));
                accepted_both += 1;
            }
        }
        assert!(accepted_both > 9_000, "the generator makes mostly valid lines: {accepted_both}");
    }
}
