//! The PostgreSQL side of a connection: what drivers and tools ask about
//! the database in PostgreSQL's own dialect. hiveql databases are
//! PostgreSQL schemas; `pg_catalog` (from `datafusion-pg-catalog`) and
//! DataFusion's `information_schema` are built over the same metastore the
//! connection's HiveQL session uses, so they reflect it live.
//!
//! A [`PgContext`] is a DataFusion context of its own (PostgreSQL parsing
//! and functions) whose one catalog, `hive`, is the session's catalog plus
//! the `pg_catalog` schema. It is built on a connection's first catalog
//! query.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, ListBuilder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::catalog::{CatalogProvider, SchemaProvider};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::{ColumnarValue, LogicalPlan, ScalarUDF, Volatility, create_udf};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::Statement;
use datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_pg_catalog::sql::PostgresCompatibilityParser;
use hiveql_engine::Session;
use hiveql_engine::catalog::CATALOG;
use parking_lot::RwLock;

/// What `version()` answers.
pub fn version_string() -> String {
    format!("PostgreSQL 15.0 (hiveql {}) on x86_64-pc-linux-gnu, 64-bit", env!("CARGO_PKG_VERSION"))
}

/// The session's catalog, which can also hold `pg_catalog`.
#[derive(Debug)]
struct PgFacingCatalog {
    hive: Arc<dyn CatalogProvider>,
    extra: RwLock<HashMap<String, Arc<dyn SchemaProvider>>>,
    /// The PostgreSQL database the connection names (see [`Identity::database`]).
    database: String,
    /// `pg_description` with the metastore's comments (see [`DESCRIPTIONS`]).
    descriptions: Descriptions,
}

/// The connection's `pg_description`, set once it is planned (it reads
/// `pg_class`, so the catalog exists first).
type Descriptions = Arc<std::sync::OnceLock<Arc<dyn datafusion::catalog::TableProvider>>>;

/// The comments of hiveql's tables (`COMMENT 'x'`, `TBLPROPERTIES
/// ('comment'=...)`) and columns as `pg_description` rows, which DBeaver,
/// Metabase and pgjdbc's `getTables`/`getColumns` join against.
const DESCRIPTIONS: &str = "SELECT c.oid AS objoid, k.oid AS classoid, 0 AS objsubid, \
        __hive_comment(n.nspname, c.relname, NULL) AS description \
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON c.relnamespace = n.oid \
    CROSS JOIN (SELECT oid FROM pg_catalog.pg_class WHERE relname = 'pg_class') k \
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND c.relkind IN ('r', 'v') \
        AND __hive_comment(n.nspname, c.relname, NULL) IS NOT NULL \
    UNION ALL \
    SELECT a.attrelid, k.oid, a.attnum, __hive_comment(n.nspname, c.relname, a.attname) \
    FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON a.attrelid = c.oid \
    JOIN pg_catalog.pg_namespace n ON c.relnamespace = n.oid \
    CROSS JOIN (SELECT oid FROM pg_catalog.pg_class WHERE relname = 'pg_class') k \
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND c.relkind IN ('r', 'v') AND a.attnum > 0 \
        AND __hive_comment(n.nspname, c.relname, a.attname) IS NOT NULL";

/// `__hive_comment(database, table, column)`: the metastore's comment of a
/// table (column NULL) or of one of its columns, NULL when there is none.
fn hive_comment(metastore: Arc<dyn hiveql_metastore::Metastore>) -> ScalarUDF {
    create_udf(
        "__hive_comment",
        vec![DataType::Utf8, DataType::Utf8, DataType::Utf8],
        DataType::Utf8,
        Volatility::Volatile,
        Arc::new(move |args| {
            let rows = args
                .iter()
                .find_map(|a| match a {
                    ColumnarValue::Array(a) => Some(a.len()),
                    ColumnarValue::Scalar(_) => None,
                })
                .unwrap_or(1);
            let arrays: Vec<ArrayRef> = args.iter().map(|a| a.clone().into_array(rows)).collect::<Result<_>>()?;
            let cast = |a: &ArrayRef| datafusion::arrow::compute::cast(a, &DataType::Utf8);
            let (dbs, tables, columns) = (cast(&arrays[0])?, cast(&arrays[1])?, cast(&arrays[2])?);
            let dbs = datafusion::common::cast::as_string_array(&dbs)?;
            let tables = datafusion::common::cast::as_string_array(&tables)?;
            let columns = datafusion::common::cast::as_string_array(&columns)?;
            // one metastore read per table, however many of its columns are asked for
            let mut seen: HashMap<(String, String), Option<hiveql_metastore::Table>> = HashMap::new();
            let mut out = StringBuilder::new();
            for row in 0..rows {
                if dbs.is_null(row) || tables.is_null(row) {
                    out.append_null();
                    continue;
                }
                let (db, table) = (dbs.value(row), tables.value(row));
                let key = (db.to_string(), table.to_string());
                if !seen.contains_key(&key) {
                    let found = metastore.get_table(db, table).map_err(|e| DataFusionError::External(Box::new(e)))?;
                    seen.insert(key.clone(), found);
                }
                let comment = seen[&key].as_ref().and_then(|t| {
                    if columns.is_null(row) {
                        t.properties.get("comment").cloned()
                    } else {
                        let name = columns.value(row);
                        t.columns
                            .iter()
                            .chain(&t.partition_keys)
                            .find(|c| c.name.eq_ignore_ascii_case(name))
                            .and_then(|c| c.comment.clone())
                    }
                });
                out.append_option(comment.filter(|c| !c.is_empty()));
            }
            Ok(ColumnarValue::Array(Arc::new(out.finish())))
        }),
    )
}

/// An empty table of `fields`: what hiveql has none of (constraints,
/// policies), for the tools that join against it.
fn empty_table(fields: Vec<Field>) -> Result<Arc<dyn datafusion::catalog::TableProvider>> {
    let schema = Arc::new(datafusion::arrow::datatypes::Schema::new(fields));
    Ok(Arc::new(datafusion::datasource::MemTable::try_new(schema, vec![vec![]])?))
}

/// `pg_catalog` as the connection sees it: the library's, with the
/// connection's database in `pg_database` under the name the client
/// connected with (the library names it after the DataFusion catalog), so
/// a tool that looks its database up by name (DBeaver) finds it, and an
/// empty `pg_constraint`.
#[derive(Debug)]
struct ConnectionPgCatalog {
    inner: Arc<dyn SchemaProvider>,
    database: String,
    descriptions: Descriptions,
}

