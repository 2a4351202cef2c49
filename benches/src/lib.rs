//! Shared pieces of multidb's overhead benchmarks (see `BENCHMARKS.md`).
//!
//! Every figure these benchmarks report is a ratio against the bare
//! alternative measured side by side in the same run: on a shared, noisy
//! machine an absolute time means little, but two things measured in
//! alternating rounds see the same noise. [`paired`] does that; criterion
//! measures each side on its own too, for its reports.

pub mod paired;
pub mod stats;

use std::time::Duration;

use sea_orm::{
    DatabaseConnection, DatabaseConnectionType, DbBackend, DbErr, ExecResult,
    MockDatabaseConnection, MockDatabaseTrait, QueryResult, Statement, Transaction,
};

/// The table every point read reads: `bench_kv (id INTEGER PRIMARY KEY, v TEXT)`.
pub mod kv {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "bench_kv")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i32,
        pub v: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// How many rows `bench_kv` holds; point reads cycle over ids `1..=ROWS`.
pub const ROWS: i32 = 1000;

/// `CREATE TABLE` for `bench_kv`, valid on SQLite and PostgreSQL.
pub const CREATE_KV: &str =
    "CREATE TABLE IF NOT EXISTS bench_kv (id INTEGER PRIMARY KEY, v TEXT NOT NULL)";

/// One `INSERT` of all [`ROWS`] rows (ids that exist are left alone).
pub fn insert_kv_sql() -> String {
    let rows: Vec<String> = (1..=ROWS)
        .map(|id| format!("({id}, 'value number {id}')"))
        .collect();
    format!(
        "INSERT INTO bench_kv (id, v) VALUES {} ON CONFLICT (id) DO NOTHING",
        rows.join(", ")
    )
}

/// An in-memory SQLite database with [`kv`] created and filled: one side of
/// a SQLite point-read bench.
pub async fn sqlite_kv() -> DatabaseConnection {
    let conn = sea_orm::Database::connect("sqlite::memory:")
        .await
        .expect("open in-memory SQLite");
    for (sql, what) in [(CREATE_KV.to_owned(), "create"), (insert_kv_sql(), "fill")] {
        sea_orm::ConnectionTrait::execute_unprepared(&conn, &sql)
            .await
            .unwrap_or_else(|error| panic!("{what} bench_kv: {error}"));
    }
    conn
}

