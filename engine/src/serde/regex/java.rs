//! Java regular expressions (`java.util.regex`, what Hive's RegexSerDe
//! compiles) in the syntax of the Rust `regex` and `fancy-regex` crates.
//!
//! Most of the syntax is shared. [`translate`] rewrites what differs:
//! - `\s \d \w` (and negations) are ASCII in Java: written as explicit classes;
//!   `\h`, `\v`, `\R`, `\e`, `\a`, `\cX`, `\0ooo`, `\uXXXX`, `\Z` likewise;
//! - `\Q...\E` quoting becomes escaped characters;
//! - `\p{javaLowerCase}`-style and POSIX (`\p{Lower}`, ASCII in Java) classes,
//!   `\p{IsLatin}` scripts;
//! - named groups `(?<n>...)` become `(?P<n>...)`;
//! - Java-only flags (`d`, `u`, `U`) are dropped.
//!
//! It also says whether the pattern needs `fancy-regex` (look-around,
//! backreferences, atomic groups, possessive quantifiers), and rejects what
//! neither crate can do with an error that names the construct.

use crate::error::{HiveError, Result};

/// A pattern rewritten for the Rust regex crates.
#[derive(Debug, Clone, PartialEq)]
pub struct Translated {
    pub pattern: String,
    /// Look-around, backreferences, atomic groups or possessive quantifiers.
    pub fancy: bool,
}

const SPACE: &str = r"\t\n\x0B\f\r ";
const HSPACE: &str = r" \t\xA0\x{1680}\x{180e}\x{2000}-\x{200a}\x{202f}\x{205f}\x{3000}";
const VSPACE: &str = r"\n\x0B\f\r\x{85}\x{2028}\x{2029}";

fn unsupported(construct: &str, why: &str) -> HiveError {
    HiveError::Unsupported(format!("input.regex: {construct} is not supported ({why})"))
}

/// The members of a class escape (`\d` -> `0-9`) and whether it is negated.
fn class_escape(c: char) -> Option<(&'static str, bool)> {
    Some(match c {
        's' => (SPACE, false),
        'S' => (SPACE, true),
        'd' => ("0-9", false),
        'D' => ("0-9", true),
        'w' => ("a-zA-Z_0-9", false),
        'W' => ("a-zA-Z_0-9", true),
        'h' => (HSPACE, false),
        'H' => (HSPACE, true),
        'v' => (VSPACE, false),
        'V' => (VSPACE, true),
        _ => return None,
    })
}

/// `\p{name}` in Java to a class of the regex crate (without brackets when
/// `bare` is false it is a bracket expression).
fn property(name: &str, negated: bool) -> Result<String> {
    let posix = match name {
        "Lower" => Some("a-z"),
        "Upper" => Some("A-Z"),
        "ASCII" => Some(r"\x00-\x7F"),
        "Alpha" => Some("a-zA-Z"),
        "Digit" => Some("0-9"),
        "Alnum" => Some("a-zA-Z0-9"),
        "Punct" => Some(r"!-/:-@\[-`{-~"),
        "Graph" => Some("!-~"),
        "Print" => Some(" -~"),
        "Blank" => Some(r" \t"),
        "Cntrl" => Some(r"\x00-\x1F\x7F"),
        "XDigit" => Some("0-9a-fA-F"),
        "Space" => Some(SPACE),
        _ => None,
    };
    if let Some(members) = posix {
        return Ok(format!("[{}{members}]", if negated { "^" } else { "" }));
    }
    let unicode = match name {
        "javaLowerCase" => "Ll".to_string(),
        "javaUpperCase" => "Lu".to_string(),
        "javaTitleCase" => "Lt".to_string(),
        "javaDigit" => "Nd".to_string(),
        "javaLetter" => "L".to_string(),
        "javaAlphabetic" | "IsAlphabetic" => "Alphabetic".to_string(),
        "javaWhitespace" | "IsWhite_Space" | "IsWhiteSpace" => "White_Space".to_string(),
        "javaSpaceChar" => "Z".to_string(),
        "javaLetterOrDigit" => {
            return Ok(if negated { r"[^\p{L}\p{Nd}]".to_string() } else { r"[\p{L}\p{Nd}]".to_string() });
        }
        n if n.starts_with("java") => return Err(unsupported(&format!("\\p{{{n}}}"), "no equivalent class")),
        n if n.starts_with("In") => {
            return Err(unsupported(&format!("\\p{{{n}}}"), "Unicode blocks; use a script such as \\p{IsGreek}"));
        }
        n => n.strip_prefix("Is").unwrap_or(n).to_string(),
    };
    Ok(format!("\\{}{{{unicode}}}", if negated { 'P' } else { 'p' }))
}

