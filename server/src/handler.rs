//! The query protocols: simple queries (one or more statements in one
//! message) and the extended protocol (Parse, Bind, Describe, Execute,
//! Close, Sync, with `$n` parameters and portals fetched in chunks), over
//! the connection's [`Session`](hiveql_engine::Session).
//!
//! Each statement is routed (see [`crate::route`]): HiveQL to the session,
//! PostgreSQL catalog queries to the connection's [`PgContext`], driver
//! housekeeping answered here. A failing statement answers with an
//! ErrorResponse and leaves the connection usable.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use futures::{Sink, StreamExt};
use hiveql_engine::sql::script::split_statements;
use hiveql_engine::{HiveError, Shape, StatementOutput};
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler, send_describe_response};
use pgwire::api::results::{
    DescribePortalResponse, DescribeStatementResponse, FieldInfo, QueryResponse, Response, Tag,
};
use pgwire::api::stmt::{QueryParser, StoredStatement};
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, Type};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::extendedquery::{Describe, Execute, TARGET_TYPE_BYTE_PORTAL};

use crate::Conn;
use crate::cursor::{Cursor, CursorOp};
use crate::error::{code, datafusion_error, hive_error, user_error};
use crate::exec;
use crate::params::{self, Dialect};
use crate::route::{Route, route};
use crate::typeinfo;
use crate::wire::{self, CopyFormat, WireSchema};

/// A statement parsed with the extended protocol.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The statement as sent, `$n` and all.
    pub text: String,
    pub route: Route,
    /// How many parameters it takes.
    pub params: usize,
    /// The parameter types Describe sent the client (its own where it named
    /// them, else what the statement implies, else text): a client that
    /// named none binds its values as these.
    pub described: Arc<std::sync::OnceLock<Vec<Type>>>,
}

impl Prepared {
    /// The type parameter `i` is bound as: the client's, else the described one.
    fn parameter_type(&self, client: &[Option<Type>], i: usize) -> Type {
        client
            .get(i)
            .cloned()
            .flatten()
            .filter(|t| *t != Type::UNKNOWN)
            .or_else(|| self.described.get().and_then(|d| d.get(i).cloned()))
            .unwrap_or(Type::UNKNOWN)
    }
}

/// A read-only statement started at Describe: pgjdbc and psycopg send
/// Parse, Bind, Describe, Execute for every statement, and planning it once
/// for the Describe and again for the Execute would double its cost.
pub struct Described {
    portal: String,
    text: String,
    rows: datafusion::execution::SendableRecordBatchStream,
}

/// The handlers of every connection (state is per connection, in [`Conn`]).
#[derive(Debug, Default)]
pub struct Handler;

fn conn_of<C: ClientInfo + ?Sized>(client: &C) -> PgWireResult<Arc<Conn>> {
    client
        .session_extensions()
        .get::<Conn>()
        .ok_or_else(|| user_error(code::INVALID_AUTHORIZATION, "the connection is not authenticated"))
}

/// The command tag of a statement that returned no rows.
fn tag_for(text: &str) -> Tag {
    let words = crate::route::words(text);
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    let upper = |s: &str| s.to_ascii_uppercase();
    let tag = match w.as_slice() {
        ["create" | "drop" | "alter", rest @ ..] => {
            let skip =
                ["or", "replace", "external", "temporary", "transactional", "materialized", "if", "not", "exists"];
            let object = rest.iter().find(|x| !skip.contains(x)).copied().unwrap_or("");
            format!("{} {}", upper(w[0]), upper(object))
        }
        ["use", ..] => "SET".to_string(),
        [first, ..] => upper(first),
        [] => "OK".to_string(),
    };
    Tag::new(&tag)
}

/// What one statement returns to the client.
enum Outcome {
    Rows(datafusion::execution::SendableRecordBatchStream),
    /// Rows of a cursor (tag `FETCH n`).
    Fetched(datafusion::execution::SendableRecordBatchStream),
    Copy(datafusion::execution::SendableRecordBatchStream, CopyFormat),
    Done(Response),
}

impl Handler {
    /// Listen for cancels of the statement about to run, and for the end of
    /// the session's time limit.
    async fn arm(&self, conn: &Arc<Conn>) -> crate::cancel::Armed {
        let limit = conn.session.lock().await.query_timeout();
        conn.cancel.arm().until(limit)
    }

