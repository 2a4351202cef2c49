//! [`MultiDb`]: a SeaORM connection routed over one primary and N replicas.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use multidb_core::context::{note_write, task_state};
use multidb_core::position::Position;
use multidb_core::route::{Facts, Op, Reason, ReplicaState, Route, decide};
use multidb_core::{Access, classify};
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DatabaseExecutor, DatabaseTransaction,
    DbBackend, DbErr, ExecResult, IntoDatabaseExecutor, IsolationLevel, QueryResult, QueryStream,
    RuntimeErr, Statement, StreamTrait, TransactionError, TransactionOptions, TransactionTrait,
};

use crate::builder::{Config, MultiDbBuilder};
use crate::error::{MultiDbError, Role};
use crate::failover::{Failure, failure};
use crate::health::{Health, ReplicaHealth, ReplicaStatus};
use crate::monitor;
use crate::stats::{Counters, RoutingStats};

/// How long, by default, reads go to the primary after a write made outside
/// any scope (see [`MultiDbBuilder::unscoped_write_window`]).
pub const DEFAULT_UNSCOPED_WRITE_WINDOW: Duration = Duration::from_secs(15);

/// A routed SeaORM connection: reads go to replicas, writes and
/// transactions to the primary. Pass `&MultiDb` wherever you passed
/// `&DatabaseConnection`.
///
/// Cloning is cheap; clones share the connections, the replica rotation and
/// the counters.
///
/// Each statement is routed by its SQL text (see [`classify`]), never by the
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
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) primary: DatabaseConnection,
    pub(crate) replicas: Vec<DatabaseConnection>,
    pub(crate) config: Config,
    pub(crate) health: Vec<Health>,
    /// The primary's position at the monitor's last check.
    pub(crate) primary_position: Mutex<Option<Position>>,
    counters: Counters,
    /// Whether a monitor watches the replicas.
    monitored: bool,
    /// Stamp (see [`Inner::now_stamp`]) of the last write outside any
    /// scope; 0 = never.
    last_unscoped_write: AtomicU64,
    created: Instant,
}

impl Inner {
    /// Milliseconds since this `MultiDb` was built, plus one (0 means never).
    pub(crate) fn now_stamp(&self) -> u64 {
        millis(self.created.elapsed()).saturating_add(1)
    }
}

impl MultiDb {
    /// A routed connection over `primary` and `replicas`, with the default
    /// settings (round-robin from a random start, a replica monitor every
    /// 500 ms; see [`MultiDbBuilder`] for the others). With no replicas
    /// everything goes to the primary (and one warning is logged).
    ///
    /// Fails when a replica uses another backend than the primary. The
    /// monitor needs a tokio runtime: call this inside one.
    ///
    /// ```
    /// # use multidb_seaorm::MultiDb;
    /// # use sea_orm::Database;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let db = MultiDb::new(Database::connect("sqlite::memory:").await?, vec![])?;
    /// assert!(std::ptr::eq(db.replica(), db.primary()));
    /// # Ok(()) }
    /// ```
    pub fn new(
        primary: DatabaseConnection,
        replicas: Vec<DatabaseConnection>,
    ) -> Result<Self, MultiDbError> {
        Self::builder().build(primary, replicas)
    }

    /// A builder: connect from URLs or `ConnectOptions`, choose the policy,
    /// the monitor, the lag limit.
    pub fn builder() -> MultiDbBuilder {
        MultiDbBuilder::default()
    }

