//! The replication clusters made by `scripts/replicas.sh`, found through the
//! environment variables it exports.
//!
//! A test that needs them fails when they are missing — in CI always; on a
//! developer machine too, with the command to start them, unless
//! `MULTIDB_SKIP_SERVER_TESTS=1` says to skip on purpose.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use multidb_seaorm::MultiDb;
use multidb_seaorm::policy::RoundRobin;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, Statement};

/// One primary, one replica without delay (unless `fast_delay`), one with a
/// replay delay, and a spare replica for destructive tests.
#[derive(Clone, Debug)]
pub struct Cluster {
    pub backend: DbBackend,
    pub primary: String,
    /// A replica that follows within milliseconds.
    pub replica: String,
    /// A replica that applies changes `delay` late.
    pub delayed: String,
    /// The delayed replica's replay delay.
    pub delay: Duration,
    /// A replica without delay that only destructive tests use: stopped,
    /// promoted or made writable, then put back with
    /// [`Cluster::ctl`]`(Instance::Spare, CtlAction::Rebuild)`. As the same
    /// user as `replica`.
    pub spare: String,
    /// The spare as an administrator: PostgreSQL the superuser (the same
    /// URL as `spare`), MariaDB `multidb_admin` (ALL PRIVILEGES: `STOP
    /// SLAVE`, `SET GLOBAL read_only`; not read-only on a replica).
    pub spare_admin: String,
    /// Every server as the unprivileged `multidb_plain` user.
    pub plain: PlainUrls,
    /// The replay delay of `replica` (`MULTIDB_<stack>_FAST_REPLICA_DELAY_MS`;
    /// zero unless the cluster was started with one, e.g. for a benchmark).
    pub fast_delay: Duration,
    /// The cluster's state folder (`MULTIDB_REPLICAS_STATE_DIR`), which
    /// [`Cluster::ctl`] acts on.
    pub state_dir: String,
}

/// The URLs of a cluster's servers as `multidb_plain`, a user without
/// privileges: on PostgreSQL a LOGIN role that is not superuser (it owns
/// nothing but may create tables in `public`); on MariaDB ALL on `multidb`.*
/// and `multidb\_%`.* only, without BINLOG MONITOR, SLAVE MONITOR (so `SHOW
/// SLAVE STATUS` fails) or READ_ONLY ADMIN. What a replica monitor may read
/// that way: `pg_is_in_recovery()`, `pg_last_wal_replay_lsn()`,
/// `pg_current_wal_lsn()`; `@@read_only`, `@@gtid_slave_pos`,
/// `@@gtid_binlog_pos`.
#[derive(Clone, Debug)]
pub struct PlainUrls {
    pub primary: String,
    /// The replica without delay.
    pub replica: String,
    pub delayed: String,
    pub spare: String,
}

/// A replica that [`Cluster::ctl`] can act on (the primary cannot).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Instance {
    /// `Cluster::primary` (only `Stop` and `Start`).
    Primary,
    /// `Cluster::replica`.
    Replica,
    /// `Cluster::delayed`.
    Delayed,
    /// `Cluster::spare`.
    Spare,
}

impl Instance {
    /// Every replica.
    pub const ALL: [Instance; 3] = [Instance::Replica, Instance::Delayed, Instance::Spare];

    /// Its name for `scripts/replicas.sh ctl`.
    pub fn as_str(self) -> &'static str {
        match self {
            Instance::Primary => "primary",
            Instance::Replica => "replica",
            Instance::Delayed => "delayed",
            Instance::Spare => "spare",
        }
    }
}

/// What [`Cluster::ctl`] does to a replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CtlAction {
    /// Hard stop (PostgreSQL `pg_ctl stop -m immediate`, MariaDB SIGKILL),
    /// returning once the server is gone: open connections break, new ones
    /// are refused. About 0.1 s.
    Stop,
    /// Start it again, returning once it accepts connections; it resumes
    /// replicating from where it stopped. About 0.2 s.
    Start,
    /// Stop it, throw its data away, make it a fresh replica of the primary
    /// (read-only, replicating) and return once it caught up: for the spare
    /// after a test promoted it or made it writable. About 0.5–1 s.
    Rebuild,
    /// Stop applying changes, which keep arriving (PostgreSQL
    /// `pg_wal_replay_pause()`, returning once paused; MariaDB `STOP SLAVE
    /// SQL_THREAD`): the replica lags, without limit, until `Resume`, or a
    /// restart.
    Pause,
    /// Apply again after `Pause`.
    Resume,
}

impl CtlAction {
    /// Its name for `scripts/replicas.sh ctl`.
    pub fn as_str(self) -> &'static str {
        match self {
            CtlAction::Stop => "stop",
            CtlAction::Start => "start",
            CtlAction::Rebuild => "rebuild",
            CtlAction::Pause => "pause",
            CtlAction::Resume => "resume",
        }
    }
}

