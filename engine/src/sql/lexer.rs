//! Tokenizing HiveQL: sqlparser's tokenizer with the `HiveQl` dialect and raw
//! string literals, then Hive's lexical rules applied to the tokens:
//! string literals are unescaped the way Hive's `unescapeSQLString` does
//! (`'\001'` is Ctrl-A, `'\\s'` is `\s`), backquoted identifiers are
//! lower-cased (Hive names are case-insensitive), and Hive's typed numeric
//! literals (`100Y`, `10S`, `5L`, `1.5BD`) become casts.

use datafusion::sql::sqlparser::parser::{Parser, ParserOptions};
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer, Word};

use super::dialect::HiveQl;
use crate::error::Result;

/// Apply Hive's string-literal unescaping to the raw text between the quotes.
pub fn unescape_hive_string(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.to_string();
    }
    let chars: Vec<char> = raw.chars().collect();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '\\' || i + 1 >= chars.len() {
            out.push(c);
            i += 1;
            continue;
        }
        // \uXXXX
        if chars[i + 1] == 'u' && i + 5 < chars.len() && chars[i + 2..i + 6].iter().all(|c| c.is_ascii_hexdigit()) {
            let hex: String = chars[i + 2..i + 6].iter().collect();
            if let Some(ch) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                out.push(ch);
                i += 6;
                continue;
            }
        }
        // \ooo octal (Hive: first digit 0 or 1, then two octal digits)
        if i + 3 < chars.len()
            && matches!(chars[i + 1], '0' | '1')
            && chars[i + 2].is_digit(8)
            && chars[i + 3].is_digit(8)
        {
            let v = (chars[i + 1] as u32 - '0' as u32) * 64
                + (chars[i + 2] as u32 - '0' as u32) * 8
                + (chars[i + 3] as u32 - '0' as u32);
            out.push(char::from_u32(v).expect("an octal escape is below 0o200"));
            i += 4;
            continue;
        }
        let n = chars[i + 1];
        match n {
            '0' => out.push('\0'),
            '\'' => out.push('\''),
            '"' => out.push('"'),
            'b' => out.push('\u{8}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'Z' => out.push('\u{1a}'),
            '\\' => out.push('\\'),
            // kept escaped: they mean literal % and _ in LIKE patterns
            '%' => out.push_str("\\%"),
            '_' => out.push_str("\\_"),
            other => out.push(other),
        }
        i += 2;
    }
    out
}

/// A number with Hive's type suffix (`10Y`, `5S`, `30L`, `1.5BD`) as the
/// number and the type it has.
fn typed_literal(word: &str) -> Option<(&str, String)> {
    let upper = word.to_ascii_uppercase();
    let (digits, ty) = if let Some(d) = upper.strip_suffix("BD") {
        // the literal's own precision and scale, as Hive types it
        let frac = d.split_once('.').map_or(0, |(_, f)| f.len());
        let all = d.chars().filter(char::is_ascii_digit).count().max(1);
        (d.len(), format!("DECIMAL({},{frac})", all.max(frac).min(38)))
    } else if let Some(d) = upper.strip_suffix('Y') {
        (d.len(), "TINYINT".to_string())
    } else if let Some(d) = upper.strip_suffix('S') {
        (d.len(), "SMALLINT".to_string())
    } else if let Some(d) = upper.strip_suffix('L') {
        (d.len(), "BIGINT".to_string())
    } else {
        return None;
    };
    let num = &word[..digits];
    let valid = !num.is_empty()
        && num.starts_with(|c: char| c.is_ascii_digit())
        && num.chars().all(|c| c.is_ascii_digit() || (c == '.' && ty.starts_with("DECIMAL")))
        && num.matches('.').count() <= 1;
    valid.then_some((num, ty))
}

/// Characters that make a backquoted word a regular expression.
const REGEX_CHARS: [char; 12] = ['(', ')', '|', '?', '*', '+', '[', ']', '{', '^', '$', '\\'];

/// Tokenize one statement and apply Hive's lexical rules.
pub fn tokenize(sql: &str) -> Result<Vec<TokenWithSpan>> {
    let raw = Tokenizer::new(&HiveQl, sql).with_unescape(false).tokenize_with_location()?;
    let mut out = Vec::with_capacity(raw.len());
    for t in raw {
        let span = t.span;
        let with = |token: Token| TokenWithSpan { token, span };
        match t.token {
            Token::SingleQuotedString(s) => out.push(with(Token::SingleQuotedString(unescape_hive_string(&s)))),
            Token::DoubleQuotedString(s) => out.push(with(Token::SingleQuotedString(unescape_hive_string(&s)))),
            // a backquoted regular expression (a regex column spec, see
            // `regex_columns`) is kept as written: not split, not lower-cased
            Token::Word(w) if w.quote_style == Some('`') && w.value.contains(REGEX_CHARS) => {
                out.push(with(Token::Word(w)))
            }
            // `db.table` names table `table` in database `db`, as Hive and Athena read it
            Token::Word(w)
                if w.quote_style == Some('`')
                    && w.value.contains('.')
                    && !w.value.starts_with('.')
                    && !w.value.ends_with('.') =>
            {
                for (k, part) in w.value.split('.').enumerate() {
                    if k > 0 {
                        out.push(with(Token::Period));
                    }
                    out.push(with(Token::Word(Word { value: part.to_ascii_lowercase(), ..w.clone() })));
                }
            }
            Token::Word(w) if w.quote_style == Some('`') => {
                out.push(with(Token::Word(Word { value: w.value.to_ascii_lowercase(), ..w })))
            }
            Token::Word(w) if w.quote_style.is_none() => match typed_literal(&w.value) {
                Some((num, ty)) => {
                    let cast = format!("CAST({num} AS {ty})");
                    for t in Tokenizer::new(&HiveQl, &cast).tokenize()? {
                        out.push(with(t));
                    }
                }
                None => out.push(with(Token::Word(w))),
            },
            // a number with an exponent is a DOUBLE (others with a point are DECIMAL)
            Token::Number(n, _) if n.contains(['e', 'E']) => {
                let cast = format!("CAST({n} AS DOUBLE)");
                for t in Tokenizer::new(&HiveQl, &cast).tokenize()? {
                    out.push(with(t));
                }
            }
            other => out.push(with(other)),
        }
    }
    name_lateral_view_columns(&mut out);
    Ok(out)
}

