//! Input splits, as Hive's `InputSplit`: the work a scan divides among its
//! tasks. An uncompressed text file is cut into byte ranges (each range reads
//! the lines that start inside it, see [`crate::table::text_source`]);
//! compressed files are one split each. A file in the block store is cut at
//! its block boundaries, as Hive's `FileInputFormat` does (a split is at
//! most a block, so each split reads from one block's replicas). Splits are
//! dealt into groups of about equal size, one group per DataFusion
//! partition.

use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::FileGroup;

/// How a file may be cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Read whole (compressed files, formats that must be read whole).
    Whole,
    /// Anywhere (a local file).
    Anywhere,
    /// At block boundaries, blocks of this many bytes (a block store file);
    /// a block may be cut further into equal parts.
    Blocks(u64),
}

/// Cut files into splits and deal them into `groups` groups.
///
/// `cut` says how a file may be cut; a cut file yields ranges of about
/// `total / groups` bytes (at most a block) but not below `min_split` bytes.
/// `host` names the host a split at an offset of a file is best read on
/// (a replica's, in the block store), if any: splits of one host are dealt
/// into groups of that host where that keeps the groups even, so a task
/// placed on the host reads its group there ([`crate::dist::locality`]).
pub fn plan_splits(
    files: Vec<PartitionedFile>,
    groups: usize,
    min_split: u64,
    cut: impl Fn(&PartitionedFile) -> Cut,
    host: impl Fn(&PartitionedFile, u64) -> Option<String>,
) -> Vec<FileGroup> {
    let groups = groups.max(1);
    let total: u64 = files.iter().map(|f| f.object_meta.size).sum();
    let target = (total / groups as u64).max(min_split).max(1);
    // Blocks are cut into `parts` equal pieces when whole blocks would not
    // deal evenly into the groups (9 blocks into 2 groups: 5 against 4).
    let blocks: u64 = files
        .iter()
        .map(|f| match cut(f) {
            Cut::Blocks(b) if b > 0 => f.object_meta.size.div_ceil(b),
            _ => 0,
        })
        .sum();
    let g = groups as u64;
    let parts = (1..=8u64).find(|p| (blocks * p).div_ceil(g) * g * 100 <= blocks * p * 105).unwrap_or(8);
    let mut splits: Vec<PartitionedFile> = Vec::new();
    // `[start, end)` of `f` in ranges of `len` bytes
    let push_range = |splits: &mut Vec<PartitionedFile>, f: &PartitionedFile, start: u64, end: u64, len: u64| {
        let mut s = start;
        while s < end {
            let e = (s + len).min(end);
            splits.push(f.clone().with_range(s as i64, e as i64));
            s = e;
        }
    };
    for f in files {
        let size = f.object_meta.size;
        match cut(&f) {
            Cut::Anywhere if size > target => push_range(&mut splits, &f, 0, size, target),
            Cut::Blocks(block) if block > 0 && size > target.min(block) => {
                let mut start = 0;
                while start < size {
                    let end = (start + block).min(size);
                    // a block cut into equal parts of at most `target` bytes (not below `min_split`)
                    let len = end - start;
                    let n = len.div_ceil(target).max(parts).min(len.div_ceil(min_split.max(1))).max(1);
                    push_range(&mut splits, &f, start, end, len.div_ceil(n));
                    start = end;
                }
            }
            _ => splits.push(f),
        }
    }
    // Largest first into the lightest group keeps groups even; a split
    // with a host goes to the lightest group of its host instead when that
    // group stays within the even share (5% over).
    let len_of = |s: &PartitionedFile| s.range.as_ref().map_or(s.object_meta.size, |r| (r.end - r.start) as u64);
    let mut splits: Vec<(Option<String>, PartitionedFile)> =
        splits.into_iter().map(|s| (host(&s, s.range.as_ref().map_or(0, |r| r.start as u64)), s)).collect();
    splits.sort_by_key(|(_, s)| std::cmp::Reverse(len_of(s)));
    let share = total.div_ceil(groups as u64) * 105 / 100;
    let mut out: Vec<(u64, Option<String>, Vec<PartitionedFile>)> =
        (0..groups.max(1)).map(|_| (0, None, Vec::new())).collect();
    for (host, s) in splits {
        let len = len_of(&s);
        let own = host.as_ref().and_then(|h| {
            out.iter()
                .enumerate()
                .filter(|(_, (w, owner, _))| owner.as_ref() == Some(h) && w + len <= share)
                .min_by_key(|(_, (w, ..))| *w)
                .map(|(i, _)| i)
        });
        let i = own.unwrap_or_else(|| {
            // the lightest group, preferring one no host has taken yet
            (0..out.len()).min_by_key(|&i| (out[i].0, out[i].1.is_some())).expect("at least one group")
        });
        let g = &mut out[i];
        g.0 += len;
        if g.1.is_none() {
            g.1 = host;
        }
        g.2.push(s);
    }
    out.into_iter().filter(|(.., v)| !v.is_empty()).map(|(.., v)| FileGroup::new(v)).collect()
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
        let groups = plan_splits(
            files,
            2,
            100,
            |f| {
                if Compression::of(f.object_meta.location.as_ref()).is_compressed() {
                    Cut::Whole
                } else {
                    Cut::Anywhere
                }
            },
            |_, _| None,
        );
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

    fn ranges(groups: &[FileGroup]) -> Vec<(i64, i64)> {
        let mut r: Vec<(i64, i64)> =
            groups.iter().flat_map(|g| g.iter()).map(|f| f.range.as_ref().map(|r| (r.start, r.end)).unwrap()).collect();
        r.sort();
        r
    }

    #[test]
    fn block_store_files_split_at_block_boundaries() {
        // few groups: a split per block, never across a boundary
        let groups = plan_splits(vec![PartitionedFile::new("f", 1000)], 2, 10, |_| Cut::Blocks(300), |_, _| None);
        assert_eq!(ranges(&groups), vec![(0, 300), (300, 600), (600, 900), (900, 1000)]);
        // many groups: blocks are cut into equal parts, boundaries kept
        let groups = plan_splits(vec![PartitionedFile::new("f", 600)], 4, 10, |_| Cut::Blocks(300), |_, _| None);
        assert_eq!(ranges(&groups), vec![(0, 150), (150, 300), (300, 450), (450, 600)]);
        // 9 blocks into 2 groups: halves of blocks, so the groups are even
        let groups = plan_splits(vec![PartitionedFile::new("f", 900)], 2, 10, |_| Cut::Blocks(100), |_, _| None);
        let r = ranges(&groups);
        assert_eq!(r.len(), 18);
        assert!(r.iter().all(|(a, b)| b - a == 50 && a / 100 == (b - 1) / 100), "{r:?}");
        let loads: Vec<i64> =
            groups.iter().map(|g| g.iter().map(|f| f.range.as_ref().map_or(0, |r| r.end - r.start)).sum()).collect();
        assert_eq!(loads, vec![450, 450]);
        // 8 blocks alternating between two hosts, into 4 groups: each group's blocks on one host
        let host = |_: &PartitionedFile, at: u64| Some(format!("h{}", (at / 100) % 2));
        let groups = plan_splits(vec![PartitionedFile::new("f", 800)], 4, 100, |_| Cut::Blocks(100), host);
        assert_eq!(groups.len(), 4);
        for g in &groups {
            let hosts: std::collections::HashSet<i64> =
                g.iter().map(|f| (f.range.as_ref().unwrap().start / 100) % 2).collect();
            assert_eq!(hosts.len(), 1, "{g:?}");
            assert_eq!(g.iter().map(|f| f.range.as_ref().map_or(0, |r| r.end - r.start)).sum::<i64>(), 200);
        }
        // a file within one block that is no bigger than the target stays whole
        let groups = plan_splits(vec![PartitionedFile::new("f", 100)], 1, 10, |_| Cut::Blocks(300), |_, _| None);
        assert!(groups[0].iter().next().unwrap().range.is_none());
    }
}
