//! A [`Session`]: one user's connection to hiveql. It holds the DataFusion
//! `SessionContext` (whose catalog is the metastore), the current database,
//! and Hive's variables and settings, and runs statements one at a time.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::context::SessionContext;
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::prelude::{DataFrame, SessionConfig};
use hiveql_metastore::{Database, Metastore, SqliteMetastore};

use crate::catalog::{CATALOG, HiveCatalog};
use crate::deadline::{self, Deadline};
use crate::error::{Result, semantic};
use crate::explain::PlanNotes;
use crate::location::Location;
use crate::sql::ast::{HiveStatement, TableRef};
use crate::sql::script::{Command, Variables, parse_command};
use crate::sql::{parser, rewrite};

/// The Hive property naming the warehouse directory.
pub const WAREHOUSE_DIR: &str = "hive.metastore.warehouse.dir";

/// The Hive property naming the session's time zone (`LOCAL` or unset: the machine's).
pub const LOCAL_TIME_ZONE: &str = "hive.local.time.zone";

/// How to open a session.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    /// `HIVEQL_HOME`: holds `metastore.db` and, by default, `warehouse/`.
    pub home: PathBuf,
    /// `--hiveconf K=V` settings.
    pub hiveconf: Vec<(String, String)>,
    /// `--hivevar K=V` variables.
    pub hivevar: Vec<(String, String)>,
}

/// What a statement produced.
pub enum StatementOutput {
    /// Rows to show (queries, SHOW, DESCRIBE, ...).
    Rows(SendableRecordBatchStream),
    /// A statement that changed something; the message says what, if anything.
    Done(Option<String>),
    /// Rows written (`INSERT`, `CREATE TABLE ... AS`); the message says where.
    Written { rows: u64, message: String },
}

impl std::fmt::Debug for StatementOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StatementOutput::Rows(s) => write!(f, "Rows({:?})", s.schema()),
            StatementOutput::Done(m) => write!(f, "Done({m:?})"),
            StatementOutput::Written { rows, message } => write!(f, "Written({rows}, {message:?})"),
        }
    }
}

/// What a statement returns, as far as it is known before it runs: what a
/// client that asks first (the wire protocol's Describe) is told.
#[derive(Debug, Clone)]
pub enum Shape {
    /// Rows with this schema (queries, `EXPLAIN`, `SET key`).
    Rows(SchemaRef),
    /// No rows (DDL, `INSERT`, `LOAD`, `USE`, `SET k=v`).
    Nothing,
    /// Rows whose columns are known once it runs (`SHOW`, `DESCRIBE`): it
    /// only reads, so running it to find out is safe.
    RunToKnow,
}

/// One user's session.
///
/// A clone shares the DataFusion context (its state and runtime) and has its
/// own copy of the current database and variables: the REPL runs each
/// statement on a clone and keeps it only when the statement completes.
#[derive(Clone)]
pub struct Session {
    pub(crate) ctx: SessionContext,
    pub(crate) metastore: Arc<dyn Metastore>,
    pub(crate) current_db: String,
    pub(crate) hivevar: HashMap<String, String>,
    pub(crate) hiveconf: HashMap<String, String>,
    home: PathBuf,
    strict: Arc<crate::functions::strict::Strictness>,
    /// Plans of one-row queries, run again without planning.
    plans: crate::plan_cache::PlanCache,
}

/// Whether running `stmt` changes nothing: a query, `EXPLAIN`, `SHOW`,
/// `DESCRIBE`.
fn only_reads(stmt: &HiveStatement) -> bool {
    matches!(
        stmt,
        HiveStatement::Query(_)
            | HiveStatement::Explain { .. }
            | HiveStatement::Show(_)
            | HiveStatement::Describe { .. }
            | HiveStatement::DescribeDatabase { .. }
            | HiveStatement::DescribeFunction { .. }
    )
}