/// What `LATERAL VIEW f(x) t` without `AS` is given as its column list
/// (the UDTF's own column names are used for it).
pub const DEFAULT_COLUMNS: &str = "__hive_default_columns";

fn is_word(t: &Token, w: &str) -> bool {
    matches!(t, Token::Word(word) if word.quote_style.is_none() && word.value.eq_ignore_ascii_case(w))
}

/// `LATERAL VIEW f(x) t` may end without `AS c1, ...` (the UDTF's column
/// names are then used). sqlparser would take the next word (`ORDER` of
/// `ORDER BY`) for a column name, so an explicit marker list is inserted.
fn name_lateral_view_columns(tokens: &mut Vec<TokenWithSpan>) {
    let significant = |tokens: &[TokenWithSpan], from: usize| -> Option<usize> {
        (from..tokens.len()).find(|&k| !matches!(tokens[k].token, Token::Whitespace(_)))
    };
    let mut i = 0;
    while let Some(k) = significant(tokens, i) {
        i = k + 1;
        if !is_word(&tokens[k].token, "lateral") {
            continue;
        }
        let Some(v) = significant(tokens, k + 1).filter(|&v| is_word(&tokens[v].token, "view")) else { continue };
        let mut at = match significant(tokens, v + 1) {
            Some(o) if is_word(&tokens[o].token, "outer") => significant(tokens, o + 1),
            other => other,
        };
        // the function name, then its parenthesised arguments
        while let Some(n) = at.filter(|&n| matches!(tokens[n].token, Token::Word(_) | Token::Period)) {
            at = significant(tokens, n + 1);
        }
        let Some(open) = at.filter(|&o| tokens[o].token == Token::LParen) else { continue };
        let mut depth = 0usize;
        let mut close = None;
        for (j, t) in tokens.iter().enumerate().skip(open) {
            match t.token {
                Token::LParen => depth += 1,
                Token::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        close = Some(j);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(close) = close else { continue };
        let Some(alias) = significant(tokens, close + 1).filter(|&a| matches!(tokens[a].token, Token::Word(_))) else {
            continue;
        };
        if significant(tokens, alias + 1).is_some_and(|n| is_word(&tokens[n].token, "as")) {
            continue;
        }
        let span = tokens[alias].span;
        let with = |token: Token| TokenWithSpan { token, span };
        let marker = [
            with(Token::Whitespace(datafusion::sql::sqlparser::tokenizer::Whitespace::Space)),
            with(Token::make_keyword("AS")),
            with(Token::Whitespace(datafusion::sql::sqlparser::tokenizer::Whitespace::Space)),
            with(Token::make_word(DEFAULT_COLUMNS, None)),
        ];
        tokens.splice(alias + 1..alias + 1, marker);
        i = alias + 1;
    }
}

/// A parser over the Hive-fixed tokens of `sql`.
pub fn parser(sql: &str) -> Result<Parser<'static>> {
    static DIALECT: HiveQl = HiveQl;
    let tokens = tokenize(sql)?;
    Ok(Parser::new(&DIALECT)
        .with_options(ParserOptions::new().with_unescape(false).with_trailing_commas(false))
        .with_tokens_with_locations(tokens))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_like_hive() {
        assert_eq!(unescape_hive_string(r"\001"), "\u{1}");
        assert_eq!(unescape_hive_string(r"a\tb\n"), "a\tb\n");
        assert_eq!(unescape_hive_string(r"\\s+"), r"\s+");
        assert_eq!(unescape_hive_string(r"it\'s"), "it's");
        assert_eq!(unescape_hive_string(r"\u0041\q"), "Aq");
        assert_eq!(unescape_hive_string(r"100\%"), r"100\%");
    }

    #[test]
    fn tokens_follow_hive_rules() {
        let toks = tokenize("SELECT \"a\\tb\", `MyCol`, 10Y, 1.5BD FROM t").unwrap();
        let texts: Vec<String> = toks.iter().map(|t| t.token.to_string()).filter(|s| !s.trim().is_empty()).collect();
        assert!(texts.contains(&"'a\tb'".to_string()), "{texts:?}");
        assert!(texts.contains(&"`mycol`".to_string()), "{texts:?}");
        assert!(texts.iter().any(|t| t == "TINYINT"), "{texts:?}");
    }
}
