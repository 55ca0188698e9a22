//! `HiveQl`: sqlparser's `HiveDialect` with the switches Hive's grammar needs.
//!
//! It reports itself as `HiveDialect` (so every Hive-only path in sqlparser
//! stays on) and additionally accepts `MAP<K,V>` and `STRUCT<a:T>` types,
//! double-quoted strings (in Hive `"x"` is a string, only backquotes quote
//! identifiers), backslash escapes in literals, `LIMIT o, n`, standard
//! `GROUPING SETS`/`CUBE`/`ROLLUP`, the `DIV` integer-division operator, and
//! `s [NOT] LIKE ALL (p, ...)` (as `likeall`; `LIKE ANY` is sqlparser's own).

use std::any::TypeId;

use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr};
use datafusion::sql::sqlparser::dialect::{Dialect, HiveDialect, Precedence};
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::Token;

/// The Hive dialect used for every statement.
#[derive(Debug, Default, Clone, Copy)]
pub struct HiveQl;

const HIVE: HiveDialect = HiveDialect {};

fn next_is_div(parser: &Parser) -> bool {
    matches!(&parser.peek_token_ref().token, Token::Word(w) if w.keyword == Keyword::DIV && w.quote_style.is_none())
}

/// `[NOT] LIKE ALL` next (sqlparser knows only `LIKE ANY`): whether negated.
fn next_is_like_all(parser: &Parser) -> Option<bool> {
    let is = |n: usize, k: Keyword| matches!(&parser.peek_nth_token_ref(n).token, Token::Word(w) if w.keyword == k);
    if is(0, Keyword::LIKE) && is(1, Keyword::ALL) {
        Some(false)
    } else if is(0, Keyword::NOT) && is(1, Keyword::LIKE) && is(2, Keyword::ALL) {
        Some(true)
    } else {
        None
    }
}

/// `s [NOT] LIKE ALL (p1, ...)` as Hive's `likeall(s, p1, ...)`.
fn parse_like_all(parser: &mut Parser, expr: &Expr, negated: bool) -> Result<Expr, ParserError> {
    if negated {
        parser.next_token();
    }
    parser.next_token();
    parser.next_token();
    parser.expect_token(&Token::LParen)?;
    let patterns = parser.parse_comma_separated(Parser::parse_expr)?;
    parser.expect_token(&Token::RParen)?;
    let call = super::rewrite::function_call("likeall", std::iter::once(expr.clone()).chain(patterns).collect());
    Ok(if negated {
        Expr::UnaryOp { op: datafusion::sql::sqlparser::ast::UnaryOperator::Not, expr: Box::new(call) }
    } else {
        call
    })
}

impl Dialect for HiveQl {
    fn dialect(&self) -> TypeId {
        TypeId::of::<HiveDialect>()
    }
    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        ch == '`'
    }
    fn is_identifier_start(&self, ch: char) -> bool {
        ch.is_ascii_alphabetic() || ch.is_ascii_digit() || ch == '_' || ch == '$'
    }
    fn is_identifier_part(&self, ch: char) -> bool {
        ch.is_ascii_alphanumeric() || ch == '_' || ch == '$'
    }
    fn supports_filter_during_aggregation(&self) -> bool {
        HIVE.supports_filter_during_aggregation()
    }
    fn supports_numeric_prefix(&self) -> bool {
        HIVE.supports_numeric_prefix()
    }
    fn require_interval_qualifier(&self) -> bool {
        HIVE.require_interval_qualifier()
    }
    fn supports_bang_not_operator(&self) -> bool {
        HIVE.supports_bang_not_operator()
    }
    fn supports_load_data(&self) -> bool {
        HIVE.supports_load_data()
    }
    fn supports_table_sample_before_alias(&self) -> bool {
        HIVE.supports_table_sample_before_alias()
    }
    fn supports_group_by_with_modifier(&self) -> bool {
        HIVE.supports_group_by_with_modifier()
    }
    fn supports_from_first_insert(&self) -> bool {
        HIVE.supports_from_first_insert()
    }
    fn supports_struct_literal(&self) -> bool {
        true
    }
    fn supports_map_literal_with_angle_brackets(&self) -> bool {
        true
    }
    fn supports_string_literal_backslash_escape(&self) -> bool {
        true
    }
    fn supports_limit_comma(&self) -> bool {
        true
    }
    fn supports_group_by_expr(&self) -> bool {
        true
    }
    fn get_next_precedence(&self, parser: &Parser) -> Option<Result<u8, ParserError>> {
        next_is_div(parser).then(|| Ok(self.prec_value(Precedence::MulDivModOp)))
    }
    fn parse_infix(&self, parser: &mut Parser, expr: &Expr, precedence: u8) -> Option<Result<Expr, ParserError>> {
        if let Some(negated) = next_is_like_all(parser) {
            return Some(parse_like_all(parser, expr, negated));
        }
        if !next_is_div(parser) {
            return None;
        }
        parser.next_token();
        Some(parser.parse_subexpr(precedence).map(|right| Expr::BinaryOp {
            left: Box::new(expr.clone()),
            op: BinaryOperator::MyIntegerDivide,
            right: Box::new(right),
        }))
    }
}