    /// Run one statement of `route`.
    async fn run(&self, conn: &Arc<Conn>, text: &str, route: &Route, format: &Format) -> PgWireResult<Response> {
        let armed = self.arm(conn).await;
        let outcome = tokio::select! {
            r = self.outcome(conn, text, route) => r?,
            stop = armed.wait() => return Err(stop.error()),
        };
        Ok(match outcome {
            Outcome::Rows(stream) => Response::Query(wire::query_response(stream, format, armed)?),
            Outcome::Fetched(stream) => {
                let mut q = wire::query_response(stream, format, armed)?;
                q.set_command_tag("FETCH");
                Response::Query(q)
            }
            Outcome::Copy(stream, copy) => Response::CopyOut(wire::copy_response(stream, copy, armed)?),
            Outcome::Done(r) => r,
        })
    }

    async fn outcome(&self, conn: &Arc<Conn>, text: &str, route: &Route) -> PgWireResult<Outcome> {
        Ok(match route {
            Route::Empty => Outcome::Done(Response::EmptyQuery),
            Route::Begin => Outcome::Done(Response::TransactionStart(Tag::new("BEGIN"))),
            Route::Commit => Outcome::Done(Response::TransactionEnd(Tag::new("COMMIT"))),
            Route::Rollback => Outcome::Done(Response::TransactionEnd(Tag::new("ROLLBACK"))),
            Route::Ignore(tag) => Outcome::Done(Response::Execution(Tag::new(tag))),
            Route::PgSet { name, value } => {
                self.pg_set(conn, name, value).await?;
                Outcome::Done(Response::Execution(Tag::new("SET")))
            }
            Route::PgShow(name) => Outcome::Rows(self.pg_show(conn, name)?),
            Route::Copy(copy) => match self.hive(conn, &copy.query).await.map_err(|e| hive_error(&e))? {
                StatementOutput::Rows(stream) => Outcome::Copy(stream, CopyFormat::of(copy)),
                _ => return Err(user_error(code::SYNTAX_OR_ACCESS, "COPY needs a query that returns rows")),
            },
            // asyncpg's introspection comes with its $1 (see `do_query`); sent without, it is
            // a catalog query like any other
            Route::Catalog | Route::TypeInfo => Outcome::Rows(self.catalog(conn, text).await?),
            Route::Cursor(op) => self.cursor(conn, op).await?,
            Route::Hive => match self.hive(conn, text).await {
                Ok(StatementOutput::Rows(stream)) => Outcome::Rows(stream),
                Ok(StatementOutput::Done(_)) => Outcome::Done(Response::Execution(tag_for(text))),
                Ok(StatementOutput::Written { rows, .. }) => {
                    let tag = if crate::route::words(text).first().map(String::as_str) == Some("insert") {
                        Tag::new("INSERT").with_oid(0).with_rows(rows as usize)
                    } else {
                        Tag::new("SELECT").with_rows(rows as usize)
                    };
                    Outcome::Done(Response::Execution(tag))
                }
                Err(e) => Outcome::Rows(or_postgres(e, self.catalog(conn, text)).await?),
            },
        })
    }

    async fn cursor(&self, conn: &Arc<Conn>, op: &CursorOp) -> PgWireResult<Outcome> {
        let no_cursor = |name: &str| user_error(code::INVALID_CURSOR_NAME, format!("cursor \"{name}\" does not exist"));
        Ok(match op {
            CursorOp::Declare { name, query } => match self.hive(conn, query).await.map_err(|e| hive_error(&e))? {
                StatementOutput::Rows(stream) => {
                    conn.cursors.lock().await.declare(name.clone(), Cursor::new(stream));
                    Outcome::Done(Response::Execution(Tag::new("DECLARE CURSOR")))
                }
                _ => return Err(user_error(code::SYNTAX_OR_ACCESS, "a cursor needs a query that returns rows")),
            },
            CursorOp::Fetch { name, count, skip } => {
                let mut cursors = conn.cursors.lock().await;
                let cursor = cursors.get(name).ok_or_else(|| no_cursor(name))?;
                let batch = cursor.fetch(*count).await.map_err(|e| datafusion_error(&e))?;
                if *skip {
                    return Ok(Outcome::Done(Response::Execution(Tag::new("MOVE").with_rows(batch.num_rows()))));
                }
                let schema = batch.schema();
                let stream = futures::stream::iter(vec![Ok(batch)]);
                Outcome::Fetched(Box::pin(datafusion::physical_plan::stream::RecordBatchStreamAdapter::new(
                    schema, stream,
                )))
            }
            CursorOp::Close { name } => {
                if !conn.cursors.lock().await.close(name.as_deref()) {
                    return Err(no_cursor(name.as_deref().unwrap_or("")));
                }
                Outcome::Done(Response::Execution(Tag::new(if name.is_some() {
                    "CLOSE CURSOR"
                } else {
                    "CLOSE CURSOR ALL"
                })))
            }
        })
    }

