//! `HiveQl`: sqlparser's `HiveDialect` with the switches Hive's grammar needs.
//!
//! It reports itself as `HiveDialect` (so every Hive-only path in sqlparser
//! stays on) and additionally accepts `MAP<K,V>` and `STRUCT<a:T>` types,
//! double-quoted strings (in Hive `"x"` is a string, only backquotes quote
//! identifiers), backslash escapes in literals, `LIMIT o, n`, standard
//! `GROUPING SETS`/`CUBE`/`ROLLUP`, and the `DIV` integer-division operator.

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