impl Session {
    /// Open a session on the embedded metastore in `opts.home`, creating the
    /// home, the warehouse and the `default` database on first use.
    pub fn open(opts: SessionOptions) -> Result<Session> {
        std::fs::create_dir_all(&opts.home)
            .map_err(|e| crate::error::io_err(format!("creating HIVEQL_HOME {}", opts.home.display()), e))?;
        let metastore: Arc<dyn Metastore> = Arc::new(SqliteMetastore::open(&opts.home.join("metastore.db"))?);
        Session::with_metastore(metastore, opts)
    }

    /// Watch the progress of this session's jobs on a cluster, stage by
    /// stage (`None` while no job runs). Sessions cloned from this one
    /// share it.
    pub fn job_progress(&self) -> Option<tokio::sync::watch::Receiver<Option<crate::dist::progress::JobStages>>> {
        crate::dist::progress::feed_of(self.ctx.state_ref().read().config()).map(|feed| feed.watch())
    }

    /// Open a session on a given metastore.
    pub fn with_metastore(metastore: Arc<dyn Metastore>, opts: SessionOptions) -> Result<Session> {
        // dfs:// locations reach their cluster with the secret of this home.
        let secret =
            hiveql_storage::secret::Secret::discover(Some(&opts.home)).map_err(|e| format!("cluster secret: {e}"));
        let stores = Arc::new(crate::location::LocationStores::new(secret));
        let runtime = datafusion::execution::runtime_env::RuntimeEnvBuilder::new()
            .with_object_store_registry(stores.clone())
            .build_arc()?;
        let notes = Arc::new(PlanNotes::default());
        // Hive 4's strict checks, switched by `SET` (see `set_property`).
        let strict = Arc::new(crate::functions::strict::Strictness::default());
        let mut config = SessionConfig::new()
            .with_option_extension(crate::options::Prefixed(crate::options::HiveqlOptions::default()))
            .with_extension(stores)
            // and so does a cluster's scheduler
            .with_extension(Arc::new(crate::dist::auth::SessionSecret(opts.home.clone())))
            // a cluster job's progress, for whoever watches (the CLI)
            .with_extension(Arc::new(crate::dist::progress::ProgressFeed::default()))
            .with_extension(notes.clone())
            .with_default_catalog_and_schema(CATALOG, "default")
            .with_create_default_catalog_and_schema(false)
            .with_information_schema(false);
        // Hive sorts NULL before every value.
        config.options_mut().sql_parser.default_null_ordering = "nulls_min".into();
        // `1.5` is DECIMAL(2,1) in Hive; numbers with an exponent are DOUBLE (see the lexer)
        config.options_mut().sql_parser.parse_float_as_decimal = true;
        let mut builder = SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(runtime)
            .with_default_features()
            .with_analyzer_rules(crate::functions::analyzer_rules(strict.clone()))
            // Joins and aggregations on bucket columns run bucket by bucket.
            .with_physical_optimizer_rule(Arc::new(crate::bucket::wise::BucketWise::new(notes)))
            // Cancelling a statement must not wait for a join to finish.
            .with_physical_optimizer_rule(Arc::new(crate::cancel::YieldPoints))
            // LATERAL VIEW and UDTFs in the select list; TABLESAMPLE
            .with_relation_planners(vec![
                Arc::new(crate::sql::lateral_view::LateralViewPlanner),
                Arc::new(crate::sql::tablesample::TableSamplePlanner),
            ])
            .with_type_planner(Arc::new(crate::functions::planner::HiveTypePlanner));
        // Grouping sets must not pass their input's constants and orderings
        // on (see `grouping_sets`): before DataFusion's sort rules run.
        let mut physical = datafusion::physical_optimizer::optimizer::PhysicalOptimizer::new().rules;
        physical.insert(0, Arc::new(crate::grouping_sets::GroupingSetInputs));
        *builder.physical_optimizers() =
            Some(datafusion::physical_optimizer::optimizer::PhysicalOptimizer::with_rules(physical));
        // Hive's operator typing goes before DataFusion's own planners.
        if let Some(planners) = builder.expr_planners() {
            planners.insert(0, Arc::new(crate::functions::planner::HiveExprPlanner::new(strict.clone())));
        }
        let state = builder.build();
        let ctx = SessionContext::new_with_state(state);
        crate::functions::register(&ctx);
        ctx.register_catalog(CATALOG, Arc::new(HiveCatalog::new(metastore.clone(), Arc::downgrade(&ctx.state_ref()))));
        let mut s = Session {
            ctx,
            metastore,
            current_db: "default".into(),
            hivevar: opts.hivevar.into_iter().collect(),
            hiveconf: HashMap::new(),
            home: opts.home,
            strict,
            plans: Default::default(),
        };
        for (k, v) in opts.hiveconf {
            s.set_property(&k, &v)?;
        }
        s.ensure_default_database()?;
        Ok(s)
    }