    /// Run HiveQL on the connection's session.
    async fn hive(&self, conn: &Arc<Conn>, text: &str) -> Result<StatementOutput, HiveError> {
        self.on_session(conn, text, false).await?.ok_or_else(|| HiveError::Internal("a statement was not run".into()))
    }

    /// Run HiveQL on the connection's session, on the connection's runtime
    /// (see [`crate::exec`]), rows and all; with `only_reads`, only a
    /// statement that only reads (else `None`, and nothing is run).
    async fn on_session(
        &self,
        conn: &Arc<Conn>,
        text: &str,
        only_reads: bool,
    ) -> Result<Option<StatementOutput>, HiveError> {
        {
            // a kept one-row plan runs here: nothing to plan, nothing to hold
            // up (see hiveql_engine::plan_cache), and no hop between runtimes
            let mut session = conn.session.lock().await;
            if session.has_kept_plan(text) {
                return if only_reads { session.start_read(text).await } else { session.execute(text).await.map(Some) };
            }
        }
        let (c, text) = (conn.clone(), text.to_string());
        let work = async move {
            let mut session = c.session.lock().await;
            let out = if only_reads { session.start_read(&text).await } else { session.execute(&text).await.map(Some) };
            *c.identity.schema.write() = session.current_database().to_string();
            out.map(|o| match o {
                Some(StatementOutput::Rows(rows)) => Some(StatementOutput::Rows(exec::offload(rows))),
                other => other,
            })
        };
        conn.exec.run(work).await.unwrap_or_else(|e| Err(HiveError::Internal(e)))
    }

    /// Run PostgreSQL-dialect SQL on the connection's catalog context.
    async fn catalog(
        &self,
        conn: &Arc<Conn>,
        text: &str,
    ) -> PgWireResult<datafusion::execution::SendableRecordBatchStream> {
        let pg = conn.pg().await?;
        let text = text.to_string();
        let work = async move { pg.run(&text).await.map(exec::offload) };
        let rows = conn.exec.run(work).await.map_err(|e| user_error(code::INTERNAL_ERROR, e))?;
        rows.map_err(|e| datafusion_error(&e))
    }

    async fn pg_set(&self, conn: &Arc<Conn>, name: &str, value: &str) -> PgWireResult<()> {
        let name = name.to_ascii_lowercase();
        if name == "search_path" {
            // the first schema of the path that hiveql has becomes the current database
            let mut session = conn.session.lock().await;
            for schema in value.split(',').map(|s| s.trim().trim_matches('"').trim_matches('\'')) {
                if matches!(session.metastore().get_database(schema), Ok(Some(_))) {
                    session.execute(&format!("USE `{schema}`")).await.map_err(|e| hive_error(&e))?;
                    *conn.identity.schema.write() = schema.to_string();
                    break;
                }
            }
            return Ok(());
        }
        if name == "statement_timeout" {
            // PostgreSQL's limit is Hive's hive.query.timeout.seconds; its bare numbers are ms
            let v = value.trim().trim_matches('\'');
            let hive = if v.chars().all(|c| c.is_ascii_digit()) { format!("{v}ms") } else { v.to_string() };
            let mut session = conn.session.lock().await;
            session.set_property(hiveql_engine::deadline::SETTING, &hive).map_err(|e| hive_error(&e))?;
        }
        conn.identity.settings.write().insert(name, value.to_string());
        Ok(())
    }

    fn pg_show(&self, conn: &Arc<Conn>, name: &str) -> PgWireResult<datafusion::execution::SendableRecordBatchStream> {
        if name == "all" {
            let rows = crate::route::PG_SETTINGS
                .iter()
                .map(|(n, _)| vec![Some(n.to_string()), conn.identity.setting(n), None])
                .collect();
            return wire::text_rows(&["name", "setting", "description"], rows);
        }
        wire::text_rows(&[name], vec![vec![conn.identity.setting(name)]])
    }

