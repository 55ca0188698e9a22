//! `INSERT OVERWRITE` of a partition that already exists, atomic for
//! readers: the new files are written into a directory of their own, the
//! partition's location is switched to it in the metastore (one
//! transaction for every partition the statement replaces, together with
//! the partitions it adds), and only then is the old directory deleted. A
//! query plans against the metastore, so it reads either the old partition
//! or the new one, never a half-written one; a failed insert leaves every
//! old partition where it was.
//!
//! The first directory of a partition is Hive's `t/k=v` (or the location
//! it was given); each overwrite writes a new hidden sibling
//! `t/.k=v_hiveql_<n>`, never a directory used before: a reader that
//! listed the old files before the swap may then fail to open them, but
//! never reads files of two generations under one name. Hidden directories
//! are skipped by listings and by `MSCK REPAIR TABLE`, like Hive's staging
//! directories; the metastore names where each partition is.
//! (The table provider lists a partition's files again when its location
//! changed between the metastore read and the listing, see
//! `table::provider`.)

use object_store::ObjectStore;

use crate::error::Result;
use crate::location::Location;

/// The marker between a partition directory's name and a sequence number
/// in the hidden directories overwrites write to.
const MARK: &str = "_hiveql_";

/// The directory a partition at `current` calls home: `current` itself,
/// or for `.../.k=v_hiveql_<n>` (an earlier overwrite's), `.../k=v`.
pub fn home(current: &Location) -> Location {
    let Some(name) = current.name() else { return current.clone() };
    let alternate = name
        .strip_prefix('.')
        .and_then(|rest| rest.rsplit_once(MARK))
        .filter(|(base, n)| !base.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    match alternate.and_then(|(base, _)| current.sibling(base)) {
        Some(home) => home,
        None => current.clone(),
    }
}

/// The new, empty directory an overwrite of the partition at `current`
/// writes to: a hidden sibling of its home named for this overwrite.
pub async fn overwrite_target(store: &dyn ObjectStore, current: &Location) -> Result<Location> {
    let home = home(current);
    let name = home.name().unwrap_or("partition").to_string();
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    for n in 0..1000 {
        let Some(candidate) = home.sibling(&format!(".{name}{MARK}{}", stamp + n)) else { break };
        if candidate != *current && crate::table::listing::list_all(store, &candidate).await?.is_empty() {
            return Ok(candidate);
        }
    }
    Err(crate::error::HiveError::Semantic(format!(
        "no free directory beside {home} to write the partition's new files"
    )))
}

/// Delete a replaced partition's old directory (after the metastore no
/// longer names it); failures are logged, the statement has succeeded.
pub async fn retire(store: &dyn ObjectStore, old: &Location) {
    if let Err(e) = crate::table::writer::delete_data(store, old).await {
        tracing::warn!(dir = %old, error = %e, "could not delete a replaced partition's old files");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternates_know_their_home() {
        let home_dir = Location::parse("/w/t/k=v").unwrap();
        assert_eq!(home(&home_dir), home_dir);
        assert_eq!(home(&Location::parse("/w/t/.k=v_hiveql_17").unwrap()), home_dir);
        let s3 = Location::parse("s3://b/w/t/dt=2024-01-01/.h=3_hiveql_5").unwrap();
        assert_eq!(home(&s3).text, "s3://b/w/t/dt=2024-01-01/h=3");
        // not ours: left alone
        for other in ["/w/t/.k=v_hiveql_", "/w/t/.k=v_other_3", "/w/t/._hiveql_3", "/w/t/k=v_hiveql_3"] {
            let l = Location::parse(other).unwrap();
            assert_eq!(home(&l), l, "{other}");
        }
    }
}
