//! What `MultiDb` knows of each replica: the monitor's verdict, read
//! failures seen since, and the details applications can inspect
//! ([`ReplicaStatus`]).

use std::fmt;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use multidb_core::__private::ReplicaState;
use multidb_core::position::Position;

use crate::gone::{GoneSignal, Watch};

/// A replica's health, as [`MultiDb::replica_status`](crate::MultiDb::replica_status)
/// reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReplicaHealth {
    /// Takes reads.
    Up,
    /// Unreachable (or a read failed on it and the monitor has not seen it
    /// answer since).
    Down,
    /// Lags past [`max_replica_lag`](crate::MultiDbBuilder::max_replica_lag)
    /// (or the byte limit).
    Lagging,
    /// Not a replica: promoted, writable, or its replication stopped.
    NotReplica,
}

impl ReplicaHealth {
    /// Short lower-case name, as in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ReplicaHealth::Up => "up",
            ReplicaHealth::Down => "down",
            ReplicaHealth::Lagging => "lagging",
            ReplicaHealth::NotReplica => "not_replica",
        }
    }

    /// As routing sees it.
    pub(crate) fn routing(self) -> ReplicaState {
        match self {
            ReplicaHealth::Up => ReplicaState::Usable,
            ReplicaHealth::Down => ReplicaState::Down,
            ReplicaHealth::Lagging => ReplicaState::Lagging,
            ReplicaHealth::NotReplica => ReplicaState::NotReplica,
        }
    }

    /// Back from routing's view (a replica that is only behind a position
    /// is up).
    pub(crate) fn of(state: ReplicaState) -> Self {
        match state {
            ReplicaState::Down => ReplicaHealth::Down,
            ReplicaState::Lagging => ReplicaHealth::Lagging,
            ReplicaState::NotReplica => ReplicaHealth::NotReplica,
            _ => ReplicaHealth::Up,
        }
    }

    fn to_u8(self) -> u8 {
        match self {
            ReplicaHealth::Up => 0,
            ReplicaHealth::Down => 1,
            ReplicaHealth::Lagging => 2,
            ReplicaHealth::NotReplica => 3,
        }
    }

    fn from_u8(value: u8) -> Self {
        match value {
            0 => ReplicaHealth::Up,
            2 => ReplicaHealth::Lagging,
            3 => ReplicaHealth::NotReplica,
            _ => ReplicaHealth::Down,
        }
    }
}

impl fmt::Display for ReplicaHealth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One replica as `MultiDb` sees it now; see
/// [`MultiDb::replica_status`](crate::MultiDb::replica_status).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReplicaStatus {
    /// Its id, stable for its life in the set (see
    /// [`remove_replica`](crate::MultiDb::remove_replica)).
    pub id: crate::ReplicaId,
    /// Its index in the set now (the order the replicas were given, then
    /// added).
    pub index: usize,
    /// Its name: the one given to
    /// [`replica_names`](crate::MultiDbBuilder::replica_names), else
    /// `host:port` from its URL, else `replica<index>`. The `replica` label
    /// of the metrics.
    pub name: String,
    /// Whether it takes reads, and if not why.
    pub health: ReplicaHealth,
    /// How far behind the primary it was at the last check, in time (derived
    /// from when the primary was seen at the replica's position; within one
    /// monitor interval). `None` before the first check or without a monitor.
    pub lag: Option<Duration>,
    /// How far behind in WAL bytes (PostgreSQL only).
    pub lag_bytes: Option<u64>,
    /// Its replication position at the last check that read one (the one
    /// causal reads compare with).
    pub position: Option<Position>,
    /// MariaDB/MySQL with `SLAVE MONITOR` / `REPLICATION CLIENT`: whether
    /// both replication threads run, and `Seconds_Behind_Master`.
    pub replication_running: Option<bool>,
    /// `Seconds_Behind_Master` (MariaDB/MySQL, when granted).
    pub seconds_behind_master: Option<u64>,
    /// Time since the monitor last checked it.
    pub checked_ago: Option<Duration>,
    /// The last error seen on it (connection or probe), if any.
    pub last_error: Option<String>,
    /// Its pool reaches more than one server (a load balancer such as a
    /// Kubernetes `-ro` service or an Aurora reader endpoint): it takes
    /// plain reads, never causal ones, and its lag is the worst the
    /// monitor saw among the servers it reached (see
    /// [`MultiDb::add_replica`](crate::MultiDb::add_replica)).
    pub load_balanced: bool,
    /// Reads it served.
    pub reads: u64,
    /// Reads that failed on it and were retried elsewhere.
    pub failures: u64,
    /// Reads it served as a retry after another replica failed.
    pub fallbacks: u64,
}

