//! Parsing one HiveQL statement into a [`HiveStatement`].
//!
//! Queries, expressions and the statements sqlparser models faithfully
//! (`DROP`, `TRUNCATE`, `LOAD DATA`, `EXPLAIN`) go through sqlparser. Hive's
//! DDL shapes that sqlparser loses or rejects (`CREATE TABLE` with ROW FORMAT
//! / COMMENT / LIKE on external tables, `CREATE DATABASE` options, the
//! `ALTER TABLE` forms, `DESCRIBE`, `SHOW`, `INSERT` with `PARTITION`,
//! `INSERT OVERWRITE DIRECTORY ... ROW FORMAT`, multi-insert) are parsed here
//! with sqlparser's token-level API.

use std::collections::BTreeMap;

use datafusion::sql::sqlparser::ast::{Expr, ObjectType, Query, SetExpr, Statement, Value};
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::{Location, Token};
use hiveql_metastore::{Column, HiveType};

use super::ast::*;
use super::lexer;
use crate::error::{HiveError, Result};

/// Parse one statement (without its `;`).
pub fn parse_statement(sql: &str) -> Result<HiveStatement> {
    let mut p = StatementParser { p: lexer::parser(sql)?, sql };
    let stmt = p.statement()?;
    let _ = p.p.consume_token(&Token::SemiColon);
    if p.p.peek_token().token != Token::EOF {
        return Err(p.expected("end of statement"));
    }
    Ok(stmt)
}

struct StatementParser<'a> {
    p: Parser<'static>,
    sql: &'a str,
}

fn word_is(t: &Token, w: &str) -> bool {
    matches!(t, Token::Word(word) if word.quote_style.is_none() && word.value.eq_ignore_ascii_case(w))
}

