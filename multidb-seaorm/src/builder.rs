//! [`MultiDbBuilder`]: connect a primary and its replicas, or wrap open
//! connections.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use multidb_core::policy::ReplicaPolicy;
use sea_orm::{ConnectOptions, Database, DatabaseConnection};

use crate::config::{Config, DEFAULT_PRIMARY_TIMEOUT, DEFAULT_REPLICA_TIMEOUT};
use crate::error::{MultiDbError, Role, redact_url};
use crate::multidb::MultiDb;
use crate::names;
use crate::replica_set::address_of;

/// Builds a [`MultiDb`], in one of two ways that the types keep apart:
///
/// * from URLs or SeaORM `ConnectOptions`: [`primary`](Self::primary), then
///   any number of [`replica`](Self::replica), then
///   [`connect`](MultiDbBuilder::connect);
/// * from connections that are already open:
///   [`build(primary, replicas)`](Self::build).
///
/// Every other setting (policy, monitor, lag limits, causal reads…) works
/// with both, in any order.
///
/// ```no_run
/// use std::time::Duration;
/// use multidb_seaorm::MultiDb;
///
/// # async fn run() -> Result<(), multidb_seaorm::MultiDbError> {
/// let db = MultiDb::builder()
///     .max_replica_lag(Duration::from_secs(2))
///     .primary("postgres://app@primary/app")
///     .replica("postgres://app@replica-1/app")
///     .replica("postgres://app@replica-2/app")
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
///
/// A connection can be set only once, and only in its own form: a second
/// `primary`, a `replica` before the primary, or `build` after URLs do not
/// compile.
///
/// ```compile_fail
/// # use multidb_seaorm::MultiDb;
/// # async fn run(primary: sea_orm::DatabaseConnection) {
/// // `build` takes the connections; URLs given before it would be ignored.
/// let db = MultiDb::builder().primary("postgres://app@primary/app").build(primary, vec![]);
/// # }
/// ```
#[must_use]
pub struct MultiDbBuilder<S = NoPrimary> {
    connections: S,
    config: Config,
}

/// The [`MultiDbBuilder`] before [`primary`](MultiDbBuilder::primary): it can
/// [`build`](MultiDbBuilder::build) from open connections, or take a primary
/// URL.
#[derive(Debug, Default)]
pub struct NoPrimary;

/// The [`MultiDbBuilder`] after [`primary`](MultiDbBuilder::primary): it takes
/// replicas and [`connect`](MultiDbBuilder::connect)s.
pub struct WithPrimary {
    primary: ConnectOptions,
    replicas: Vec<ConnectOptions>,
    require_all_replicas: bool,
    #[cfg(feature = "dns")]
    discovery: Option<crate::discovery::Discovery>,
}

impl fmt::Debug for WithPrimary {
    // By hand: `ConnectOptions`' own Debug would print passwords.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = |options: &ConnectOptions| redact_url(options.get_url());
        f.debug_struct("WithPrimary")
            .field("primary", &url(&self.primary))
            .field(
                "replicas",
                &self.replicas.iter().map(url).collect::<Vec<_>>(),
            )
            .field("require_all_replicas", &self.require_all_replicas)
            .finish_non_exhaustive()
    }
}

impl<S: fmt::Debug> fmt::Debug for MultiDbBuilder<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultiDbBuilder")
            .field("connections", &self.connections)
            .field("config", &self.config)
            .finish()
    }
}

impl MultiDb {
    /// A builder: connect from URLs or `ConnectOptions`, choose the policy,
    /// the monitor, the lag limit.
    pub fn builder() -> MultiDbBuilder {
        MultiDbBuilder::default()
    }
}

impl Default for MultiDbBuilder {
    fn default() -> Self {
        MultiDbBuilder {
            connections: NoPrimary,
            config: Config::default(),
        }
    }
}

/// The settings, for both ways of building.
impl<S> MultiDbBuilder<S> {
    /// How to choose the replica for each read (default:
    /// [`PeakEwma`](crate::policy::PeakEwma), load-aware: a replica that
    /// answers slowly gets fewer reads; [`RoundRobin`](crate::policy::RoundRobin)
    /// for exact turns; see [`policy`](crate::policy) for why).
    ///
    /// ```
    /// use multidb_seaorm::{MultiDb, policy::Random};
    /// let builder = MultiDb::builder().policy(Random::with_seed(7));
    /// ```
    pub fn policy(mut self, policy: impl ReplicaPolicy) -> Self {
        self.config.policy = Box::new(policy);
        self
    }

