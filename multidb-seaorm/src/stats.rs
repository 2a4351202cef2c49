//! Counters of routing decisions, per target and reason.

use std::sync::atomic::{AtomicU64, Ordering};

use multidb_core::route::{Reason, Target};

const REASONS: usize = Reason::ALL.len();

fn reason_index(reason: Reason) -> usize {
    // `ALL` lists every reason: core's tests check it.
    Reason::ALL
        .iter()
        .position(|r| *r == reason)
        .unwrap_or(REASONS - 1)
}

#[derive(Debug)]
pub(crate) struct Counters {
    primary: [AtomicU64; REASONS],
    replica: [AtomicU64; REASONS],
    per_replica: Vec<AtomicU64>,
}

impl Counters {
    pub(crate) fn new(replicas: usize) -> Self {
        Counters {
            primary: Default::default(),
            replica: Default::default(),
            per_replica: (0..replicas).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    pub(crate) fn record(&self, target: Target, reason: Reason, replica: Option<usize>) {
        let row = match target {
            Target::Primary => &self.primary,
            Target::Replica => &self.replica,
        };
        row[reason_index(reason)].fetch_add(1, Ordering::Relaxed);
        if let Some(counter) = replica.and_then(|i| self.per_replica.get(i)) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn snapshot(&self) -> RoutingStats {
        let load = |row: &[AtomicU64; REASONS]| row.each_ref().map(|c| c.load(Ordering::Relaxed));
        RoutingStats {
            primary: load(&self.primary),
            replica: load(&self.replica),
            per_replica: self
                .per_replica
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .collect(),
        }
    }
}

/// A snapshot of how many statements went where, and why, since the
/// [`MultiDb`](crate::MultiDb) was built (all clones count together).
///
/// ```
/// # use multidb_seaorm::{MultiDb, Reason, Target};
/// # fn show(db: &MultiDb) {
/// let stats = db.stats();
/// println!(
///     "{} on replicas, {} writes on the primary",
///     stats.total(Target::Replica),
///     stats.count(Target::Primary, Reason::Write)
/// );
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoutingStats {
    primary: [u64; REASONS],
    replica: [u64; REASONS],
    per_replica: Vec<u64>,
}

impl RoutingStats {
    /// Statements sent to `target` for `reason`.
    pub fn count(&self, target: Target, reason: Reason) -> u64 {
        let row = match target {
            Target::Primary => &self.primary,
            Target::Replica => &self.replica,
        };
        row[reason_index(reason)]
    }

    /// Statements sent to `target`, whatever the reason.
    pub fn total(&self, target: Target) -> u64 {
        match target {
            Target::Primary => self.primary.iter().sum(),
            Target::Replica => self.replica.iter().sum(),
        }
    }

    /// Statements served by the replica at `index` (in the order given).
    pub fn replica(&self, index: usize) -> u64 {
        self.per_replica.get(index).copied().unwrap_or(0)
    }
}
