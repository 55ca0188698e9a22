//! What a stage run again leaves behind: each map output is read once.
//!
//! When a worker is lost while a stage runs, Ballista 55 rolls the stage
//! back and runs all its tasks again, but the locations its finished tasks
//! had already reported stay on the list of the stage that reads it. That
//! stage then read those partitions twice, once from each attempt. Seen as
//! a final answer with some groups repeated: in about one worker kill in 25
//! at the end of a map stage (`a_worker_killed_after_its_map_task_costs_a_rerun_not_the_query`;
//! the scheduler logged "Roll back running job/stage 2", and the merge stage
//! read partition 0 of both attempts of stage 2).
//!
//! A map task's output for one reduce partition is named by its stage, its
//! map partition and the reduce partition; a stage's tasks are
//! deterministic, so two locations with the same name hold the same rows.
//! Readers keep the last (the newest attempt's): a shuffle read as a worker
//! decodes it ([`read_once`], from [`super::codec`]), and the final stage's
//! locations the session fetches ([`super::client`]).

use std::collections::HashSet;
use std::hash::Hash;
use std::sync::Arc;

use ballista_core::execution_plans::ShuffleReaderExec;
use datafusion::physical_plan::ExecutionPlan;

/// `locations` with each `key` once: its last occurrence, in their order.
/// How many were dropped is the second value.
pub fn last_of_each<T, K: Eq + Hash>(locations: Vec<T>, key: impl Fn(&T) -> K) -> (Vec<T>, usize) {
    let mut seen = HashSet::new();
    let before = locations.len();
    let mut kept: Vec<T> = locations.into_iter().rev().filter(|l| seen.insert(key(l))).collect();
    kept.reverse();
    let dropped = before - kept.len();
    (kept, dropped)
}

/// `plan`, if it is a shuffle read, reading each map output once.
pub fn read_once(plan: Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
    let Some(reader) = plan.downcast_ref::<ShuffleReaderExec>() else { return plan };
    let mut reader = reader.clone();
    let mut dropped = 0;
    for locations in &mut reader.partition {
        let (kept, n) = last_of_each(std::mem::take(locations), |l| {
            (l.partition_id.stage_id, l.map_partition_id, l.partition_id.partition_id)
        });
        *locations = kept;
        dropped += n;
    }
    if dropped == 0 {
        return plan;
    }
    tracing::warn!(
        stage = reader.stage_id,
        "a shuffle read listed {dropped} map output(s) twice (a stage run again after a lost worker); each is read once"
    );
    Arc::new(reader)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_of_each_key_is_kept_in_order() {
        let (kept, dropped) = last_of_each(vec![(0, "a0"), (1, "b0"), (0, "a1"), (2, "c0")], |l| l.0);
        assert_eq!(kept, vec![(1, "b0"), (0, "a1"), (2, "c0")]);
        assert_eq!(dropped, 1);
        let (kept, dropped) = last_of_each(vec![1, 2, 3], |l| *l);
        assert_eq!((kept, dropped), (vec![1, 2, 3], 0));
    }
}
