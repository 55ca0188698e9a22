//! `SHOW` and `DESCRIBE`: the metastore's view of databases and tables,
//! printed as Hive prints it. `SHOW CREATE TABLE` prints DDL from the
//! metastore model (never from the parser's AST), in a form hiveql and Hive
//! both accept.

use std::fmt::Write;

use hiveql_metastore::{Column, StorageDescriptor, Table, TableType};

use super::ast::{DescribeStyle, PartitionSpec, Show, TableRef};
use crate::error::{Result, semantic};
use crate::partition::DEFAULT_PARTITION;
use crate::session::{Session, StatementOutput, string_rows};

/// Hive's `SHOW ... LIKE` patterns: `*` any text, `|` alternatives, case-insensitive.
pub fn like_matches(pattern: &str, name: &str) -> bool {
    pattern.split('|').any(|alt| {
        let re = format!("^{}$", regex::escape(alt.trim()).replace("\\*", ".*").replace('%', ".*"));
        regex::RegexBuilder::new(&re).case_insensitive(true).build().is_ok_and(|r| r.is_match(name))
    })
}

/// Quote a string for DDL, escaping what Hive's unescaping turns back.
pub fn quote(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

fn column_rows(cols: &[Column]) -> Vec<Vec<Option<String>>> {
    cols.iter()
        .map(|c| vec![Some(c.name.clone()), Some(c.data_type.clone()), Some(c.comment.clone().unwrap_or_default())])
        .collect()
}

fn fmt_time(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|d| d.format("%a %b %d %H:%M:%S UTC %Y").to_string())
        .unwrap_or_default()
}

impl Session {
    pub(crate) fn show(&self, show: Show) -> Result<StatementOutput> {
        let one_col = |name: &str, mut items: Vec<String>, like: &Option<String>| {
            if let Some(p) = like {
                items.retain(|i| like_matches(p, i));
            }
            string_rows(&[name], items.into_iter().map(|i| vec![Some(i)]).collect())
        };
        Ok(match show {
            Show::Databases { like } => one_col("database_name", self.metastore.list_databases()?, &like),
            Show::Tables { database, like } => {
                let db = database.unwrap_or_else(|| self.current_db.clone());
                if self.metastore.get_database(&db)?.is_none() {
                    return Err(semantic(format!("Database does not exist: {db}")));
                }
                one_col("tab_name", self.metastore.list_tables(&db)?, &like)
            }
            Show::Views { database, like } => {
                let db = database.unwrap_or_else(|| self.current_db.clone());
                let mut views = Vec::new();
                for t in self.metastore.list_tables(&db)? {
                    if self.metastore.get_table(&db, &t)?.is_some_and(|t| t.table_type == TableType::View) {
                        views.push(t);
                    }
                }
                one_col("tab_name", views, &like)
            }
            Show::CreateTable(t) => {
                let table = self.get_table(&t)?;
                string_rows(
                    &["createtab_stmt"],
                    show_create_table(&table).lines().map(|l| vec![Some(l.to_string())]).collect(),
                )
            }
            Show::TblProperties { table, key } => {
                let t = self.get_table(&table)?;
                let rows =
                    match key {
                        Some(k) => vec![vec![
                            Some(k.clone()),
                            Some(t.properties.get(&k).cloned().unwrap_or_else(|| {
                                format!("Table {} does not have property: {k}", t.qualified_name())
                            })),
                        ]],
                        None => t.properties.iter().map(|(k, v)| vec![Some(k.clone()), Some(v.clone())]).collect(),
                    };
                string_rows(&["prpt_name", "prpt_value"], rows)
            }
            Show::Columns(t) => {
                let t = self.get_table(&t)?;
                one_col("field", t.columns.iter().chain(&t.partition_keys).map(|c| c.name.clone()).collect(), &None)
            }
            Show::Partitions(t, spec) => {
                let t = self.get_table(&t)?;
                return self.show_partitions(&t, &spec);
            }
            Show::Functions { like } => {
                let state = self.state();
                let mut names: Vec<String> = state.scalar_functions().keys().cloned().collect();
                names.extend(state.aggregate_functions().keys().cloned());
                names.extend(state.window_functions().keys().cloned());
                names.extend(crate::functions::udtf::UDTFS.iter().map(|s| s.to_string()));
                names.extend(super::rewrite::rewritten_function_names().map(str::to_string));
                // internal helpers are not the user's to call
                names.retain(|n| !n.starts_with("__"));
                names.sort();
                names.dedup();
                one_col("tab_name", names, &like)
            }
            Show::CurrentDatabase => string_rows(&["database_name"], vec![vec![Some(self.current_db.clone())]]),
        })
    }

