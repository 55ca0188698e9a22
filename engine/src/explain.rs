//! Notes the planner leaves for `EXPLAIN`, printed after the plan: what
//! partition and bucket pruning chose for each scan, and which joins and
//! aggregations run bucket by bucket. Each session owns one
//! [`PlanNotes`] (a `SessionConfig` extension, shared with the optimizer
//! rules that write to it); a statement clears it before it is planned.

use parking_lot::Mutex;

/// The notes of the statement being planned: (kind, text) rows, such as
/// `("pruning", "default.t: 1 of 365 partitions read")`.
#[derive(Debug, Default)]
pub struct PlanNotes {
    entries: Mutex<Vec<(&'static str, String)>>,
}

impl PlanNotes {
    /// Add a note of `kind` (the first column of its `EXPLAIN` row).
    pub fn record(&self, kind: &'static str, text: String) {
        self.entries.lock().push((kind, text));
    }

    /// Take what was recorded since the last call.
    pub fn take(&self) -> Vec<(&'static str, String)> {
        std::mem::take(&mut *self.entries.lock())
    }
}