/// The monitor's findings that routing does not need at every statement.
#[derive(Clone, Debug, Default)]
pub(crate) struct Details {
    pub(crate) lag: Option<Duration>,
    pub(crate) lag_bytes: Option<u64>,
    pub(crate) replication_running: Option<bool>,
    pub(crate) seconds_behind_master: Option<u64>,
    pub(crate) checked_at: Option<u64>,
    pub(crate) last_error: Option<String>,
}

/// A replica's position, and the span of the check that found it
/// (stamps).
#[derive(Debug)]
struct Known {
    checked_at: u64,
    answered_at: u64,
    position: Position,
}

impl Known {
    /// This and `found`, from a check that overlapped this one's: both
    /// positions joined.
    fn joined(self, found: Known) -> Known {
        let position = match self.position.join(&found.position) {
            Some(joined) => joined,
            // Another kind of position: the newer check's.
            None if found.checked_at >= self.checked_at => found.position,
            None => self.position,
        };
        Known {
            checked_at: self.checked_at.max(found.checked_at),
            answered_at: self.answered_at.max(found.answered_at),
            position,
        }
    }
}

/// Shared, lock-free for routing: one per replica.
#[derive(Debug)]
pub(crate) struct Health {
    /// The monitor's verdict ([`ReplicaHealth`] as u8).
    verdict: AtomicU8,
    /// Stamp of the last failed read; 0 = none.
    failed_at: AtomicU64,
    /// Stamp at which the last successful probe started; 0 = none.
    answered_at: AtomicU64,
    /// Stamp of the last read it served.
    served_at: AtomicU64,
    details: Mutex<Details>,
    /// Its last known position, for causal reads.
    known: RwLock<Option<Known>>,
    /// Fired when a read fails on it or it is counted down: reads waiting
    /// on it move on (see `watch.rs`).
    gone: GoneSignal,
}

impl Health {
    pub(crate) fn new(initial: ReplicaHealth) -> Self {
        Health {
            verdict: AtomicU8::new(initial.to_u8()),
            failed_at: AtomicU64::new(0),
            answered_at: AtomicU64::new(0),
            served_at: AtomicU64::new(0),
            details: Mutex::new(Details::default()),
            known: RwLock::new(None),
            gone: GoneSignal::default(),
        }
    }

    pub(crate) fn verdict(&self) -> ReplicaHealth {
        ReplicaHealth::from_u8(self.verdict.load(Ordering::Acquire))
    }

    pub(crate) fn set_verdict(&self, health: ReplicaHealth) {
        let before = self.verdict.swap(health.to_u8(), Ordering::AcqRel);
        if health == ReplicaHealth::Down && before != health.to_u8() {
            self.gone.fire();
        }
    }

    pub(crate) fn failed(&self, now: u64) {
        self.failed_at.fetch_max(now, Ordering::AcqRel);
        self.gone.fire();
    }