    /// The columns `text` returns, as RowDescription fields in `format`
    /// (none: NoData).
    async fn describe(
        &self,
        conn: &Arc<Conn>,
        text: &str,
        route: &Route,
        format: &Format,
    ) -> PgWireResult<Vec<FieldInfo>> {
        let schema = match route {
            Route::PgShow(name) => self.pg_show(conn, name)?.schema(),
            Route::Cursor(CursorOp::Fetch { name, skip: false, .. }) => match conn.cursors.lock().await.get(name) {
                Some(c) => c.schema(),
                None => return Ok(vec![]),
            },
            Route::Catalog => self.catalog_schema(conn, text).await?,
            Route::Hive => {
                let (c, sql) = (conn.clone(), text.to_string());
                let work = async move { c.session.lock().await.shape(&sql).await };
                let shape = conn.exec.run(work).await.unwrap_or_else(|e| Err(HiveError::Internal(e)));
                match shape {
                    Ok(Shape::Rows(schema)) => schema,
                    Ok(Shape::Nothing) => return Ok(vec![]),
                    // SHOW, DESCRIBE: they only read; run to see the columns
                    Ok(Shape::RunToKnow) => match self.hive(conn, text).await.map_err(|e| hive_error(&e))? {
                        StatementOutput::Rows(stream) => stream.schema(),
                        _ => return Ok(vec![]),
                    },
                    Err(e) => or_postgres(e, self.catalog_schema(conn, text)).await?,
                }
            }
            _ => return Ok(vec![]),
        };
        Ok(WireSchema::new(&schema)?.fields(format))
    }

    /// The types `stmt`'s parameters must have where its text says so (see
    /// [`hiveql_engine::sql::placeholder`]), `None` where it does not or
    /// the statement does not plan (its Describe or Execute says why).
    async fn parameter_types(&self, conn: &Arc<Conn>, stmt: &Prepared) -> Vec<Option<Type>> {
        let from_catalog = async {
            let pg = conn.pg().await.ok()?;
            let plan = pg.plan(&stmt.text).await.ok()?;
            let types = plan.get_parameter_types().ok()?;
            Some((1..=stmt.params).map(|n| types.get(&format!("${n}")).cloned().flatten()).collect::<Vec<_>>())
        };
        let types = match stmt.route {
            Route::Hive => {
                let (c, text, n) = (conn.clone(), stmt.text.clone(), stmt.params);
                let work = async move { c.session.lock().await.parameter_types(&text, n).await };
                match conn.exec.run(work).await {
                    Ok(Ok(types)) => Some(types),
                    Ok(Err(HiveError::Parse(_))) => from_catalog.await,
                    _ => None,
                }
            }
            Route::Catalog => from_catalog.await,
            _ => None,
        };
        types.unwrap_or_default().iter().map(|t| t.as_ref().map(params::wire_type)).collect()
    }

    /// The columns of a bound portal. A statement that only reads starts
    /// here and its Execute takes the rows (see [`Described`]); others are
    /// described without running.
    async fn describe_portal(
        &self,
        conn: &Arc<Conn>,
        portal: &Portal<Prepared>,
        text: String,
    ) -> PgWireResult<Vec<FieldInfo>> {
        /// What Describe did with the portal's statement.
        enum Started {
            Rows(datafusion::execution::SendableRecordBatchStream),
            /// It writes: no rows, and it runs at Execute.
            Writes,
            /// Not HiveQL or a query (a cursor's FETCH, SHOW of a setting).
            Other,
        }
        let route = &portal.statement.statement.route;
        let armed = self.arm(conn).await;
        let started = async {
            Ok::<_, PgWireError>(match route {
                Route::Hive => match self.on_session(conn, &text, true).await {
                    Ok(Some(StatementOutput::Rows(rows))) => Started::Rows(rows),
                    Ok(_) => Started::Writes,
                    Err(e) => Started::Rows(or_postgres(e, self.catalog(conn, &text)).await?),
                },
                Route::Catalog => Started::Rows(self.catalog(conn, &text).await?),
                _ => Started::Other,
            })
        };
        let rows = match tokio::select! {
            r = started => r?,
            stop = armed.wait() => return Err(stop.error()),
        } {
            Started::Rows(rows) => rows,
            Started::Writes => return Ok(vec![]),
            Started::Other => return self.describe(conn, &text, route, &portal.result_column_format).await,
        };
        let fields = WireSchema::new(&rows.schema())?.fields(&portal.result_column_format);
        *conn.described.lock().await = Some(Described { portal: portal.name.clone(), text, rows });
        Ok(fields)
    }