    /// After a write made outside any [`scope`](crate::scope), reads from
    /// the whole process go to the primary for this long (default 15 s), so
    /// that a plain `main` reads its own writes (SeaORM's MySQL `insert`
    /// writes, then selects the row back). Inside a scope, read-your-writes
    /// is per scope and this window does not apply. `Duration::ZERO` turns
    /// it off — then unscoped code must use [`use_master`](fn@crate::use_master)
    /// around writes it reads back, or SeaORM's MySQL `insert` may not find
    /// the row it just wrote on a lagging replica.
    pub fn unscoped_write_window(mut self, window: Duration) -> Self {
        self.config.unscoped_write_window = window;
        self
    }

    /// Without a monitor (SQLite, or [`monitor_interval`](Self::monitor_interval)
    /// zero): after a read fails on a replica for a connection-level reason,
    /// reads skip it for this long (default 5 s), then it gets another
    /// chance. With a monitor, the replica is back as soon as the monitor
    /// sees it answer.
    pub fn replica_rest(mut self, rest: Duration) -> Self {
        self.config.replica_rest = rest;
        self
    }

    /// How often a background task checks each replica (default 500 ms):
    /// reachable, still a replica (PostgreSQL `pg_is_in_recovery()`;
    /// MariaDB/MySQL `@@read_only`, and the replication threads when the
    /// user may run `SHOW SLAVE STATUS`), its replication position and its
    /// lag; and the primary's position. Replicas that are down, lag past
    /// [`max_replica_lag`](Self::max_replica_lag) or are no longer replicas
    /// get no reads until they recover. `Duration::ZERO` turns it off; it is
    /// always off on SQLite (no replication) and on mock connections.
    ///
    /// Each check has a timeout of half an interval (at least 100 ms), and
    /// the replicas are checked concurrently, so one hung replica delays no
    /// other; a replica that served reads since the last check and only
    /// timed out is taken for busy, not down. The task holds no strong reference: it ends once the last
    /// clone of the `MultiDb` is dropped.
    ///
    /// It needs no privileges: what it reads is readable by any user. On
    /// MariaDB/MySQL, `SLAVE MONITOR` (MariaDB) / `REPLICATION CLIENT`
    /// (MySQL) adds the replication threads' state (a stopped replication
    /// is seen at once, not only once it lags) and `Seconds_Behind_Master`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = multidb_seaorm::MultiDb::builder()
    ///     .monitor_interval(Duration::from_millis(250))
    ///     .max_replica_lag(Duration::from_secs(2));
    /// ```
    pub fn monitor_interval(mut self, interval: Duration) -> Self {
        self.config.monitor_interval = interval;
        self
    }

    /// Replicas whose lag, in time, is past this get no reads until they
    /// catch up (default: no limit). The lag is measured by the monitor as
    /// how long ago the primary was at the replica's position, so it is
    /// exact to one [`monitor_interval`](Self::monitor_interval), and an
    /// idle primary never makes a replica look late.
    pub fn max_replica_lag(mut self, lag: Duration) -> Self {
        self.config.max_replica_lag = Some(lag);
        self
    }

    /// PostgreSQL: replicas more than this many WAL bytes behind the primary
    /// get no reads until they catch up (default: no limit).
    pub fn max_replica_lag_bytes(mut self, bytes: u64) -> Self {
        self.config.max_replica_lag_bytes = Some(bytes);
        self
    }

    /// When no replica can take a read (all down, lagging, or no longer
    /// replicas): `true` (the default) sends it to the primary, `false` fails
    /// it with a `DbErr::Conn` that says why, to protect the primary from
    /// the whole read load.
    pub fn fallback_to_primary(mut self, fallback: bool) -> Self {
        self.config.fallback_to_primary = fallback;
        self
    }

    /// Exact read-your-writes by replication position (default `true`):
    /// after a scope writes, its reads go to any replica that has replayed
    /// past the primary's position after the write (PostgreSQL WAL LSN,
    /// MariaDB `@@gtid_binlog_pos`, MySQL `@@gtid_executed`), else the
    /// primary — instead of all going to the primary. Outside any scope, the
    /// [unscoped write window](Self::unscoped_write_window) waits for the
    /// write's position the same way. Within a scope, reads are monotonic:
    /// never from a replica behind one the scope already read from.
    ///
    /// It costs one round trip to the primary after a scope's writes, and
    /// only when a replica may have caught up already (the monitor saw one
    /// after the write) or when the position is asked for
    /// ([`MultiDb::write_position`], or `PinningLayer` at the end of a
    /// request); none per read. A scope that opened a transaction with
    /// `begin()` reads the primary for the rest of the scope (its commit
    /// is not seen).
    ///
    /// `false` keeps the timed behaviour exactly (a writing scope reads the
    /// primary). It needs the [monitor](Self::monitor_interval) and has no
    /// effect on SQLite, which has no replication positions.
    pub fn causal_reads(mut self, causal: bool) -> Self {
        self.config.causal_reads = causal;
        self
    }

