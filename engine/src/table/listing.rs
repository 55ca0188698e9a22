//! Listing the data files of a table or partition directory, as Hive does:
//! the files directly in the directory, skipping hidden ones (`_*`, `.*`).

use futures::TryStreamExt;
use object_store::{ObjectMeta, ObjectStore};

use crate::error::Result;
use crate::location::Location;

/// True for names Hive skips (`_SUCCESS`, `.crc`, staging directories).
pub fn is_hidden(name: &str) -> bool {
    name.starts_with('_') || name.starts_with('.')
}

/// The data files directly in `dir`, sorted by name. A missing directory has none.
pub async fn list_data_files(store: &dyn ObjectStore, dir: &Location) -> Result<Vec<ObjectMeta>> {
    let listing = match store.list_with_delimiter(Some(&dir.path)).await {
        Ok(l) => l,
        Err(object_store::Error::NotFound { .. }) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut files: Vec<ObjectMeta> =
        listing.objects.into_iter().filter(|o| o.location.filename().is_some_and(|n| !is_hidden(n))).collect();
    files.sort_by(|a, b| a.location.cmp(&b.location));
    Ok(files)
}

/// Every object below `dir`, hidden or not (for deleting a directory).
pub async fn list_all(store: &dyn ObjectStore, dir: &Location) -> Result<Vec<ObjectMeta>> {
    Ok(store.list(Some(&dir.path)).try_collect().await?)
}
