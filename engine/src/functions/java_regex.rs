//! Java regular expressions for the functions that take one (`regexp_replace`,
//! `regexp_extract`, `rlike`, `split`, `str_to_map`): the pattern is
//! rewritten by the RegexSerDe's translator ([`crate::serde::regex::java`])
//! and compiled with the `regex` crate, or `fancy-regex` when it needs
//! look-around or backreferences, as `java.util.regex` has them.

use datafusion::common::{DataFusionError, Result};

use crate::serde::regex::java;

/// A compiled Java pattern.
#[derive(Debug)]
pub(crate) enum JavaRegex {
    Plain(regex::Regex),
    Fancy(fancy_regex::Regex),
}

fn bad(pattern: &str, e: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Execution(format!("bad regular expression '{pattern}': {e}"))
}

impl JavaRegex {
    /// Compile a pattern written in Java's syntax.
    pub fn new(pattern: &str) -> Result<JavaRegex> {
        let t = java::translate(pattern).map_err(|e| bad(pattern, e))?;
        if t.fancy {
            Ok(JavaRegex::Fancy(fancy_regex::Regex::new(&t.pattern).map_err(|e| bad(pattern, e))?))
        } else {
            Ok(JavaRegex::Plain(regex::Regex::new(&t.pattern).map_err(|e| bad(pattern, e))?))
        }
    }

    /// Whether the pattern matches anywhere in `s` (Java's `find()`).
    pub fn is_match(&self, s: &str) -> bool {
        match self {
            JavaRegex::Plain(r) => r.is_match(s),
            JavaRegex::Fancy(r) => r.is_match(s).unwrap_or(false),
        }
    }

    /// Byte ranges of the successive matches.
    pub fn find_iter(&self, s: &str) -> Vec<(usize, usize)> {
        match self {
            JavaRegex::Plain(r) => r.find_iter(s).map(|m| (m.start(), m.end())).collect(),
            JavaRegex::Fancy(r) => r.find_iter(s).map_while(|m| m.ok()).map(|m| (m.start(), m.end())).collect(),
        }
    }

    /// The groups of the first match (index 0 is the whole match), or
    /// `None` when nothing matches.
    pub fn captures<'s>(&self, s: &'s str) -> Option<Vec<Option<&'s str>>> {
        match self {
            JavaRegex::Plain(r) => r.captures(s).map(|c| c.iter().map(|m| m.map(|m| m.as_str())).collect()),
            JavaRegex::Fancy(r) => {
                r.captures(s).ok().flatten().map(|c| c.iter().map(|m| m.map(|m| m.as_str())).collect())
            }
        }
    }

    /// The number of groups (without the whole match).
    pub fn groups(&self) -> usize {
        match self {
            JavaRegex::Plain(r) => r.captures_len() - 1,
            JavaRegex::Fancy(r) => r.captures_len() - 1,
        }
    }

    /// Every match replaced as Java's `Matcher.replaceAll` does: `$n` is
    /// group n, `\x` is a literal x.
    pub fn replace_all(&self, s: &str, replacement: &str) -> Result<String> {
        // a replacement without `$` or `\\` is literal: the regex crate's own loop
        if let JavaRegex::Plain(r) = self
            && !replacement.contains(['$', '\\'])
        {
            return Ok(r.replace_all(s, regex::NoExpand(replacement)).into_owned());
        }
        let mut out = String::with_capacity(s.len());
        let mut last = 0;
        let caps: Vec<Vec<Option<(usize, usize)>>> = match self {
            JavaRegex::Plain(r) => {
                r.captures_iter(s).map(|c| c.iter().map(|m| m.map(|m| (m.start(), m.end()))).collect()).collect()
            }
            JavaRegex::Fancy(r) => r
                .captures_iter(s)
                .map_while(|c| c.ok())
                .map(|c| c.iter().map(|m| m.map(|m| (m.start(), m.end()))).collect())
                .collect(),
        };
        for groups in caps {
            let Some((start, end)) = groups[0] else { continue };
            out.push_str(&s[last..start]);
            let rep = replacement.as_bytes();
            let mut i = 0;
            while i < rep.len() {
                match rep[i] {
                    b'\\' if i + 1 < rep.len() => {
                        let c = replacement[i + 1..].chars().next().unwrap_or('\\');
                        out.push(c);
                        i += 1 + c.len_utf8();
                    }
                    b'$' => {
                        // the longest group number that exists, as Java reads it
                        let mut j = i + 1;
                        let mut n: Option<usize> = None;
                        while j < rep.len() && rep[j].is_ascii_digit() {
                            let m = n.unwrap_or(0) * 10 + (rep[j] - b'0') as usize;
                            if n.is_some() && m >= groups.len() {
                                break;
                            }
                            n = Some(m);
                            j += 1;
                        }
                        match n {
                            Some(n) if n < groups.len() => {
                                if let Some((a, b)) = groups[n] {
                                    out.push_str(&s[a..b]);
                                }
                                i = j;
                            }
                            Some(n) => {
                                return Err(DataFusionError::Execution(format!(
                                    "regexp_replace: no group {n} in the pattern"
                                )));
                            }
                            None => {
                                return Err(DataFusionError::Execution(
                                    "regexp_replace: '$' in the replacement must be followed by a group number".into(),
                                ));
                            }
                        }
                    }
                    _ => {
                        let c = replacement[i..].chars().next().unwrap_or(' ');
                        out.push(c);
                        i += c.len_utf8();
                    }
                }
            }
            last = end;
        }
        out.push_str(&s[last..]);
        Ok(out)
    }
}

/// The last pattern compiled, kept while the next rows use the same one
/// (patterns are nearly always constants).
#[derive(Default)]
pub(crate) struct Cache {
    last: Option<(String, JavaRegex)>,
}

impl Cache {
    /// The compiled form of `pattern`.
    pub fn get(&mut self, pattern: &str) -> Result<&JavaRegex> {
        let hit = matches!(&self.last, Some((p, _)) if p == pattern);
        if !hit {
            self.last = Some((pattern.to_string(), JavaRegex::new(pattern)?));
        }
        match &self.last {
            Some((_, re)) => Ok(re),
            None => Err(DataFusionError::Internal("regex cache is empty".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_replacements() {
        let re = JavaRegex::new("(\\d+)").unwrap();
        assert_eq!(re.replace_all("num-200 x 3", "<$1>").unwrap(), "num-<200> x <3>");
        assert_eq!(re.replace_all("a1", "\\$").unwrap(), "a$");
        let re = JavaRegex::new("(?<=a)b").unwrap();
        assert_eq!(re.replace_all("abab cb", "X").unwrap(), "aXaX cb");
    }
}