    /// How long a causal read may wait for a replica to reach the position
    /// it must see, before it goes to the primary (default zero: it does
    /// not wait). With a budget, a read that no replica can serve yet waits
    /// on the replica most likely to get there first (the least lagging),
    /// for at most the budget, then reads there; when the budget runs out
    /// it reads the primary. PostgreSQL (before 19) polls the replicas'
    /// `pg_last_wal_replay_lsn()` every few milliseconds, one poll per
    /// replica whatever the number of waiting reads; MariaDB waits with
    /// `MASTER_GTID_WAIT`, MySQL with `WAIT_FOR_EXECUTED_GTID_SET`, which
    /// hold one replica connection for at most the budget.
    ///
    /// A wait moves read load off the primary during a burst of writes, at
    /// the price of latency: a read can take up to the budget longer. Use
    /// it when the primary is the bottleneck and replicas lag by less than
    /// the latency you can afford; keep it zero when latency matters more
    /// than the primary's load. A dropped request (a client gone, a
    /// timeout) stops its wait. It has no effect without
    /// [`causal_reads`](Self::causal_reads).
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = multidb_seaorm::MultiDb::builder().causal_wait(Duration::from_millis(250));
    /// ```
    pub fn causal_wait(mut self, budget: Duration) -> Self {
        self.config.causal_wait = budget;
        self
    }

    /// Functions of the application (or of an extension) that only read, so
    /// that statements calling them can go to replicas. The classifier
    /// calls a statement a read only if every function it calls is known to
    /// be read-only: the built-ins SeaORM users call in SELECTs are, any
    /// other function is taken to write. Names are case-insensitive,
    /// unqualified; a name known to write (`nextval`, `pg_advisory_lock`…)
    /// is refused when the `MultiDb` is built
    /// ([`MultiDbError::InvalidReadOnlyFunction`]).
    ///
    /// ```
    /// # use multidb_seaorm::MultiDb;
    /// # use sea_orm::Database;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let db = MultiDb::builder()
    ///     .read_only_functions(["similarity", "my_score"])
    ///     .build(Database::connect("sqlite::memory:").await?, vec![])?;
    /// let refused = MultiDb::builder()
    ///     .read_only_functions(["nextval"])
    ///     .build(Database::connect("sqlite::memory:").await?, vec![]);
    /// assert!(refused.is_err());
    /// # Ok(()) }
    /// ```
    pub fn read_only_functions<I>(mut self, names: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.config
            .read_only_functions
            .extend(names.into_iter().map(|name| name.as_ref().to_owned()));
        self
    }

    /// Call `callback` after every statement, on the primary and on each
    /// replica: SeaORM's `DatabaseConnection::set_metric_callback`, for the
    /// whole set. It is a setting of the builder because a `MultiDb` is
    /// shared (the monitor holds it too), so it cannot take `&mut self`.
    /// As in SeaORM, `execute_unprepared` is not metered.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use multidb_seaorm::MultiDb;
    /// use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let statements = Arc::new(AtomicUsize::new(0));
    /// let counter = statements.clone();
    /// let db = MultiDb::builder()
    ///     .metric_callback(move |_info| {
    ///         counter.fetch_add(1, Ordering::Relaxed);
    ///     })
    ///     .build(Database::connect("sqlite::memory:").await?, vec![])?;
    /// db.query_one_raw(Statement::from_string(DbBackend::Sqlite, "SELECT 1")).await?;
    /// assert_eq!(statements.load(Ordering::Relaxed), 1);
    /// # Ok(()) }
    /// ```
    pub fn metric_callback<F>(mut self, callback: F) -> Self
    where
        F: Fn(&sea_orm::metric::Info<'_>) + Send + Sync + 'static,
    {
        self.config.metric_callback = Some(Arc::new(callback));
        self
    }

    /// The names the replicas go by, in the order they were given: the
    /// `replica` label of the metrics (feature `metrics`), the status page,
    /// [`ReplicaStatus::name`](crate::ReplicaStatus::name). Short and
    /// stable, like `eu-west-1a`. A replica without one is named
    /// `host:port` from its URL (never with its credentials), or
    /// `replica<index>` when it was given as an open connection.
    ///
    /// ```
    /// # use multidb_seaorm::MultiDb;
    /// # use sea_orm::Database;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let db = MultiDb::builder()
    ///     .replica_names(["eu-1"])
    ///     .build(
    ///         Database::connect("sqlite::memory:").await?,
    ///         vec![Database::connect("sqlite::memory:").await?, Database::connect("sqlite::memory:").await?],
    ///     )?;
    /// let names: Vec<String> = db.replica_status().into_iter().map(|r| r.name).collect();
    /// assert_eq!(names, ["eu-1", "replica1"]);
    /// # Ok(()) }
    /// ```
    pub fn replica_names<I>(mut self, names: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.config.replica_names = names.into_iter().map(Into::into).collect();
        self
    }
}

impl MultiDbBuilder<NoPrimary> {
    /// The primary: a URL or SeaORM `ConnectOptions` (pool sizes, timeouts...).
    /// Connect and acquire timeouts you do not set default to 2 s: with
    /// the primary down, a write fails after that instead of hanging for
    /// sqlx's 30 s. Set your own on the `ConnectOptions` if your primary
    /// pool is often exhausted under load.
    pub fn primary(self, options: impl Into<ConnectOptions>) -> MultiDbBuilder<WithPrimary> {
        MultiDbBuilder {
            connections: WithPrimary {
                primary: options.into(),
                replicas: Vec::new(),
                require_all_replicas: false,
                #[cfg(feature = "dns")]
                discovery: None,
            },
            config: self.config,
        }
    }

