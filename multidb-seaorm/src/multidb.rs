//! [`MultiDb`]: a SeaORM connection routed over one primary and N replicas.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use multidb_core::__private::{
    CapturePosition, Causal, Facts, Op, ReplicaState, Route, TaskState, decide, note_write,
    scope_request, set_sticky, sticky, task_state, with_causal,
};
use multidb_core::context::RequestContext;
use multidb_core::position::{Position, WritePosition};
use multidb_core::{Access, Classifier, Dialect, Reason, classify};
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DatabaseExecutor, DatabaseTransaction,
    DbBackend, DbErr, ExecResult, IntoDatabaseExecutor, IsolationLevel, QueryResult, QueryStream,
    RuntimeErr, Statement, StreamTrait, TransactionError, TransactionOptions, TransactionTrait,
};

use crate::builder::MultiDbBuilder;
use crate::config::Config;
use crate::error::{MultiDbError, Role};
use crate::failover::{Failure, failure};
use crate::health::{Health, ReplicaHealth, ReplicaStatus};
use crate::monitor;
use crate::positions::{Flavor, flavor_of, primary_position};
use crate::stats::{Counters, RoutingStats};

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

pub(crate) struct Inner {
    pub(crate) primary: DatabaseConnection,
    pub(crate) replicas: Vec<DatabaseConnection>,
    pub(crate) config: Config,
    /// The classifier of the backend's dialect; `None`: an unknown backend,
    /// classified under every dialect.
    classifier: Option<Classifier>,
    pub(crate) health: Vec<Health>,
    counters: Counters,
    /// Whether a monitor watches the replicas.
    monitored: bool,
    /// The backend has replication positions (not SQLite, not a mock).
    positions: bool,
    /// Reads after writes wait for the write's position (causal reads).
    causal: bool,
    pub(crate) flavor: OnceLock<Flavor>,
    /// The cluster's identity (see `WritePosition`); 0 = not known yet.
    cluster: AtomicU64,
    /// The causal facts of writes made outside any scope.
    unscoped: Mutex<Causal>,
    /// Stamp (see [`Inner::now_stamp`]) of the last write outside any
    /// scope; 0 = never.
    last_unscoped_write: AtomicU64,
    created: Instant,
    /// `close` was called: the monitor stops.
    closed: AtomicBool,
}

impl Inner {
    /// Milliseconds since this `MultiDb` was built, plus one (0 means never).
    pub(crate) fn now_stamp(&self) -> u64 {
        millis(self.created.elapsed()).saturating_add(1)
    }

    fn stamp_of(&self, at: Instant) -> u64 {
        millis(at.saturating_duration_since(self.created)).saturating_add(1)
    }

