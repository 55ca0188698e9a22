//! The HiveQL front end: scripts are split into statements ([`script`]),
//! tokenized and fixed up with Hive's lexical rules ([`lexer`]), parsed by a
//! Hive dialect of sqlparser plus our own sub-parsers for what sqlparser lacks
//! ([`parser`]), rewritten to DataFusion's SQL where Hive differs
//! ([`rewrite`]) and executed ([`ddl`], [`dml`], [`show`]).

pub mod ast;
pub mod ddl;
pub mod dialect;
pub mod dml;
pub mod grouping;
pub mod lateral_view;
pub mod lexer;
pub mod parser;
pub mod partitions;
pub mod placeholder;
pub mod regex_columns;
pub mod rewrite;
pub mod script;
pub mod show;
pub mod tablesample;
