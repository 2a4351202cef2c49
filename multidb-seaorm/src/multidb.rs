//! [`MultiDb`]: a SeaORM connection routed over one primary and N replicas.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use multidb_core::context::{TaskState, note_write, task_state};
use multidb_core::policy::ReplicaPolicy;
use multidb_core::route::{Reason, Route, Target, decide};
use multidb_core::{Access, classify};
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DatabaseExecutor, DatabaseTransaction,
    DbBackend, DbErr, ExecResult, IntoDatabaseExecutor, IsolationLevel, QueryResult, QueryStream,
    Statement, StreamTrait, TransactionError, TransactionOptions, TransactionTrait,
};

use crate::builder::MultiDbBuilder;
use crate::error::{MultiDbError, Role};
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

struct Inner {
    primary: DatabaseConnection,
    replicas: Vec<DatabaseConnection>,
    policy: Box<dyn ReplicaPolicy>,
    counters: Counters,
    /// Stamp (see [`MultiDb::now_stamp`]) of the last write outside any
    /// scope; 0 = never.
    last_unscoped_write: AtomicU64,
    unscoped_write_window: Duration,
    /// Per replica: stamp until which it rests after a connection failure;
    /// 0 = healthy.
    resting_until: Vec<AtomicU64>,
    replica_rest: Duration,
    created: Instant,
}

/// Where one statement is sent.
struct Routed<'a> {
    connection: &'a DatabaseConnection,
    replica: Option<usize>,
}

impl MultiDb {
    /// A routed connection over `primary` and `replicas`, with the default
    /// policy (round-robin from a random start). With no replicas everything
    /// goes to the primary (and one warning is logged).
    ///
    /// Fails when a replica uses another backend than the primary.
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

    /// A builder: connect from URLs or `ConnectOptions`, choose the policy.
    pub fn builder() -> MultiDbBuilder {
        MultiDbBuilder::default()
    }