    /// `DESCRIBE FUNCTION [EXTENDED] f`: its usage, and with EXTENDED its
    /// other names and where its semantics come from.
    pub(crate) fn describe_function(&self, name: &str, extended: bool) -> Result<StatementOutput> {
        let state = self.state();
        let lower = name.to_ascii_lowercase();
        let mut lines = Vec::new();
        if let Some(f) = state.scalar_functions().get(&lower) {
            let hive = (f.inner().as_ref() as &dyn std::any::Any).downcast_ref::<crate::functions::udf::HiveScalar>();
            match hive {
                Some(h) => lines.push(h.usage()),
                None => lines.push(datafusion_usage(&lower, f.documentation())),
            }
            if extended {
                if !f.aliases().is_empty() {
                    lines.push(format!("Synonyms: {}", f.aliases().join(", ")));
                }
                lines.push(if hive.is_some() {
                    "Function type: hiveql built-in with Hive's semantics".to_string()
                } else {
                    "Function type: DataFusion built-in (the same as Hive's)".to_string()
                });
            }
        } else if let Some(f) = state.aggregate_functions().get(&lower) {
            lines.push(datafusion_usage(&lower, f.documentation()));
            if extended {
                lines.push("Function type: aggregate".to_string());
            }
        } else if let Some(f) = state.window_functions().get(&lower) {
            lines.push(datafusion_usage(&lower, f.documentation()));
            if extended {
                lines.push("Function type: window".to_string());
            }
        } else if crate::functions::udtf::is_udtf(&lower) {
            lines.push(format!(
                "{lower}(...) - a table-generating function: LATERAL VIEW [OUTER] {lower}(...) t AS c1, ..."
            ));
        } else if let Some(df) = super::rewrite::rewritten_target(&lower) {
            lines.push(format!("{lower}(...) - Hive's name for {df}(...)"));
        } else {
            lines.push(format!("Function '{name}' does not exist."));
        }
        Ok(string_rows(&["tab_name"], lines.into_iter().map(|l| vec![Some(l)]).collect()))
    }