#[async_trait::async_trait]
impl SchemaProvider for ConnectionPgCatalog {
    fn table_names(&self) -> Vec<String> {
        self.inner.table_names()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn datafusion::catalog::TableProvider>>> {
        if name == "pg_policies" {
            // no row-level security (DBeaver's table properties ask)
            let fields: Vec<Field> =
                ["schemaname", "tablename", "policyname", "permissive", "roles", "cmd", "qual", "with_check"]
                    .iter()
                    .map(|n| Field::new(*n, DataType::Utf8, true))
                    .collect();
            return empty_table(fields).map(Some);
        }
        if name == "pg_description"
            && let Some(t) = self.descriptions.get()
        {
            return Ok(Some(t.clone()));
        }
        let Some(table) = self.inner.table(name).await? else { return Ok(None) };
        if name == "pg_constraint" {
            // hiveql tables have no constraints (the library's rows are PostgreSQL's own
            // system tables'); the key columns are smallint[] as in PostgreSQL, so that
            // `attnum = ANY(c.conkey)` (Metabase's foreign keys) plans
            let schema = table.schema();
            let fields: Vec<Field> = schema
                .fields()
                .iter()
                .map(|f| match f.name().as_str() {
                    "conkey" | "confkey" => Field::new(
                        f.name(),
                        DataType::List(Arc::new(Field::new_list_field(DataType::Int16, true))),
                        true,
                    ),
                    _ => f.as_ref().clone(),
                })
                .collect();
            return empty_table(fields).map(Some);
        }
        use datafusion::logical_expr::{Expr, LogicalPlanBuilder, cast, col, lit, when};
        let schema = table.schema();
        let mut exprs: Vec<Expr> = schema.fields().iter().map(|f| col(f.name())).collect();
        match name {
            "pg_database" => {
                let at = schema.index_of("datname")?;
                exprs[at] = when(col("datname").eq(lit(CATALOG)), lit(self.database.clone()))
                    .otherwise(col("datname"))?
                    .alias("datname");
            }
            // storage options and privileges, which psql's `\d+` reads: none
            "pg_class" => {
                let text_list = DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)));
                for missing in ["reloptions", "relacl"] {
                    if schema.index_of(missing).is_err() {
                        exprs.push(cast(lit(datafusion::scalar::ScalarValue::Null), text_list.clone()).alias(missing));
                    }
                }
            }
            _ => return Ok(Some(table)),
        }
        let plan = LogicalPlanBuilder::scan(name, datafusion::datasource::provider_as_source(table), None)?
            .project(exprs)?
            .build()?;
        Ok(Some(Arc::new(datafusion::datasource::ViewTable::new(plan, None))))
    }

    fn table_exist(&self, name: &str) -> bool {
        name == "pg_policies" || self.inner.table_exist(name)
    }
}

impl CatalogProvider for PgFacingCatalog {
    fn schema_names(&self) -> Vec<String> {
        let mut names = self.hive.schema_names();
        names.extend(self.extra.read().keys().cloned());
        names
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        if let Some(s) = self.extra.read().get(name) {
            return Some(s.clone());
        }
        self.hive.schema(name)
    }

    fn register_schema(&self, name: &str, schema: Arc<dyn SchemaProvider>) -> Result<Option<Arc<dyn SchemaProvider>>> {
        let schema: Arc<dyn SchemaProvider> = if name == "pg_catalog" {
            Arc::new(ConnectionPgCatalog {
                inner: schema,
                database: self.database.clone(),
                descriptions: self.descriptions.clone(),
            })
        } else {
            schema
        };
        Ok(self.extra.write().insert(name.to_string(), schema))
    }
}

/// `information_schema.columns` as PostgreSQL has it, from `pg_catalog`
/// (DataFusion's names Arrow types and lacks `udt_name`, `is_identity`,
/// which Metabase reads).
const COLUMNS_VIEW: &str = "SELECT current_database() AS table_catalog, n.nspname AS table_schema, \
    c.relname AS table_name, a.attname AS column_name, CAST(a.attnum AS INT) AS ordinal_position, \
    CAST(NULL AS TEXT) AS column_default, CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END AS is_nullable, \
    CASE WHEN t.typcategory = 'A' THEN 'ARRAY' ELSE format_type(a.atttypid, NULL) END AS data_type, \
    CASE WHEN t.typname IN ('varchar', 'bpchar') AND a.atttypmod > 4 THEN CAST(a.atttypmod - 4 AS INT) END \
        AS character_maximum_length, \
    CAST(NULL AS INT) AS numeric_precision, CAST(NULL AS INT) AS numeric_scale, \
    CAST(NULL AS INT) AS datetime_precision, current_database() AS udt_catalog, 'pg_catalog' AS udt_schema, \
    t.typname AS udt_name, CAST(a.attnum AS TEXT) AS dtd_identifier, 'NO' AS is_identity, \
    'NEVER' AS is_generated, 'YES' AS is_updatable \
    FROM pg_catalog.pg_attribute a \
    JOIN pg_catalog.pg_class c ON a.attrelid = c.oid \
    JOIN pg_catalog.pg_namespace n ON c.relnamespace = n.oid \
    JOIN pg_catalog.pg_type t ON a.atttypid = t.oid \
    WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'v', 'm', 'p', 'f')";

