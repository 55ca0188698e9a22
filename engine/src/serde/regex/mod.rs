//! Hive's `RegexSerDe`: each line must match `input.regex` as a whole
//! (Java's `Matcher.matches()`); capture group `i` is column `i`. A line
//! that does not match is a row of NULLs; a group that does not parse as
//! its column's type is NULL.
//!
//! The Java pattern is translated ([`java`]) and compiled with the fastest
//! engine that can run it:
//! 1. [`chain::Chain`], a bit-parallel matcher for chains of classes,
//!    literals and groups (most log formats);
//! 2. the `regex` crate for any other pattern it accepts;
//! 3. `fancy-regex` for look-around, backreferences, atomic groups and
//!    possessive quantifiers.
//!
//! A look-ahead at the very start (`^(?!#)...`, common to skip comment
//! lines) is checked on its own, so the rest of the pattern stays on the
//! fast engines.

pub mod chain;
pub mod java;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::Schema;

use self::chain::{Chain, ChainScratch};
use super::builder::{ColumnBuilder, WHOLE_FIELD};
use super::line::{Origin, RowParser};
use crate::error::{HiveError, Result};

/// The properties of a RegexSerDe table, with the pattern compiled.
#[derive(Clone)]
pub struct RegexOptions {
    /// `input.regex`, as written (Java syntax).
    pub regex: String,
    /// `input.regex.case.insensitive`.
    pub case_insensitive: bool,
    matcher: Arc<Matcher>,
}

impl PartialEq for RegexOptions {
    fn eq(&self, other: &Self) -> bool {
        self.regex == other.regex && self.case_insensitive == other.case_insensitive
    }
}

impl fmt::Debug for RegexOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegexOptions")
            .field("regex", &self.regex)
            .field("case_insensitive", &self.case_insensitive)
            .field("engine", &self.matcher.engine_name())
            .finish()
    }
}

/// A zero-width check at the start of the line: `(?=x)` or `(?!x)`.
#[derive(Debug)]
struct Guard {
    regex: regex::bytes::Regex,
    negated: bool,
}

#[derive(Debug)]
enum Engine {
    Chain(Chain),
    Regex(regex::bytes::Regex),
    Fancy(fancy_regex::Regex),
}

#[derive(Debug)]
struct Matcher {
    guard: Option<Guard>,
    engine: Engine,
    groups: usize,
}

impl Matcher {
    fn engine_name(&self) -> &'static str {
        match self.engine {
            Engine::Chain(_) => "chain",
            Engine::Regex(_) => "regex",
            Engine::Fancy(_) => "fancy-regex",
        }
    }
}