    pub(crate) fn describe_database(&self, name: &str, extended: bool) -> Result<StatementOutput> {
        let d =
            self.metastore.get_database(name)?.ok_or_else(|| semantic(format!("Database does not exist: {name}")))?;
        let params = if extended && !d.properties.is_empty() {
            format!("{{{}}}", d.properties.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", "))
        } else {
            String::new()
        };
        Ok(string_rows(
            &["db_name", "comment", "location", "owner_name", "owner_type", "parameters"],
            vec![vec![Some(d.name), d.comment, Some(d.location), d.owner, Some("USER".into()), Some(params)]],
        ))
    }

    pub(crate) fn describe(
        &self,
        t: &TableRef,
        style: DescribeStyle,
        partition: Option<&PartitionSpec>,
    ) -> Result<StatementOutput> {
        let table = self.get_table(t)?;
        let partition = match partition {
            None => None,
            Some(spec_items) => {
                let values = crate::partition::spec::full_values(&table, spec_items)?;
                Some(self.metastore.get_partition(&table.database, &table.name, &values)?.ok_or_else(|| {
                    semantic(format!(
                        "Partition not found: {} of {}",
                        super::partitions::partition_name(&table, &values),
                        table.qualified_name()
                    ))
                })?)
            }
        };
        let mut rows = Vec::new();
        let blank = || vec![Some(String::new()), Some(String::new()), Some(String::new())];
        let kv = |k: &str, v: String| vec![Some(k.to_string()), Some(v), Some(String::new())];
        if style == DescribeStyle::Formatted {
            rows.push(vec![Some("# col_name".into()), Some("data_type".into()), Some("comment".into())]);
        }
        rows.extend(column_rows(&table.columns));
        rows.extend(column_rows(&table.partition_keys));
        if !table.partition_keys.is_empty() {
            rows.push(blank());
            rows.push(kv("# Partition Information", String::new()));
            rows.push(vec![Some("# col_name".into()), Some("data_type".into()), Some("comment".into())]);
            rows.extend(column_rows(&table.partition_keys));
        }
        match (style, &partition) {
            (DescribeStyle::Plain, _) => {}
            (DescribeStyle::Extended, _) => {
                rows.push(blank());
                rows.push(vec![
                    Some("Detailed Table Information".into()),
                    Some(format!("{table:?}")),
                    Some(String::new()),
                ]);
            }
            (DescribeStyle::Formatted, Some(p)) => {
                rows.push(blank());
                rows.push(kv("# Detailed Partition Information", String::new()));
                let values: Vec<&str> = p.values.iter().map(|v| v.as_deref().unwrap_or(DEFAULT_PARTITION)).collect();
                rows.push(kv("Partition Value:", format!("[{}]", values.join(", "))));
                rows.push(kv("Database:", table.database.clone()));
                rows.push(kv("Table:", table.name.clone()));
                rows.push(kv("CreateTime:", fmt_time(p.create_time)));
                rows.push(kv("Location:", p.storage.location.clone()));
                rows.push(kv("Partition Parameters:", String::new()));
                for (k, v) in &p.properties {
                    rows.push(vec![Some(String::new()), Some(k.clone()), Some(v.clone())]);
                }
                rows.push(blank());
                storage_rows(&p.storage, &mut rows);
            }
            (DescribeStyle::Formatted, None) => {
                let sd = &table.storage;
                rows.push(blank());
                rows.push(kv("# Detailed Table Information", String::new()));
                rows.push(kv("Database:", table.database.clone()));
                rows.push(kv("Owner:", table.owner.clone().unwrap_or_default()));
                rows.push(kv("CreateTime:", fmt_time(table.create_time)));
                rows.push(kv("Location:", sd.location.clone()));
                rows.push(kv("Table Type:", table.table_type.hive_name().into()));
                rows.push(kv("Table Parameters:", String::new()));
                for (k, v) in &table.properties {
                    rows.push(vec![Some(String::new()), Some(k.clone()), Some(v.clone())]);
                }
                if table.table_type == TableType::View {
                    rows.push(blank());
                    rows.push(kv("# View Information", String::new()));
                    rows.push(kv("View Original Text:", table.view_text.clone().unwrap_or_default()));
                } else {
                    rows.push(blank());
                    storage_rows(sd, &mut rows);
                }
            }
        }
        Ok(string_rows(&["col_name", "data_type", "comment"], rows))
    }
}