/// Whether to skip the cluster's tests: only when a developer opted out
/// with `MULTIDB_SKIP_SERVER_TESTS=1`, never in CI nor when
/// `scripts/replicas.sh` started the servers (`MULTIDB_TEST_SERVERS=1`).
pub fn skip_requested() -> bool {
    std::env::var_os("CI").is_none()
        && std::env::var_os("MULTIDB_TEST_SERVERS").is_none()
        && std::env::var("MULTIDB_SKIP_SERVER_TESTS").is_ok_and(|v| v == "1")
}

/// A variable of the clusters that is missing or malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvError {
    /// The variable's name.
    pub variable: String,
    /// Its value, when it is set but unusable.
    pub value: Option<String>,
    /// What is wrong with the value, when it is set but unusable.
    pub problem: &'static str,
}

impl std::fmt::Display for EnvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.value {
            Some(value) => write!(f, "{}={value:?}: {}", self.variable, self.problem),
            None => write!(
                f,
                "{} is not set: this needs the replication clusters. Run it with\n    \
                 scripts/replicas.sh run -- cargo test --workspace --all-features\n\
                 (or cargo bench …), or start them once with \
                 `eval \"$(scripts/replicas.sh start)\"` \
                 (tests: set MULTIDB_SKIP_SERVER_TESTS=1 to skip them locally)",
                self.variable
            ),
        }
    }
}

impl std::error::Error for EnvError {}

fn var(name: &str) -> Result<String, EnvError> {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => Ok(value),
        _ => Err(EnvError {
            variable: name.to_owned(),
            value: None,
            problem: "",
        }),
    }
}

fn delay(name: &str) -> Result<Duration, EnvError> {
    let raw = var(name)?;
    let millis = raw.parse().map_err(|_| EnvError {
        variable: name.to_owned(),
        value: Some(raw),
        problem: "not a number of milliseconds",
    })?;
    Ok(Duration::from_millis(millis))
}

impl Cluster {
    /// The PostgreSQL cluster, for a test: `None` only when skipping was
    /// requested ([`skip_requested`]); panics, saying how to start the
    /// clusters, when they are missing.
    pub fn postgres() -> Option<Cluster> {
        Self::for_test(DbBackend::Postgres)
    }

    /// The MariaDB cluster, for a test, as [`Cluster::postgres`].
    pub fn mariadb() -> Option<Cluster> {
        Self::for_test(DbBackend::MySql)
    }

    fn for_test(backend: DbBackend) -> Option<Cluster> {
        if skip_requested() {
            return None;
        }
        Some(Self::from_env(backend).unwrap_or_else(|error| panic!("{error}")))
    }

    /// The cluster of `backend` (PostgreSQL, or MariaDB as `MySql`) that
    /// `scripts/replicas.sh` exported as `MULTIDB_<PG|MYSQL>_…`: the one
    /// reader of those variables.
    pub fn from_env(backend: DbBackend) -> Result<Cluster, EnvError> {
        let stack = match backend {
            DbBackend::Postgres => "PG",
            _ => "MYSQL",
        };
        let var = |name: &str| var(&format!("MULTIDB_{stack}_{name}"));
        let cluster = Cluster {
            backend,
            primary: var("PRIMARY_URL")?,
            replica: var("REPLICA_URL")?,
            delayed: var("DELAYED_REPLICA_URL")?,
            delay: delay(&format!("MULTIDB_{stack}_REPLICA_DELAY_MS"))?,
            spare: var("SPARE_REPLICA_URL")?,
            spare_admin: match backend {
                DbBackend::Postgres => var("SPARE_REPLICA_URL")?,
                _ => var("ADMIN_SPARE_REPLICA_URL")?,
            },
            plain: PlainUrls {
                primary: var("PLAIN_PRIMARY_URL")?,
                replica: var("PLAIN_REPLICA_URL")?,
                delayed: var("PLAIN_DELAYED_REPLICA_URL")?,
                spare: var("PLAIN_SPARE_REPLICA_URL")?,
            },
            fast_delay: delay(&format!("MULTIDB_{stack}_FAST_REPLICA_DELAY_MS"))?,
            state_dir: self::var("MULTIDB_REPLICAS_STATE_DIR")?,
        };
        if backend != DbBackend::Postgres && cluster.least_lag() < Duration::from_secs(1) {
            return Err(EnvError {
                variable: format!("MULTIDB_{stack}_REPLICA_DELAY_MS"),
                value: Some(cluster.delay.as_millis().to_string()),
                problem: "leaves a write less than 1 s of lag on the delayed replica \
                           (MariaDB's MASTER_DELAY counts from the whole second the write \
                           began in: use 2000, the default of scripts/replicas.sh)",
            });
        }
        Ok(cluster)
    }

