//! The replication clusters made by `scripts/replicas.sh`, found through the
//! environment variables it exports.
//!
//! A test that needs them fails when they are missing — in CI always; on a
//! developer machine too, with the command to start them, unless
//! `MULTIDB_SKIP_SERVER_TESTS=1` says to skip on purpose.

use std::time::{Duration, Instant};

use multidb_seaorm::MultiDb;
use multidb_seaorm::policy::RoundRobin;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, Statement};

/// One primary, one replica without delay and one with a replay delay.
#[derive(Clone, Debug)]
pub struct Cluster {
    /// The backend.
    pub backend: DbBackend,
    /// The primary's URL.
    pub primary: String,
    /// A replica that follows within milliseconds.
    pub replica: String,
    /// A replica that applies changes `delay` late.
    pub delayed: String,
    /// The delayed replica's replay delay.
    pub delay: Duration,
}

/// Whether to skip the cluster's tests: only when a developer opted out
/// with `MULTIDB_SKIP_SERVER_TESTS=1`, never in CI nor when
/// `scripts/replicas.sh` started the servers (`MULTIDB_TEST_SERVERS=1`).
pub fn skip_requested() -> bool {
    std::env::var_os("CI").is_none()
        && std::env::var_os("MULTIDB_TEST_SERVERS").is_none()
        && std::env::var("MULTIDB_SKIP_SERVER_TESTS").is_ok_and(|v| v == "1")
}

fn var(name: &str) -> String {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => value,
        _ => panic!(
            "{name} is not set: these tests need the replication clusters. Run them with\n    \
             scripts/replicas.sh run -- cargo test --workspace --all-features\n\
             or start them once with `eval \"$(scripts/replicas.sh start)\"` \
             (set MULTIDB_SKIP_SERVER_TESTS=1 to skip them locally)"
        ),
    }
}

fn delay(name: &str) -> Duration {
    let raw = var(name);
    let millis = raw
        .parse()
        .unwrap_or_else(|_| panic!("{name}={raw:?} is not a number of milliseconds"));
    Duration::from_millis(millis)
}

impl Cluster {
    /// The PostgreSQL cluster; `None` only when skipping was requested.
    pub fn postgres() -> Option<Cluster> {
        Self::from_env(DbBackend::Postgres, "PG")
    }

    /// The MariaDB cluster; `None` only when skipping was requested.
    pub fn mariadb() -> Option<Cluster> {
        Self::from_env(DbBackend::MySql, "MYSQL")
    }

    /// The cluster `scripts/replicas.sh` exported as `MULTIDB_<stack>_…`.
    fn from_env(backend: DbBackend, stack: &str) -> Option<Cluster> {
        if skip_requested() {
            return None;
        }
        Some(Cluster {
            backend,
            primary: var(&format!("MULTIDB_{stack}_PRIMARY_URL")),
            replica: var(&format!("MULTIDB_{stack}_REPLICA_URL")),
            delayed: var(&format!("MULTIDB_{stack}_DELAYED_REPLICA_URL")),
            delay: delay(&format!("MULTIDB_{stack}_REPLICA_DELAY_MS")),
        })
    }

    /// `MultiDb` over the primary and both replicas, round-robin from the
    /// undelayed one.
    pub async fn both_replicas(&self) -> Result<MultiDb, Box<dyn std::error::Error>> {
        Ok(MultiDb::builder()
            .policy(RoundRobin::starting_at(0))
            .primary(self.primary.as_str())
            .replica(self.replica.as_str())
            .replica(self.delayed.as_str())
            .connect()
            .await?)
    }

    /// `MultiDb` whose only replica is the delayed one: every replica read
    /// is stale for `delay` after a write, deterministically.
    pub async fn delayed_only(&self) -> Result<MultiDb, Box<dyn std::error::Error>> {
        Ok(MultiDb::builder()
            .primary(self.primary.as_str())
            .replica(self.delayed.as_str())
            .connect()
            .await?)
    }

    /// A direct connection.
    pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
        Database::connect(url).await
    }

    /// The SQL that returns the answering server's port as `port`.
    pub fn port_query(&self) -> &'static str {
        match self.backend {
            DbBackend::Postgres => "SELECT inet_server_port()::bigint AS port",
            _ => "SELECT CAST(@@port AS SIGNED) AS port",
        }
    }

    /// The port of the server that answers a plain read through `db`.
    pub async fn port_of(&self, db: &impl ConnectionTrait) -> Result<i64, DbErr> {
        let stmt = Statement::from_string(self.backend, self.port_query());
        let row = db
            .query_one_raw(stmt)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("no port".into()))?;
        row.try_get::<i64>("", "port")
    }

    /// Create `table` (`id` auto key, `title` text) on the primary, dropping
    /// any leftover, and wait until both replicas have it.
    pub async fn create_table(&self, table: &str) -> Result<(), Box<dyn std::error::Error>> {
        let primary = Database::connect(self.primary.as_str()).await?;
        let id = match self.backend {
            DbBackend::Postgres => "id SERIAL PRIMARY KEY",
            _ => "id INT AUTO_INCREMENT PRIMARY KEY",
        };
        primary
            .execute_unprepared(&format!("DROP TABLE IF EXISTS {table}"))
            .await?;
        primary
            .execute_unprepared(&format!(
                "CREATE TABLE {table} ({id}, title VARCHAR(200) NOT NULL)"
            ))
            .await?;
        primary.close().await?;
        let probe = format!("SELECT COUNT(*) AS n FROM {table}");
        for url in [&self.replica, &self.delayed] {
            let replica = Database::connect(url.as_str()).await?;
            wait_until(self.delay * 10, || async {
                replica
                    .query_one_raw(Statement::from_string(self.backend, probe.clone()))
                    .await
                    .is_ok()
            })
            .await
            .map_err(|waited| format!("{table} did not reach {url} in {waited:?}"))?;
            replica.close().await?;
        }
        Ok(())
    }
}

/// Poll `check` every 20 ms until it is true; `Err(waited)` after `limit`.
pub async fn wait_until<F, Fut>(limit: Duration, mut check: F) -> Result<Duration, Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return Ok(start.elapsed());
        }
        if start.elapsed() > limit {
            return Err(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The port in a database URL (`…@host:PORT/…`).
pub fn port_of_url(url: &str) -> Option<i64> {
    let after_at = url.rsplit_once('@').map_or(url, |(_, rest)| rest);
    let host_port = after_at.split(['/', '?']).next()?;
    host_port.rsplit_once(':')?.1.parse().ok()
}