/// The connection's `information_schema`: DataFusion's (`tables`, `views`,
/// `schemata`, ...), `columns` as PostgreSQL has it ([`COLUMNS_VIEW`]), and
/// the constraint views tools join against, empty: hiveql tables have no
/// primary, unique or foreign keys.
async fn information_schema(ctx: &SessionContext) -> Result<Arc<dyn SchemaProvider>> {
    use datafusion::datasource::ViewTable;
    let inner =
        datafusion::catalog::information_schema::InformationSchemaProvider::new(ctx.state().catalog_list().clone());
    let mut tables: HashMap<String, Arc<dyn datafusion::catalog::TableProvider>> = HashMap::new();
    let text = |names: &[&str]| {
        let fields: Vec<Field> = names
            .iter()
            .map(|n| {
                // ordinal_position, position_in_unique_constraint: cardinal numbers
                let ty = if n.contains("position") { DataType::Int32 } else { DataType::Utf8 };
                Field::new(*n, ty, true)
            })
            .collect();
        empty_table(fields)
    };
    let constraint = ["constraint_catalog", "constraint_schema", "constraint_name"];
    let table = ["table_catalog", "table_schema", "table_name"];
    let mut tc: Vec<&str> = [&constraint[..], &table[..]].concat();
    tc.extend(["constraint_type", "is_deferrable", "initially_deferred", "enforced", "nulls_distinct"]);
    tables.insert("table_constraints".into(), text(&tc)?);
    let mut kcu: Vec<&str> = [&constraint[..], &table[..]].concat();
    kcu.extend(["column_name", "ordinal_position", "position_in_unique_constraint"]);
    tables.insert("key_column_usage".into(), text(&kcu)?);
    let mut rc: Vec<&str> = constraint.to_vec();
    rc.extend([
        "unique_constraint_catalog",
        "unique_constraint_schema",
        "unique_constraint_name",
        "match_option",
        "update_rule",
        "delete_rule",
    ]);
    tables.insert("referential_constraints".into(), text(&rc)?);
    let mut ccu: Vec<&str> = [&table[..], &["column_name"][..]].concat();
    ccu.extend(constraint);
    tables.insert("constraint_column_usage".into(), text(&ccu)?);
    let columns = ctx.state().create_logical_plan(COLUMNS_VIEW).await?;
    tables.insert("columns".into(), Arc::new(ViewTable::new(columns, Some(COLUMNS_VIEW.to_string()))));
    Ok(Arc::new(InformationSchema { inner, tables }))
}

/// See [`information_schema`].
#[derive(Debug)]
struct InformationSchema {
    inner: datafusion::catalog::information_schema::InformationSchemaProvider,
    tables: HashMap<String, Arc<dyn datafusion::catalog::TableProvider>>,
}

#[async_trait::async_trait]
impl SchemaProvider for InformationSchema {
    fn table_names(&self) -> Vec<String> {
        let mut names = self.inner.table_names();
        names.extend(self.tables.keys().filter(|k| !names.contains(k)).cloned().collect::<Vec<_>>());
        names
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn datafusion::catalog::TableProvider>>> {
        match self.tables.get(&name.to_ascii_lowercase()) {
            Some(t) => Ok(Some(t.clone())),
            None => self.inner.table(name).await,
        }
    }

    fn table_exist(&self, name: &str) -> bool {
        self.tables.contains_key(&name.to_ascii_lowercase()) || self.inner.table_exist(name)
    }
}

/// What a connection's catalog functions report.
#[derive(Debug, Default)]
pub struct Identity {
    /// The user the connection logged in as.
    pub user: String,
    /// The PostgreSQL database the client connected to (its startup packet's
    /// `database`, else the user's name, as PostgreSQL defaults it):
    /// `current_database()` and its row of `pg_database`. hiveql's databases
    /// are the schemas inside it.
    pub database: String,
    /// The session's current database (`USE`), PostgreSQL's current schema.
    pub schema: RwLock<String>,
    /// PostgreSQL settings the client changed (`SET application_name ...`).
    pub settings: RwLock<HashMap<String, String>>,
}

impl Identity {
    /// The value of a PostgreSQL setting for this connection.
    pub fn setting(&self, name: &str) -> Option<String> {
        let name = name.to_ascii_lowercase();
        if name == "search_path" {
            return Some(self.schema.read().clone());
        }
        if let Some(v) = self.settings.read().get(&name) {
            return Some(v.clone());
        }
        crate::route::pg_setting(&name).map(str::to_string)
    }
}

/// A connection's PostgreSQL-dialect context.
pub struct PgContext {
    ctx: SessionContext,
    parser: PostgresCompatibilityParser,
}

impl PgContext {
    /// Build the context over `session`'s catalog.
    pub async fn new(session: &Session, identity: Arc<Identity>) -> Result<PgContext> {
        let hive = session
            .context()
            .catalog(CATALOG)
            .ok_or_else(|| DataFusionError::Internal("the session has no hive catalog".into()))?;
        // information_schema is the connection's own (see `information_schema`)
        let config = SessionConfig::new()
            .with_default_catalog_and_schema(CATALOG, session.current_database())
            .with_create_default_catalog_and_schema(false)
            .with_information_schema(false);
        let ctx = SessionContext::new_with_config(config);
        let database = identity.database.clone();
        let descriptions = Descriptions::default();
        ctx.register_catalog(
            CATALOG,
            Arc::new(PgFacingCatalog { hive, extra: RwLock::default(), database, descriptions: descriptions.clone() }),
        );
        datafusion_pg_catalog::pg_catalog::setup_pg_catalog(&ctx, CATALOG, EmptyContextProvider).map_err(|e| *e)?;
        // the connection's own answers, over the library's fixed ones
        for udf in identity_functions(&identity) {
            ctx.register_udf(udf);
        }
        ctx.register_udf(hive_comment(session.metastore().clone()));
        let info = information_schema(&ctx).await?;
        if let Some(catalog) = ctx.catalog(CATALOG) {
            catalog.register_schema("information_schema", info)?;
        }
        let pg = PgContext { ctx, parser: PostgresCompatibilityParser::new() };
        // PostgreSQL's own descriptions (of its built-in objects), then the metastore's comments
        let builtin = pg.ctx.table_provider("pg_catalog.pg_description").await?;
        let comments = pg.ctx.state().create_logical_plan(DESCRIPTIONS).await?;
        let columns = builtin.schema();
        let typed: Vec<datafusion::logical_expr::Expr> = comments
            .schema()
            .columns()
            .into_iter()
            .zip(columns.fields())
            .map(|(c, f)| {
                datafusion::logical_expr::cast(datafusion::logical_expr::Expr::Column(c), f.data_type().clone())
                    .alias(f.name())
            })
            .collect();
        let plan = datafusion::logical_expr::LogicalPlanBuilder::scan(
            "pg_description",
            datafusion::datasource::provider_as_source(builtin),
            None,
        )?
        .union(datafusion::logical_expr::LogicalPlanBuilder::from(comments).project(typed)?.build()?)?
        .build()?;
        let _ = descriptions.set(Arc::new(datafusion::datasource::ViewTable::new(plan, None)));
        Ok(pg)
    }

    /// Follow the session's `USE`.
    pub fn set_schema(&self, schema: &str) {
        let state = self.ctx.state_ref();
        state.write().config_mut().options_mut().catalog.default_schema = schema.to_string();
    }