    pub(crate) fn set_cluster(&self, cluster: u64) {
        self.cluster.store(cluster, Ordering::Relaxed);
    }

    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
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
        mut primary: DatabaseConnection,
        mut replicas: Vec<DatabaseConnection>,
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
        let monitored = monitor::wanted(&primary, replicas.len(), config.monitor_interval);
        let positions = backend != DbBackend::Sqlite && !primary.is_mock_connection();
        let causal = config.causal_reads && positions && monitored;
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
            classifier,
            primary,
            replicas,
            config,
            monitored,
            positions,
            causal,
            flavor: OnceLock::new(),
            cluster: AtomicU64::new(0),
            unscoped: Mutex::new(Causal::default()),
            last_unscoped_write: AtomicU64::new(0),
            created: Instant::now(),
            closed: AtomicBool::new(false),
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
                    position: health.with_known(|known| known.map(|(_, p)| p.clone())),
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
        let sticky = match task {
            TaskState::Scoped { .. } => scope_request().and_then(|r| sticky(&r)),
            _ => None,
        };
        Facts {
            task,
            recent_unscoped_write: self.recent_unscoped_write(),
            fallback_to_primary: self.inner.config.fallback_to_primary,
            sticky,
            ..Facts::new(op, self.inner.replicas.len())
        }
    }

    /// Decide where `op` goes (`after_failure`: a retry, skipping the
    /// replicas in `tried`), record it, and remember a write.
    fn route(
        &self,
        op: Op,
        sql: &str,
        after_failure: Option<&[usize]>,
        need: &Need,
    ) -> Result<Route, DbErr> {
        let now = self.inner.now_stamp();
        let facts = Facts {
            retry: after_failure.is_some(),
            causal: need.causal(),
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
                return ReplicaState::Down;
            }
            match self.state_of(index, now) {
                ReplicaState::Usable if !self.has_reached(index, need) => ReplicaState::Behind,
                state => state,
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
        if note_write() {
            if let Some(request) = self.positions_request() {
                with_causal(&request, |c| {
                    c.pending = true;
                    // Only causal reads put the position in the pin: with
                    // them off, a request costs no extra round trip.
                    if self.inner.causal {
                        let capturer: Arc<dyn CapturePosition> = Arc::new(Capturer(self.clone()));
                        c.capturer.get_or_insert(capturer);
                    }
                });
            }
        } else {
            let stamp = self.inner.now_stamp();
            self.inner
                .last_unscoped_write
                .fetch_max(stamp, Ordering::AcqRel);
            self.with_unscoped(|c| c.pending = true);
        }
    }

    /// A write finished (or failed: it may have committed all the same):
    /// its position must be captured anew.
    pub(crate) fn write_done(&self) {
        if !self.inner.positions {
            return;
        }
        let done = |c: &mut Causal| {
            c.pending = true;
            c.last_write_done = Some(Instant::now());
        };
        match scope_request() {
            Some(request) => with_causal(&request, done),
            None => self.with_unscoped(done),
        }
    }

    fn positions_request(&self) -> Option<RequestContext> {
        self.inner.positions.then(scope_request).flatten()
    }

    fn with_unscoped<R>(&self, f: impl FnOnce(&mut Causal) -> R) -> R {
        let mut causal = self
            .inner
            .unscoped
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut causal)
    }

    /// Read or write, in this connection's dialect.
    fn classify(&self, sql: &str) -> Access {
        match &self.inner.classifier {
            Some(classifier) => classifier.classify(sql),
            None => classify(sql),
        }
    }

    /// What a read of the current task must see (causal reads), capturing
    /// the position of its writes first when a replica may have it.
    async fn need(&self) -> Result<Need, DbErr> {
        let task = task_state();
        if !self.inner.causal {
            // A position to wait for that this connection cannot check (no
            // monitor, causal reads off, SQLite): the primary has it.
            let after = scope_request().is_some_and(|r| r.min_position().is_some());
            return Ok(if after {
                Need::Unreachable
            } else {
                Need::Timed
            });
        }
        let home = match task {
            TaskState::Scoped { pinned: true, .. } => return Ok(Need::Timed),
            TaskState::Scoped { .. } => match scope_request() {
                Some(request) => CausalHome::Scope(request),
                None => return Ok(Need::Timed),
            },
            TaskState::Unscoped if self.recent_unscoped_write() => CausalHome::Unscoped,
            _ => return Ok(Need::Nothing),
        };
        let (uncertain, pending, last_write_done) =
            home.with(self, |c| (c.uncertain, c.pending, c.last_write_done));
        if uncertain {
            return Ok(Need::Timed);
        }
        if pending {
            // Capture only if a replica was checked after the write: else
            // none can be known to have it, and the read goes to the primary.
            let done = last_write_done.map_or(0, |at| self.inner.stamp_of(at));
            let maybe = (0..self.inner.replicas.len()).any(|i| {
                self.inner.health[i].with_known(|known| known.is_some_and(|(at, _)| *at > done))
            });
            // Without the primary's position (unreadable), wait for nothing
            // we cannot check: read the primary.
            if !maybe || self.capture_into(&home).await.is_err() {
                return Ok(Need::Unreachable);
            }
        }
        let positions: Vec<WritePosition> = home.with(self, |c| {
            [&c.after, &c.own, &c.floor]
                .into_iter()
                .flatten()
                .cloned()
                .collect()
        });
        Ok(if positions.is_empty() {
            Need::Nothing
        } else {
            Need::See(positions)
        })
    }

    /// Capture the primary's position now as where `home`'s writes reached.
    async fn capture_into(&self, home: &CausalHome) -> Result<(), DbErr> {
        let captured = self.capture().await?;
        home.with(self, |c| {
            c.own = Some(captured);
            c.pending = false;
        });
        Ok(())
    }

    /// Whether replica `index` is known to have everything `need` asks.
    fn has_reached(&self, index: usize, need: &Need) -> bool {
        match need {
            Need::Timed | Need::Nothing => true,
            Need::Unreachable => false,
            Need::See(positions) => {
                let cluster = self.inner.cluster.load(Ordering::Relaxed);
                self.inner.health[index].with_known(|known| {
                    known.is_some_and(|(_, at)| positions.iter().all(|p| p.reached_by(cluster, at)))
                })
            }
        }
    }

    /// After a read served by replica `index`: stay on it (monotonic reads),
    /// remember the position read at, and whether the request's pin is met.
    fn served(&self, index: usize) {
        self.inner.health[index].served(self.inner.now_stamp());
        let Some(request) = scope_request() else {
            return;
        };
        set_sticky(&request, index);
        if !self.inner.causal {
            return;
        }
        let cluster = self.inner.cluster.load(Ordering::Relaxed);
        self.inner.health[index].with_known(|known| {
            let Some((_, position)) = known else { return };
            with_causal(&request, |c| {
                let newer = c
                    .floor
                    .as_ref()
                    .is_none_or(|floor| floor.reached_by(cluster, position));
                if newer && cluster != 0 {
                    c.floor = Some(WritePosition::new(cluster, position.clone()));
                }
                if c.after
                    .as_ref()
                    .is_some_and(|after| after.reached_by(cluster, position))
                {
                    c.caught_up = true;
                }
            });
        });
    }

    /// The primary's position now (one round trip).
    async fn capture(&self) -> Result<WritePosition, DbErr> {
        let flavor = match self.inner.flavor.get() {
            Some(flavor) => *flavor,
            None => {
                let flavor = flavor_of(&self.inner.primary).await?;
                *self.inner.flavor.get_or_init(|| flavor)
            }
        };
        let position = primary_position(&self.inner.primary, flavor).await?;
        self.inner.set_cluster(position.cluster());
        Ok(position)
    }

    /// Where the current scope's writes reached on the primary — the token
    /// for a job that must read them ([`scope_after`](crate::scope_after)).
    /// `Ok(None)` when the scope wrote nothing, and on SQLite. Outside any
    /// scope: the position of the last unscoped write, within the
    /// [unscoped write window](MultiDbBuilder::unscoped_write_window).
    ///
    /// One round trip to the primary when the scope wrote since the
    /// position was last captured.
    ///
    /// ```no_run
    /// use multidb_seaorm::{MultiDb, WritePosition, scope, scope_after};
    /// use sea_orm::ConnectionTrait;
    ///
    /// # async fn run(db: MultiDb) -> Result<(), Box<dyn std::error::Error>> {
    /// let token = scope(async {
    ///     db.execute_unprepared("INSERT INTO post (title) VALUES ('hi')").await?;
    ///     db.write_position().await
    /// })
    /// .await?;
    /// let payload = token.map(|position| position.to_string()); // into the job queue
    /// // … in the worker:
    /// if let Some(text) = payload {
    ///     let position: WritePosition = text.parse()?;
    ///     db.check_position(&position)?;
    ///     scope_after(position, async { /* reads see the handler's insert */ }).await;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn write_position(&self) -> Result<Option<WritePosition>, DbErr> {
        if !self.inner.positions {
            return Ok(None);
        }
        let home = match (scope_request(), task_state()) {
            (Some(request), TaskState::Scoped { wrote: true, .. }) => CausalHome::Scope(request),
            (None, _) if self.recent_unscoped_write() => CausalHome::Unscoped,
            _ => return Ok(None),
        };
        if home.with(self, |c| c.pending || c.uncertain || c.own.is_none()) {
            self.capture_into(&home).await?;
        }
        Ok(home.with(self, |c| c.own.clone()))
    }

    /// Check that `position` belongs to this connection's cluster before a
    /// job waits for it ([`scope_after`](crate::scope_after)): a position of
    /// another cluster or backend would send every read to the primary.
    pub fn check_position(&self, position: &WritePosition) -> Result<(), DbErr> {
        let kind_matches = matches!(
            (position.position(), self.get_database_backend()),
            (Position::Lsn(_), DbBackend::Postgres)
                | (Position::MariaDb(_) | Position::MySql(_), DbBackend::MySql)
        );
        let cluster = self.inner.cluster.load(Ordering::Relaxed);
        if !kind_matches || (cluster != 0 && cluster != position.cluster()) {
            return Err(DbErr::Custom(format!(
                "multidb: the write position {position} belongs to another cluster or backend \
                 than this MultiDb's: was it made by another application's database?"
            )));
        }
        Ok(())
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
        let access = self.classify(input.sql());
        let need = match access {
            Access::Read => self.need().await?,
            Access::Write => Need::Nothing,
        };
        let mut route = self.route(Op::Statement(access), input.sql(), None, &need)?;
        let mut tried: Vec<usize> = Vec::new();
        loop {
            let Some(index) = route.replica else {
                let result = op(self.connection(route), input).await;
                if route.writes {
                    self.write_done();
                }
                return result;
            };
            let error = match op(&self.inner.replicas[index], input.clone()).await {
                Ok(value) => {
                    self.served(index);
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
                    let result = op(&self.inner.primary, input).await;
                    self.write_done();
                    return result;
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
            route = self.route(Op::Statement(access), sql, Some(&tried), &need)?;
        }
    }

    /// Run a transaction whose commit the caller awaits (SeaORM's closure
    /// forms) on the primary; a read-write one is a write that is done once
    /// `run` returns, committed or not.
    pub(crate) async fn awaited_transaction<'a, Fut: Future>(
        &'a self,
        access_mode: Option<AccessMode>,
        run: impl FnOnce(&'a DatabaseConnection) -> Fut,
    ) -> Fut::Output {
        let op = transaction(access_mode);
        let result = run(self.primary_for(op, "BEGIN", true)).await;
        if op == (Op::Transaction { read_only: false }) {
            self.write_done();
        }
        result
    }

    /// The primary, for work routing cannot see into (a transaction, a
    /// migration), recorded as `what`.
    /// `commit_seen`: the caller awaits the commit (`transaction(…)`) and
    /// then calls `write_done`; otherwise the commit comes later, unseen.
    pub(crate) fn primary_for(&self, op: Op, what: &str, commit_seen: bool) -> &DatabaseConnection {
        if !commit_seen
            && matches!(op, Op::Transaction { read_only: false } | Op::Executor)
            && let Some(request) = self.positions_request()
        {
            // Its commit comes later, unseen: the scope reads the primary.
            with_causal(&request, |c| c.uncertain = true);
        }
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

/// What a read must see, for causal reads.
#[derive(Debug)]
enum Need {
    /// Causal reads off (or a pinned task, a scope with an open
    /// transaction): the timed rules apply.
    Timed,
    /// No write to wait for.
    Nothing,
    /// The task wrote, and no replica can be known to have it yet.
    Unreachable,
    /// Replicas must have reached all of these.
    See(Vec<WritePosition>),
}

impl Need {
    fn causal(&self) -> bool {
        !matches!(self, Need::Timed)
    }
}

/// Where the causal facts of a read live.
enum CausalHome {
    Scope(RequestContext),
    Unscoped,
}

impl CausalHome {
    fn with<R>(&self, db: &MultiDb, f: impl FnOnce(&mut Causal) -> R) -> R {
        match self {
            CausalHome::Scope(request) => with_causal(request, f),
            CausalHome::Unscoped => db.with_unscoped(f),
        }
    }
}

/// Captures a scope's position for the HTTP layer (see `CapturePosition`).
struct Capturer(MultiDb);

impl CapturePosition for Capturer {
    fn capture(&self) -> Pin<Box<dyn Future<Output = Option<WritePosition>> + Send + 'static>> {
        let db = self.0.clone();
        Box::pin(async move {
            match db.capture().await {
                Ok(position) => Some(position),
                Err(error) => {
                    tracing::warn!(target: "multidb::route", %error, "could not read the primary's position");
                    None
                }
            }
        })
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
        self.primary_for(Op::Transaction { read_only: false }, "BEGIN", false)
            .begin()
            .await
    }

    async fn begin_with_config(
        &self,
        isolation_level: Option<IsolationLevel>,
        access_mode: Option<AccessMode>,
    ) -> Result<DatabaseTransaction, DbErr> {
        self.primary_for(transaction(access_mode), "BEGIN", false)
            .begin_with_config(isolation_level, access_mode)
            .await
    }

    async fn begin_with_options(
        &self,
        options: TransactionOptions,
    ) -> Result<DatabaseTransaction, DbErr> {
        self.primary_for(transaction(options.access_mode), "BEGIN", false)
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
        self.awaited_transaction(None, |primary| primary.transaction(callback))
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
        self.awaited_transaction(access_mode, |primary| {
            primary.transaction_with_config(callback, isolation_level, access_mode)
        })
        .await
    }
}

/// Migrations and other `DatabaseExecutor` users run on the primary
/// (`Migrator::up(&db, None)`); this counts as a write for read-your-writes.
impl<'c> IntoDatabaseExecutor<'c> for &'c MultiDb {
    fn into_database_executor(self) -> DatabaseExecutor<'c> {
        DatabaseExecutor::Connection(self.primary_for(Op::Executor, "(migration executor)", false))
    }
}

fn transaction(access_mode: Option<AccessMode>) -> Op {
    Op::Transaction {
        read_only: access_mode == Some(AccessMode::ReadOnly),
    }
}