    /// `unreachable`: replicas that could not be reached at connect time,
    /// counted down until the monitor sees them answer.
    pub(crate) fn assemble(
        primary: DatabaseConnection,
        replicas: Vec<DatabaseConnection>,
        config: Config,
        unreachable: &[usize],
    ) -> Result<Self, MultiDbError> {
        let backend = primary.get_database_backend();
        for (index, replica) in replicas.iter().enumerate() {
            let found = replica.get_database_backend();
            if found != backend {
                return Err(MultiDbError::BackendMismatch {
                    replica: Role::Replica(index),
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
        let monitored = monitor::wanted(&primary, replicas.len(), config.monitor_interval);
        let health = (0..replicas.len())
            .map(|index| {
                Health::new(if unreachable.contains(&index) {
                    ReplicaHealth::Down
                } else {
                    ReplicaHealth::Up
                })
            })
            .collect();
        let inner = Arc::new(Inner {
            counters: Counters::new(replicas.len()),
            health,
            primary_position: Mutex::new(None),
            primary,
            replicas,
            config,
            monitored,
            last_unscoped_write: AtomicU64::new(0),
            created: Instant::now(),
        });
        if monitored {
            monitor::spawn(&inner);
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
    /// the primary when there are none (or none is usable now).
    pub fn replica(&self) -> &DatabaseConnection {
        let now = self.inner.now_stamp();
        let facts = Facts::new(Op::Statement(Access::Read), self.inner.replicas.len());
        match decide(
            &facts,
            || self.inner.config.policy.pick(facts.replicas),
            |i| self.state_of(i, now),
        ) {
            Ok(Route {
                replica: Some(index),
                ..
            }) => &self.inner.replicas[index],
            _ => &self.inner.primary,
        }
    }

    /// All replicas, in the order given.
    pub fn replicas(&self) -> &[DatabaseConnection] {
        &self.inner.replicas
    }

    /// How many statements went where, and why.
    pub fn stats(&self) -> RoutingStats {
        self.inner.counters.snapshot()
    }

    /// What is known of each replica now: health, lag, position, and its
    /// reads, failures and fallbacks.
    ///
    /// ```
    /// # use multidb_seaorm::{MultiDb, ReplicaHealth};
    /// # fn show(db: &MultiDb) {
    /// for replica in db.replica_status() {
    ///     if replica.health != ReplicaHealth::Up {
    ///         eprintln!("replica {} is {}: {:?}", replica.index, replica.health, replica.last_error);
    ///     }
    /// }
    /// # }
    /// ```
    pub fn replica_status(&self) -> Vec<ReplicaStatus> {
        let now = self.inner.now_stamp();
        let stats = self.stats();
        self.inner
            .health
            .iter()
            .enumerate()
            .map(|(index, health)| {
                let details = health.details();
                ReplicaStatus {
                    index,
                    health: self.health_of(index, now),
                    lag: details.lag,
                    lag_bytes: details.lag_bytes,
                    position: details.position,
                    replication_running: details.replication_running,
                    seconds_behind_master: details.seconds_behind_master,
                    checked_ago: details
                        .checked_at
                        .map(|at| Duration::from_millis(now.saturating_sub(at))),
                    last_error: details.last_error,
                    reads: stats.replica(index),
                    failures: stats.failures(index),
                    fallbacks: stats.fallbacks(index),
                }
            })
            .collect()
    }

    fn health_of(&self, index: usize, now: u64) -> ReplicaHealth {
        self.inner.health[index].current(
            now,
            self.inner.monitored,
            millis(self.inner.config.replica_rest),
        )
    }

    fn state_of(&self, index: usize, now: u64) -> ReplicaState {
        self.health_of(index, now).routing()
    }

    /// The facts of `op` for the current task.
    fn facts(&self, op: Op) -> Facts {
        let task = task_state();
        Facts {
            task,
            recent_unscoped_write: self.recent_unscoped_write(),
            fallback_to_primary: self.inner.config.fallback_to_primary,
            ..Facts::new(op, self.inner.replicas.len())
        }
    }

    /// Decide where `op` goes (`after_failure`: a retry, skipping the
    /// replicas in `tried`), record it, and remember a write.
    fn route(&self, op: Op, sql: &str, after_failure: Option<&[usize]>) -> Result<Route, DbErr> {
        let now = self.inner.now_stamp();
        let facts = Facts {
            retry: after_failure.is_some(),
            ..self.facts(op)
        };
        let tried = after_failure.unwrap_or(&[]);
        // A retry starts after the replica that failed, not at the policy's
        // next pick.
        let pick = || match tried.last() {
            Some(&last) => last + 1,
            None => self.inner.config.policy.pick(facts.replicas),
        };
        let state_of = |index| {
            if tried.contains(&index) {
                ReplicaState::Down
            } else {
                self.state_of(index, now)
            }
        };
        match decide(&facts, pick, state_of) {
            Ok(route) => {
                if route.writes {
                    self.note_write();
                }
                self.record(route, sql);
                Ok(route)
            }
            Err(refused) => {
                tracing::warn!(
                    target: "multidb::route",
                    reason = %refused.reason,
                    sql,
                    "no replica can take the read, and fallback to the primary is off"
                );
                Err(DbErr::Conn(RuntimeErr::Internal(format!(
                    "multidb: no replica can take this read ({}) and fallback_to_primary is off: \
                     check db.replica_status(), or allow the primary",
                    refused.reason
                ))))
            }
        }
    }

    fn record(&self, route: Route, sql: &str) {
        self.inner.counters.record(route);
        tracing::debug!(
            target: "multidb::route",
            route = %route.target,
            reason = %route.reason,
            replica = route.replica,
            sql,
            "routed"
        );
    }

    fn connection(&self, route: Route) -> &DatabaseConnection {
        route
            .replica
            .map_or(&self.inner.primary, |index| &self.inner.replicas[index])
    }

    /// Reads after a write go to the primary: per scope when one is open,
    /// else process-wide for the unscoped write window.
    fn note_write(&self) {
        if !note_write() {
            let stamp = self.inner.now_stamp();
            self.inner
                .last_unscoped_write
                .fetch_max(stamp, Ordering::AcqRel);
        }
    }

    fn recent_unscoped_write(&self) -> bool {
        let stamp = self.inner.last_unscoped_write.load(Ordering::Acquire);
        stamp != 0
            && self.inner.now_stamp()
                < stamp.saturating_add(millis(self.inner.config.unscoped_write_window))
    }

    /// Run `op` with `input` where its SQL is routed. A read whose replica
    /// fails for a connection-level reason is retried on the other usable
    /// replicas, then the primary. `input` is cloned only for an attempt on
    /// a replica (a retry needs it again): writes and primary reads, never
    /// retried, cost no copy.
    async fn run<'a, I, T, F, Fut>(&'a self, input: I, op: F) -> Result<T, DbErr>
    where
        I: HasSql + Clone,
        F: Fn(&'a DatabaseConnection, I) -> Fut,
        Fut: Future<Output = Result<T, DbErr>>,
    {
        let access = classify(input.sql());
        let mut route = self.route(Op::Statement(access), input.sql(), None)?;
        let mut tried: Vec<usize> = Vec::new();
        loop {
            let Some(index) = route.replica else {
                return op(self.connection(route), input).await;
            };
            let error = match op(&self.inner.replicas[index], input.clone()).await {
                Ok(value) => {
                    self.inner.health[index].served(self.inner.now_stamp());
                    return Ok(value);
                }
                Err(error) => error,
            };
            let (kind, evidence) = failure(&error);
            let sql = input.sql();
            match kind {
                Failure::Final => return Err(error),
                Failure::ReadOnly => {
                    // The replica refused it as a write: it did not run there.
                    tracing::warn!(
                        target: "multidb::route",
                        replica = index,
                        sql,
                        %error,
                        "a replica refused this statement as a write: running it on the primary \
                         (please report it: the classifier should have sent it there)"
                    );
                    self.inner.counters.failed(index);
                    self.note_write();
                    let route = Route::primary(Reason::Fallback);
                    self.record(route, sql);
                    return op(&self.inner.primary, input).await;
                }
                Failure::Unreachable | Failure::Transient => {
                    self.inner.counters.failed(index);
                    if kind == Failure::Unreachable {
                        self.inner.health[index].failed(self.inner.now_stamp());
                    }
                    tracing::warn!(
                        target: "multidb::route",
                        replica = index,
                        evidence = ?evidence,
                        %error,
                        "read failed on a replica: retrying it elsewhere"
                    );
                }
            }
            tried.push(index);
            route = self.route(Op::Statement(access), sql, Some(&tried))?;
        }
    }

    /// The primary, for work routing cannot see into (a transaction, a
    /// migration), recorded as `what`.
    fn primary_for(&self, op: Op, what: &str) -> &DatabaseConnection {
        let facts = self.facts(op);
        if let Ok(route) = decide(&facts, || 0, |_| ReplicaState::Down) {
            if route.writes {
                self.note_write();
            }
            self.record(route, what);
        }
        &self.inner.primary
    }
}

/// What `MultiDb::run` routes by.
trait HasSql {
    fn sql(&self) -> &str;
}

impl HasSql for Statement {
    fn sql(&self) -> &str {
        &self.sql
    }
}

impl HasSql for &str {
    fn sql(&self) -> &str {
        self
    }
}

/// Whole milliseconds, saturating far below `u64::MAX` so stamps can add.
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX / 2)
}

impl fmt::Debug for MultiDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultiDb")
            .field("backend", &self.inner.primary.get_database_backend())
            .field("replicas", &self.inner.replicas.len())
            .field("policy", &self.inner.config.policy)
            .field("monitored", &self.inner.monitored)
            .finish()
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for MultiDb {
    fn get_database_backend(&self) -> DbBackend {
        self.inner.primary.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.run(stmt, |db, stmt| db.execute_raw(stmt)).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.run(sql, |db, sql| db.execute_unprepared(sql)).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.run(stmt, |db, stmt| db.query_one_raw(stmt)).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.run(stmt, |db, stmt| db.query_all_raw(stmt)).await
    }

    fn support_returning(&self) -> bool {
        self.inner.primary.support_returning()
    }

    fn is_mock_connection(&self) -> bool {
        self.inner.primary.is_mock_connection()
    }
}

impl StreamTrait for MultiDb {
    type Stream<'a> = QueryStream;

    fn get_database_backend(&self) -> DbBackend {
        self.inner.primary.get_database_backend()
    }

    fn stream_raw<'a>(
        &'a self,
        stmt: Statement,
    ) -> Pin<Box<dyn Future<Output = Result<QueryStream, DbErr>> + 'a + Send>> {
        Box::pin(self.run(stmt, |db, stmt| db.stream_raw(stmt)))
    }
}

/// Transactions run on the primary, and everything inside them with them.
/// Opening one counts as a write for read-your-writes.
#[async_trait::async_trait]
impl TransactionTrait for MultiDb {
    type Transaction = DatabaseTransaction;

    async fn begin(&self) -> Result<DatabaseTransaction, DbErr> {
        self.primary_for(Op::Transaction { read_only: false }, "BEGIN")
            .begin()
            .await
    }

    async fn begin_with_config(
        &self,
        isolation_level: Option<IsolationLevel>,
        access_mode: Option<AccessMode>,
    ) -> Result<DatabaseTransaction, DbErr> {
        self.primary_for(transaction(access_mode), "BEGIN")
            .begin_with_config(isolation_level, access_mode)
            .await
    }

    async fn begin_with_options(
        &self,
        options: TransactionOptions,
    ) -> Result<DatabaseTransaction, DbErr> {
        self.primary_for(transaction(options.access_mode), "BEGIN")
            .begin_with_options(options)
            .await
    }

    async fn transaction<F, T, E>(&self, callback: F) -> Result<T, TransactionError<E>>
    where
        F: for<'c> FnOnce(
                &'c DatabaseTransaction,
            ) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: fmt::Display + fmt::Debug + Send,
    {
        self.primary_for(Op::Transaction { read_only: false }, "BEGIN")
            .transaction(callback)
            .await
    }

    async fn transaction_with_config<F, T, E>(
        &self,
        callback: F,
        isolation_level: Option<IsolationLevel>,
        access_mode: Option<AccessMode>,
    ) -> Result<T, TransactionError<E>>
    where
        F: for<'c> FnOnce(
                &'c DatabaseTransaction,
            ) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: fmt::Display + fmt::Debug + Send,
    {
        self.primary_for(transaction(access_mode), "BEGIN")
            .transaction_with_config(callback, isolation_level, access_mode)
            .await
    }
}

/// Migrations and other `DatabaseExecutor` users run on the primary
/// (`Migrator::up(&db, None)`); this counts as a write for read-your-writes.
impl<'c> IntoDatabaseExecutor<'c> for &'c MultiDb {
    fn into_database_executor(self) -> DatabaseExecutor<'c> {
        DatabaseExecutor::Connection(self.primary_for(Op::Executor, "(migration executor)"))
    }
}

fn transaction(access_mode: Option<AccessMode>) -> Op {
    Op::Transaction {
        read_only: access_mode == Some(AccessMode::ReadOnly),
    }
}