/// The `# Storage Information` block of `DESCRIBE FORMATTED`.
fn storage_rows(sd: &StorageDescriptor, rows: &mut Vec<Vec<Option<String>>>) {
    let kv = |k: &str, v: String| vec![Some(k.to_string()), Some(v), Some(String::new())];
    rows.push(kv("# Storage Information", String::new()));
    rows.push(kv("SerDe Library:", sd.serde.serialization_lib.clone()));
    rows.push(kv("InputFormat:", sd.input_format.clone()));
    rows.push(kv("OutputFormat:", sd.output_format.clone()));
    rows.push(kv("Compressed:", "No".into()));
    rows.push(kv("Num Buckets:", if sd.num_buckets == 0 { "-1".into() } else { sd.num_buckets.to_string() }));
    rows.push(kv("Bucket Columns:", format!("[{}]", sd.bucket_columns.join(", "))));
    rows.push(kv(
        "Sort Columns:",
        format!(
            "[{}]",
            sd.sort_columns
                .iter()
                .map(|s| format!("Order(col:{}, order:{})", s.name, s.ascending as u8))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ));
    rows.push(kv("Storage Desc Params:", String::new()));
    for (k, v) in &sd.serde.parameters {
        rows.push(vec![Some(String::new()), Some(k.clone()), Some(v.escape_default().to_string())]);
    }
}

fn column_list(cols: &[Column]) -> String {
    cols.iter()
        .map(|c| {
            let mut s = format!("  `{}` {}", c.name, c.data_type);
            if let Some(cm) = &c.comment {
                let _ = write!(s, " COMMENT {}", quote(cm));
            }
            s
        })
        .collect::<Vec<_>>()
        .join(",\n")
}

/// The DDL that recreates `t`.
pub fn show_create_table(t: &Table) -> String {
    let mut s = String::new();
    if t.table_type == TableType::View {
        let _ = write!(s, "CREATE VIEW `{}`.`{}` AS {}", t.database, t.name, t.view_text.clone().unwrap_or_default());
        return s;
    }
    let external = if t.table_type == TableType::External { "EXTERNAL " } else { "" };
    let _ = writeln!(s, "CREATE {external}TABLE `{}`.`{}`(", t.database, t.name);
    let _ = writeln!(s, "{})", column_list(&t.columns));
    if let Some(c) = t.comment() {
        let _ = writeln!(s, "COMMENT {}", quote(c));
    }
    if !t.partition_keys.is_empty() {
        let _ = writeln!(s, "PARTITIONED BY (\n{})", column_list(&t.partition_keys));
    }
    let sd = &t.storage;
    if sd.num_buckets > 0 {
        let _ = write!(
            s,
            "CLUSTERED BY ({})",
            sd.bucket_columns.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
        );
        if !sd.sort_columns.is_empty() {
            let sorted: Vec<String> = sd
                .sort_columns
                .iter()
                .map(|c| format!("`{}` {}", c.name, if c.ascending { "ASC" } else { "DESC" }))
                .collect();
            let _ = write!(s, " SORTED BY ({})", sorted.join(", "));
        }
        let _ = writeln!(s, " INTO {} BUCKETS", sd.num_buckets);
    }
    let _ = writeln!(s, "ROW FORMAT SERDE\n  {}", quote(&sd.serde.serialization_lib));
    if !sd.serde.parameters.is_empty() {
        let props: Vec<String> =
            sd.serde.parameters.iter().map(|(k, v)| format!("  {}={}", quote(k), quote(v))).collect();
        let _ = writeln!(s, "WITH SERDEPROPERTIES (\n{})", props.join(",\n"));
    }
    let _ = writeln!(
        s,
        "STORED AS INPUTFORMAT\n  {}\nOUTPUTFORMAT\n  {}",
        quote(&sd.input_format),
        quote(&sd.output_format)
    );
    let _ = writeln!(s, "LOCATION\n  {}", quote(&sd.location));
    let props: Vec<String> = t
        .properties
        .iter()
        .filter(|(k, _)| k.as_str() != "comment" && k.as_str() != "EXTERNAL")
        .map(|(k, v)| format!("  {}={}", quote(k), quote(v)))
        .collect();
    if !props.is_empty() {
        let _ = writeln!(s, "TBLPROPERTIES (\n{})", props.join(",\n"));
    }
    s.trim_end().to_string()
}

/// The usage line of a DataFusion function, from its documentation.
fn datafusion_usage(name: &str, doc: Option<&datafusion::logical_expr::Documentation>) -> String {
    match doc {
        Some(d) => format!("{} - {}", d.syntax_example, d.description.trim()),
        None => format!("{name}(...)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hive_like_patterns() {
        assert!(like_matches("page*", "page_view"));
        assert!(like_matches("a*|b*", "bx"));
        assert!(like_matches("PAGE_VIEW", "page_view"));
        assert!(!like_matches("page", "page_view"));
    }
}