    pub(crate) fn assemble(
        primary: DatabaseConnection,
        replicas: Vec<DatabaseConnection>,
        policy: Box<dyn ReplicaPolicy>,
        unscoped_write_window: Duration,
        replica_rest: Duration,
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
                target: "multidb",
                "MultiDb has no replicas: every statement goes to the primary"
            );
        }
        Ok(MultiDb {
            inner: Arc::new(Inner {
                counters: Counters::new(replicas.len()),
                resting_until: replicas.iter().map(|_| AtomicU64::new(0)).collect(),
                replica_rest,
                primary,
                replicas,
                policy,
                last_unscoped_write: AtomicU64::new(0),
                unscoped_write_window,
                created: Instant::now(),
            }),
        })
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

    /// The next replica by the policy (django's `get_replica()`), or the
    /// primary when there are none (or all failed to connect just now).
    pub fn replica(&self) -> &DatabaseConnection {
        match self.pick_replica() {
            Ok(index) => &self.inner.replicas[index],
            Err(_) => &self.inner.primary,
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

    /// The policy's replica, or the next one that is not resting after a
    /// connection failure; why not, when none can take the read.
    fn pick_replica(&self) -> Result<usize, Reason> {
        let count = self.inner.replicas.len();
        if count == 0 {
            return Err(Reason::NoReplica);
        }
        let start = self.inner.policy.pick(count) % count;
        (0..count)
            .map(|step| (start + step) % count)
            .find(|&index| !self.is_resting(index))
            .ok_or(Reason::Unhealthy)
    }

    fn is_resting(&self, replica: usize) -> bool {
        self.inner.resting_until[replica].load(Ordering::Acquire) > self.now_stamp()
    }

    /// After a connection failure, reads skip the replica for a while
    /// instead of each waiting for it to fail again.
    fn rest(&self, replica: usize, error: &DbErr) {
        let rest = millis(self.inner.replica_rest);
        let until = self.now_stamp().saturating_add(rest);
        self.inner.resting_until[replica].fetch_max(until, Ordering::AcqRel);
        tracing::warn!(
            target: "multidb",
            replica,
            rest_ms = rest,
            %error,
            "replica unreachable: retrying the read elsewhere, and resting the replica"
        );
    }

    /// Milliseconds since this `MultiDb` was built, plus one (0 means never).
    fn now_stamp(&self) -> u64 {
        millis(self.inner.created.elapsed()).saturating_add(1)
    }

    /// Decide where `sql` goes, record it, and note a write.
    fn route(&self, sql: &str) -> Routed<'_> {
        let access = classify(sql);
        let state = task_state();
        let mut route = decide(access, state, !self.inner.replicas.is_empty());
        if access == Access::Write {
            self.note_write();
        } else if route.target == Target::Replica
            && state == TaskState::Unscoped
            && self.recent_unscoped_write()
        {
            route = Route::primary(Reason::RecentUnscopedWrite);
        }
        let replica = match route.target {
            Target::Replica => match self.pick_replica() {
                Ok(index) => Some(index),
                Err(reason) => {
                    route = Route::primary(reason);
                    None
                }
            },
            Target::Primary => None,
        };
        self.record(route, replica, sql);
        Routed {
            connection: replica.map_or(&self.inner.primary, |i| &self.inner.replicas[i]),
            replica,
        }
    }

    fn record(&self, route: Route, replica: Option<usize>, sql: &str) {
        self.inner
            .counters
            .record(route.target, route.reason, replica);
        tracing::debug!(
            target: "multidb",
            route = %route.target,
            reason = %route.reason,
            replica,
            sql,
            "routed"
        );
    }

    /// Reads after a write go to the primary: per scope when one is open,
    /// else process-wide for the unscoped write window.
    fn note_write(&self) {
        if !note_write() {
            let stamp = self.now_stamp();
            self.inner
                .last_unscoped_write
                .fetch_max(stamp, Ordering::AcqRel);
        }
    }

    fn recent_unscoped_write(&self) -> bool {
        let stamp = self.inner.last_unscoped_write.load(Ordering::Acquire);
        if stamp == 0 {
            return false;
        }
        self.now_stamp() < stamp.saturating_add(millis(self.inner.unscoped_write_window))
    }

    /// Run `op` where `sql` is routed; a read whose replica fails to connect
    /// is retried on the other replicas, then the primary. Writes are never
    /// retried.
    async fn run<'a, T, F, Fut>(&'a self, sql: &str, op: F) -> Result<T, DbErr>
    where
        F: Fn(&'a DatabaseConnection) -> Fut,
        Fut: Future<Output = Result<T, DbErr>>,
    {
        let routed = self.route(sql);
        let Some(first) = routed.replica else {
            return op(routed.connection).await;
        };
        let error = match op(routed.connection).await {
            Err(error) if is_connection_error(&error) => error,
            result => return result,
        };
        self.rest(first, &error);
        let count = self.inner.replicas.len();
        for index in (1..count).map(|step| (first + step) % count) {
            if self.is_resting(index) {
                continue;
            }
            self.record(
                Route {
                    target: Target::Replica,
                    reason: Reason::Fallback,
                },
                Some(index),
                sql,
            );
            match op(&self.inner.replicas[index]).await {
                Err(error) if is_connection_error(&error) => self.rest(index, &error),
                result => return result,
            }
        }
        self.record(Route::primary(Reason::Fallback), None, sql);
        op(&self.inner.primary).await
    }

    /// The primary, for work routing cannot see into (a transaction, a
    /// migration): counted as a write, to be safe, unless it is read-only.
    fn whole_on_primary(&self, reason: Reason, what: &str) -> &DatabaseConnection {
        self.whole_on_primary_with(reason, what, None)
    }

    fn whole_on_primary_with(
        &self,
        reason: Reason,
        what: &str,
        access_mode: Option<AccessMode>,
    ) -> &DatabaseConnection {
        if access_mode != Some(AccessMode::ReadOnly) {
            self.note_write();
        }
        self.record(Route::primary(reason), None, what);
        &self.inner.primary
    }
}

/// Whole milliseconds, saturating far below `u64::MAX` so stamps can add.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX / 2)
}