    fn ensure_default_database(&self) -> Result<()> {
        let wh = self.warehouse()?;
        if let Some(p) = wh.local_path() {
            std::fs::create_dir_all(&p)
                .map_err(|e| crate::error::io_err(format!("creating the warehouse {}", p.display()), e))?;
        }
        if self.metastore.get_database("default")?.is_none() {
            let db = Database {
                name: "default".into(),
                location: wh.text.clone(),
                comment: Some("Default Hive database".into()),
                owner: std::env::var("USER").ok(),
                properties: BTreeMap::new(),
            };
            match self.metastore.create_database(&db) {
                Ok(()) | Err(hiveql_metastore::MetastoreError::AlreadyExists { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// The warehouse location (`hive.metastore.warehouse.dir`, default `$HIVEQL_HOME/warehouse`).
    pub fn warehouse(&self) -> Result<Location> {
        match self.hiveconf.get(WAREHOUSE_DIR) {
            Some(w) => Location::parse(w),
            None => Location::parse(&self.home.join("warehouse").display().to_string()),
        }
    }

    /// The metastore of this session.
    pub fn metastore(&self) -> &Arc<dyn Metastore> {
        &self.metastore
    }

    /// The DataFusion context (for tests and tools).
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// The database `USE` selected.
    pub fn current_database(&self) -> &str {
        &self.current_db
    }

    /// A snapshot of the DataFusion state to plan with.
    pub(crate) fn state(&self) -> SessionState {
        self.ctx.state()
    }

    /// Substitute Hive variables in statement text.
    pub fn substitute(&self, text: &str) -> String {
        Variables { hivevar: &self.hivevar, hiveconf: &self.hiveconf }.substitute(text)
    }

    /// Database, table and function names, for completion.
    pub fn completion_names(&self) -> Vec<String> {
        let mut out = self.metastore.list_databases().unwrap_or_default();
        out.extend(self.metastore.list_tables(&self.current_db).unwrap_or_default());
        let state = self.ctx.state();
        out.extend(state.scalar_functions().keys().cloned());
        out.extend(state.aggregate_functions().keys().cloned());
        out.extend(state.window_functions().keys().cloned());
        out.sort();
        out.dedup();
        out
    }

    /// Set a Hive or DataFusion property (`SET k=v`, `--hiveconf k=v`).
    pub fn set_property(&mut self, key: &str, value: &str) -> Result<()> {
        self.plans.clear();
        if let Some(k) = key.strip_prefix("hivevar:") {
            self.hivevar.insert(k.to_string(), value.to_string());
            return Ok(());
        }
        if key.starts_with("env:") || key.starts_with("system:") {
            return Err(semantic(format!("{key} is read-only")));
        }
        let key = key.strip_prefix("hiveconf:").unwrap_or(key);
        check_partition_setting(key, value)?;
        if key == deadline::SETTING {
            deadline::parse(value)?;
        }
        let options_key = crate::options::hive_alias(key).unwrap_or(key);
        if options_key.starts_with("datafusion.") || options_key.starts_with("hiveql.") {
            let state = self.ctx.state_ref();
            let mut st = state.write();
            st.config_mut().options_mut().set(options_key, value).map_err(|e| semantic(format!("SET {key}: {e}")))?;
        }
        if key == WAREHOUSE_DIR {
            Location::parse(value).map_err(|e| semantic(format!("SET {key}: {e}")))?;
        }
        self.strict.set(key, value).map_err(semantic)?;
        if key == LOCAL_TIME_ZONE {
            // the functions read the session zone from DataFusion's setting
            if crate::functions::date::Zone::parse(value).is_none() {
                return Err(semantic(format!("SET {key}: unknown time zone '{value}'")));
            }
            let zone = if value.trim().eq_ignore_ascii_case("LOCAL") { None } else { Some(value.trim().to_string()) };
            self.ctx.state_ref().write().config_mut().options_mut().execution.time_zone = zone;
        }
        self.hiveconf.insert(key.to_string(), value.to_string());
        Ok(())
    }

    /// Run one statement (text from [`crate::sql::script::split_statements`]).
    pub async fn execute(&mut self, text: &str) -> Result<StatementOutput> {
        let deadline = Deadline::start(self.query_timeout());
        // boxed: statement futures are large, and a debug build's test threads have 2 MiB stacks
        let output = Deadline::run(deadline, Box::pin(self.execute_unlimited(text))).await?;
        Ok(Deadline::rows(deadline, output))
    }

    /// The session's `hive.query.timeout.seconds` (see [`crate::deadline`]).
    pub fn query_timeout(&self) -> Option<std::time::Duration> {
        self.hiveconf.get(deadline::SETTING).and_then(|v| deadline::parse(v).ok().flatten())
    }

    async fn execute_unlimited(&mut self, text: &str) -> Result<StatementOutput> {
        let text = self.substitute(text);
        if let Some(cmd) = parse_command(&text) {
            return self.command(cmd);
        }
        if let Some(rows) = self.run_kept_plan(&text)? {
            return Ok(rows);
        }
        let stmt = parser::parse_statement(&text)?;
        self.run_statement(stmt, Some(&text)).await
    }

    /// Whether `text` runs a plan kept from an earlier run (see
    /// [`crate::plan_cache`]): one row, no planning, no table read.
    pub fn has_kept_plan(&self, text: &str) -> bool {
        self.plans.get(&self.substitute(text)).is_some()
    }

    /// Run the kept plan of `text` (substituted), if there is one.
    fn run_kept_plan(&self, text: &str) -> Result<Option<StatementOutput>> {
        let Some((plan, task)) = self.plans.get(text) else { return Ok(None) };
        Ok(Some(StatementOutput::Rows(datafusion::physical_plan::execute_stream(plan, task)?)))
    }

    /// What `text` returns, without running it (see [`Shape`]).
    pub async fn shape(&self, text: &str) -> Result<Shape> {
        let text = self.substitute(text);
        if let Some(cmd) = parse_command(&text) {
            return Ok(match cmd {
                Command::ShowSetting(_) | Command::ListSettings => {
                    Shape::Rows(Arc::new(Schema::new(vec![Field::new("set", DataType::Utf8, true)])))
                }
                Command::Set { .. } | Command::Reset | Command::Resource(_) => Shape::Nothing,
            });
        }
        Ok(match parser::parse_statement(&text)? {
            HiveStatement::Query(q) => {
                let plan = rewrite::plan_query(&self.state(), *q).await?;
                Shape::Rows(Arc::new(plan.schema().as_arrow().clone()))
            }
            other if only_reads(&other) => Shape::RunToKnow,
            _ => Shape::Nothing,
        })
    }

    /// Run `text` if it only reads (a query, `EXPLAIN`, `SHOW`, `DESCRIBE`,
    /// `SET key`), so running it early changes nothing; `None` (and nothing
    /// run) otherwise. The wire endpoint starts such a statement when a
    /// client asks for its columns, and hands over its rows at Execute.
    pub async fn start_read(&mut self, text: &str) -> Result<Option<StatementOutput>> {
        let deadline = Deadline::start(self.query_timeout());
        let output = Deadline::run(deadline, Box::pin(self.start_read_unlimited(text))).await?;
        Ok(output.map(|o| Deadline::rows(deadline, o)))
    }

    async fn start_read_unlimited(&mut self, text: &str) -> Result<Option<StatementOutput>> {
        let text = self.substitute(text);
        if let Some(cmd) = parse_command(&text) {
            return match cmd {
                Command::ShowSetting(_) | Command::ListSettings => self.command(cmd).map(Some),
                _ => Ok(None),
            };
        }
        if let Some(rows) = self.run_kept_plan(&text)? {
            return Ok(Some(rows));
        }
        let stmt = parser::parse_statement(&text)?;
        if !only_reads(&stmt) {
            return Ok(None);
        }
        self.run_statement(stmt, Some(&text)).await.map(Some)
    }

    /// Run one statement and collect its rows (for tests and tools).
    pub async fn execute_collect(&mut self, text: &str) -> Result<Vec<RecordBatch>> {
        match self.execute(text).await? {
            StatementOutput::Rows(s) => Ok(datafusion::physical_plan::common::collect(s).await?),
            StatementOutput::Done(_) | StatementOutput::Written { .. } => Ok(vec![]),
        }
    }

    fn command(&mut self, cmd: Command) -> Result<StatementOutput> {
        self.plans.clear();
        match cmd {
            Command::Set { key, value } => {
                self.set_property(&key, &value)?;
                Ok(StatementOutput::Done(None))
            }
            Command::ShowSetting(key) => {
                let value = if let Some(k) = key.strip_prefix("hivevar:") {
                    self.hivevar.get(k).cloned()
                } else if key.starts_with("datafusion.") {
                    let st = self.ctx.state();
                    st.config().options().entries().into_iter().find(|e| e.key == key).and_then(|e| e.value)
                } else {
                    self.hiveconf.get(key.strip_prefix("hiveconf:").unwrap_or(&key)).cloned()
                };
                let line = match value {
                    Some(v) => format!("{key}={v}"),
                    None => format!("{key} is undefined"),
                };
                Ok(string_rows(&["set"], vec![vec![Some(line)]]))
            }
            Command::ListSettings => {
                let mut lines: Vec<String> = self.hiveconf.iter().map(|(k, v)| format!("{k}={v}")).collect();
                lines.extend(self.hivevar.iter().map(|(k, v)| format!("hivevar:{k}={v}")));
                lines.sort();
                Ok(string_rows(&["set"], lines.into_iter().map(|l| vec![Some(l)]).collect()))
            }
            Command::Reset => {
                self.hiveconf.clear();
                Ok(StatementOutput::Done(None))
            }
            Command::Resource(text) => Ok(StatementOutput::Done(Some(format!(
                "Ignored '{text}': hiveql runs no JVM, so jars and files are not needed"
            )))),
        }
    }

    /// Run a parsed statement.
    pub async fn execute_statement(&mut self, stmt: HiveStatement) -> Result<StatementOutput> {
        let deadline = Deadline::start(self.query_timeout());
        let output = Deadline::run(deadline, Box::pin(self.run_statement(stmt, None))).await?;
        Ok(Deadline::rows(deadline, output))
    }

    /// Run a parsed statement; a query's plan is offered to the plan cache
    /// under `text`, the statement's text.
    async fn run_statement(&mut self, stmt: HiveStatement, text: Option<&str>) -> Result<StatementOutput> {
        if !matches!(stmt, HiveStatement::Query(_)) {
            // it may change what a kept plan's functions mean
            self.plans.clear();
        }
        // Notes are for the statement's own EXPLAIN: none carried over.
        if let Some(notes) = self.ctx.state_ref().read().config().get_extension::<PlanNotes>() {
            notes.take();
        }
        match stmt {
            HiveStatement::Query(q) => {
                // One snapshot of the state plans and runs the query.
                let state = self.state();
                let plan = rewrite::plan_query(&state, *q).await?;
                if let Some(cluster) = crate::dist::client::cluster_of(&state) {
                    let state = crate::dist::client::planning_state(&state);
                    let physical = state.create_physical_plan(&plan).await?;
                    let rows = if crate::dist::client::reads_files(&physical) {
                        crate::dist::client::execute(&cluster, &state, physical).await?
                    } else {
                        datafusion::physical_plan::execute_stream(physical, state.task_ctx())?
                    };
                    return Ok(StatementOutput::Rows(rows));
                }
                let physical = state.create_physical_plan(&plan).await?;
                let task = state.task_ctx();
                if let Some(text) = text {
                    self.plans.offer(text, &plan, &physical, || task.clone());
                }
                Ok(StatementOutput::Rows(datafusion::physical_plan::execute_stream(physical, task)?))
            }
            HiveStatement::Explain { analyze, verbose, query } => {
                let state = self.state();
                let notes = state.config().get_extension::<PlanNotes>();
                if let Some(notes) = &notes {
                    notes.take();
                }
                let plan = rewrite::plan_query(&state, *query).await?;
                let cluster = crate::dist::client::cluster_of(&state);
                let state = if cluster.is_some() { crate::dist::client::planning_state(&state) } else { state };
                let stages = match &cluster {
                    Some(_) if !analyze => {
                        let physical = state.create_physical_plan(&plan).await?;
                        crate::dist::stages::describe(physical, state.config_options())?
                    }
                    _ => Vec::new(),
                };
                let df = DataFrame::new(state, plan).explain(verbose, analyze)?;
                let mut batches = df.collect().await?;
                // On a cluster: the stages the scheduler cuts the plan into.
                if let (Some(schema), Some(cluster)) = (batches.first().map(|b| b.schema()), &cluster)
                    && !stages.is_empty()
                {
                    let kinds: StringArray =
                        stages.iter().map(|s| Some(format!("stage {} on {cluster}", s.id))).collect();
                    let lines: StringArray =
                        stages.iter().map(|s| Some(format!("{}\n{}", s.summary, s.plan))).collect();
                    batches.push(
                        RecordBatch::try_new(schema, vec![Arc::new(kinds), Arc::new(lines)])
                            .map_err(datafusion::error::DataFusionError::from)?,
                    );
                }
                // What pruning and the bucket rules chose, after the plan.
                let notes = notes.map(|n| n.take()).unwrap_or_default();
                if let Some(schema) = batches.first().map(|b| b.schema())
                    && !notes.is_empty()
                {
                    let kinds: StringArray = notes.iter().map(|(k, _)| Some(*k)).collect();
                    let lines: StringArray = notes.iter().map(|(_, t)| Some(t.as_str())).collect();
                    batches.push(
                        RecordBatch::try_new(schema, vec![Arc::new(kinds), Arc::new(lines)])
                            .map_err(datafusion::error::DataFusionError::from)?,
                    );
                }
                let schema = batches.first().map(|b| b.schema()).unwrap_or_else(|| Arc::new(Schema::empty()));
                let stream = futures::stream::iter(batches.into_iter().map(Ok));
                Ok(StatementOutput::Rows(Box::pin(RecordBatchStreamAdapter::new(schema, stream))))
            }
            HiveStatement::Use(db) => {
                if self.metastore.get_database(&db)?.is_none() {
                    return Err(semantic(format!("Database does not exist: {db}")));
                }
                self.ctx.state_ref().write().config_mut().options_mut().catalog.default_schema = db.clone();
                self.current_db = db;
                Ok(StatementOutput::Done(None))
            }
            HiveStatement::NoOp(text) => {
                let head: String = text.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
                Ok(StatementOutput::Done(Some(format!("Ignored '{head} ...': not needed by hiveql"))))
            }
            HiveStatement::Show(show) => self.show(show),
            HiveStatement::Describe { table, style, partition } => self.describe(&table, style, partition.as_ref()),
            HiveStatement::DescribeDatabase { name, extended } => self.describe_database(&name, extended),
            HiveStatement::DescribeFunction { name, extended } => self.describe_function(&name, extended),
            HiveStatement::CreateDatabase { name, if_not_exists, comment, location, properties } => {
                self.create_database(name, if_not_exists, comment, location, properties).await
            }
            HiveStatement::DropDatabase { name, if_exists, cascade } => {
                self.drop_database(&name, if_exists, cascade).await
            }
            HiveStatement::CreateTable(ct) => self.create_table(*ct).await,
            HiveStatement::CreateView(v) => self.create_view(*v).await,
            HiveStatement::DropTable { name, if_exists, purge: _, view } => {
                self.drop_table(&name, if_exists, view).await
            }
            HiveStatement::Truncate { table, partition: None } => self.truncate(&table).await,
            HiveStatement::Truncate { table, partition: Some(spec) } => {
                let t = self.get_table(&table)?;
                self.truncate_partition(&t, &spec).await
            }
            HiveStatement::Msck { table, add, drop } => {
                let t = self.get_table(&table)?;
                self.msck(&t, add, drop).await
            }
            HiveStatement::AlterTable { name, op } => self.alter_table(&name, op).await,
            HiveStatement::LoadData { local, path, overwrite, table, partition } => {
                self.load_data(local, &path, overwrite, &table, &partition).await
            }
            HiveStatement::Insert(inserts) => self.insert(inserts).await,
        }
    }

    /// Plan a query with Hive's rewrites.
    pub(crate) async fn plan_query(&self, query: datafusion::sql::sqlparser::ast::Query) -> Result<LogicalPlan> {
        let state = self.state();
        Ok(rewrite::plan_query(&state, query).await?)
    }

    /// `db` of a table reference, defaulting to the current database.
    pub(crate) fn qualify(&self, t: &TableRef) -> (String, String) {
        (t.database.clone().unwrap_or_else(|| self.current_db.clone()), t.name.clone())
    }
}

/// Refuse a bad value for one of Hive's partition settings when it is set,
/// not when a statement later reads it.
fn check_partition_setting(key: &str, value: &str) -> Result<()> {
    let v = value.trim().to_ascii_lowercase();
    let allowed: &[&str] = match key {
        "hive.exec.dynamic.partition.mode" => &["strict", "nonstrict"],
        "hive.msck.path.validation" => &["skip", "ignore", "throw"],
        "hive.exec.dynamic.partition" => &["true", "false"],
        crate::sql::regex_columns::SETTING => &["none", "column"],
        "hive.exec.max.dynamic.partitions" | "hive.exec.max.dynamic.partitions.pernode" => {
            return match v.parse::<usize>() {
                Ok(n) if n > 0 => Ok(()),
                _ => Err(semantic(format!("SET {key}: '{value}' is not a positive number"))),
            };
        }
        _ => return Ok(()),
    };
    if allowed.contains(&v.as_str()) {
        Ok(())
    } else {
        Err(semantic(format!("SET {key}: '{value}' is not one of {}", allowed.join(", "))))
    }
}

/// A result of string columns.
pub(crate) fn string_rows(names: &[&str], rows: Vec<Vec<Option<String>>>) -> StatementOutput {
    let schema: SchemaRef =
        Arc::new(Schema::new(names.iter().map(|n| Field::new(*n, DataType::Utf8, true)).collect::<Vec<_>>()));
    let columns: Vec<ArrayRef> = (0..names.len())
        .map(|i| Arc::new(rows.iter().map(|r| r.get(i).cloned().flatten()).collect::<StringArray>()) as ArrayRef)
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), columns).expect("string columns match schema");
    let stream = futures::stream::iter(vec![Ok(batch)]);
    StatementOutput::Rows(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
}
