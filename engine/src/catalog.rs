//! DataFusion's catalog backed by the metastore: databases are schemas,
//! and tables are looked up in the metastore on every query, so DDL done by
//! another process is seen at once. Views are planned from their stored text.

use std::sync::{Arc, Weak};

use async_trait::async_trait;
use datafusion::catalog::view::ViewTable;
use datafusion::catalog::{CatalogProvider, SchemaProvider};
use datafusion::common::{DataFusionError, Result};
use datafusion::datasource::TableProvider;
use datafusion::execution::session_state::SessionState;
use hiveql_metastore::{Metastore, TableType};

use crate::error::HiveError;
use crate::sql::ast::HiveStatement;
use crate::sql::{parser, rewrite};
use crate::table::HiveTableProvider;
use crate::table::statistics::StatisticsCache;

/// The name of hiveql's catalog in DataFusion.
pub const CATALOG: &str = "hive";

/// The session state a view is planned with.
pub type StateHandle = Weak<parking_lot::RwLock<SessionState>>;

/// All databases of the metastore.
#[derive(Debug)]
pub struct HiveCatalog {
    metastore: Arc<dyn Metastore>,
    state: StateHandle,
    statistics: Arc<StatisticsCache>,
}

impl HiveCatalog {
    pub fn new(metastore: Arc<dyn Metastore>, state: StateHandle) -> Self {
        HiveCatalog { metastore, state, statistics: Arc::default() }
    }
}

impl CatalogProvider for HiveCatalog {
    fn schema_names(&self) -> Vec<String> {
        self.metastore.list_databases().unwrap_or_default()
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        match self.metastore.get_database(name) {
            Ok(Some(_)) => Some(Arc::new(HiveSchema {
                db: name.to_ascii_lowercase(),
                metastore: self.metastore.clone(),
                state: self.state.clone(),
                statistics: self.statistics.clone(),
            })),
            _ => None,
        }
    }
}

/// The tables of one database.
#[derive(Debug)]
pub struct HiveSchema {
    db: String,
    metastore: Arc<dyn Metastore>,
    state: StateHandle,
    statistics: Arc<StatisticsCache>,
}

fn df(e: impl Into<HiveError>) -> DataFusionError {
    e.into().into()
}

#[async_trait]
impl SchemaProvider for HiveSchema {
    fn table_names(&self) -> Vec<String> {
        self.metastore.list_tables(&self.db).unwrap_or_default()
    }

    /// A missing table is `None`: DataFusion asks for names that may turn
    /// out to be table functions (`range(...)`), so it must not be an error.
    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        let Some(table) = self.metastore.get_table(&self.db, name).map_err(df)? else { return Ok(None) };
        if table.table_type == TableType::View {
            let text = table.view_text.clone().unwrap_or_default();
            let query = match parser::parse_statement(&text).map_err(df)? {
                HiveStatement::Query(q) => q,
                _ => {
                    return Err(df(HiveError::Semantic(format!(
                        "view {} does not hold a query",
                        table.qualified_name()
                    ))));
                }
            };
            let state = self
                .state
                .upgrade()
                .map(|s| s.read().clone())
                .ok_or_else(|| DataFusionError::Internal("session closed".into()))?;
            let plan = rewrite::plan_query(&state, *query).await.map_err(|e| {
                DataFusionError::Plan(format!("view {} is invalid: {}", table.qualified_name(), HiveError::from(e)))
            })?;
            let names: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
            let plan = rewrite::rename_columns(plan, &names).map_err(df)?;
            return Ok(Some(Arc::new(ViewTable::new(plan, Some(text)))));
        }
        let provider =
            HiveTableProvider::try_new(table, self.metastore.clone(), self.statistics.clone()).map_err(df)?;
        Ok(Some(Arc::new(provider)))
    }

    fn table_exist(&self, name: &str) -> bool {
        matches!(self.metastore.get_table(&self.db, name), Ok(Some(_)))
    }
}
