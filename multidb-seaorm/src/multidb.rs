//! [`MultiDb`]: a SeaORM connection routed over one primary and N replicas
//! (the handle, its constructors and what it tells about itself). The read
//! path is in `read_path.rs`, causal reads in `causal.rs`, SeaORM's traits in
//! `traits.rs`.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use multidb_core::__private::{Facts, MustSee, Op, Route, decide};
use multidb_core::{Access, Classifier, Dialect};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};

use crate::config::Config;
use crate::error::MultiDbError;
use crate::health::{ReplicaHealth, ReplicaStatus};
use crate::inner::{Initial, Inner, Replicas, Settings};
use crate::monitor;
use crate::names;
use crate::stats::RoutingStats;
use crate::watch;

/// A routed SeaORM connection: reads go to replicas, writes and
/// transactions to the primary. Pass `&MultiDb` wherever you passed
/// `&DatabaseConnection`.
///
/// Cloning is cheap; clones share the connections, the replica rotation and
/// the counters.
///
/// Each statement is routed by its SQL text (see [`classify`](fn@crate::classify)), never by the
/// method that sent it: SeaORM inserts with `INSERT … RETURNING` through
/// `query_one` on Postgres and SQLite, and that must reach the primary.
///
/// ```
/// use multidb_seaorm::{MultiDb, Target, scope};
/// use sea_orm::{ConnectionTrait, Database, DbBackend, DbErr, Statement};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let primary = Database::connect("sqlite::memory:").await?;
/// let replica = Database::connect("sqlite::memory:").await?;
/// let db = MultiDb::new(primary, vec![replica])?;
///
/// scope(async {
///     let read = Statement::from_string(DbBackend::Sqlite, "SELECT 1 AS one");
///     db.query_one_raw(read.clone()).await?; // a replica
///     db.execute_unprepared("CREATE TABLE t (x INT)").await?; // the primary
///     db.query_one_raw(read).await?; // the primary: this scope wrote
///     Ok::<_, DbErr>(())
/// })
/// .await?;
/// assert_eq!(db.stats().total(Target::Replica), 1);
/// assert_eq!(db.stats().total(Target::Primary), 2);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct MultiDb {
    pub(crate) inner: Arc<Inner>,
}

impl MultiDb {
    /// A routed connection over `primary` and `replicas`, with the default
    /// settings (the load-aware `PeakEwma` policy, a replica monitor every
    /// 500 ms; see [`MultiDbBuilder`](crate::MultiDbBuilder) for the others).
    /// With no replicas everything goes to the primary (and one warning is
    /// logged).
    ///
    /// Fails when a replica uses another backend than the primary. The
    /// monitor needs a tokio runtime: call this inside one.
    ///
    /// ```
    /// # use multidb_seaorm::MultiDb;
    /// # use sea_orm::Database;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let db = MultiDb::new(Database::connect("sqlite::memory:").await?, vec![])?;
    /// assert!(db.replicas().is_empty());
    /// # Ok(()) }
    /// ```
    pub fn new(
        primary: DatabaseConnection,
        replicas: Vec<DatabaseConnection>,
    ) -> Result<Self, MultiDbError> {
        Self::assemble(primary, replicas, Config::default(), &[], Vec::new())
    }

    /// `unreachable`: replicas that could not be reached at connect time,
    /// counted down until the monitor sees them answer; `addresses`: their
    /// `host:port`, when known, in order.
    pub(crate) fn assemble(
        mut primary: DatabaseConnection,
        mut replicas: Vec<DatabaseConnection>,
        config: Config,
        unreachable: &[usize],
        mut addresses: Vec<Option<(String, u16)>>,
    ) -> Result<Self, MultiDbError> {
        let backend = primary.get_database_backend();
        for (index, replica) in replicas.iter().enumerate() {
            let found = replica.get_database_backend();
            if found != backend {
                return Err(MultiDbError::BackendMismatch {
                    replica: index,
                    primary: backend,
                    found,
                });
            }
        }
        if replicas.is_empty() {
            tracing::warn!(
                target: "multidb::route",
                "MultiDb has no replicas: every statement goes to the primary"
            );
        }
        let dialect = match backend {
            DbBackend::Postgres => Some(Dialect::Postgres),
            DbBackend::MySql => Some(Dialect::MySql),
            DbBackend::Sqlite => Some(Dialect::Sqlite),
            _ => None,
        };
        let classifier = dialect
            .map(|dialect| {
                Classifier::new(dialect).with_read_only_functions(&config.read_only_functions)
            })
            .transpose()
            .map_err(MultiDbError::InvalidReadOnlyFunction)?;
        if let Some(callback) = &config.metric_callback {
            for connection in std::iter::once(&mut primary).chain(&mut replicas) {
                let callback = callback.clone();
                connection.set_metric_callback(move |info| callback(info));
            }
        }
        let monitored = monitor::wanted(&primary, config.monitor_interval);
        let positions = backend != DbBackend::Sqlite && !primary.is_mock_connection();
        addresses.resize(replicas.len(), None);
        let replicas = replicas
            .into_iter()
            .zip(addresses)
            .enumerate()
            .map(|(index, (connection, address))| {
                let given = config.replica_names.get(index).map(String::as_str);
                Initial {
                    address,
                    connection,
                    name: names::name(index, given, None),
                    health: if unreachable.contains(&index) {
                        ReplicaHealth::Down
                    } else {
                        ReplicaHealth::Up
                    },
                }
            })
            .collect();
        let settings = Settings {
            config,
            classifier,
            monitored,
            positions,
        };
        let inner = Arc::new(Inner::new(primary, replicas, settings));
        if monitored {
            monitor::spawn(&inner);
            watch::spawn(&inner);
        }
        Ok(MultiDb { inner })
    }

