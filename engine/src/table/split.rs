//! Input splits, as Hive's `InputSplit`: the work a scan divides among its
//! tasks. An uncompressed text file is cut into byte ranges (each range reads
//! the lines that start inside it, see [`crate::table::text_source`]);
//! compressed files are one split each. Splits are dealt into groups of
//! about equal size, one group per DataFusion partition.

use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::FileGroup;

/// Cut files into splits and deal them into `groups` groups.
///
/// `splittable` says whether a file may be cut (false for compressed files
/// and formats that must be read whole); a cut file yields ranges of about
/// `total / groups` bytes but not below `min_split` bytes.
pub fn plan_splits(
    files: Vec<PartitionedFile>,
    groups: usize,
    min_split: u64,
    splittable: impl Fn(&PartitionedFile) -> bool,
) -> Vec<FileGroup> {
    let groups = groups.max(1);
    let total: u64 = files.iter().map(|f| f.object_meta.size).sum();
    let target = (total / groups as u64).max(min_split).max(1);
    let mut splits: Vec<PartitionedFile> = Vec::new();
    for f in files {
        let size = f.object_meta.size;
        if size > target && splittable(&f) {
            let mut start = 0;
            while start < size {
                let end = (start + target).min(size);
                splits.push(f.clone().with_range(start as i64, end as i64));
                start = end;
            }
        } else {
            splits.push(f);
        }
    }
    // Largest first into the lightest group keeps groups even.
    splits
        .sort_by_key(|s| std::cmp::Reverse(s.range.as_ref().map_or(s.object_meta.size, |r| (r.end - r.start) as u64)));
    let mut out: Vec<(u64, Vec<PartitionedFile>)> = (0..groups).map(|_| (0, Vec::new())).collect();
    for s in splits {
        let len = s.range.as_ref().map_or(s.object_meta.size, |r| (r.end - r.start) as u64);
        let g = out.iter_mut().min_by_key(|(w, _)| *w).unwrap();
        g.0 += len;
        g.1.push(s);
    }
    out.into_iter().filter(|(_, v)| !v.is_empty()).map(|(_, v)| FileGroup::new(v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::compression::Compression;

    #[test]
    fn cuts_big_files_and_keeps_compressed_whole() {
        let files = vec![
            PartitionedFile::new("a.txt", 1000),
            PartitionedFile::new("b.gz", 600),
            PartitionedFile::new("c.txt", 10),
        ];
        let groups = plan_splits(files, 2, 100, |f| !Compression::of(f.object_meta.location.as_ref()).is_compressed());
        assert_eq!(groups.len(), 2);
        let all: Vec<&PartitionedFile> = groups.iter().flat_map(|g| g.iter()).collect();
        let a_bytes: i64 = all
            .iter()
            .filter(|f| f.object_meta.location.as_ref() == "a.txt")
            .map(|f| f.range.as_ref().unwrap())
            .map(|r| r.end - r.start)
            .sum();
        assert_eq!(a_bytes, 1000);
        assert!(all.iter().any(|f| f.object_meta.location.as_ref() == "b.gz" && f.range.is_none()));
    }
}
