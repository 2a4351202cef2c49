//! The replicas as routing sees them: an immutable [`ReplicaSet`] snapshot,
//! swapped whole when a replica is added or removed, and loaded once per
//! read (no lock on the read path). Each [`Member`] carries everything that
//! belongs to one replica (connection, health, load, counters, metric
//! handles), so that a read holding the snapshot it was routed with stays
//! consistent while the set changes under it.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use multidb_core::policy::LoadMeter;
use sea_orm::DatabaseConnection;

use crate::fresh::ProbeSlot;
use crate::health::{Health, ReplicaHealth};
use crate::metrics::ReplicaMetrics;

/// A replica's identity for the life of its [`MultiDb`](crate::MultiDb):
/// given by [`add_replica`](crate::MultiDb::add_replica) (and to every
/// replica the `MultiDb` was built with, in order from 0), never reused
/// after [`remove_replica`](crate::MultiDb::remove_replica).
///
/// ```
/// # use multidb_seaorm::MultiDb;
/// # use sea_orm::Database;
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let db = MultiDb::new(
///     Database::connect("sqlite::memory:").await?,
///     vec![Database::connect("sqlite::memory:").await?],
/// )?;
/// let id = db.replica_status()[0].id;
/// assert_eq!(id.to_string(), "r0");
/// db.remove_replica(id).await?;
/// assert!(db.remove_replica(id).await.is_err(), "an id is never valid twice");
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReplicaId(pub(crate) usize);

impl fmt::Display for ReplicaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
}

/// Reads, failures and fallbacks of one replica.
#[derive(Debug, Default)]
pub(crate) struct PerReplica {
    pub(crate) reads: AtomicU64,
    pub(crate) failures: AtomicU64,
    pub(crate) fallbacks: AtomicU64,
}

/// One replica and all that is known of it.
#[derive(Debug)]
pub(crate) struct Member {
    pub(crate) id: ReplicaId,
    pub(crate) connection: DatabaseConnection,
    pub(crate) name: String,
    pub(crate) health: Health,
    /// Statements in flight and latency, for the policy.
    pub(crate) load: LoadMeter,
    pub(crate) counters: PerReplica,
    pub(crate) metrics: ReplicaMetrics,
    /// `host:port` to test with a bare TCP connect when a read on it hangs
    /// (see `watch.rs`); `None` for a Unix socket or an unknown address.
    pub(crate) address: Option<(String, u16)>,
    /// A TCP check of `address` is running: one at a time.
    pub(crate) checking: AtomicBool,
    /// Stamp of the last TCP check; 0 = never.
    pub(crate) last_check: AtomicU64,
    /// Its latest position probe for causal reads (see `fresh.rs`).
    pub(crate) probe: ProbeSlot,
    /// Its pool reaches more than one server (a load balancer): never
    /// trusted for causal reads (see `monitor.rs`).
    pub(crate) load_balanced: AtomicBool,
}

impl Member {
    pub(crate) fn new(
        id: ReplicaId,
        connection: DatabaseConnection,
        name: String,
        health: ReplicaHealth,
        address: Option<(String, u16)>,
    ) -> Self {
        Member {
            id,
            metrics: ReplicaMetrics::new(&name),
            connection,
            name,
            health: Health::new(health),
            load: LoadMeter::new(),
            counters: PerReplica::default(),
            address,
            checking: AtomicBool::new(false),
            last_check: AtomicU64::new(0),
            probe: ProbeSlot::default(),
            load_balanced: AtomicBool::new(false),
        }
    }

    pub(crate) fn is_load_balanced(&self) -> bool {
        self.load_balanced.load(Ordering::Relaxed)
    }
}

/// The replicas at one moment, in order.
#[derive(Debug, Default)]
pub(crate) struct ReplicaSet {
    pub(crate) members: Box<[Arc<Member>]>,
}

impl ReplicaSet {
    pub(crate) fn len(&self) -> usize {
        self.members.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The index of replica `id` in this set.
    pub(crate) fn position(&self, id: ReplicaId) -> Option<usize> {
        self.members.iter().position(|member| member.id == id)
    }

    /// This set with `member` added last.
    pub(crate) fn with(&self, member: Arc<Member>) -> Self {
        let members = self.members.iter().cloned().chain([member]).collect();
        ReplicaSet { members }
    }

    /// This set without replica `id`.
    pub(crate) fn without(&self, id: ReplicaId) -> Self {
        let members = self
            .members
            .iter()
            .filter(|member| member.id != id)
            .cloned()
            .collect();
        ReplicaSet { members }
    }
}

/// `host:port` of a database URL, for the TCP check (`None` for a Unix
/// socket or a URL without a host).
pub(crate) fn address_of(url: &str) -> Option<(String, u16)> {
    let name = crate::names::from_url(url)?;
    if url.starts_with("sqlite:") {
        return None;
    }
    let (host, port) = name.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Some((host.to_owned(), port.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_from_urls() {
        assert_eq!(
            address_of("postgres://a:b@db:6432/x"),
            Some(("db".to_owned(), 6432))
        );
        assert_eq!(
            address_of("mysql://u@127.0.0.3/x"),
            Some(("127.0.0.3".to_owned(), 3306))
        );
        assert_eq!(
            address_of("postgres://u@[::1]:5433/x"),
            Some(("::1".to_owned(), 5433))
        );
        assert_eq!(address_of("sqlite::memory:"), None);
        assert_eq!(address_of("sqlite:///tmp/a.db"), None);
    }
}