    /// Build from connections that are already open (handy for tests and
    /// for sharing pools). Fails when a replica's backend differs from the
    /// primary's.
    ///
    /// ```
    /// use multidb_seaorm::{MultiDb, policy::RoundRobin};
    /// use sea_orm::Database;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let db = MultiDb::builder()
    ///     .policy(RoundRobin::starting_at(0))
    ///     .build(
    ///         Database::connect("sqlite::memory:").await?,
    ///         vec![Database::connect("sqlite::memory:").await?],
    ///     )?;
    /// assert_eq!(db.replicas().len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn build(
        self,
        primary: DatabaseConnection,
        replicas: Vec<DatabaseConnection>,
    ) -> Result<MultiDb, MultiDbError> {
        MultiDb::assemble(primary, replicas, self.config, &[], Vec::new())
    }
}

impl MultiDbBuilder<WithPrimary> {
    /// Add a replica (repeatable). Reads are spread over them in this order.
    /// Connect and acquire timeouts you do not set default to 1 s, so that
    /// a dead replica costs a read a second, not sqlx's 30 s:
    ///
    /// ```
    /// use std::time::Duration;
    /// use multidb_seaorm::MultiDb;
    /// use sea_orm::ConnectOptions;
    ///
    /// let mut replica = ConnectOptions::new("postgres://app@replica-1/app");
    /// replica.acquire_timeout(Duration::from_millis(300)).max_connections(20);
    /// let builder = MultiDb::builder()
    ///     .primary("postgres://app@primary/app")
    ///     .replica(replica);
    /// ```
    pub fn replica(mut self, options: impl Into<ConnectOptions>) -> Self {
        self.connections.replicas.push(options.into());
        self
    }