/// Errors that say the server could not be reached or dropped the
/// connection, not that the statement was wrong: only these are worth
/// retrying a read elsewhere.
fn is_connection_error(error: &DbErr) -> bool {
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        // SeaORM wraps driver errors opaquely; sqlx's wording is stable.
        DbErr::Query(error) | DbErr::Exec(error) => {
            let text = error.to_string();
            CONNECTION_FAILURES
                .iter()
                .any(|phrase| text.contains(phrase))
        }
        _ => false,
    }
}

const CONNECTION_FAILURES: [&str; 8] = [
    "error communicating with database", // I/O: refused, reset, EOF
    "pool timed out while waiting for an open connection",
    "attempted to acquire a connection on a closed pool",
    "attempted to communicate with a crashed background worker",
    "terminating connection due to administrator command", // PostgreSQL 57P01
    "the database system is starting up",                  // PostgreSQL 57P03
    "the database system is shutting down",                // PostgreSQL 57P03
    "canceling statement due to conflict with recovery",   // PostgreSQL hot standby
];

impl fmt::Debug for MultiDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultiDb")
            .field("backend", &self.inner.primary.get_database_backend())
            .field("replicas", &self.inner.replicas.len())
            .field("policy", &self.inner.policy)
            .finish()
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for MultiDb {
    fn get_database_backend(&self) -> DbBackend {
        self.inner.primary.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.run(&stmt.sql, |db| db.execute_raw(stmt.clone())).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.run(sql, |db| db.execute_unprepared(sql)).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.run(&stmt.sql, |db| db.query_one_raw(stmt.clone()))
            .await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.run(&stmt.sql, |db| db.query_all_raw(stmt.clone()))
            .await
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
        Box::pin(async move {
            let sql = stmt.sql.clone();
            self.run(&sql, |db| db.stream_raw(stmt.clone())).await
        })
    }
}

/// Transactions run on the primary, and everything inside them with them.
/// Opening one counts as a write for read-your-writes.
#[async_trait::async_trait]
impl TransactionTrait for MultiDb {
    type Transaction = DatabaseTransaction;

    async fn begin(&self) -> Result<DatabaseTransaction, DbErr> {
        self.whole_on_primary(Reason::Transaction, "BEGIN")
            .begin()
            .await
    }

    async fn begin_with_config(
        &self,
        isolation_level: Option<IsolationLevel>,
        access_mode: Option<AccessMode>,
    ) -> Result<DatabaseTransaction, DbErr> {
        self.whole_on_primary_with(Reason::Transaction, "BEGIN", access_mode)
            .begin_with_config(isolation_level, access_mode)
            .await
    }

    async fn begin_with_options(
        &self,
        options: TransactionOptions,
    ) -> Result<DatabaseTransaction, DbErr> {
        self.whole_on_primary_with(Reason::Transaction, "BEGIN", options.access_mode)
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
        self.whole_on_primary(Reason::Transaction, "BEGIN")
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
        self.whole_on_primary_with(Reason::Transaction, "BEGIN", access_mode)
            .transaction_with_config(callback, isolation_level, access_mode)
            .await
    }
}

/// Migrations and other `DatabaseExecutor` users run on the primary
/// (`Migrator::up(&db, None)`); this counts as a write for read-your-writes.
impl<'c> IntoDatabaseExecutor<'c> for &'c MultiDb {
    fn into_database_executor(self) -> DatabaseExecutor<'c> {
        DatabaseExecutor::Connection(self.whole_on_primary(Reason::Write, "(migration executor)"))
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{DbErr, RuntimeErr};

    use super::is_connection_error;

    fn query(message: &str) -> DbErr {
        DbErr::Query(RuntimeErr::Internal(message.into()))
    }

    #[test]
    fn only_connection_failures_are_retried() {
        assert!(is_connection_error(&query(
            "error communicating with database: Connection refused (os error 111)"
        )));
        assert!(is_connection_error(&query(
            "error returned from database: terminating connection due to administrator command"
        )));
        assert!(is_connection_error(&DbErr::Conn(RuntimeErr::Internal(
            "refused".into()
        ))));
        assert!(!is_connection_error(&query(
            "error returned from database: relation \"x\" does not exist"
        )));
        assert!(!is_connection_error(&DbErr::RecordNotFound("x".into())));
        assert!(!is_connection_error(&DbErr::Custom(
            "error communicating with database".into()
        )));
    }
}