    /// Plan one statement.
    pub async fn plan(&self, sql: &str) -> Result<LogicalPlan> {
        let sql = slash_escapes_to_backslash(sql);
        let sql = regproc_literals_to_names(&sql);
        let sql = qualify_catalog_regclass(&sql);
        let mut statements = self.parser.parse(&sql).map_err(|e| DataFusionError::SQL(Box::new(e), None))?;
        if statements.len() != 1 {
            return Err(DataFusionError::Plan(format!("expected one statement, got {}", statements.len())));
        }
        let mut statement = statements.remove(0);
        case_subqueries_to_filters(&mut statement);
        // the parser's own rules again, for the subqueries that came out of CASE: a
        // correlated one that is a select item answers NULL (datafusion-pg-catalog's
        // `RemoveSubqueryFromProjection`), as those written there do
        let mut statement = self.parser.rewrite(statement);
        aggregate_scalar_subqueries(&mut statement);
        let statement = Statement::Statement(Box::new(statement));
        self.ctx.state().statement_to_plan(statement).await
    }

    /// Plan and run one statement.
    pub async fn run(&self, sql: &str) -> Result<SendableRecordBatchStream> {
        let plan = self.plan(sql).await?;
        self.ctx.execute_logical_plan(plan).await?.execute_stream().await
    }
}

/// The oid of a built-in type by its name (`int4`, `text[]`, `double precision`).
fn type_oid(name: &str) -> Option<i32> {
    use pgwire::api::Type;
    let name = name.trim().to_ascii_lowercase();
    let (base, array) = match name.strip_suffix("[]") {
        Some(b) => (b.to_string(), true),
        None => (name, false),
    };
    let base = match base.as_str() {
        "integer" | "int" => "int4",
        "smallint" => "int2",
        "bigint" => "int8",
        "real" => "float4",
        "double precision" => "float8",
        "boolean" => "bool",
        "character varying" => "varchar",
        "character" | "char" => "bpchar",
        "decimal" => "numeric",
        "timestamp without time zone" => "timestamp",
        "timestamp with time zone" => "timestamptz",
        other => other,
    };
    let known = [
        Type::BOOL,
        Type::BYTEA,
        Type::CHAR,
        Type::NAME,
        Type::INT8,
        Type::INT2,
        Type::INT4,
        Type::TEXT,
        Type::OID,
        Type::JSON,
        Type::JSONB,
        Type::FLOAT4,
        Type::FLOAT8,
        Type::BPCHAR,
        Type::VARCHAR,
        Type::DATE,
        Type::TIME,
        Type::TIMESTAMP,
        Type::TIMESTAMPTZ,
        Type::INTERVAL,
        Type::NUMERIC,
        Type::UUID,
        Type::BOOL_ARRAY,
        Type::BYTEA_ARRAY,
        Type::INT2_ARRAY,
        Type::INT4_ARRAY,
        Type::INT8_ARRAY,
        Type::TEXT_ARRAY,
        Type::FLOAT4_ARRAY,
        Type::FLOAT8_ARRAY,
        Type::VARCHAR_ARRAY,
        Type::DATE_ARRAY,
        Type::TIMESTAMP_ARRAY,
        Type::NUMERIC_ARRAY,
        Type::JSON_ARRAY,
    ];
    let wanted = if array { format!("_{base}") } else { base.to_string() };
    known.iter().find(|t| t.name() == wanted).map(|t| t.oid() as i32)
}

/// `name(args...)` in SQL's syntax tree.
fn call(name: &str, args: Vec<datafusion::sql::sqlparser::ast::Expr>) -> datafusion::sql::sqlparser::ast::Expr {
    use datafusion::sql::sqlparser::ast::{
        Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList, FunctionArguments, Ident, ObjectName,
        ObjectNamePart,
    };
    let args = args.into_iter().map(|a| FunctionArg::Unnamed(FunctionArgExpr::Expr(a))).collect();
    Expr::Function(Function {
        name: ObjectName(vec![ObjectNamePart::Identifier(Ident::new(name))]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList { duplicate_treatment: None, args, clauses: vec![] }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

/// DataFusion does not decorrelate a subquery under `CASE`. SQLAlchemy's
/// column reflection writes `CASE WHEN c THEN (SELECT e FROM f WHERE w)
/// [ELSE NULL] END`; `(SELECT e FROM f WHERE (c) AND (w))` answers the same
/// (no row, so NULL, when c is not true). A comparison with a scalar
/// subquery among the conjuncts of that WHERE (`(SELECT typcollation FROM
/// pg_type WHERE oid = a.atttypid) != a.attcollation`) would then be a
/// subquery two levels deep, which DataFusion does not plan either: its
/// table joins the FROM, its condition the WHERE, and its value takes its
/// place (no row: no row either way). Runs before
/// [`aggregate_scalar_subqueries`], so a subquery that aggregates is seen
/// as written and left alone.
fn case_subqueries_to_filters(statement: &mut datafusion::sql::sqlparser::ast::Statement) {
    use datafusion::sql::sqlparser::ast::{Expr, SetExpr, Value, visit_expressions_mut};
    let _ = visit_expressions_mut(statement, |expr| {
        if let Expr::Case { operand: None, conditions, else_result, .. } = expr
            && conditions.len() == 1
            && else_result.as_deref().is_none_or(|e| matches!(e, Expr::Value(v) if v.value == Value::Null))
            && let Expr::Subquery(query) = &conditions[0].result
            && let SetExpr::Select(select) = query.body.as_ref()
            && !select.from.is_empty()
        {
            let mut query = query.clone();
            if let SetExpr::Select(select) = query.body.as_mut() {
                let mut conjuncts = Vec::new();
                split_and(conditions[0].condition.clone(), &mut conjuncts);
                if let Some(w) = select.selection.take() {
                    split_and(w, &mut conjuncts);
                }
                join_compared_subqueries(select, &mut conjuncts);
                select.selection = conjuncts.into_iter().reduce(|l, r| Expr::BinaryOp {
                    left: Box::new(l),
                    op: datafusion::sql::sqlparser::ast::BinaryOperator::And,
                    right: Box::new(r),
                });
            }
            *expr = Expr::Subquery(query);
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
}

/// The conjuncts of `e` (parenthesized ones kept parenthesized).
fn split_and(e: datafusion::sql::sqlparser::ast::Expr, out: &mut Vec<datafusion::sql::sqlparser::ast::Expr>) {
    use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr};
    match e {
        Expr::BinaryOp { left, op: BinaryOperator::And, right } => {
            split_and(*left, out);
            split_and(*right, out);
        }
        Expr::Nested(inner) if matches!(inner.as_ref(), Expr::BinaryOp { op: BinaryOperator::And, .. }) => {
            split_and(*inner, out)
        }
        other => out.push(Expr::Nested(Box::new(other))),
    }
}

/// In `conjuncts` (the WHERE of `select`), each comparison with a scalar
/// subquery over one table that does not aggregate becomes a join (see
/// [`case_subqueries_to_filters`]).
fn join_compared_subqueries(
    select: &mut datafusion::sql::sqlparser::ast::Select,
    conjuncts: &mut Vec<datafusion::sql::sqlparser::ast::Expr>,
) {
    use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr, GroupByExpr, SelectItem, SetExpr};
    let names = |from: &[datafusion::sql::sqlparser::ast::TableWithJoins]| -> Vec<String> {
        from.iter()
            .flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)))
            .map(|r| r.to_string().to_lowercase())
            .collect()
    };
    let mut joined = Vec::new();
    for conjunct in conjuncts.iter_mut() {
        let Expr::Nested(inner) = conjunct else { continue };
        let Expr::BinaryOp { left, op, right } = inner.as_mut() else { continue };
        if !matches!(
            op,
            BinaryOperator::Eq
                | BinaryOperator::NotEq
                | BinaryOperator::Lt
                | BinaryOperator::LtEq
                | BinaryOperator::Gt
                | BinaryOperator::GtEq
        ) {
            continue;
        }
        for side in [left, right] {
            let Expr::Subquery(sub) = side.as_ref() else { continue };
            let SetExpr::Select(from_sub) = sub.body.as_ref() else { continue };
            let value = match from_sub.projection.as_slice() {
                [SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }] => e.clone(),
                _ => continue,
            };
            let plain = from_sub.from.len() == 1
                && matches!(&from_sub.group_by, GroupByExpr::Expressions(g, _) if g.is_empty())
                && from_sub.having.is_none()
                && !matches!(value, Expr::Function(_))
                && sub.limit_clause.is_none();
            let clash = names(&from_sub.from).iter().any(|n| names(&select.from).contains(n));
            if !plain || clash {
                continue;
            }
            select.from.push(from_sub.from[0].clone());
            if let Some(w) = from_sub.selection.clone() {
                joined.push(Expr::Nested(Box::new(w)));
            }
            **side = Expr::Nested(Box::new(value));
        }
    }
    conjuncts.extend(joined);
}

/// `'pg_catalog.array_in'::regproc`, which pgjdbc compares with
/// `pg_type.typinput` to learn whether a type is an array: here the
/// `typinput`-like columns hold function names, so the literal stays the
/// name (without its schema). Done on the text, before
/// datafusion-pg-catalog's parser, which would look the name up as a
/// `pg_proc` oid.
fn regproc_literals_to_names(sql: &str) -> std::borrow::Cow<'_, str> {
    static REGPROC: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?i)'(?:[a-z_][a-z0-9_]*\.)?([^'.]*)'\s*::\s*(?:pg_catalog\.)?regproc\b")
            .expect("a valid pattern")
    });
    REGPROC.replace_all(sql, "'$1'")
}