    async fn catalog_schema(
        &self,
        conn: &Arc<Conn>,
        text: &str,
    ) -> PgWireResult<datafusion::arrow::datatypes::SchemaRef> {
        let pg = conn.pg().await?;
        let plan = pg.plan(text).await.map_err(|e| datafusion_error(&e))?;
        Ok(Arc::new(plan.schema().as_arrow().clone()))
    }

    /// The statement of `portal` with its parameters written in.
    fn bind(&self, portal: &Portal<Prepared>) -> PgWireResult<String> {
        let stmt = &portal.statement.statement;
        if portal.parameter_len() < stmt.params {
            return Err(user_error(
                code::PROTOCOL_VIOLATION,
                format!(
                    "bind message supplies {} parameters, but the statement needs {}",
                    portal.parameter_len(),
                    stmt.params
                ),
            ));
        }
        if stmt.params == 0 {
            return Ok(stmt.text.clone());
        }
        let dialect = if stmt.route == Route::Catalog { Dialect::Postgres } else { Dialect::Hive };
        let values = (0..portal.parameter_len())
            .map(|i| {
                let ty = stmt.parameter_type(&portal.statement.parameter_types, i);
                params::literal(portal, i, &ty, dialect)
            })
            .collect::<PgWireResult<Vec<String>>>()?;
        params::substitute(&stmt.text, &values)
    }
}

/// A statement HiveQL could not parse may be PostgreSQL a tool sent: `as_postgres` is
/// that attempt (not started unless the error is a parse error). When it fails too, or
/// the error is another, Hive's error stands.
async fn or_postgres<T>(
    e: HiveError,
    as_postgres: impl std::future::Future<Output = PgWireResult<T>>,
) -> PgWireResult<T> {
    match e {
        HiveError::Parse(_) => as_postgres.await.map_err(|_| hive_error(&e)),
        e => Err(hive_error(&e)),
    }
}

/// All the rows of a response, so the next statement of the same simple
/// query can run (the session runs one statement at a time).
async fn materialize(response: Response) -> PgWireResult<Response> {
    let Response::Query(mut q) = response else { return Ok(response) };
    let mut rows = Vec::new();
    while let Some(row) = q.data_rows().next().await {
        rows.push(row);
    }
    let mut done = QueryResponse::new(q.row_schema(), futures::stream::iter(rows));
    done.set_command_tag(q.command_tag());
    Ok(Response::Query(done))
}

#[async_trait]
impl SimpleQueryHandler for Handler {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let conn = conn_of(client)?;
        let statements = split_statements(query);
        if statements.is_empty() {
            return Ok(vec![Response::EmptyQuery]);
        }
        let last = statements.len() - 1;
        let mut responses = Vec::with_capacity(statements.len());
        for (i, st) in statements.iter().enumerate() {
            let route = route(&st.text);
            let result = match self.run(&conn, &st.text, &route, &Format::UnifiedText).await {
                Ok(r) if i < last => materialize(r).await,
                other => other,
            };
            match result {
                Ok(r) => responses.push(r),
                Err(e) => {
                    // PostgreSQL stops a multi-statement query at its first error
                    responses.push(Response::Error(wire::into_info(e)));
                    break;
                }
            }
        }
        Ok(responses)
    }
}

/// Parses statements for the extended protocol.
#[derive(Debug, Default)]
pub struct Parser;

#[async_trait]
impl QueryParser for Parser {
    type Statement = Prepared;

    async fn parse_sql<C>(&self, _client: &C, sql: &str, _types: &[Option<Type>]) -> PgWireResult<Option<Prepared>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let statements = split_statements(sql);
        if statements.len() > 1 {
            return Err(user_error(code::SYNTAX_ERROR, "cannot insert multiple commands into a prepared statement"));
        }
        let Some(st) = statements.into_iter().next() else { return Ok(None) };
        Ok(Some(Prepared {
            params: params::count(&st.text),
            route: route(&st.text),
            text: st.text,
            described: Default::default(),
        }))
    }

    fn get_parameter_types(&self, stmt: &Prepared) -> PgWireResult<Vec<Type>> {
        Ok(vec![Type::TEXT; stmt.params])
    }

    fn get_result_schema(&self, _stmt: &Prepared, _format: Option<&Format>) -> PgWireResult<Vec<FieldInfo>> {
        // described with the connection's session: see `do_describe_*`
        Ok(vec![])
    }
}

