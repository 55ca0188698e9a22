//! hiveql-storage: hiveql's replicated block store (namenode, datanodes,
//! `DfsObjectStore`), following the HDFS design in `../shared/DESIGN.md`.
//!
//! Empty so far: the block store is its own issue. The crate exists so the
//! workspace layout and dependency direction (`engine -> storage`) are fixed.