    /// Keep the replica set equal to what a DNS name resolves to (feature
    /// `dns`; see [`Discovery`](crate::Discovery)): [`connect`](Self::connect)
    /// resolves it once and adds what answers, then a background task
    /// resolves it again on the refresh interval (or the TTL when shorter,
    /// with jitter), adds new addresses once they pass a health check and
    /// drains the ones gone. An empty answer or a failing resolver keeps
    /// the current set. Replicas given with [`replica`](Self::replica) stay.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), multidb_seaorm::MultiDbError> {
    /// use multidb_seaorm::{Discovery, MultiDb};
    /// let db = MultiDb::builder()
    ///     .primary("postgres://app@primary.db.internal/app")
    ///     .discover_replicas(Discovery::a_records("postgres://app@replicas.db.internal:5432/app"))
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "dns")]
    pub fn discover_replicas(mut self, discovery: crate::discovery::Discovery) -> Self {
        self.connections.discovery = Some(discovery);
        self
    }

    /// `true`: [`connect`](Self::connect) fails when any replica cannot be
    /// reached. `false` (the default): it succeeds as long as the primary is
    /// up, without waiting for replicas that do not answer at once (a
    /// refused connection costs about a millisecond, a silent server at
    /// most 250 ms): they are counted down (with a warning), and the
    /// monitor brings them in once they answer. A replica whose
    /// `ConnectOptions` ask for `connect_lazy(true)` is not checked at all.
    pub fn require_all_replicas(mut self, require: bool) -> Self {
        self.connections.require_all_replicas = require;
        self
    }

    /// Connect to the primary and every replica (concurrently).
    ///
    /// Fails with the role and the URL (password removed) of the database
    /// that cannot be used: the primary when it cannot be reached, a replica
    /// whose URL is invalid or whose backend differs from the primary's, and
    /// any unreachable replica with
    /// [`require_all_replicas(true)`](Self::require_all_replicas).
    pub async fn connect(self) -> Result<MultiDb, MultiDbError> {
        let WithPrimary {
            primary,
            replicas,
            require_all_replicas,
            #[cfg(feature = "dns")]
            discovery,
        } = self.connections;
        let mut config = self.config;
        config.replica_names = replicas
            .iter()
            .enumerate()
            .map(|(index, options)| {
                let given = config.replica_names.get(index).map(String::as_str);
                names::name(index, given, Some(options.get_url()))
            })
            .collect();
        let primary = open(
            Role::Primary,
            with_timeouts(primary, DEFAULT_PRIMARY_TIMEOUT),
        );
        let addresses: Vec<_> = replicas
            .iter()
            .map(|options| address_of(options.get_url()))
            .collect();
        let replicas = join_all(replicas.into_iter().zip(&addresses).enumerate().map(
            |(index, (options, address))| {
                open_replica(
                    index,
                    with_timeouts(options, DEFAULT_REPLICA_TIMEOUT),
                    address.as_ref(),
                    require_all_replicas,
                )
            },
        ));
        let (primary, replicas) = futures_util::future::join(primary, replicas).await;
        let primary = primary?;
        let mut connections = Vec::with_capacity(replicas.len());
        let mut unreachable = Vec::new();
        for (index, replica) in replicas.into_iter().enumerate() {
            let (connection, reachable) = replica?;
            if !reachable {
                unreachable.push(index);
            }
            connections.push(connection);
        }
        let db = MultiDb::assemble(primary, connections, config, &unreachable, addresses)?;
        #[cfg(feature = "dns")]
        if let Some(discovery) = discovery {
            crate::discovery::start(&db, discovery)
                .await
                .map_err(MultiDbError::Discovery)?;
        }
        Ok(db)
    }
}

/// Our default timeouts where the caller set none.
fn with_timeouts(mut options: ConnectOptions, timeout: Duration) -> ConnectOptions {
    if options.get_connect_timeout().is_none() {
        options.connect_timeout(timeout);
    }
    if options.get_acquire_timeout().is_none() {
        options.acquire_timeout(timeout);
    }
    options
}

/// How long start-up waits for a replica that accepted a TCP connection to
/// answer; past it, it is counted down and joins when the monitor sees it.
const STARTUP_CHECK: Duration = Duration::from_millis(250);

/// Connect to a replica. When it is not required, its pool is opened
/// lazily and checked briefly (`false`: it did not answer, counted down
/// until the monitor sees it): start-up never waits out sqlx's retries of
/// a refused connect.
async fn open_replica(
    index: usize,
    options: ConnectOptions,
    address: Option<&(String, u16)>,
    required: bool,
) -> Result<(DatabaseConnection, bool), MultiDbError> {
    let role = Role::Replica(index);
    if required {
        return Ok((open(role, options).await?, true));
    }
    if options.get_connect_lazy() {
        // The application asked not to connect at start: taken for up
        // until a read or the monitor finds otherwise.
        return Ok((open(role, options).await?, true));
    }
    let url = redact_url(options.get_url());
    let mut lazy = options;
    lazy.connect_lazy(true);
    let connection = open(role, lazy).await?;
    let answered = match address {
        Some((host, port)) => crate::watch::accepts(host, *port).await,
        None => Ok(()),
    };
    let answered = match answered {
        Ok(()) => match tokio::time::timeout(STARTUP_CHECK, connection.ping()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err(format!("no answer within {STARTUP_CHECK:?}")),
        },
        Err(error) => Err(error),
    };
    match answered {
        Ok(()) => Ok((connection, true)),
        Err(error) => {
            tracing::warn!(
                target: "multidb::monitor",
                replica = index,
                url,
                error,
                "replica unreachable at start: counted down until it answers"
            );
            Ok((connection, false))
        }
    }
}

async fn open(role: Role, options: ConnectOptions) -> Result<DatabaseConnection, MultiDbError> {
    let url = redact_url(options.get_url());
    Database::connect(options)
        .await
        .map_err(|source| MultiDbError::Connect { role, url, source })
}