#[async_trait]
impl ExtendedQueryHandler for Handler {
    type Statement = Prepared;
    type QueryParser = Parser;

    fn query_parser(&self) -> Arc<Parser> {
        Arc::new(Parser)
    }

    /// Describe, where a portal may also be an SQL cursor (psycopg asks for
    /// the columns of `DECLARE`d cursors this way, as PostgreSQL allows).
    async fn on_describe<C>(&self, client: &mut C, message: Describe) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if message.target_type == TARGET_TYPE_BYTE_PORTAL
            && let Some(name) = message.name.as_deref()
            && client.portal_store().get_portal(name).is_none()
        {
            let conn = conn_of(client)?;
            let schema = conn.cursors.lock().await.get(name).map(|c| c.schema());
            if let Some(schema) = schema {
                let fields = WireSchema::new(&schema)?.fields(&Format::UnifiedText);
                return send_describe_response(client, &DescribePortalResponse::new(fields)).await;
            }
        }
        self._on_describe(client, message).await
    }

    /// Execute, with the portal's rows streamed (see [`crate::portal`]).
    async fn on_execute<C>(&self, client: &mut C, message: Execute) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        crate::portal::execute(self, client, message).await
    }

    async fn do_describe_statement<C>(
        &self,
        client: &mut C,
        target: &StoredStatement<Prepared>,
    ) -> PgWireResult<DescribeStatementResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let stmt = &target.statement;
        if stmt.route == Route::TypeInfo {
            return Ok(DescribeStatementResponse::new(vec![Type::OID_ARRAY], typeinfo::fields(&Format::UnifiedText)));
        }
        let conn = conn_of(client)?;
        let named = |i: usize| target.parameter_types.get(i).cloned().flatten().filter(|t| *t != Type::UNKNOWN);
        let implied =
            if (0..stmt.params).all(|i| named(i).is_some()) { vec![] } else { self.parameter_types(&conn, stmt).await };
        // the client's types, else the statement's, else text (which Hive converts where needed)
        let types: Vec<Type> = (0..stmt.params)
            .map(|i| named(i).or_else(|| implied.get(i).cloned().flatten()).unwrap_or(Type::TEXT))
            .collect();
        let _ = stmt.described.set(types.clone());
        let nulls = vec!["NULL".to_string(); stmt.params];
        let text = params::substitute(&stmt.text, &nulls)?;
        let fields = self.describe(&conn, &text, &stmt.route, &Format::UnifiedText).await?;
        Ok(DescribeStatementResponse::new(types, fields))
    }

    async fn do_describe_portal<C>(
        &self,
        client: &mut C,
        portal: &Portal<Prepared>,
    ) -> PgWireResult<DescribePortalResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if portal.statement.statement.route == Route::TypeInfo {
            return Ok(DescribePortalResponse::new(typeinfo::fields(&portal.result_column_format)));
        }
        let conn = conn_of(client)?;
        let text = self.bind(portal)?;
        let fields = self.describe_portal(&conn, portal, text).await?;
        Ok(DescribePortalResponse::new(fields))
    }

    async fn do_query<C>(&self, client: &mut C, portal: &Portal<Prepared>, _max_rows: usize) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if portal.statement.statement.route == Route::TypeInfo {
            let oids = portal
                .parameter::<Vec<Option<u32>>>(0, &Type::OID_ARRAY)
                .map_err(|e| user_error(code::INVALID_TEXT_REPRESENTATION, format!("parameter $1: {e}")))?;
            let oids: Vec<u32> = oids.unwrap_or_default().into_iter().flatten().collect();
            let format = &portal.result_column_format;
            let rows = typeinfo::rows(&oids, format)?;
            return Ok(Response::Query(QueryResponse::new(
                Arc::new(typeinfo::fields(format)),
                futures::stream::iter(rows.into_iter().map(Ok)),
            )));
        }
        let conn = conn_of(client)?;
        let text = self.bind(portal)?;
        let described = conn.described.lock().await.take();
        if let Some(d) = described.filter(|d| d.portal == portal.name && d.text == text) {
            let armed = self.arm(&conn).await;
            return Ok(Response::Query(wire::query_response(d.rows, &portal.result_column_format, armed)?));
        }
        // pgwire keeps the rows' stream in the portal and sends max_rows at a time
        self.run(&conn, &text, &portal.statement.statement.route, &portal.result_column_format).await
    }
}