/// Split a leading `^(?!x)` / `(?=x)` off a Java pattern: (x, negated, rest).
fn leading_lookahead(java: &str) -> Option<(&str, bool, String)> {
    let (anchor, body) = match java.strip_prefix('^') {
        Some(b) => ("^", b),
        None => ("", java),
    };
    let negated = if body.starts_with("(?!") {
        true
    } else if body.starts_with("(?=") {
        false
    } else {
        return None;
    };
    let bytes = body.as_bytes();
    let (mut depth, mut i, mut in_class) = (0usize, 0usize, false);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'[' => in_class = true,
            b']' => in_class = false,
            b'(' if !in_class => depth += 1,
            b')' if !in_class => {
                depth -= 1;
                if depth == 0 {
                    return Some((&body[3..i], negated, format!("{anchor}{}", &body[i + 1..])));
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn compile_error(e: impl fmt::Display) -> HiveError {
    HiveError::Semantic(format!("input.regex does not compile: {e}"))
}

impl Matcher {
    fn compile(java: &str, case_insensitive: bool) -> Result<Matcher> {
        let flags = if case_insensitive { "(?i)" } else { "" };
        let (guard, rest) = match leading_lookahead(java) {
            Some((body, negated, rest)) => {
                let t = java::translate(body)?;
                if t.fancy {
                    (None, java.to_string())
                } else {
                    let regex =
                        regex::bytes::Regex::new(&format!(r"{flags}\A(?:{})", t.pattern)).map_err(compile_error)?;
                    (Some(Guard { regex, negated }), rest)
                }
            }
            None => (None, java.to_string()),
        };
        let t = java::translate(&rest)?;
        let whole = format!(r"{flags}\A(?:{})\z", t.pattern);
        if t.fancy {
            let re = fancy_regex::Regex::new(&whole).map_err(compile_error)?;
            let groups = re.captures_len() - 1;
            return Ok(Matcher { guard, engine: Engine::Fancy(re), groups });
        }
        let hir = regex_syntax::ParserBuilder::new().build().parse(&whole).map_err(compile_error)?;
        if let Some(chain) = Chain::from_hir(&hir) {
            let groups = hir.properties().explicit_captures_len();
            return Ok(Matcher { guard, engine: Engine::Chain(chain), groups });
        }
        let re = regex::bytes::Regex::new(&whole).map_err(compile_error)?;
        let groups = re.captures_len() - 1;
        Ok(Matcher { guard, engine: Engine::Regex(re), groups })
    }
}

impl RegexOptions {
    /// Read `input.regex` and `input.regex.case.insensitive`.
    pub fn from_properties(props: &BTreeMap<String, String>) -> Result<Self> {
        let regex = props
            .get("input.regex")
            .ok_or_else(|| HiveError::Semantic("RegexSerDe needs the SerDe property input.regex".into()))?
            .clone();
        let case_insensitive = super::bool_property(props, "input.regex.case.insensitive", false)?;
        let matcher = Arc::new(Matcher::compile(&regex, case_insensitive)?);
        Ok(RegexOptions { regex, case_insensitive, matcher })
    }

    /// The number of capture groups.
    pub fn groups(&self) -> usize {
        self.matcher.groups
    }

    /// Which engine runs the pattern (`chain`, `regex` or `fancy-regex`).
    pub fn engine(&self) -> &'static str {
        self.matcher.engine_name()
    }

    /// The pattern must have one group per column, and columns must be primitive.
    pub fn validate(&self, schema: &Schema) -> Result<()> {
        if self.groups() != schema.fields().len() {
            return Err(HiveError::Semantic(format!(
                "input.regex has {} capture groups but the table has {} columns (RegexSerDe needs one group per column)",
                self.groups(),
                schema.fields().len()
            )));
        }
        if let Some(f) = schema.fields().iter().find(|f| f.data_type().is_nested()) {
            return Err(HiveError::Semantic(format!(
                "RegexSerDe columns must be primitive; column {} is {}",
                f.name(),
                f.data_type()
            )));
        }
        Ok(())
    }
}

/// Reads lines with a RegexSerDe pattern.
pub struct RegexParser {
    opts: Arc<RegexOptions>,
    /// The group (0-based) of each output column.
    projection: Vec<usize>,
    /// Steps of a chain pattern to take to know the projected groups.
    chain_steps: usize,
    chain: ChainScratch,
    slots: Vec<Option<(usize, usize)>>,
    locations: Option<regex::bytes::CaptureLocations>,
    scratch: Vec<u8>,
}

impl fmt::Debug for RegexParser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegexParser").field("opts", &self.opts).field("projection", &self.projection).finish()
    }
}

impl RegexParser {
    pub fn new(opts: Arc<RegexOptions>, file_schema: &Schema, projection: &[usize]) -> Result<Self> {
        opts.validate(file_schema)?;
        let locations = match &opts.matcher.engine {
            Engine::Regex(re) => Some(re.capture_locations()),
            _ => None,
        };
        let groups = opts.groups();
        let chain_steps = match &opts.matcher.engine {
            Engine::Chain(c) => c.steps_for(&projection.iter().map(|g| g + 1).collect::<Vec<_>>()),
            _ => 0,
        };
        Ok(RegexParser {
            chain_steps,
            opts,
            projection: projection.to_vec(),
            chain: ChainScratch::default(),
            slots: vec![None; groups],
            locations,
            scratch: Vec::new(),
        })
    }
}

