//! Counters of routing decisions, per target and reason, and per replica.

use std::sync::atomic::{AtomicU64, Ordering};

use multidb_core::__private::Route;
use multidb_core::{Reason, Target};

use crate::replica_set::{PerReplica, ReplicaSet};

const REASONS: usize = Reason::COUNT;

/// The totals; each replica counts its own reads (see `PerReplica`), so
/// that its counts go with it when the set changes.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    primary: [AtomicU64; REASONS],
    replica: [AtomicU64; REASONS],
    /// Round trips causal reads add: captures of the primary's position,
    /// probes of a replica's, waits on a replica.
    captures: AtomicU64,
    probes: AtomicU64,
    waits: AtomicU64,
}

impl Counters {
    pub(crate) fn captured(&self) {
        self.captures.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn probed(&self) {
        self.probes.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn waited(&self) {
        self.waits.fetch_add(1, Ordering::Relaxed);
    }

    /// Count `route`; `set` is the replica set it was decided over.
    pub(crate) fn record(&self, route: Route, set: &ReplicaSet) {
        let row = match route.target {
            Target::Primary => &self.primary,
            Target::Replica => &self.replica,
        };
        row[route.reason.index()].fetch_add(1, Ordering::Relaxed);
        if let Some(member) = route.replica.and_then(|i| set.members.get(i)) {
            member.counters.reads.fetch_add(1, Ordering::Relaxed);
            if route.reason == Reason::Fallback {
                member.counters.fallbacks.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The counts now, per replica of `set` in its order.
    pub(crate) fn snapshot(&self, set: &ReplicaSet) -> RoutingStats {
        let load = |row: &[AtomicU64; REASONS]| row.each_ref().map(|c| c.load(Ordering::Relaxed));
        let each = |f: fn(&PerReplica) -> &AtomicU64| {
            set.members
                .iter()
                .map(|member| f(&member.counters).load(Ordering::Relaxed))
                .collect()
        };
        RoutingStats {
            primary: load(&self.primary),
            replica: load(&self.replica),
            reads: each(|c| &c.reads),
            failures: each(|c| &c.failures),
            fallbacks: each(|c| &c.fallbacks),
            captures: self.captures.load(Ordering::Relaxed),
            probes: self.probes.load(Ordering::Relaxed),
            waits: self.waits.load(Ordering::Relaxed),
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
    reads: Vec<u64>,
    failures: Vec<u64>,
    fallbacks: Vec<u64>,
    captures: u64,
    probes: u64,
    waits: u64,
}

impl RoutingStats {
    fn row(&self, target: Target) -> &[u64; REASONS] {
        match target {
            Target::Primary => &self.primary,
            Target::Replica => &self.replica,
        }
    }

    /// Statements sent to `target` for `reason`.
    pub fn count(&self, target: Target, reason: Reason) -> u64 {
        self.row(target)[reason.index()]
    }

    /// Statements sent to `target`, whatever the reason.
    pub fn total(&self, target: Target) -> u64 {
        self.row(target).iter().sum()
    }

    /// Statements sent to the replica at `index` (in the order of
    /// [`replica_status`](crate::MultiDb::replica_status) when the stats were
    /// taken), retries included.
    pub fn replica(&self, index: usize) -> u64 {
        self.reads.get(index).copied().unwrap_or(0)
    }

    /// Reads that failed on the replica at `index` and were retried
    /// elsewhere.
    pub fn failures(&self, index: usize) -> u64 {
        self.failures.get(index).copied().unwrap_or(0)
    }

    /// Reads the replica at `index` took as a retry after another failed.
    pub fn fallbacks(&self, index: usize) -> u64 {
        self.fallbacks.get(index).copied().unwrap_or(0)
    }

    /// Round trips to the primary that read its position for causal reads
    /// (after a scope's writes, for a read, a pin or
    /// [`write_position`](crate::MultiDb::write_position)).
    pub fn position_captures(&self) -> u64 {
        self.captures
    }

    /// Round trips that asked a replica for its position because what was
    /// known of it was older than the position a causal read needed
    /// (including the polls of a [`causal_wait`](crate::MultiDbBuilder::causal_wait)
    /// on PostgreSQL).
    pub fn position_probes(&self) -> u64 {
        self.probes
    }

    /// Waits on a replica for a position (MariaDB `MASTER_GTID_WAIT`, MySQL
    /// `WAIT_FOR_EXECUTED_GTID_SET`), within the
    /// [`causal_wait`](crate::MultiDbBuilder::causal_wait) budget.
    pub fn position_waits(&self) -> u64 {
        self.waits
    }
}
