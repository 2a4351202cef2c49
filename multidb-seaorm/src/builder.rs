//! [`MultiDbBuilder`]: connect a primary and its replicas.

use std::fmt;
use std::time::Duration;

use futures_util::future::try_join_all;
use multidb_core::policy::{ReplicaPolicy, RoundRobin};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};

use crate::error::{MultiDbError, Role, redact_url};
use crate::multidb::{DEFAULT_UNSCOPED_WRITE_WINDOW, MultiDb};

/// Builds a [`MultiDb`]: from URLs / `ConnectOptions` with
/// [`connect`](Self::connect), or from open connections with
/// [`build`](Self::build).
///
/// ```no_run
/// use multidb_seaorm::MultiDb;
///
/// # async fn run() -> Result<(), multidb_seaorm::MultiDbError> {
/// let db = MultiDb::builder()
///     .primary("postgres://app@primary/app")
///     .replica("postgres://app@replica-1/app")
///     .replica("postgres://app@replica-2/app")
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[must_use]
pub struct MultiDbBuilder {
    primary: Option<ConnectOptions>,
    replicas: Vec<ConnectOptions>,
    policy: Box<dyn ReplicaPolicy>,
    unscoped_write_window: Duration,
    replica_rest: Duration,
}

/// How long, by default, reads skip a replica after it failed to connect
/// (see [`MultiDbBuilder::replica_rest`]).
pub const DEFAULT_REPLICA_REST: Duration = Duration::from_secs(5);

impl fmt::Debug for MultiDbBuilder {
    // By hand: `ConnectOptions`' own Debug would print passwords.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = |options: &ConnectOptions| redact_url(options.get_url());
        f.debug_struct("MultiDbBuilder")
            .field("primary", &self.primary.as_ref().map(url))
            .field(
                "replicas",
                &self.replicas.iter().map(url).collect::<Vec<_>>(),
            )
            .field("policy", &self.policy)
            .field("unscoped_write_window", &self.unscoped_write_window)
            .field("replica_rest", &self.replica_rest)
            .finish()
    }
}

impl Default for MultiDbBuilder {
    fn default() -> Self {
        MultiDbBuilder {
            primary: None,
            replicas: Vec::new(),
            policy: Box::new(RoundRobin::new()),
            unscoped_write_window: DEFAULT_UNSCOPED_WRITE_WINDOW,
            replica_rest: DEFAULT_REPLICA_REST,
        }
    }
}

impl MultiDbBuilder {
    /// The primary: a URL or SeaORM `ConnectOptions` (pool sizes, timeouts...).
    pub fn primary(mut self, options: impl Into<ConnectOptions>) -> Self {
        self.primary = Some(options.into());
        self
    }

    /// Add a replica (repeatable). Reads are spread over them in this order.
    pub fn replica(mut self, options: impl Into<ConnectOptions>) -> Self {
        self.replicas.push(options.into());
        self
    }

    /// How to choose the replica for each read (default: [`RoundRobin`] from
    /// a random start).
    ///
    /// ```
    /// use multidb_seaorm::{MultiDb, policy::Random};
    /// let builder = MultiDb::builder().policy(Random::with_seed(7));
    /// ```
    pub fn policy(mut self, policy: impl ReplicaPolicy) -> Self {
        self.policy = Box::new(policy);
        self
    }

    /// After a write made outside any [`scope`](crate::scope), reads from
    /// the whole process go to the primary for this long (default 15 s), so
    /// that a plain `main` reads its own writes (SeaORM's MySQL `insert`
    /// writes, then selects the row back). Inside a scope, read-your-writes
    /// is per scope and this window does not apply. `Duration::ZERO` turns
    /// it off — then unscoped code must use [`use_master`](crate::use_master)
    /// around writes it reads back, or SeaORM's MySQL `insert` may not find
    /// the row it just wrote on a lagging replica.
    pub fn unscoped_write_window(mut self, window: Duration) -> Self {
        self.unscoped_write_window = window;
        self
    }

    /// After a replica fails to connect (refused, reset, pool timeout), reads
    /// skip it for this long (default 5 s) rather than each waiting for it
    /// to fail again; then it gets another chance. Its reads go to the other
    /// replicas, or the primary when all rest.
    ///
    /// A dead replica still costs the first read that meets it the pool's
    /// acquire timeout: give replicas a short one, e.g.
    /// `ConnectOptions::new(url).acquire_timeout(Duration::from_secs(1))`.
    pub fn replica_rest(mut self, rest: Duration) -> Self {
        self.replica_rest = rest;
        self
    }

    /// Connect to the primary and every replica (concurrently).
    ///
    /// Fails with the role and the URL (password removed) of the first
    /// database that cannot be reached, or when a replica's backend differs
    /// from the primary's.
    pub async fn connect(self) -> Result<MultiDb, MultiDbError> {
        let primary_options = self.primary.clone().ok_or(MultiDbError::MissingPrimary)?;
        let primary = open(Role::Primary, primary_options);
        let replicas = try_join_all(
            self.replicas
                .iter()
                .cloned()
                .enumerate()
                .map(|(index, options)| open(Role::Replica(index), options)),
        );
        let (primary, replicas) = futures_util::future::try_join(primary, replicas).await?;
        self.build(primary, replicas)
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
        MultiDb::assemble(
            primary,
            replicas,
            self.policy,
            self.unscoped_write_window,
            self.replica_rest,
        )
    }
}

async fn open(role: Role, options: ConnectOptions) -> Result<DatabaseConnection, MultiDbError> {
    let url = redact_url(options.get_url());
    Database::connect(options)
        .await
        .map_err(|source| MultiDbError::Connect { role, url, source })
}
