//! Finding partitions on storage, as `MSCK REPAIR TABLE` does: the
//! `key=value` directories under a table's location, one level per
//! partition key in the declared order. A directory whose name is not
//! `key=value` for the expected key, or whose value does not convert to
//! the key's type, is reported (not fatal); hidden directories (`_*`, `.*`,
//! staging) are skipped.

use futures::{StreamExt, TryStreamExt};
use hiveql_metastore::HiveType;
use object_store::ObjectStore;

use super::path::parse_component;
use super::spec::normalize;
use crate::error::Result;
use crate::location::Location;
use crate::table::listing::is_hidden;

/// How many directories are listed at once (object stores answer lists
/// with latency, so they are asked in parallel).
const PARALLEL_LISTS: usize = 32;

/// A partition directory found on storage.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The key values, canonical (`None` for the default partition).
    pub values: Vec<Option<String>>,
    pub location: Location,
}

/// A directory that looks like a partition but is not a valid one.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    /// The directory, relative to the table location.
    pub path: String,
    pub reason: String,
}

/// The partition directories under `root` for partition keys `keys`
/// (name and type), sorted by path, and the invalid directories met.
pub async fn discover(
    store: &dyn ObjectStore,
    root: &Location,
    keys: &[(String, HiveType)],
) -> Result<(Vec<Found>, Vec<Invalid>)> {
    // (directory, relative path, values so far)
    let mut level: Vec<(Location, String, Vec<Option<String>>)> = vec![(root.clone(), String::new(), Vec::new())];
    let mut invalid = Vec::new();
    for (key, ty) in keys {
        let listed: Vec<_> = futures::stream::iter(level.into_iter().map(|(dir, rel, values)| async move {
            let subdirs = match store.list_with_delimiter(Some(&dir.path)).await {
                Ok(l) => l.common_prefixes,
                Err(object_store::Error::NotFound { .. }) => Vec::new(),
                Err(e) => return Err(e),
            };
            Ok((dir, rel, values, subdirs))
        }))
        .buffer_unordered(PARALLEL_LISTS)
        .try_collect()
        .await?;
        let mut next = Vec::new();
        for (dir, rel, values, subdirs) in listed {
            for sub in subdirs {
                let Some(name) = sub.filename() else { continue };
                if is_hidden(name) {
                    continue;
                }
                let child_rel = if rel.is_empty() { name.to_string() } else { format!("{rel}/{name}") };
                let Some((k, v)) = parse_component(name) else {
                    invalid.push(Invalid { path: child_rel, reason: format!("not a {key}=value directory") });
                    continue;
                };
                if !k.eq_ignore_ascii_case(key) {
                    invalid.push(Invalid {
                        path: child_rel,
                        reason: format!("expected partition column {key}, found {k}"),
                    });
                    continue;
                }
                let value = match v.as_deref().map(|v| normalize(ty, v)).transpose() {
                    Ok(v) => v.flatten(),
                    Err(reason) => {
                        invalid.push(Invalid { path: child_rel, reason: format!("{key}: {reason}") });
                        continue;
                    }
                };
                let location = Location {
                    store_url: dir.store_url.clone(),
                    path: sub.clone(),
                    text: format!("{}/{name}", dir.text.trim_end_matches('/')),
                };
                let mut values = values.clone();
                values.push(value);
                next.push((location, child_rel, values));
            }
        }
        level = next;
    }
    let mut found: Vec<Found> = level.into_iter().map(|(location, _, values)| Found { values, location }).collect();
    found.sort_by(|a, b| a.location.text.cmp(&b.location.text));
    invalid.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((found, invalid))
}
