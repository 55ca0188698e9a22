//! hiveql's own settings, kept in DataFusion's configuration under the
//! `hiveql.` prefix (`SET hiveql.bucket_wise=false`), where optimizer
//! rules read them. Hive's names for the same switches map onto them
//! (see [`hive_alias`]).

use std::any::Any;

use datafusion::common::config::{ConfigEntry, ConfigExtension, ExtensionOptions};
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

/// A configuration extension whose entries are listed under their full
/// keys (`hiveql.cluster`). DataFusion's `extensions_options!` lists them
/// bare (`cluster`), and a job's settings go from session to scheduler to
/// every task as their entries' keys: a bare key is dropped on the way.
/// `config.extensions.get::<T>()` still finds the `T` inside.
#[derive(Debug, Clone, Default)]
pub struct Prefixed<T>(pub T);

impl<T: ConfigExtension + Clone> ExtensionOptions for Prefixed<T> {
    fn as_any(&self) -> &dyn Any {
        self.0.as_any()
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self.0.as_any_mut()
    }

    fn cloned(&self) -> Box<dyn ExtensionOptions> {
        Box::new(self.clone())
    }

    fn set(&mut self, key: &str, value: &str) -> datafusion::common::Result<()> {
        self.0.set(key, value)
    }

    fn entries(&self) -> Vec<ConfigEntry> {
        let mut entries = self.0.entries();
        for e in &mut entries {
            e.key = format!("{}.{}", T::PREFIX, e.key);
        }
        entries
    }
}

impl<T: ConfigExtension + Clone> ConfigExtension for Prefixed<T> {
    const PREFIX: &'static str = T::PREFIX;
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionConfig;

    #[test]
    fn prefixed_entries_carry_their_keys_and_the_options_are_found() {
        let config = SessionConfig::new()
            .with_option_extension(Prefixed(HiveqlOptions::default()))
            .set_str("hiveql.cluster", "h:1");
        let entries = config.options().entries();
        let cluster = entries.iter().find(|e| e.key == "hiveql.cluster").expect("hiveql.cluster listed");
        assert_eq!(cluster.value.as_deref(), Some("h:1"));
        assert!(!entries.iter().any(|e| e.key == "cluster"));
        assert_eq!(config.options().extensions.get::<HiveqlOptions>().unwrap().cluster, "h:1");
        // what is listed can be set again by its key (as a scheduler and a worker do)
        let mut other = SessionConfig::new().with_option_extension(Prefixed(HiveqlOptions::default()));
        for e in entries.iter().filter(|e| e.key.starts_with("hiveql.")) {
            other.options_mut().set(&e.key, e.value.as_deref().unwrap()).unwrap();
        }
        assert_eq!(other.options().extensions.get::<HiveqlOptions>().unwrap().cluster, "h:1");
    }
}
