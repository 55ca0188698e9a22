//! Partition directory names as Hive writes them: `key=value` per key,
//! nested in the order of the table's partition keys, with the characters
//! of Hive's `FileUtils.escapePathName` written as `%XX` (upper-case hex)
//! and NULL or empty values as [`DEFAULT_PARTITION`].

/// Hive's name for a NULL (or empty) partition value.
pub const DEFAULT_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// True for the characters Hive escapes in partition names: the ASCII
/// controls and `" # % ' * / : = ? \ DEL { [ ] ^`.
fn needs_escaping(c: char) -> bool {
    (c as u32) < 0x20 || "\"#%'*/:=?\\\x7f{[]^".contains(c)
}

/// Hive's escaping of a key or value in a directory name.
pub fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if needs_escaping(c) {
            out.push_str(&format!("%{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// The inverse of [`escape`], as Hive's `unescapePathName`: `%` and two
/// characters Java's `Integer.parseInt(s, 16)` accepts become that
/// character; anything else stays as written.
pub fn unescape(v: &str) -> String {
    let chars: Vec<char> = v.chars().collect();
    let mut out = String::with_capacity(v.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '%' && i + 2 < chars.len() {
            let hex: String = chars[i + 1..i + 3].iter().collect();
            // parseInt takes a leading '+' (a '-' gives a negative code, which Hive keeps as text).
            let digits = hex.strip_prefix('+').unwrap_or(&hex);
            if !digits.is_empty()
                && !digits.starts_with('+')
                && let Ok(code) = u32::from_str_radix(digits, 16)
                && let Some(c) = char::from_u32(code)
            {
                out.push(c);
                i += 3;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// The directory component of one key: `key=escaped value`, NULL and empty
/// values as the default partition.
pub fn component(key: &str, value: Option<&str>) -> String {
    match value {
        None | Some("") => format!("{}={DEFAULT_PARTITION}", escape(key)),
        Some(v) => format!("{}={}", escape(key), escape(v)),
    }
}

/// Hive's name of a partition (also its path under the table):
/// `k1=v1/k2=v2`.
pub fn partition_name<'a>(keys: impl IntoIterator<Item = &'a str>, values: &[Option<String>]) -> String {
    keys.into_iter().zip(values).map(|(k, v)| component(k, v.as_deref())).collect::<Vec<_>>().join("/")
}

/// Split a directory name `key=value` into its unescaped key and value
/// (`None` for the default partition); `None` when it is not of that form.
pub fn parse_component(name: &str) -> Option<(String, Option<String>)> {
    let (k, v) = name.split_once('=')?;
    if k.is_empty() {
        return None;
    }
    let value = unescape(v);
    let value = if value == DEFAULT_PARTITION || value.is_empty() { None } else { Some(value) };
    Some((unescape(k), value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_exactly_hives_characters() {
        assert_eq!(escape("2024-01-01"), "2024-01-01");
        assert_eq!(escape("a/b:c"), "a%2Fb%3Ac");
        assert_eq!(escape("x=y"), "x%3Dy");
        assert_eq!(escape("\"#%'*/:=?\\\x7f{[]^"), "%22%23%25%27%2A%2F%3A%3D%3F%5C%7F%7B%5B%5D%5E");
        assert_eq!(escape("\t\n\x01"), "%09%0A%01");
        // Not escaped: space, other punctuation, non-ASCII.
        assert_eq!(escape("a b<>|}&$!@~`,;()+é日本"), "a b<>|}&$!@~`,;()+é日本");
    }

    #[test]
    fn unescape_inverts_escape_and_keeps_what_is_not_an_escape() {
        for v in ["a/b:c", "100%", "%%", "x=y=z", "\u{1}\u{1f}", "日本/語", "%2"] {
            assert_eq!(unescape(&escape(v)), v);
        }
        assert_eq!(unescape("a%2fb"), "a/b", "lower-case hex is read too");
        assert_eq!(unescape("100%"), "100%");
        assert_eq!(unescape("%zz1"), "%zz1");
        assert_eq!(unescape("%-11"), "%-11");
        assert_eq!(unescape("%+Fx"), "\u{f}x", "Java's parseInt takes a sign");
    }

    #[test]
    fn names_and_components() {
        let vals = vec![Some("2024-05-01".to_string()), None, Some(String::new())];
        assert_eq!(
            partition_name(["dt", "h", "s"], &vals),
            "dt=2024-05-01/h=__HIVE_DEFAULT_PARTITION__/s=__HIVE_DEFAULT_PARTITION__"
        );
        assert_eq!(parse_component("dt=a%2Fb"), Some(("dt".into(), Some("a/b".into()))));
        assert_eq!(parse_component("h=__HIVE_DEFAULT_PARTITION__"), Some(("h".into(), None)));
        assert_eq!(parse_component("x=a=b"), Some(("x".into(), Some("a=b".into()))));
        assert_eq!(parse_component("nokey"), None);
        assert_eq!(parse_component("=v"), None);
    }
}