impl RowParser for RegexParser {
    fn row(&mut self, line: &[u8], builders: &mut [ColumnBuilder], _origin: &Origin, _line_no: u64) -> Result<()> {
        if self.projection.is_empty() {
            return Ok(()); // every line is a row, matching or not
        }
        let m = &*self.opts.matcher;
        let allowed = m.guard.as_ref().is_none_or(|g| g.regex.is_match(line) != g.negated);
        let mut text: Cow<[u8]> = Cow::Borrowed(line);
        let matched = allowed
            && match &m.engine {
                Engine::Chain(c) => c.captures(line, &mut self.chain, &mut self.slots, self.chain_steps),
                Engine::Regex(re) => {
                    let locs = self.locations.as_mut().expect("regex engines keep capture locations");
                    let ok = re.captures_read(locs, line).is_some();
                    for (g, slot) in self.slots.iter_mut().enumerate() {
                        *slot = locs.get(g + 1);
                    }
                    ok
                }
                Engine::Fancy(re) => {
                    let s = String::from_utf8_lossy(line);
                    let caps = re.captures(&s).ok().flatten();
                    let ok = caps.is_some();
                    if let Some(caps) = caps {
                        for (g, slot) in self.slots.iter_mut().enumerate() {
                            *slot = caps.get(g + 1).map(|c| (c.start(), c.end()));
                        }
                    }
                    if let Cow::Owned(s) = s {
                        text = Cow::Owned(s.into_bytes());
                    }
                    ok
                }
            };
        for (out, &group) in self.projection.iter().enumerate() {
            match (matched, self.slots.get(group).copied().flatten()) {
                (true, Some((s, e))) => builders[out].append_text(&text[s..e], &WHOLE_FIELD, 1, &mut self.scratch),
                _ => builders[out].append_null(),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(regex: &str) -> RegexOptions {
        RegexOptions::from_properties(&BTreeMap::from([("input.regex".to_string(), regex.to_string())])).unwrap()
    }

    #[test]
    fn picks_the_fastest_engine() {
        let emr = r"^(?!#)([^ ]+)\s+([^ ]+)\s+([^ ]+)\s+([^ ]+)\s+([^ ]+)\s+([^ ]+)\s+([^ ]+)\s+([^ ]+)\s+([^ ]+)\s+([^ ]+)\s+[^\(]+[\(]([^\;]+).*\%20([^\/]+)[\/](.*)$";
        let o = opts(emr);
        assert_eq!((o.engine(), o.groups()), ("chain", 13));
        assert!(o.matcher.guard.is_some());
        assert_eq!(opts(r"(ab|c) (\w+)").engine(), "regex");
        assert_eq!(opts(r"(\w+)(?=x)(.*)").engine(), "fancy-regex");
        assert_eq!(opts(r"(\w)\1(.*)").engine(), "fancy-regex");
    }

    #[test]
    fn leading_lookahead_is_split_off() {
        assert_eq!(leading_lookahead(r"^(?!#)(a)"), Some(("#", true, "^(a)".to_string())));
        assert_eq!(leading_lookahead(r"(?=[(])(.*)"), Some(("[(]", false, "(.*)".to_string())));
        assert_eq!(leading_lookahead(r"(a)(?!b)"), None);
    }

    #[test]
    fn bad_patterns_are_clear_errors() {
        let e = RegexOptions::from_properties(&BTreeMap::new()).unwrap_err().to_string();
        assert!(e.contains("input.regex"), "{e}");
        let e = RegexOptions::from_properties(&BTreeMap::from([("input.regex".into(), "(a".into())]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not compile"), "{e}");
    }
}