    /// The least time any write stays off the delayed replica, which tests
    /// of "the replica does not have it yet" rely on.
    ///
    /// PostgreSQL counts `recovery_min_apply_delay` from the commit's
    /// timestamp, in microseconds: the whole `delay`. MariaDB counts
    /// `MASTER_DELAY` from the whole second in which the write began, and
    /// while the replica also applies older writes (other tests keep the
    /// primary busy) it applies a write as soon as that second plus the
    /// delay has passed: 1 s less. Measured with `MASTER_DELAY=1` and a
    /// write every 50 ms: rows showed 0.5–1.3 s after their write.
    pub fn least_lag(&self) -> Duration {
        match self.backend {
            DbBackend::Postgres => self.delay,
            _ => self.delay.saturating_sub(Duration::from_secs(1)),
        }
    }

    /// The stack's name for `scripts/replicas.sh ctl`: `pg` or `mariadb`.
    pub fn stack(&self) -> &'static str {
        match self.backend {
            DbBackend::Postgres => "pg",
            _ => "mariadb",
        }
    }

    /// The URL of a replica (as the same user as `primary`).
    pub fn url(&self, instance: Instance) -> &str {
        match instance {
            Instance::Primary => &self.primary,
            Instance::Replica => &self.replica,
            Instance::Delayed => &self.delayed,
            Instance::Spare => &self.spare,
        }
    }

    /// The URL of a replica as the unprivileged `multidb_plain`.
    pub fn plain_url(&self, instance: Instance) -> &str {
        match instance {
            Instance::Primary => &self.plain.primary,
            Instance::Replica => &self.plain.replica,
            Instance::Delayed => &self.plain.delayed,
            Instance::Spare => &self.plain.spare,
        }
    }

    /// The port of a replica, as [`Cluster::port_of`] reports it.
    pub fn port(&self, instance: Instance) -> i64 {
        let url = self.url(instance);
        port_of_url(url).unwrap_or_else(|| panic!("no port in {url}"))
    }

    /// The spare's port.
    pub fn spare_port(&self) -> i64 {
        self.port(Instance::Spare)
    }

    /// Stop, start, rebuild, pause or resume a replica through
    /// `scripts/replicas.sh ctl`.
    /// Blocks until done (see [`CtlAction`] for how long); `Err` carries the
    /// script's message. From a test that keeps other tasks running
    /// meanwhile (a load on the pool), use [`Cluster::ctl_async`].
    ///
    /// A test that stops a replica must start it again (or rebuild it)
    /// before it ends, even on failure: the other tests share it. Calls on
    /// the same replica are not serialized: tests that stop, promote or
    /// rebuild one must not run at the same time (hold a shared lock).
    pub fn ctl(&self, instance: Instance, action: CtlAction) -> Result<(), String> {
        self.run_ctl(instance, action.as_str()).map(|_| ())
    }

    /// [`Cluster::ctl`] on tokio's blocking pool.
    pub async fn ctl_async(&self, instance: Instance, action: CtlAction) -> Result<(), String> {
        let cluster = self.clone();
        tokio::task::spawn_blocking(move || cluster.ctl(instance, action))
            .await
            .map_err(|e| format!("ctl task failed: {e}"))?
    }

    /// One line on a replica: running or stopped, in recovery or not
    /// (PostgreSQL) or `read_only` (MariaDB), replication running or not.
    pub fn ctl_status(&self, instance: Instance) -> Result<String, String> {
        self.run_ctl(instance, "status")
    }

    fn run_ctl(&self, instance: Instance, action: &str) -> Result<String, String> {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/replicas.sh");
        let args = ["ctl", self.stack(), instance.as_str(), action];
        let out = Command::new("bash")
            .arg(&script)
            .args(args)
            .env("MULTIDB_REPLICAS_STATE_DIR", &self.state_dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
        } else {
            Err(format!(
                "scripts/replicas.sh {} failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
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
                // Empty, not just present: a table left by an earlier run on
                // the same cluster must be replaced here first.
                let row = replica
                    .query_one_raw(Statement::from_string(self.backend, probe.clone()))
                    .await;
                matches!(row, Ok(Some(row)) if row.try_get::<i64>("", "n").ok() == Some(0))
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

/// Run `scripts/<script> <args…>` (the project's helpers for haproxy,
/// dnsmasq…); its stderr is the error when it fails.
pub fn run_script(script: &str, args: &[&str]) -> Result<(), String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scripts")
        .join(script);
    let out = Command::new("bash")
        .arg(&path)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", path.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "scripts/{script} {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}