/// `'pg_class'::regclass`: PostgreSQL always searches `pg_catalog` first,
/// datafusion-pg-catalog only the current schema, so a catalog relation's
/// name is qualified before its parser looks it up (DBeaver and pgjdbc
/// join `pg_description` on `classoid = 'pg_class'::regclass`).
fn qualify_catalog_regclass(sql: &str) -> std::borrow::Cow<'_, str> {
    static REGCLASS: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?i)'(pg_[a-z0-9_]*)'(\s*::\s*(?:pg_catalog\.)?regclass\b)").expect("a valid pattern")
    });
    REGCLASS.replace_all(sql, "'pg_catalog.$1'$2")
}

/// DataFusion plans a correlated scalar subquery only when it aggregates;
/// PostgreSQL's tools write `(SELECT collname FROM pg_collation WHERE oid =
/// a.attcollation)`, which PostgreSQL requires to return at most one row.
/// Wrapped in `max(...)` it returns the same, and DataFusion plans it.
fn aggregate_scalar_subqueries(statement: &mut datafusion::sql::sqlparser::ast::Statement) {
    use datafusion::sql::sqlparser::ast::{Expr, GroupByExpr, SelectItem, SetExpr, visit_expressions_mut};
    let _ = visit_expressions_mut(statement, |expr| {
        if let Expr::Subquery(query) = expr
            && let SetExpr::Select(select) = query.body.as_mut()
            && select.projection.len() == 1
            && matches!(&select.group_by, GroupByExpr::Expressions(e, _) if e.is_empty())
            && !select.from.is_empty()
        {
            let wrap = |inner: Expr| call("max", vec![inner]);
            let item = &mut select.projection[0];
            let already = |e: &Expr| matches!(e, Expr::Function(f) if ["max", "min", "count", "sum", "avg", "array_agg", "string_agg"].contains(&f.name.to_string().to_lowercase().as_str()));
            match item {
                SelectItem::UnnamedExpr(e) if !already(e) => *e = wrap(e.clone()),
                SelectItem::ExprWithAlias { expr: e, .. } if !already(e) => *e = wrap(e.clone()),
                _ => {}
            }
        }
        // a relation named by text built at run time, `format('%I.%I', s, t)::regclass`
        // (Metabase, only to pass to col_description): datafusion-pg-catalog looks
        // literal names up and reads other operands as oids; text that is computed
        // names no relation it can find, so it is NULL
        if let Expr::Cast { data_type, expr: operand, .. } = expr
            && match data_type {
                datafusion::sql::sqlparser::ast::DataType::Regclass => true,
                datafusion::sql::sqlparser::ast::DataType::Custom(name, _) => {
                    name.to_string().to_ascii_lowercase().trim_start_matches("pg_catalog.") == "regclass"
                }
                _ => false,
            }
            && (matches!(
                operand.as_ref(),
                Expr::BinaryOp { op: datafusion::sql::sqlparser::ast::BinaryOperator::StringConcat, .. }
            ) || matches!(operand.as_ref(), Expr::Function(f) if ["format", "concat", "quote_ident", "concat_ws"]
                    .contains(&f.name.to_string().to_ascii_lowercase().as_str())))
        {
            *expr = Expr::Value(datafusion::sql::sqlparser::ast::Value::Null.into());
        }
        // `ARRAY(SELECT ... FROM unnest(outer.col))` (psql's `\d+` lists a table's TOAST
        // options so): DataFusion plans neither the constructor nor the lateral unnest; it
        // answers NULL, as a correlated subquery in a select list does (hiveql's relations
        // have no options to list)
        if let Expr::Function(f) = expr
            && f.name.to_string().eq_ignore_ascii_case("array")
            && matches!(f.args, datafusion::sql::sqlparser::ast::FunctionArguments::Subquery(_))
        {
            *expr = Expr::Value(datafusion::sql::sqlparser::ast::Value::Null.into());
        }
        // `'_RETURN'::name` (DBeaver): PostgreSQL's identifier type is text here
        if let Expr::Cast { data_type, .. } = expr
            && let datafusion::sql::sqlparser::ast::DataType::Custom(name, args) = data_type
            && args.is_empty()
            && name.to_string().eq_ignore_ascii_case("name")
        {
            *data_type = datafusion::sql::sqlparser::ast::DataType::Text;
        }
        // `(composite).field`, which DataFusion's planner does not read: get_field(composite, 'field')
        if let Expr::CompoundFieldAccess { root, access_chain } = expr
            && let [datafusion::sql::sqlparser::ast::AccessExpr::Dot(Expr::Identifier(field))] = access_chain.as_slice()
        {
            let name =
                Expr::Value(datafusion::sql::sqlparser::ast::Value::SingleQuotedString(field.value.clone()).into());
            *expr = call("get_field", vec![(**root).clone(), name]);
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
}

/// DataFusion's LIKE takes only `\` as its escape; SQLAlchemy's catalog
/// queries say `LIKE 'pg/_%' ESCAPE '/'`. In a statement with `ESCAPE '/'`,
/// every `/` in a string literal becomes `\` (standard strings keep a
/// backslash as it is).
fn slash_escapes_to_backslash(sql: &str) -> std::borrow::Cow<'_, str> {
    if !sql.to_ascii_lowercase().contains("escape '/'") {
        return std::borrow::Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut in_string = false;
    for c in sql.chars() {
        match c {
            '\'' => {
                in_string = !in_string;
                out.push(c);
            }
            '/' if in_string => out.push('\\'),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

fn string_result(v: String) -> ColumnarValue {
    ColumnarValue::Scalar(datafusion::scalar::ScalarValue::Utf8(Some(v)))
}

/// `current_schema()`, `current_schemas(bool)`, `session_user`,
/// `current_user`, `version()` and `current_setting(name)` of this
/// connection.
fn identity_functions(identity: &Arc<Identity>) -> Vec<ScalarUDF> {
    let mut udfs = Vec::new();
    let id = identity.clone();
    udfs.push(create_udf(
        "current_schema",
        vec![],
        DataType::Utf8,
        Volatility::Stable,
        Arc::new(move |_| Ok(string_result(id.schema.read().clone()))),
    ));
    let id = identity.clone();
    udfs.push(create_udf(
        "current_schemas",
        vec![DataType::Boolean],
        DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
        Volatility::Stable,
        Arc::new(move |_| {
            let mut b = ListBuilder::new(StringBuilder::new());
            b.values().append_value("pg_catalog");
            b.values().append_value(id.schema.read().as_str());
            b.append(true);
            let list: ArrayRef = Arc::new(b.finish());
            Ok(ColumnarValue::Scalar(datafusion::scalar::ScalarValue::try_from_array(&list, 0)?))
        }),
    ));
    let database = identity.database.clone();
    udfs.push(create_udf(
        "current_database",
        vec![],
        DataType::Utf8,
        Volatility::Stable,
        Arc::new(move |_| Ok(string_result(database.clone()))),
    ));
    for name in ["session_user", "current_user", "user"] {
        let id = identity.clone();
        udfs.push(create_udf(
            name,
            vec![],
            DataType::Utf8,
            Volatility::Stable,
            Arc::new(move |_| Ok(string_result(id.user.clone()))),
        ));
    }
    udfs.push(create_udf(
        "version",
        vec![],
        DataType::Utf8,
        Volatility::Stable,
        Arc::new(move |_| Ok(string_result(version_string()))),
    ));
    udfs.push(json_build_object());
    udfs.push(format());
    udfs.push(pg_expandarray());
    // what hiveql has none of: no sequences, no function definitions; everything visible
    use datafusion::scalar::ScalarValue;
    for (name, arity, value) in [
        ("pg_get_serial_sequence", 2, ScalarValue::Utf8(None)),
        ("pg_get_function_result", 1, ScalarValue::Utf8(None)),
        ("pg_get_function_arguments", 1, ScalarValue::Utf8(None)),
        ("pg_get_function_identity_arguments", 1, ScalarValue::Utf8(None)),
        ("pg_function_is_visible", 1, ScalarValue::Boolean(Some(true))),
        ("pg_type_is_visible", 1, ScalarValue::Boolean(Some(true))),
        ("pg_collation_is_visible", 1, ScalarValue::Boolean(Some(true))),
        // no tablespaces of PostgreSQL's (DBeaver lists them)
        ("pg_tablespace_location", 1, ScalarValue::Utf8(None)),
        // nor rules (views are hiveql's own)
        ("pg_get_ruledef", 1, ScalarValue::Utf8(None)),
        // comments are reached by joining pg_description (see DESCRIPTIONS); these take oids
        ("col_description", 2, ScalarValue::Utf8(None)),
        ("obj_description", 2, ScalarValue::Utf8(None)),
        ("shobj_description", 2, ScalarValue::Utf8(None)),
        // the size of a table's files is not in the catalog (psql's \dt+ shows it empty)
        ("pg_table_size", 1, ScalarValue::Int64(None)),
        // no advisory locks are ever taken (asyncpg's pool calls it on release)
        ("pg_advisory_unlock_all", 0, ScalarValue::Utf8(None)),
    ] {
        let signature = match arity {
            0 => datafusion::logical_expr::Signature::nullary(Volatility::Stable),
            n => datafusion::logical_expr::Signature::any(n, Volatility::Stable),
        };
        udfs.push(ScalarUDF::new_from_impl(Constant { name, signature, value }));
    }
    // to_regtype('name'): the type's oid, NULL when there is no such type
    udfs.push(create_udf(
        "to_regtype",
        vec![DataType::Utf8],
        DataType::Int32,
        Volatility::Stable,
        Arc::new(move |args| {
            let names = match &args[0] {
                ColumnarValue::Scalar(s) => s.to_array()?,
                ColumnarValue::Array(a) => a.clone(),
            };
            let names = datafusion::common::cast::as_string_array(&names)?;
            let oids: datafusion::arrow::array::Int32Array = names.iter().map(|n| n.and_then(type_oid)).collect();
            Ok(match &args[0] {
                ColumnarValue::Scalar(_) => {
                    ColumnarValue::Scalar(datafusion::scalar::ScalarValue::try_from_array(&oids, 0)?)
                }
                ColumnarValue::Array(_) => ColumnarValue::Array(Arc::new(oids)),
            })
        }),
    ));
    let id = identity.clone();
    udfs.push(create_udf(
        "current_setting",
        vec![DataType::Utf8],
        DataType::Utf8,
        Volatility::Stable,
        Arc::new(move |args| match &args[0] {
            ColumnarValue::Scalar(name) => {
                let value = match name {
                    datafusion::scalar::ScalarValue::Utf8(Some(n)) => id.setting(n),
                    _ => None,
                };
                Ok(ColumnarValue::Scalar(datafusion::scalar::ScalarValue::Utf8(value)))
            }
            ColumnarValue::Array(names) => {
                let names = datafusion::common::cast::as_string_array(names)?;
                let values: datafusion::arrow::array::StringArray =
                    names.iter().map(|n| n.and_then(|n| id.setting(n))).collect();
                Ok(ColumnarValue::Array(Arc::new(values)))
            }
        }),
    ));
    // pg_size_pretty(bytes): psql's \dt+ and \l+ print sizes with it
    udfs.push(create_udf(
        "pg_size_pretty",
        vec![DataType::Int64],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(|args| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let bytes = datafusion::common::cast::as_int64_array(&arrays[0])?;
            let out: datafusion::arrow::array::StringArray = bytes.iter().map(|b| b.map(size_pretty)).collect();
            Ok(match &args[0] {
                ColumnarValue::Scalar(_) => ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?),
                ColumnarValue::Array(_) => ColumnarValue::Array(Arc::new(out)),
            })
        }),
    ));
    // set_config(name, value, is_local): the connection's setting, as SET (no
    // transaction outlives a statement, so is_local sets it for the session too)
    let id = identity.clone();
    udfs.push(create_udf(
        "set_config",
        vec![DataType::Utf8, DataType::Utf8, DataType::Boolean],
        DataType::Utf8,
        Volatility::Volatile,
        Arc::new(move |args| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let names = datafusion::common::cast::as_string_array(&arrays[0])?;
            let values = datafusion::common::cast::as_string_array(&arrays[1])?;
            let mut settings = id.settings.write();
            let out: datafusion::arrow::array::StringArray = names
                .iter()
                .zip(values.iter())
                .map(|(n, v)| {
                    if let (Some(n), Some(v)) = (n, v) {
                        settings.insert(n.to_ascii_lowercase(), v.to_string());
                    }
                    v
                })
                .collect();
            Ok(match &args[0] {
                ColumnarValue::Scalar(_) => ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?),
                ColumnarValue::Array(_) => ColumnarValue::Array(Arc::new(out)),
            })
        }),
    ));
    udfs
}

/// PostgreSQL's `pg_size_pretty` (dbsize.c): bytes below 10 kB, else the
/// first of kB, MB, GB, TB, PB below 10240 of it, from a value kept with
/// one extra bit and rounded half away from zero.
fn size_pretty(bytes: i64) -> String {
    const LIMIT: i64 = 10 * 1024;
    const HALVES: i64 = LIMIT * 2 - 1;
    if bytes.abs() < LIMIT {
        return format!("{bytes} bytes");
    }
    let half_rounded = |x: i64| (x + if x < 0 { -1 } else { 1 }) / 2;
    let mut halves = bytes >> 9;
    for unit in ["kB", "MB", "GB", "TB"] {
        if halves.abs() < HALVES {
            return format!("{} {unit}", half_rounded(halves));
        }
        halves >>= 10;
    }
    format!("{} PB", half_rounded(halves))
}

/// A text function of any arguments, computed a row at a time: the
/// PostgreSQL functions tools call that DataFusion lacks.
#[derive(Debug)]
struct TextFunction {
    name: &'static str,
    signature: datafusion::logical_expr::Signature,
    /// The value of a row, from the arguments' arrays.
    row: fn(&[ArrayRef], usize) -> Result<Option<String>>,
}

impl PartialEq for TextFunction {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for TextFunction {}

impl std::hash::Hash for TextFunction {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state)
    }
}

impl datafusion::logical_expr::ScalarUDFImpl for TextFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &datafusion::logical_expr::Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: datafusion::logical_expr::ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let mut out = StringBuilder::new();
        for row in 0..args.number_rows {
            out.append_option((self.row)(&arrays, row)?);
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

fn text_function(name: &'static str, row: fn(&[ArrayRef], usize) -> Result<Option<String>>) -> ScalarUDF {
    ScalarUDF::new_from_impl(TextFunction {
        name,
        signature: datafusion::logical_expr::Signature::variadic_any(Volatility::Immutable),
        row,
    })
}

/// `json_build_object(k1, v1, ...)`, which SQLAlchemy's column query names.
pub(crate) fn json_build_object() -> ScalarUDF {
    text_function("json_build_object", |arrays, row| {
        let mut json = String::from("{");
        for (i, pair) in arrays.chunks(2).enumerate() {
            if i > 0 {
                json.push_str(", ");
            }
            let key = hiveql_engine::value::format_value(pair[0].as_ref(), row).unwrap_or_default();
            hiveql_engine::value::write_json_string(&key, &mut json);
            json.push_str(" : ");
            match pair.get(1) {
                Some(v) => hiveql_engine::value::write_nested_element(v.as_ref(), row, &mut json),
                None => json.push_str("null"),
            }
        }
        json.push('}');
        Ok(Some(json))
    })
}

/// PostgreSQL's `format(fmt, args...)`: `%s` (text, NULL as nothing), `%I`
/// (an identifier, quoted where needed), `%L` (a literal, NULL as `NULL`),
/// `%%`. Metabase names its tables with `format('%I.%I', schema, table)`.
fn format() -> ScalarUDF {
    text_function("format", |arrays, row| {
        let value = |i: usize, row: usize| -> Result<Option<String>> {
            let a = &arrays[i];
            if a.is_null(row) {
                return Ok(None);
            }
            Ok(Some(datafusion::arrow::util::display::array_value_to_string(a, row)?))
        };
        let Some(fmt) = value(0, row)? else { return Ok(None) };
        let mut text = String::new();
        let mut next = 1;
        let mut chars = fmt.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                text.push(c);
                continue;
            }
            let spec = chars.next();
            if spec == Some('%') {
                text.push('%');
                continue;
            }
            if next >= arrays.len() {
                return Err(DataFusionError::Execution("too few arguments for format()".into()));
            }
            let v = value(next, row)?;
            next += 1;
            match (spec, v) {
                (Some('s'), v) => text.push_str(v.as_deref().unwrap_or("")),
                (Some('I'), Some(v)) => {
                    let plain = v.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
                        && v.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                    if plain {
                        text.push_str(&v);
                    } else {
                        text.push_str(&format!("\"{}\"", v.replace('"', "\"\"")));
                    }
                }
                (Some('I'), None) => {
                    return Err(DataFusionError::Execution(
                        "null values cannot be formatted as an SQL identifier".into(),
                    ));
                }
                (Some('L'), Some(v)) => text.push_str(&format!("'{}'", v.replace('\'', "''"))),
                (Some('L'), None) => text.push_str("NULL"),
                (other, _) => {
                    return Err(DataFusionError::Execution(format!(
                        "unrecognized format() type specifier \"{}\"",
                        other.map(String::from).unwrap_or_default()
                    )));
                }
            }
        }
        Ok(Some(text))
    })
}