impl StatementParser<'_> {
    fn expected(&self, what: &str) -> HiveError {
        let t = self.p.peek_token();
        let found = if t.token == Token::EOF { "end of statement".to_string() } else { t.token.to_string() };
        HiveError::Parse(format!(
            "expected {what}, found {found} at line {}, column {}",
            t.span.start.line, t.span.start.column
        ))
    }

    fn peek_word(&self, w: &str) -> bool {
        word_is(&self.p.peek_token_ref().token, w)
    }

    fn peek_nth_word(&self, n: usize, w: &str) -> bool {
        word_is(&self.p.peek_nth_token(n).token, w)
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if self.peek_word(w) {
            self.p.next_token();
            true
        } else {
            false
        }
    }

    fn expect_word(&mut self, w: &str) -> Result<()> {
        if self.eat_word(w) { Ok(()) } else { Err(self.expected(&w.to_ascii_uppercase())) }
    }

    fn eat_words(&mut self, ws: &[&str]) -> bool {
        if ws.iter().enumerate().all(|(i, w)| self.peek_nth_word(i, w)) {
            for _ in ws {
                self.p.next_token();
            }
            true
        } else {
            false
        }
    }

    fn ident(&mut self) -> Result<String> {
        Ok(self.p.parse_identifier()?.value.to_ascii_lowercase())
    }

    fn string(&mut self) -> Result<String> {
        match self.p.next_token().token {
            Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => Ok(s),
            _ => {
                self.p.prev_token();
                Err(self.expected("a quoted string"))
            }
        }
    }

    fn table_ref(&mut self) -> Result<TableRef> {
        table_ref(&self.p.parse_object_name(false)?)
    }

    fn if_not_exists(&mut self) -> bool {
        self.eat_words(&["if", "not", "exists"])
    }

    fn if_exists(&mut self) -> bool {
        self.eat_words(&["if", "exists"])
    }

    /// `('k'='v', ...)`
    fn properties(&mut self) -> Result<BTreeMap<String, String>> {
        self.p.expect_token(&Token::LParen)?;
        let mut out = BTreeMap::new();
        if self.p.consume_token(&Token::RParen) {
            return Ok(out);
        }
        loop {
            let k = self.string()?;
            self.p.expect_token(&Token::Eq)?;
            let v = self.string()?;
            out.insert(k, v);
            if self.p.consume_token(&Token::RParen) {
                return Ok(out);
            }
            self.p.expect_token(&Token::Comma)?;
        }
    }

    /// A Hive type, read token by token up to the `,` `)` or `COMMENT` that ends it.
    fn hive_type(&mut self) -> Result<String> {
        let start = self.p.peek_token().span.start;
        let mut text = String::new();
        let mut depth = 0i32;
        loop {
            let t = self.p.peek_token().token;
            match &t {
                Token::EOF => break,
                Token::Comma | Token::RParen if depth == 0 => break,
                Token::Word(w) if depth == 0 && w.quote_style.is_none() && w.value.eq_ignore_ascii_case("comment") => {
                    break;
                }
                Token::Lt => depth += 1,
                Token::Gt => depth -= 1,
                Token::ShiftRight => depth -= 2,
                Token::LParen => depth += 1000,
                Token::RParen => depth -= 1000,
                _ => {}
            }
            self.p.next_token();
            match t {
                Token::Word(w) if w.quote_style == Some('`') => text.push_str(&format!("`{}`", w.value)),
                Token::Whitespace(_) => {}
                other => text.push_str(&other.to_string()),
            }
            text.push(' ');
        }
        if text.trim().is_empty() {
            return Err(self.expected("a column type"));
        }
        let parsed = HiveType::parse(text.trim())
            .map_err(|e| HiveError::Parse(format!("{e} (line {}, column {})", start.line, start.column)))?;
        Ok(parsed.to_string())
    }

    /// `(name type [COMMENT 'c'], ...)`
    fn column_list(&mut self) -> Result<Vec<Column>> {
        self.p.expect_token(&Token::LParen)?;
        let mut cols = Vec::new();
        loop {
            let name = self.ident()?;
            let data_type = self.hive_type()?;
            let comment = if self.eat_word("comment") { Some(self.string()?) } else { None };
            cols.push(Column { name, data_type, comment });
            if self.p.consume_token(&Token::RParen) {
                return Ok(cols);
            }
            self.p.expect_token(&Token::Comma)?;
        }
    }

    fn ident_list(&mut self) -> Result<Vec<String>> {
        self.p.expect_token(&Token::LParen)?;
        let mut out = vec![self.ident()?];
        while self.p.consume_token(&Token::Comma) {
            out.push(self.ident()?);
        }
        self.p.expect_token(&Token::RParen)?;
        Ok(out)
    }

    /// A constant in a partition spec, as its text (`NULL` as the default partition).
    fn spec_value(&mut self) -> Result<String> {
        Ok(match self.p.parse_expr()? {
            Expr::Value(v) => match v.value {
                Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => s,
                Value::Number(n, _) => n,
                Value::Null => crate::partition::DEFAULT_PARTITION.to_string(),
                other => other.to_string(),
            },
            Expr::TypedString(t) => match t.value.value {
                Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => s,
                other => other.to_string(),
            },
            Expr::UnaryOp { op, expr } => format!("{op}{expr}"),
            other => return Err(HiveError::Parse(format!("partition value must be a constant, found {other}"))),
        })
    }

    /// `PARTITION (k='v', k2)`
    fn partition_spec(&mut self) -> Result<PartitionSpec> {
        self.p.expect_token(&Token::LParen)?;
        let mut out = Vec::new();
        loop {
            let k = self.ident()?;
            let v = if self.p.consume_token(&Token::Eq) { Some(self.spec_value()?) } else { None };
            out.push((k, v));
            if self.p.consume_token(&Token::RParen) {
                return Ok(out);
            }
            self.p.expect_token(&Token::Comma)?;
        }
    }

    /// `PARTITION (k='v')` where every key has a constant.
    fn static_partition_spec(&mut self) -> Result<PartitionSpec> {
        let spec = self.partition_spec()?;
        if let Some((k, _)) = spec.iter().find(|(_, v)| v.is_none()) {
            return Err(HiveError::Parse(format!("partition column {k} needs a value here: PARTITION ({k}='...')")));
        }
        Ok(spec)
    }

    /// `PARTITION (k op 'v', ...)` with `=`, `<>`/`!=`, `<`, `<=`, `>`, `>=`.
    fn partition_predicates(&mut self) -> Result<Vec<SpecPredicate>> {
        use hiveql_metastore::CompareOp;
        self.p.expect_token(&Token::LParen)?;
        let mut out = Vec::new();
        loop {
            let key = self.ident()?;
            let op = match self.p.next_token().token {
                Token::Eq | Token::DoubleEq => CompareOp::Eq,
                Token::Neq => CompareOp::NotEq,
                Token::Lt => CompareOp::Lt,
                Token::LtEq => CompareOp::LtEq,
                Token::Gt => CompareOp::Gt,
                Token::GtEq => CompareOp::GtEq,
                _ => {
                    self.p.prev_token();
                    return Err(self.expected("a comparison (=, <>, <, <=, >, >=)"));
                }
            };
            out.push(SpecPredicate { key, op, value: self.spec_value()? });
            if self.p.consume_token(&Token::RParen) {
                return Ok(out);
            }
            self.p.expect_token(&Token::Comma)?;
        }
    }

    fn row_format(&mut self) -> Result<RowFormat> {
        if self.eat_word("serde") {
            let class = self.string()?;
            let properties =
                if self.eat_words(&["with", "serdeproperties"]) { self.properties()? } else { BTreeMap::new() };
            return Ok(RowFormat::Serde { class, properties });
        }
        self.expect_word("delimited")?;
        let mut d = DelimitedFormat::default();
        loop {
            if self.eat_words(&["fields", "terminated", "by"]) {
                d.fields = Some(self.string()?);
                if self.eat_words(&["escaped", "by"]) {
                    d.escaped = Some(self.string()?);
                }
            } else if self.eat_words(&["escaped", "by"]) {
                d.escaped = Some(self.string()?);
            } else if self.eat_words(&["collection", "items", "terminated", "by"]) {
                d.collection_items = Some(self.string()?);
            } else if self.eat_words(&["map", "keys", "terminated", "by"]) {
                d.map_keys = Some(self.string()?);
            } else if self.eat_words(&["lines", "terminated", "by"]) {
                d.lines = Some(self.string()?);
            } else if self.eat_words(&["null", "defined", "as"]) {
                d.null_defined_as = Some(self.string()?);
            } else {
                return Ok(RowFormat::Delimited(d));
            }
        }
    }

    fn stored_as(&mut self) -> Result<StoredAs> {
        if self.eat_word("inputformat") {
            let input = self.string()?;
            self.expect_word("outputformat")?;
            let output = self.string()?;
            return Ok(StoredAs::InputOutput { input, output });
        }
        Ok(StoredAs::Format(self.ident()?.to_ascii_uppercase()))
    }

    /// Byte offset in the statement text of a token location.
    fn offset(&self, loc: Location) -> usize {
        let mut line = 1u64;
        let mut col = 1u64;
        for (i, ch) in self.sql.char_indices() {
            if line == loc.line && col == loc.column {
                return i;
            }
            if ch == '\n' {
                line += 1;
                col = 1;
            } else {
                col += 1;
            }
        }
        self.sql.len()
    }

    fn statement(&mut self) -> Result<HiveStatement> {
        if self.eat_word("create") {
            return self.create();
        }
        if self.peek_word("alter") && self.peek_nth_word(1, "table") {
            self.p.next_token();
            self.p.next_token();
            return self.alter_table();
        }
        if self.eat_word("describe") || self.eat_word("desc") {
            return self.describe();
        }
        if self.eat_word("show") {
            return self.show();
        }
        if self.eat_word("use") {
            return Ok(HiveStatement::Use(self.ident()?));
        }
        if self.peek_word("with") {
            return self.with_statement();
        }
        if self.peek_word("insert") {
            let mut out = Vec::new();
            while self.peek_word("insert") {
                let target = self.insert_target()?;
                let query = self.p.parse_query()?;
                out.push((target, query));
            }
            return Ok(HiveStatement::Insert(out));
        }
        if self.peek_word("from") && !self.peek_nth_word(1, "(") {
            return self.multi_insert();
        }
        if self.peek_word("drop") && (self.peek_nth_word(1, "database") || self.peek_nth_word(1, "schema")) {
            self.p.next_token();
            self.p.next_token();
            let if_exists = self.if_exists();
            let name = self.ident()?;
            let cascade = self.eat_word("cascade");
            if !cascade {
                self.eat_word("restrict");
            }
            return Ok(HiveStatement::DropDatabase { name, if_exists, cascade });
        }
        if self.eat_word("msck") {
            self.eat_word("repair");
            self.expect_word("table")?;
            let table = self.table_ref()?;
            let (add, drop) = if self.eat_words(&["add", "partitions"]) {
                (true, false)
            } else if self.eat_words(&["drop", "partitions"]) {
                (false, true)
            } else if self.eat_words(&["sync", "partitions"]) {
                (true, true)
            } else {
                (true, false)
            };
            return Ok(HiveStatement::Msck { table, add, drop });
        }
        if self.peek_word("truncate") {
            self.p.next_token();
            self.eat_word("table");
            let table = self.table_ref()?;
            let partition = if self.eat_word("partition") { Some(self.static_partition_spec()?) } else { None };
            return Ok(HiveStatement::Truncate { table, partition });
        }
        if self.peek_word("analyze") {
            let text = self.sql.to_string();
            while self.p.next_token().token != Token::EOF {}
            return Ok(HiveStatement::NoOp(text));
        }
        let stmt = self.p.parse_statement()?;
        self.convert_statement(stmt)
    }

    fn convert_statement(&mut self, stmt: Statement) -> Result<HiveStatement> {
        Ok(match stmt {
            Statement::Query(q) => HiveStatement::Query(q),
            Statement::Explain { statement, analyze, verbose, .. } => match *statement {
                Statement::Query(q) => HiveStatement::Explain { analyze, verbose, query: q },
                other => return Err(HiveError::Unsupported(format!("EXPLAIN of {other}"))),
            },
            Statement::Drop { object_type, if_exists, names, purge, .. } => {
                let view = match object_type {
                    ObjectType::Table => false,
                    ObjectType::View => true,
                    other => return Err(HiveError::Unsupported(format!("DROP {other}"))),
                };
                if names.len() != 1 {
                    return Err(HiveError::Parse("DROP takes one name".into()));
                }
                HiveStatement::DropTable { name: table_ref(&names[0])?, if_exists, purge, view }
            }
            Statement::LoadData { local, inpath, overwrite, table_name, partitioned, .. } => {
                let partition = match partitioned {
                    None => Vec::new(),
                    Some(exprs) => exprs
                        .iter()
                        .map(|e| match e {
                            Expr::BinaryOp { left, right, .. } => Ok((
                                left.to_string().trim_matches('`').to_ascii_lowercase(),
                                Some(match right.as_ref() {
                                    Expr::Value(v) => match &v.value {
                                        Value::SingleQuotedString(s) => s.clone(),
                                        other => other.to_string(),
                                    },
                                    other => other.to_string(),
                                }),
                            )),
                            other => Err(HiveError::Parse(format!("bad partition spec {other}"))),
                        })
                        .collect::<Result<_>>()?,
                };
                HiveStatement::LoadData { local, path: inpath, overwrite, table: table_ref(&table_name)?, partition }
            }
            Statement::CreateFunction(_) | Statement::DropFunction(_) | Statement::Analyze(_) => {
                HiveStatement::NoOp(stmt.to_string())
            }
            other => {
                let kind = other.to_string();
                let kind: String = kind.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
                return Err(HiveError::Unsupported(format!("statement '{kind} ...' is not supported by hiveql")));
            }
        })
    }

    fn create(&mut self) -> Result<HiveStatement> {
        if self.eat_word("database") || self.eat_word("schema") {
            let if_not_exists = self.if_not_exists();
            let name = self.ident()?;
            let (mut comment, mut location, mut properties) = (None, None, BTreeMap::new());
            loop {
                if self.eat_word("comment") {
                    comment = Some(self.string()?);
                } else if self.eat_word("location") || self.eat_word("managedlocation") {
                    location = Some(self.string()?);
                } else if self.eat_words(&["with", "dbproperties"]) {
                    properties = self.properties()?;
                } else {
                    break;
                }
            }
            return Ok(HiveStatement::CreateDatabase { name, if_not_exists, comment, location, properties });
        }
        let or_replace = self.eat_words(&["or", "replace"]);
        if self.eat_word("view") {
            return self.create_view(or_replace);
        }
        let temporary = self.eat_word("temporary") || self.eat_word("temp");
        let mut ct = CreateTable { temporary, external: self.eat_word("external"), ..Default::default() };
        if !self.eat_word("table") {
            if self.eat_word("function") || self.eat_words(&["temporary", "function"]) {
                let text = self.sql.to_string();
                while self.p.next_token().token != Token::EOF {}
                return Ok(HiveStatement::NoOp(text));
            }
            return Err(self.expected("TABLE, VIEW or DATABASE after CREATE"));
        }
        ct.if_not_exists = self.if_not_exists();
        ct.name = Some(self.table_ref()?);
        if self.eat_word("like") {
            ct.like = Some(self.table_ref()?);
        } else if self.p.peek_token().token == Token::LParen {
            ct.columns = self.column_list()?;
        }
        loop {
            if self.eat_word("comment") {
                ct.comment = Some(self.string()?);
            } else if self.eat_words(&["partitioned", "by"]) {
                // Hive 4's CTAS names its partition columns without types.
                let names_only = matches!(self.p.peek_nth_token(2).token, Token::Comma | Token::RParen);
                ct.partition_columns = if names_only {
                    self.ident_list()?.into_iter().map(|n| Column::new(n, "")).collect()
                } else {
                    self.column_list()?
                };
            } else if self.eat_words(&["clustered", "by"]) {
                let columns = self.ident_list()?;
                let mut sorted_by = Vec::new();
                if self.eat_words(&["sorted", "by"]) {
                    self.p.expect_token(&Token::LParen)?;
                    loop {
                        let c = self.ident()?;
                        let asc = if self.eat_word("desc") {
                            false
                        } else {
                            self.eat_word("asc");
                            true
                        };
                        sorted_by.push((c, asc));
                        if self.p.consume_token(&Token::RParen) {
                            break;
                        }
                        self.p.expect_token(&Token::Comma)?;
                    }
                }
                self.expect_word("into")?;
                let buckets = self.p.parse_literal_uint()? as u32;
                self.expect_word("buckets")?;
                if buckets == 0 {
                    return Err(HiveError::Parse("number of buckets must be positive".into()));
                }
                ct.bucketing = Some(Bucketing { columns, sorted_by, buckets });
            } else if self.peek_word("skewed") {
                return Err(HiveError::Unsupported("SKEWED BY tables".into()));
            } else if self.eat_words(&["row", "format"]) {
                ct.row_format = Some(self.row_format()?);
            } else if self.eat_words(&["stored", "as"]) {
                ct.stored_as = Some(self.stored_as()?);
            } else if self.eat_word("location") {
                ct.location = Some(self.string()?);
            } else if self.eat_word("tblproperties") {
                ct.properties = self.properties()?;
            } else if self.eat_word("as") {
                ct.query = Some(self.p.parse_query()?);
            } else {
                break;
            }
        }
        let typed_keys = ct.partition_columns.iter().any(|c| !c.data_type.is_empty());
        if ct.query.is_some() && (ct.external || !ct.columns.is_empty() || typed_keys) {
            return Err(HiveError::Parse(
                "CREATE TABLE AS SELECT takes neither a column list, typed PARTITIONED BY columns (name them only: PARTITIONED BY (k)), nor EXTERNAL".into(),
            ));
        }
        if ct.query.is_none() && ct.partition_columns.iter().any(|c| c.data_type.is_empty()) {
            return Err(
                self.expected("a type for each PARTITIONED BY column (names alone are for CREATE TABLE ... AS SELECT)")
            );
        }
        if ct.query.is_none() && ct.like.is_none() && ct.columns.is_empty() {
            return Err(self.expected("a column list, LIKE or AS SELECT"));
        }
        Ok(HiveStatement::CreateTable(Box::new(ct)))
    }

    fn create_view(&mut self, or_replace: bool) -> Result<HiveStatement> {
        let if_not_exists = self.if_not_exists();
        let name = self.table_ref()?;
        let mut columns = Vec::new();
        if self.p.consume_token(&Token::LParen) {
            loop {
                let c = self.ident()?;
                let comment = if self.eat_word("comment") { Some(self.string()?) } else { None };
                columns.push((c, comment));
                if self.p.consume_token(&Token::RParen) {
                    break;
                }
                self.p.expect_token(&Token::Comma)?;
            }
        }
        let mut comment = None;
        let mut properties = BTreeMap::new();
        loop {
            if self.eat_word("comment") {
                comment = Some(self.string()?);
            } else if self.eat_word("tblproperties") {
                properties = self.properties()?;
            } else {
                break;
            }
        }
        self.expect_word("as")?;
        let start = self.offset(self.p.peek_token().span.start);
        let query = self.p.parse_query()?;
        let text = self.sql[start..].trim().trim_end_matches(';').trim().to_string();
        Ok(HiveStatement::CreateView(Box::new(CreateView {
            name,
            if_not_exists,
            or_replace,
            columns,
            comment,
            properties,
            text,
            query,
        })))
    }

    /// The `ALTER TABLE` forms a table and a partition share: `SET LOCATION`,
    /// `SET FILEFORMAT`, `SET SERDE 'cls' [WITH SERDEPROPERTIES]`, `SET SERDEPROPERTIES`.
    fn storage_change(&mut self) -> Result<Option<AlterTable>> {
        Ok(Some(if self.eat_words(&["set", "location"]) {
            AlterTable::SetLocation(self.string()?)
        } else if self.eat_words(&["set", "fileformat"]) {
            AlterTable::SetFileFormat(self.stored_as()?)
        } else if self.eat_words(&["set", "serdeproperties"]) {
            AlterTable::SetSerdeProperties { class: None, properties: self.properties()? }
        } else if self.eat_words(&["set", "serde"]) {
            let class = self.string()?;
            let properties =
                if self.eat_words(&["with", "serdeproperties"]) { self.properties()? } else { BTreeMap::new() };
            AlterTable::SetSerdeProperties { class: Some(class), properties }
        } else {
            return Ok(None);
        }))
    }

    fn alter_table(&mut self) -> Result<HiveStatement> {
        let name = self.table_ref()?;
        let op = if self.eat_words(&["rename", "to"]) {
            AlterTable::RenameTo(self.table_ref()?)
        } else if self.eat_words(&["add", "columns"]) {
            AlterTable::AddColumns(self.column_list()?)
        } else if self.eat_words(&["replace", "columns"]) {
            AlterTable::ReplaceColumns(self.column_list()?)
        } else if self.eat_words(&["set", "tblproperties"]) {
            AlterTable::SetProperties(self.properties()?)
        } else if self.eat_words(&["unset", "tblproperties"]) {
            self.if_exists();
            self.p.expect_token(&Token::LParen)?;
            let mut keys = vec![self.string()?];
            while self.p.consume_token(&Token::Comma) {
                keys.push(self.string()?);
            }
            self.p.expect_token(&Token::RParen)?;
            AlterTable::UnsetProperties(keys)
        } else if let Some(op) = self.storage_change()? {
            op
        } else if self.eat_word("add") {
            let if_not_exists = self.if_not_exists();
            let mut partitions = Vec::new();
            while self.eat_word("partition") {
                let spec = self.static_partition_spec()?;
                let location = if self.eat_word("location") { Some(self.string()?) } else { None };
                partitions.push((spec, location));
            }
            if partitions.is_empty() {
                return Err(self.expected("PARTITION or COLUMNS after ADD"));
            }
            AlterTable::AddPartitions { if_not_exists, partitions }
        } else if self.eat_word("drop") {
            let if_exists = self.if_exists();
            let mut specs = Vec::new();
            loop {
                self.expect_word("partition")?;
                specs.push(self.partition_predicates()?);
                if !self.p.consume_token(&Token::Comma) {
                    break;
                }
            }
            self.eat_word("purge");
            self.eat_words(&["ignore", "protection"]);
            AlterTable::DropPartitions { if_exists, specs }
        } else if self.eat_word("partition") {
            let spec = self.static_partition_spec()?;
            if self.eat_words(&["rename", "to", "partition"]) {
                AlterTable::RenamePartition { from: spec, to: self.static_partition_spec()? }
            } else {
                let Some(op) = self.storage_change()? else {
                    return Err(HiveError::Unsupported(format!(
                        "ALTER TABLE ... PARTITION form at '{}' (supported: RENAME TO PARTITION, SET LOCATION, SET FILEFORMAT, SET SERDE[PROPERTIES])",
                        self.p.peek_token().token
                    )));
                };
                AlterTable::AlterPartition { spec, op: Box::new(op) }
            }
        } else {
            return Err(HiveError::Unsupported(format!(
                "ALTER TABLE form at '{}' (supported: RENAME TO, ADD/REPLACE COLUMNS, SET/UNSET TBLPROPERTIES, SET LOCATION, SET SERDE[PROPERTIES], SET FILEFORMAT, ADD/DROP PARTITION, PARTITION ...)",
                self.p.peek_token().token
            )));
        };
        Ok(HiveStatement::AlterTable { name, op })
    }

    fn describe(&mut self) -> Result<HiveStatement> {
        if self.eat_word("database") || self.eat_word("schema") {
            let extended = self.eat_word("extended");
            return Ok(HiveStatement::DescribeDatabase { name: self.ident()?, extended });
        }
        if self.eat_word("function") {
            let extended = self.eat_word("extended");
            return Ok(HiveStatement::DescribeFunction { name: self.ident()?, extended });
        }
        let style = if self.eat_word("extended") {
            DescribeStyle::Extended
        } else if self.eat_word("formatted") {
            DescribeStyle::Formatted
        } else {
            DescribeStyle::Plain
        };
        let table = self.table_ref()?;
        let partition = if self.eat_word("partition") { Some(self.static_partition_spec()?) } else { None };
        Ok(HiveStatement::Describe { table, style, partition })
    }

    fn like_pattern(&mut self) -> Result<Option<String>> {
        if self.eat_word("like") {
            return Ok(Some(self.string()?));
        }
        if matches!(self.p.peek_token().token, Token::SingleQuotedString(_)) {
            return Ok(Some(self.string()?));
        }
        Ok(None)
    }

    fn show(&mut self) -> Result<HiveStatement> {
        let show = if self.eat_word("databases") || self.eat_word("schemas") {
            Show::Databases { like: self.like_pattern()? }
        } else if self.peek_word("tables") || self.peek_word("views") {
            let views = self.peek_word("views");
            self.p.next_token();
            let database = if self.eat_word("in") || self.eat_word("from") { Some(self.ident()?) } else { None };
            let like = self.like_pattern()?;
            if views { Show::Views { database, like } } else { Show::Tables { database, like } }
        } else if self.eat_words(&["create", "table"]) {
            Show::CreateTable(self.table_ref()?)
        } else if self.eat_word("tblproperties") {
            let table = self.table_ref()?;
            let key = if self.p.consume_token(&Token::LParen) {
                let k = self.string()?;
                self.p.expect_token(&Token::RParen)?;
                Some(k)
            } else {
                None
            };
            Show::TblProperties { table, key }
        } else if self.eat_word("columns") {
            if !(self.eat_word("in") || self.eat_word("from")) {
                return Err(self.expected("IN or FROM"));
            }
            let mut table = self.table_ref()?;
            if self.eat_word("in") || self.eat_word("from") {
                table.database = Some(self.ident()?);
            }
            Show::Columns(table)
        } else if self.eat_word("partitions") {
            let table = self.table_ref()?;
            let spec = if self.eat_word("partition") { self.partition_predicates()? } else { Vec::new() };
            Show::Partitions(table, spec)
        } else if self.eat_word("functions") {
            Show::Functions { like: self.like_pattern()? }
        } else if self.eat_words(&["current", "database"]) || self.eat_words(&["current", "schema"]) {
            Show::CurrentDatabase
        } else {
            return Err(HiveError::Unsupported(format!("SHOW {}", self.p.peek_token().token)));
        };
        Ok(HiveStatement::Show(show))
    }

    /// `INSERT (INTO|OVERWRITE) [TABLE] t [PARTITION (...)] [IF NOT EXISTS] [(cols)]`
    /// or `INSERT OVERWRITE [LOCAL] DIRECTORY 'p' [ROW FORMAT ...] [STORED AS ...]`.
    fn insert_target(&mut self) -> Result<InsertInto> {
        self.expect_word("insert")?;
        let overwrite = if self.eat_word("overwrite") {
            true
        } else {
            self.expect_word("into")?;
            false
        };
        let local = self.eat_word("local");
        if self.eat_word("directory") {
            if !overwrite {
                return Err(HiveError::Parse(
                    "INSERT INTO DIRECTORY is not HiveQL; use INSERT OVERWRITE DIRECTORY".into(),
                ));
            }
            let path = self.string()?;
            let mut d = DirectoryTarget { path, local, row_format: None, stored_as: None };
            loop {
                if self.eat_words(&["row", "format"]) {
                    d.row_format = Some(self.row_format()?);
                } else if self.eat_words(&["stored", "as"]) {
                    d.stored_as = Some(self.stored_as()?);
                } else {
                    break;
                }
            }
            return Ok(InsertInto::Directory(d));
        }
        if local {
            return Err(self.expected("DIRECTORY after LOCAL"));
        }
        self.eat_word("table");
        let table = self.table_ref()?;
        let partition = if self.eat_word("partition") { self.partition_spec()? } else { Vec::new() };
        let if_not_exists = self.if_not_exists();
        let mut columns = Vec::new();
        if self.p.peek_token().token == Token::LParen
            && !matches!(self.p.peek_nth_token(1).token, Token::Word(ref w) if w.keyword == Keyword::SELECT || w.keyword == Keyword::WITH)
        {
            columns = self.ident_list()?;
        }
        Ok(InsertInto::Table(InsertTarget { table, overwrite, partition, columns, if_not_exists }))
    }

    /// `WITH ... SELECT`, and Hive's `WITH ... INSERT ...` and `WITH ...
    /// FROM ... INSERT ...`: the CTEs are given to every query.
    fn with_statement(&mut self) -> Result<HiveStatement> {
        self.expect_word("with")?;
        let recursive = self.eat_word("recursive");
        let cte_tables = self.p.parse_comma_separated(Parser::parse_cte)?;
        let with = datafusion::sql::sqlparser::ast::With {
            with_token: datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken::empty(),
            recursive,
            cte_tables,
        };
        let mut stmt = if self.peek_word("insert") || self.peek_word("from") {
            self.statement()?
        } else {
            HiveStatement::Query(self.p.parse_query()?)
        };
        match &mut stmt {
            HiveStatement::Query(q) => q.with = Some(with),
            HiveStatement::Insert(inserts) => {
                for (_, q) in inserts.iter_mut() {
                    q.with = Some(with.clone());
                }
            }
            _ => return Err(HiveError::Parse("WITH must be followed by SELECT, INSERT or FROM".into())),
        }
        Ok(stmt)
    }

    /// `FROM src INSERT ... SELECT ... [INSERT ... SELECT ...]`: each SELECT
    /// gets the shared FROM clause; `FROM src SELECT ...` is a query.
    fn multi_insert(&mut self) -> Result<HiveStatement> {
        self.expect_word("from")?;
        // The FROM clause ends at the first top-level INSERT; parse it on its
        // own so INSERT is not taken for a table alias.
        let mut tokens = Vec::new();
        let mut depth = 0i32;
        loop {
            let t = self.p.peek_token();
            match &t.token {
                Token::EOF => break,
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                tok if depth == 0 && (word_is(tok, "insert") || word_is(tok, "select")) => break,
                _ => {}
            }
            tokens.push(self.p.next_token());
        }
        let mut sub = Parser::new(&super::dialect::HiveQl).with_tokens_with_locations(tokens);
        let mut from = vec![sub.parse_table_and_joins()?];
        while sub.consume_token(&Token::Comma) {
            from.push(sub.parse_table_and_joins()?);
        }
        if sub.peek_token().token != Token::EOF {
            return Err(HiveError::Parse(format!(
                "unexpected {} in the FROM clause of a multi-insert",
                sub.peek_token().token
            )));
        }
        if self.peek_word("select") {
            // FROM-first query: `FROM t SELECT ...`
            let mut query: Box<Query> = self.p.parse_query()?;
            match query.body.as_mut() {
                SetExpr::Select(s) if s.from.is_empty() => s.from = from,
                _ => return Err(HiveError::Parse("a FROM-first query takes a SELECT without FROM".into())),
            }
            return Ok(HiveStatement::Query(query));
        }
        let mut out = Vec::new();
        while self.peek_word("insert") {
            let target = self.insert_target()?;
            let mut query: Box<Query> = self.p.parse_query()?;
            match query.body.as_mut() {
                SetExpr::Select(s) if s.from.is_empty() => s.from = from.clone(),
                _ => return Err(HiveError::Parse("each INSERT of a multi-insert takes a SELECT without FROM".into())),
            }
            out.push((target, query));
        }
        if out.is_empty() {
            return Err(self.expected("INSERT after FROM"));
        }
        Ok(HiveStatement::Insert(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(sql: &str) -> CreateTable {
        match parse_statement(sql).unwrap() {
            HiveStatement::CreateTable(c) => *c,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parses_external_delimited_table() {
        let c = create(
            "CREATE EXTERNAL TABLE IF NOT EXISTS db.t (id INT COMMENT 'the id', tags ARRAY<STRING>, m MAP<STRING,ARRAY<INT>>, s STRUCT<a:INT, b:DECIMAL(10,2)>)
             COMMENT 'raw' PARTITIONED BY (dt STRING)
             ROW FORMAT DELIMITED FIELDS TERMINATED BY '\\001' ESCAPED BY '\\\\' COLLECTION ITEMS TERMINATED BY '|' NULL DEFINED AS ''
             STORED AS TEXTFILE LOCATION '/data/t' TBLPROPERTIES ('skip.header.line.count'='1')",
        );
        assert!(c.external && c.if_not_exists);
        assert_eq!(c.name.unwrap().to_string(), "db.t");
        assert_eq!(c.columns[0].comment.as_deref(), Some("the id"));
        assert_eq!(c.columns[2].data_type, "map<string,array<int>>");
        assert_eq!(c.columns[3].data_type, "struct<a:int,b:decimal(10,2)>");
        assert_eq!(c.comment.as_deref(), Some("raw"));
        assert_eq!(c.partition_columns[0].name, "dt");
        let RowFormat::Delimited(d) = c.row_format.unwrap() else { panic!() };
        assert_eq!(d.fields.as_deref(), Some("\u{1}"));
        assert_eq!(d.escaped.as_deref(), Some("\\"));
        assert_eq!(d.null_defined_as.as_deref(), Some(""));
        assert_eq!(c.location.as_deref(), Some("/data/t"));
        assert_eq!(c.properties["skip.header.line.count"], "1");
    }

    #[test]
    fn parses_serde_ctas_like_and_database() {
        let c = create(
            "CREATE TABLE t ROW FORMAT SERDE \"org.x.Y\" WITH SERDEPROPERTIES (\"input.regex\" = \"(\\\\S+) (.*)\") STORED AS TEXTFILE AS SELECT 1",
        );
        let RowFormat::Serde { class, properties } = c.row_format.unwrap() else { panic!() };
        assert_eq!(class, "org.x.Y");
        assert_eq!(properties["input.regex"], "(\\S+) (.*)");
        assert!(c.query.is_some());
        assert_eq!(create("CREATE EXTERNAL TABLE t2 LIKE t LOCATION '/x'").like.unwrap().name, "t");
        match parse_statement("CREATE DATABASE IF NOT EXISTS d COMMENT 'c' LOCATION '/w' WITH DBPROPERTIES ('a'='b')")
            .unwrap()
        {
            HiveStatement::CreateDatabase { name, if_not_exists, comment, location, properties } => {
                assert_eq!(
                    (name.as_str(), if_not_exists, comment.as_deref(), location.as_deref()),
                    ("d", true, Some("c"), Some("/w"))
                );
                assert_eq!(properties["a"], "b");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parses_inserts() {
        match parse_statement("FROM src s INSERT OVERWRITE TABLE a SELECT s.x WHERE s.y > 1 INSERT INTO TABLE b PARTITION (dt='1') SELECT s.y").unwrap() {
            HiveStatement::Insert(v) => {
                assert_eq!(v.len(), 2);
                let InsertInto::Table(t) = &v[1].0 else { panic!() };
                assert_eq!(t.partition, vec![("dt".to_string(), Some("1".to_string()))]);
            }
            other => panic!("{other:?}"),
        }
        match parse_statement(
            "INSERT OVERWRITE LOCAL DIRECTORY '/tmp/o' ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' SELECT * FROM t",
        )
        .unwrap()
        {
            HiveStatement::Insert(v) => {
                assert!(matches!(&v[0].0, InsertInto::Directory(d) if d.local && d.row_format.is_some()))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_statement("INSERT INTO t VALUES (1, 'a'), (2, 'b')").unwrap(),
            HiveStatement::Insert(_)
        ));
        assert!(matches!(parse_statement("INSERT INTO t (a, b) SELECT 1, 2").unwrap(), HiveStatement::Insert(_)));
    }

    #[test]
    fn reports_position_of_errors() {
        let e = parse_statement("CREATE TABLE t (a INT,, b INT)").unwrap_err().to_string();
        assert!(e.contains("Line: 1, Column: 23"), "{e}");
        let e = parse_statement("CREATE TABLE t (a INTEGR)").unwrap_err().to_string();
        assert!(e.contains("unknown type 'integr'"), "{e}");
        assert!(parse_statement("SELECT a DIV 2 FROM t").is_ok());
    }
}
