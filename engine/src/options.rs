//! hiveql's own settings, kept in DataFusion's configuration under the
//! `hiveql.` prefix (`SET hiveql.bucket_wise=false`), where optimizer
//! rules read them. Hive's names for the same switches map onto them
//! (see [`hive_alias`]).

use datafusion::common::config::ConfigExtension;
use datafusion::common::extensions_options;

extensions_options! {
    /// Settings of hiveql's planner.
    pub struct HiveqlOptions {
        /// Run joins and aggregations on bucket columns bucket by bucket
        /// (`crate::bucket::wise`); Hive's `hive.optimize.bucketmapjoin`.
        pub bucket_wise: bool, default = true
        /// `column` (backquotes quote names) or `none` (a backquoted select
        /// item is a regex over column names, `crate::sql::regex_columns`);
        /// Hive's `hive.support.quoted.identifiers`.
        pub quoted_identifiers: String, default = "column".to_string()
        /// The scheduler (`HOST:PORT`) the session's queries run on;
        /// empty: in-process (`crate::dist`).
        pub cluster: String, default = String::new()
    }
}

impl ConfigExtension for HiveqlOptions {
    const PREFIX: &'static str = "hiveql";
}

/// The `hiveql.` setting a Hive setting stands for, if any.
pub fn hive_alias(key: &str) -> Option<&'static str> {
    match key {
        "hive.optimize.bucketmapjoin" => Some("hiveql.bucket_wise"),
        "hive.support.quoted.identifiers" => Some("hiveql.quoted_identifiers"),
        _ => None,
    }
}