/// `information_schema._pg_expandarray(arr)`, which pgjdbc's
/// `getPrimaryKeys` reads `.x` and `.n` of. hiveql tables have no primary
/// keys (`pg_index` is empty), so it is planned but never meets a row; for
/// one it answers the first element and its position.
#[derive(Debug, PartialEq, Eq, Hash)]
struct PgExpandArray {
    signature: datafusion::logical_expr::Signature,
}

fn expandarray_fields() -> datafusion::arrow::datatypes::Fields {
    vec![Field::new("x", DataType::Int32, true), Field::new("n", DataType::Int32, true)].into()
}

impl datafusion::logical_expr::ScalarUDFImpl for PgExpandArray {
    fn name(&self) -> &str {
        "_pg_expandarray"
    }

    fn signature(&self) -> &datafusion::logical_expr::Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(expandarray_fields()))
    }

    fn invoke_with_args(&self, args: datafusion::logical_expr::ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let first: datafusion::arrow::array::Int32Array = (0..rows).map(|_| None).collect();
        let n: datafusion::arrow::array::Int32Array = (0..rows).map(|_| Some(1)).collect();
        let s = datafusion::arrow::array::StructArray::try_new(
            expandarray_fields(),
            vec![Arc::new(first) as ArrayRef, Arc::new(n) as ArrayRef],
            None,
        )?;
        Ok(ColumnarValue::Array(Arc::new(s)))
    }
}