    #[cfg(test)]
    pub(crate) fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }

    /// The backend of the primary (and so of every replica). An inherent
    /// method, so calls are not ambiguous between SeaORM's traits.
    pub fn get_database_backend(&self) -> DbBackend {
        self.inner.primary.get_database_backend()
    }

    /// The primary connection. Statements sent to it directly bypass routing.
    pub fn primary(&self) -> &DatabaseConnection {
        &self.inner.primary
    }

    /// The next usable replica by the policy (django's `get_replica()`), or
    /// the primary when there are none (or none is usable now). A handle
    /// (cheap to clone): the replica set may change while it is held.
    pub fn replica(&self) -> DatabaseConnection {
        let set = self.inner.replicas.load();
        let now = Instant::now();
        let clock = self.inner.clock_at(self.inner.stamp_of(now));
        let facts = Facts::new(Op::Statement(Access::Read), set.len());
        let state_of = |i: usize| {
            self.inner
                .state_of(&set.members[i], clock, &MustSee::Nothing)
        };
        let replicas = Replicas {
            set: &set,
            tried: &[],
            state_of: &state_of,
            now,
        };
        match decide(
            &facts,
            || self.inner.config.policy.choose(&replicas),
            state_of,
        ) {
            Ok(Route {
                replica: Some(index),
                ..
            }) => set.members[index].connection.clone(),
            _ => self.inner.primary.clone(),
        }
    }

    /// The replicas now, in order (handles, cheap to clone).
    pub fn replicas(&self) -> Vec<DatabaseConnection> {
        let set = self.inner.replicas.load();
        set.members
            .iter()
            .map(|member| member.connection.clone())
            .collect()
    }

    /// How many statements went where, and why.
    pub fn stats(&self) -> RoutingStats {
        self.inner.counters.snapshot(&self.inner.replicas.load())
    }

    /// What is known of each replica now: its id, health, lag, position,
    /// and its reads, failures and fallbacks.
    ///
    /// ```
    /// # use multidb_seaorm::{MultiDb, ReplicaHealth};
    /// # fn show(db: &MultiDb) {
    /// for replica in db.replica_status() {
    ///     if replica.health != ReplicaHealth::Up {
    ///         eprintln!("replica {} is {}: {:?}", replica.id, replica.health, replica.last_error);
    ///     }
    /// }
    /// # }
    /// ```
    pub fn replica_status(&self) -> Vec<ReplicaStatus> {
        let set = self.inner.replicas.load_full();
        let clock = self.inner.clock();
        let stats = self.inner.counters.snapshot(&set);
        set.members
            .iter()
            .enumerate()
            .map(|(index, member)| {
                let health = &member.health;
                let details = health.details();
                ReplicaStatus {
                    id: member.id,
                    index,
                    name: member.name.clone(),
                    health: self.inner.health_of(member, clock),
                    lag: details.lag,
                    lag_bytes: details.lag_bytes,
                    position: health.with_known(|known| known.map(|(_, p)| p.clone())),
                    replication_running: details.replication_running,
                    seconds_behind_master: details.seconds_behind_master,
                    checked_ago: details
                        .checked_at
                        .map(|at| Duration::from_millis(clock.now.saturating_sub(at))),
                    last_error: details.last_error,
                    load_balanced: member.is_load_balanced(),
                    reads: stats.replica(index),
                    failures: stats.failures(index),
                    fallbacks: stats.fallbacks(index),
                }
            })
            .collect()
    }
}

impl fmt::Debug for MultiDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultiDb")
            .field("backend", &self.inner.primary.get_database_backend())
            .field("replicas", &self.inner.replicas.load().len())
            .field("policy", &self.inner.config.policy)
            .field("monitored", &self.inner.monitored)
            .finish()
    }
}