    /// Watches for the next [`failed`](Self::failed) or fall to down
    /// from now on (waited on or not).
    pub(crate) fn watch_gone(&self) -> Watch<'_> {
        self.gone.watch()
    }

    pub(crate) fn failed_at(&self) -> u64 {
        self.failed_at.load(Ordering::Acquire)
    }

    pub(crate) fn answered_at(&self) -> u64 {
        self.answered_at.load(Ordering::Acquire)
    }

    pub(crate) fn answered(&self, probe_started: u64) {
        self.answered_at.fetch_max(probe_started, Ordering::AcqRel);
    }

    pub(crate) fn served(&self, now: u64) {
        // Written at most once per millisecond: readers on other cores do
        // not fight over the cache line on every read.
        if self.served_at.load(Ordering::Relaxed) != now {
            self.served_at.store(now, Ordering::Relaxed);
        }
    }

    pub(crate) fn served_at(&self) -> u64 {
        self.served_at.load(Ordering::Relaxed)
    }

    /// What a check (the monitor's, a causal read's probe or wait) that
    /// started at stamp `checked_at` and was answered at `answered_at`
    /// found. A check that started after the known one was answered
    /// replaces it, even with an older position: the server behind the URL
    /// may have changed. One that was answered before the known one
    /// started changes nothing. Checks that overlapped cannot be ordered
    /// (each saw the position at some moment of its own span), and a
    /// replica's position only grows: both hold, joined. Without that, a
    /// monitor check that read the position just before a causal read's
    /// wait saw it reached, but was answered after, sent that read to the
    /// primary.
    pub(crate) fn set_known(&self, checked_at: u64, answered_at: u64, position: Position) {
        let found = Known {
            checked_at,
            answered_at,
            position,
        };
        let mut known = self
            .known
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *known = Some(match known.take() {
            None => found,
            Some(had) if found.checked_at > had.answered_at => found,
            Some(had) if found.answered_at < had.checked_at => had,
            Some(had) => had.joined(found),
        });
    }

    /// Forget the known position (no read may rely on it).
    pub(crate) fn clear_known(&self) {
        *self
            .known
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    /// Run `f` on the last known position and when its check started.
    pub(crate) fn with_known<R>(&self, f: impl FnOnce(Option<(u64, &Position)>) -> R) -> R {
        let known = self
            .known
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(known
            .as_ref()
            .map(|known| (known.checked_at, &known.position)))
    }

    pub(crate) fn update(&self, f: impl FnOnce(&mut Details)) {
        let mut details = self
            .details
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut details);
    }

    pub(crate) fn details(&self) -> Details {
        self.details
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lsn(n: u64) -> Position {
        Position::Lsn(n)
    }

    fn known(health: &Health) -> Option<(u64, Position)> {
        health.with_known(|known| known.map(|(at, position)| (at, position.clone())))
    }

    #[test]
    fn a_check_that_overlapped_the_known_one_adds_to_it() {
        let health = Health::new(ReplicaHealth::Up);
        // A monitor check over 110..130 that read 5, answered first; then a
        // causal read's wait over 100..140 that saw 9 reached.
        health.set_known(110, 130, lsn(5));
        health.set_known(100, 140, lsn(9));
        assert_eq!(known(&health), Some((110, lsn(9))));
        // The other order: the older position does not undo the newer.
        health.set_known(135, 150, lsn(7));
        assert_eq!(known(&health), Some((135, lsn(9))));
    }

    #[test]
    fn a_check_after_the_known_one_replaces_it_and_one_before_is_dropped() {
        let health = Health::new(ReplicaHealth::Up);
        health.set_known(100, 110, lsn(9));
        // Started after 110: the server behind the URL went back.
        health.set_known(120, 125, lsn(4));
        assert_eq!(known(&health), Some((120, lsn(4))));
        // Answered before 120 began, and late to report: nothing.
        health.set_known(90, 115, lsn(20));
        assert_eq!(known(&health), Some((120, lsn(4))));
        health.clear_known();
        assert_eq!(known(&health), None);
    }
}