pub(crate) fn pg_expandarray() -> ScalarUDF {
    ScalarUDF::new_from_impl(PgExpandArray {
        signature: datafusion::logical_expr::Signature::any(1, Volatility::Immutable),
    })
}

/// A catalog function whose answer does not depend on its arguments.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Constant {
    name: &'static str,
    signature: datafusion::logical_expr::Signature,
    value: datafusion::scalar::ScalarValue,
}

impl datafusion::logical_expr::ScalarUDFImpl for Constant {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &datafusion::logical_expr::Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(self.value.data_type())
    }

    fn invoke_with_args(&self, _args: datafusion::logical_expr::ScalarFunctionArgs) -> Result<ColumnarValue> {
        Ok(ColumnarValue::Scalar(self.value.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_print_as_postgresql_prints_them() {
        assert_eq!(size_pretty(0), "0 bytes");
        assert_eq!(size_pretty(10239), "10239 bytes");
        assert_eq!(size_pretty(10240), "10 kB");
        assert_eq!(size_pretty(1_000_000), "977 kB");
        assert_eq!(size_pretty(123_456_789), "118 MB");
        assert_eq!(size_pretty(-20480), "-20 kB");
    }

    #[test]
    fn regproc_literals_are_names() {
        assert_eq!(
            regproc_literals_to_names("SELECT typinput='pg_catalog.array_in'::regproc, 'x' FROM pg_type"),
            "SELECT typinput='array_in', 'x' FROM pg_type"
        );
        assert_eq!(regproc_literals_to_names("SELECT 'f' :: pg_catalog.regproc"), "SELECT 'f'");
        assert_eq!(regproc_literals_to_names("SELECT 'a.b'::regprocedure"), "SELECT 'a.b'::regprocedure");
    }

    #[test]
    fn catalog_relations_are_found_in_pg_catalog() {
        assert_eq!(
            qualify_catalog_regclass("d.classoid='pg_class'::regclass AND x = 'sales'::regclass"),
            "d.classoid='pg_catalog.pg_class'::regclass AND x = 'sales'::regclass"
        );
        assert_eq!(
            qualify_catalog_regclass("'pg_namespace' :: pg_catalog.regclass"),
            "'pg_catalog.pg_namespace' :: pg_catalog.regclass"
        );
    }

    fn rewritten(sql: &str) -> String {
        let mut statements = datafusion::sql::sqlparser::parser::Parser::parse_sql(
            &datafusion::sql::sqlparser::dialect::PostgreSqlDialect {},
            sql,
        )
        .unwrap();
        case_subqueries_to_filters(&mut statements[0]);
        aggregate_scalar_subqueries(&mut statements[0]);
        statements[0].to_string()
    }

    #[test]
    fn a_subquery_under_case_moves_its_condition_into_its_where() {
        let got =
            rewritten("SELECT CASE WHEN a.h THEN (SELECT d.x FROM d WHERE d.k = a.k) ELSE NULL END AS def FROM a");
        assert_eq!(got, "SELECT (SELECT max(d.x) FROM d WHERE (a.h) AND (d.k = a.k)) AS def FROM a");
    }

    #[test]
    fn a_compared_subquery_in_the_moved_condition_becomes_a_join() {
        let got = rewritten(
            "SELECT CASE WHEN (a.c <> 0 AND (SELECT t.tc FROM t WHERE t.oid = a.tid) <> a.c) \
             THEN (SELECT x.n FROM x WHERE x.oid = a.c) ELSE NULL END FROM a",
        );
        assert_eq!(
            got,
            "SELECT (SELECT max(x.n) FROM x, t WHERE (a.c <> 0) AND ((t.tc) <> a.c) AND (x.oid = a.c) \
             AND (t.oid = a.tid)) FROM a"
        );
        // one that aggregates is left as written (a join would change what it compares)
        let got = rewritten(
            "SELECT CASE WHEN (SELECT max(t.tc) FROM t WHERE t.oid = a.tid) <> a.c \
             THEN (SELECT x.n FROM x WHERE x.oid = a.c) END FROM a",
        );
        assert!(got.contains("(SELECT max(t.tc) FROM t WHERE t.oid = a.tid) <> a.c"), "{got}");
    }
}