/// Rewrite a Java pattern for the Rust regex crates.
pub fn translate(java: &str) -> Result<Translated> {
    let chars: Vec<char> = java.chars().collect();
    let mut out = String::with_capacity(java.len() + 16);
    let mut fancy = false;
    // Depth of character classes we are inside.
    let mut class_depth = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                let Some(&e) = chars.get(i + 1) else {
                    return Err(HiveError::Semantic("input.regex ends with a lone backslash".into()));
                };
                i += 2;
                if let Some((members, negated)) = class_escape(e) {
                    match (class_depth > 0, negated) {
                        (true, false) => out.push_str(members),
                        _ => out.push_str(&format!("[{}{members}]", if negated { "^" } else { "" })),
                    }
                    continue;
                }
                match e {
                    'Q' => {
                        let mut j = i;
                        while j < chars.len() && !(chars[j] == '\\' && chars.get(j + 1) == Some(&'E')) {
                            j += 1;
                        }
                        for &q in &chars[i..j] {
                            if q.is_ascii_alphanumeric() || q == ' ' || !q.is_ascii() {
                                out.push(q);
                            } else {
                                out.push('\\');
                                out.push(q);
                            }
                        }
                        i = (j + 2).min(chars.len().max(j));
                    }
                    'E' => {} // a stray \E is ignored, as in Java
                    'p' | 'P' => {
                        let (name, next) = if chars.get(i) == Some(&'{') {
                            let end = chars[i..].iter().position(|&x| x == '}').map(|p| p + i).ok_or_else(|| {
                                HiveError::Semantic(format!("input.regex: unclosed \\{e}{{ at character {}", i - 1))
                            })?;
                            (chars[i + 1..end].iter().collect::<String>(), end + 1)
                        } else {
                            (chars.get(i).map(|c| c.to_string()).unwrap_or_default(), i + 1)
                        };
                        let prop = property(&name, e == 'P')?;
                        if class_depth > 0 && prop.starts_with("[^") {
                            out.push_str(&prop); // nested negated class
                        } else if class_depth > 0 && prop.starts_with('[') {
                            out.push_str(&prop[1..prop.len() - 1]);
                        } else {
                            out.push_str(&prop);
                        }
                        i = next;
                    }
                    'u' => {
                        let hex: String = chars.get(i..i + 4).map(|s| s.iter().collect()).unwrap_or_default();
                        if hex.len() != 4 || !hex.chars().all(|h| h.is_ascii_hexdigit()) {
                            return Err(HiveError::Semantic("input.regex: \\u needs four hex digits".into()));
                        }
                        out.push_str(&format!("\\x{{{hex}}}"));
                        i += 4;
                    }
                    '0' => {
                        let mut j = i;
                        while j < chars.len() && j < i + 3 && ('0'..='7').contains(&chars[j]) {
                            j += 1;
                        }
                        let digits: String = chars[i..j].iter().collect();
                        let v = u32::from_str_radix(&digits, 8)
                            .map_err(|_| HiveError::Semantic("input.regex: \\0 needs octal digits".into()))?;
                        out.push_str(&format!("\\x{{{v:x}}}"));
                        i = j;
                    }
                    'c' => {
                        let Some(&x) = chars.get(i) else {
                            return Err(HiveError::Semantic("input.regex: \\c needs a character".into()));
                        };
                        out.push_str(&format!("\\x{{{:x}}}", (x as u32) ^ 64));
                        i += 1;
                    }
                    'e' => out.push_str(r"\x1B"),
                    'a' => out.push_str(r"\x07"),
                    'Z' => out.push_str(r"\z"),
                    'R' if class_depth == 0 => out.push_str(&format!("(?:\\r\\n|[{VSPACE}])")),
                    '1'..='9' | 'k' if class_depth == 0 => {
                        fancy = true;
                        out.push('\\');
                        out.push(e);
                    }
                    'G' => return Err(unsupported("\\G", "the end of a previous match has no meaning for one line")),
                    'X' => return Err(unsupported("\\X", "grapheme clusters")),
                    'N' => return Err(unsupported("\\N{name}", "named characters")),
                    'x' | 't' | 'n' | 'r' | 'f' | 'A' | 'z' | 'b' | 'B' => {
                        out.push('\\');
                        out.push(e);
                    }
                    e if e.is_ascii_alphanumeric() => {
                        return Err(HiveError::Semantic(format!("input.regex: unknown escape \\{e}")));
                    }
                    e => {
                        out.push('\\');
                        out.push(e);
                    }
                }
                continue;
            }
            '[' => {
                class_depth += 1;
                out.push('[');
                // A leading ']' (or '^]') is a literal in Java.
                if chars.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i + 1) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
            }
            ']' if class_depth > 0 => {
                class_depth -= 1;
                out.push(']');
            }
            '(' if class_depth == 0 && chars.get(i + 1) == Some(&'?') => {
                let rest: String = chars[i + 2..].iter().take(2).collect();
                if rest.starts_with('=')
                    || rest.starts_with('!')
                    || rest == "<="
                    || rest == "<!"
                    || rest.starts_with('>')
                {
                    fancy = true;
                    out.push_str("(?");
                } else if rest.starts_with('<') {
                    out.push_str("(?P");
                } else if rest.starts_with(|x: char| x.is_ascii_alphabetic() || x == '-') {
                    // Inline flags: keep those the regex crate shares.
                    let end = chars[i + 2..]
                        .iter()
                        .position(|&x| x == ')' || x == ':')
                        .map(|p| p + i + 2)
                        .ok_or_else(|| HiveError::Semantic("input.regex: unclosed flag group".into()))?;
                    let flags: String = chars[i + 2..end].iter().filter(|f| !matches!(f, 'd' | 'u' | 'U')).collect();
                    let flags = flags.trim_end_matches('-');
                    if flags.is_empty() && chars[end] == ')' {
                        i = end + 1;
                        continue;
                    }
                    out.push_str("(?");
                    out.push_str(if flags.is_empty() { "" } else { flags });
                    out.push(chars[end]);
                    i = end + 1;
                    continue;
                } else {
                    out.push_str("(?");
                }
                i += 2;
                continue;
            }
            '*' | '+' | '?' | '}' if class_depth == 0 && chars.get(i + 1) == Some(&'+') => {
                fancy = true; // possessive quantifier
                out.push(c);
                out.push('+');
                i += 2;
                continue;
            }
            _ => out.push(c),
        }
        i += 1;
    }
    if class_depth > 0 {
        return Err(HiveError::Semantic("input.regex: unclosed character class '['".into()));
    }
    Ok(Translated { pattern: out, fancy })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(p: &str) -> String {
        translate(p).unwrap().pattern
    }

    #[test]
    fn rewrites_java_only_syntax() {
        assert_eq!(t(r"(\S+)\s+(\d+)"), r"([^\t\n\x0B\f\r ]+)[\t\n\x0B\f\r ]+([0-9]+)");
        assert_eq!(t(r"[\s,]"), r"[\t\n\x0B\f\r ,]");
        assert_eq!(t(r"\Qa.b*\E+"), r"a\.b\*+");
        assert_eq!(t(r"\p{javaLowerCase}\p{Lower}\p{IsLatin}"), r"\p{Ll}[a-z]\p{Latin}");
        assert_eq!(t(r"[\p{Upper}x]"), r"[A-Zx]");
        assert_eq!(t(r"(?<year>\d{4})"), r"(?P<year>[0-9]{4})");
        assert_eq!(t(r"\u00e9\0101\e"), r"\x{00e9}\x{41}\x1B");
        assert_eq!(t(r"(?iu)a(?d)b"), r"(?i)ab");
        assert_eq!(t(r"[]a]"), r"[\]a]");
        assert!(!translate(r"^(\w+)\%20").unwrap().fancy);
    }

    #[test]
    fn detects_fancy_constructs() {
        for p in [r"^(?!#)(.*)", r"(a)\1", r"(?<=x)y", r"(?>a*)b", r"a*+b", r"(?<n>a)\k<n>"] {
            assert!(translate(p).unwrap().fancy, "{p}");
        }
    }

    #[test]
    fn names_what_it_rejects() {
        for (p, what) in
            [(r"\Ga", r"\G"), (r"\p{InGreek}", "InGreek"), (r"\X", r"\X"), (r"\p{javaMirrored}", "javaMirrored")]
        {
            let e = translate(p).unwrap_err().to_string();
            assert!(e.contains(what), "{p}: {e}");
        }
        assert!(translate(r"[abc").unwrap_err().to_string().contains("unclosed"));
        assert!(translate(r"\j").unwrap_err().to_string().contains(r"\j"));
    }
}