/// The harness's PostgreSQL primary and replica (`scripts/replicas.sh`),
/// with [`kv`] created and filled on the primary and replicated: the two
/// connections a PostgreSQL point-read bench compares through.
pub async fn pg_kv(primary: &str, replica: &str) -> (DatabaseConnection, DatabaseConnection) {
    let connect = |url: &str| {
        let mut options = sea_orm::ConnectOptions::new(url);
        options.sqlx_logging(false);
        async move {
            sea_orm::Database::connect(options)
                .await
                .expect("connect to the harness's PostgreSQL (scripts/replicas.sh)")
        }
    };
    let primary = connect(primary).await;
    for (sql, what) in [(CREATE_KV.to_owned(), "create"), (insert_kv_sql(), "fill")] {
        sea_orm::ConnectionTrait::execute_unprepared(&primary, &sql)
            .await
            .unwrap_or_else(|error| panic!("{what} bench_kv on the primary: {error}"));
    }
    let replica = connect(replica).await;
    let until = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let found = <kv::Entity as sea_orm::EntityTrait>::find_by_id(ROWS)
            .one(&replica)
            .await;
        if matches!(found, Ok(Some(_))) {
            return (primary, replica);
        }
        assert!(
            std::time::Instant::now() < until,
            "bench_kv did not reach the replica in 10 s: {found:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// How this bench binary was started: by `cargo bench` (measure), or by
/// `cargo test --benches` (check that every path runs, quickly).
#[derive(Clone, Debug)]
pub struct Mode {
    /// `cargo bench` passes `--bench`; `cargo test` does not.
    pub measure: bool,
    /// Free arguments: only comparisons whose name contains one of them run
    /// (criterion applies the same filter to its own benches).
    pub filters: Vec<String>,
    /// `MULTIDB_BENCH_PROFILE=<case>=<n>`: run only that case `n` times, for
    /// callgrind (see `benches/callgrind.sh`), and exit.
    pub profile: Option<Profile>,
}

/// One case run alone, for a profiler.
#[derive(Clone, Debug)]
pub struct Profile {
    /// The case, e.g. `pinning/post_sets_cookie/pinning_layer`.
    pub case: String,
    /// How many operations.
    pub n: u64,
}

impl Profile {
    fn from_env() -> Option<Self> {
        let spec = std::env::var("MULTIDB_BENCH_PROFILE").ok()?;
        let (case, n) = spec.rsplit_once('=')?;
        let n = n.parse().ok()?;
        Some(Profile {
            case: case.to_owned(),
            n,
        })
    }

    /// When `case` is the one asked for: 200 operations to warm up, then
    /// the `n` asked for, and exit the process.
    pub fn maybe(&self, case: &str, mut run: impl FnMut(u64) -> Duration) {
        if self.case == case {
            run(200);
            let took = run(self.n);
            eprintln!("profiled {case}: {} operations in {took:?}", self.n);
            std::process::exit(0);
        }
    }

    /// After every case was offered: the one asked for does not exist.
    pub fn unknown(&self, cases: &[&str]) -> ! {
        eprintln!(
            "MULTIDB_BENCH_PROFILE: no case {} in this bench; its cases: {}",
            self.case,
            cases.join(", ")
        );
        std::process::exit(2);
    }
}

impl Mode {
    /// From the process arguments.
    pub fn from_args() -> Self {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let measure = args.iter().any(|a| a == "--bench");
        let filters = args.into_iter().filter(|a| !a.starts_with('-')).collect();
        Mode {
            measure,
            filters,
            profile: Profile::from_env(),
        }
    }

    /// Whether the comparison `name` passes the filter.
    pub fn wants(&self, name: &str) -> bool {
        self.filters.is_empty() || self.filters.iter().any(|f| name.contains(f.as_str()))
    }

    /// How long each paired comparison runs: `MULTIDB_BENCH_SECS` (default
    /// 4 s) when measuring, a token run otherwise.
    pub fn budget(&self) -> Duration {
        if !self.measure {
            return Duration::from_millis(50);
        }
        let secs = std::env::var("MULTIDB_BENCH_SECS")
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|s| *s > 0.0)
            .unwrap_or(4.0);
        Duration::from_secs_f64(secs)
    }
}

/// A criterion configured for this machine: short warm-up and measurement,
/// since the paired comparisons are what the figures come from.
pub fn criterion() -> criterion::Criterion {
    criterion::Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
        .configure_from_args()
}

/// The machine, for the report: cores and CPU model.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    format!("{cores} cores, {model}")
}

/// A SeaORM mock backend that answers every query with no rows and every
/// execute with nothing affected, and keeps no log: the cheapest
/// `DatabaseConnection` there is, so that what is measured over it is the
/// routing, not the database. (`MockDatabase` itself logs every statement
/// and needs its answers queued in advance.)
#[derive(Debug)]
pub struct NullBackend(pub DbBackend);

impl MockDatabaseTrait for NullBackend {
    fn execute(&mut self, _counter: usize, _stmt: Statement) -> Result<ExecResult, DbErr> {
        Err(DbErr::Custom(
            "the null backend executes nothing".to_owned(),
        ))
    }

    fn query(&mut self, _counter: usize, _stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        Ok(Vec::new())
    }

    fn begin(&mut self) {}

    fn commit(&mut self) {}

    fn rollback(&mut self) {}

    fn drain_transaction_log(&mut self) -> Vec<Transaction> {
        Vec::new()
    }

    fn get_database_backend(&self) -> DbBackend {
        self.0
    }

    fn ping(&self) -> Result<(), DbErr> {
        Ok(())
    }
}

/// A [`NullBackend`] connection.
pub fn null_connection(backend: DbBackend) -> DatabaseConnection {
    DatabaseConnectionType::MockDatabaseConnection(std::sync::Arc::new(
        MockDatabaseConnection::new(NullBackend(backend)),
    ))
    .into()
}
