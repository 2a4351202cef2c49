//! Fixtures shared by the integration tests under `tests/tests/`.
//!
//! [`SqliteSet`] makes one primary and N replica SQLite files whose rows
//! differ, so a test can see which database answered; the replicas are
//! opened read-only, so a misrouted write fails loudly.

pub mod actix_scenarios;
pub mod causal_scenarios;
pub mod failover_scenarios;
pub mod http_scenarios;
pub mod metrics_scenarios;
pub mod monitor_scenarios;
pub mod scenarios;
pub mod servers;

use std::path::Path;

use multidb_seaorm::MultiDb;
use multidb_seaorm::policy::RoundRobin;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbErr, Statement};

/// An entity module `$module` for a table `$table (id, title)` as
/// [`servers::Cluster::create_table`] makes it: one table per scenario, so
/// scenarios can run side by side.
#[macro_export]
macro_rules! post_entity {
    ($module:ident, $table:literal) => {
        pub mod $module {
            use sea_orm::entity::prelude::*;

            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = $table)]
            pub struct Model {
                #[sea_orm(primary_key)]
                pub id: i32,
                pub title: String,
            }

            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}
        }
    };
}

post_entity!(post, "post");

/// Declare one `#[tokio::test]` per real-replication scenario, for the
/// cluster that `$cluster` (a `fn() -> Option<Cluster>`) returns. The list
/// lives here once, so every backend runs every scenario.
#[macro_export]
macro_rules! cluster_tests {
    ($cluster:path) => {
        $crate::cluster_tests!(
            @each $cluster:
            scenarios::reads_spread_over_replicas_and_writes_land_on_the_primary,
            scenarios::lag_is_real_and_replicas_refuse_writes,
            scenarios::mixed_concurrent_workload_never_writes_to_a_replica,
            scenarios::read_your_writes_under_real_lag,
            scenarios::primary_only_statements_and_streams,
            scenarios::an_unreachable_replica_is_skipped_for_reads,
            http_scenarios::post_then_get_with_the_cookie_sees_the_row,
            http_scenarios::a_causal_pin_returns_the_client_to_the_replica,
            actix_scenarios::actix_post_then_get_with_the_cookie_sees_the_row,
            monitor_scenarios::the_monitor_measures_positions_and_lag,
            monitor_scenarios::a_lagging_replica_gets_no_reads_until_it_catches_up,
            monitor_scenarios::replicas_down_at_start_and_all_replicas_down,
            monitor_scenarios::the_monitor_watches_pools_given_to_new_until_closed,
            monitor_scenarios::driver_errors_are_recognised_by_code,
            causal_scenarios::a_scope_reads_its_write_then_returns_to_the_replica,
            causal_scenarios::a_job_reads_its_handlers_write_through_the_token,
            causal_scenarios::unscoped_writes_wait_for_their_position,
            causal_scenarios::reads_within_a_scope_are_monotonic,
        );
    };
    (@each $cluster:path: $($module:ident::$name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() -> $crate::scenarios::Outcome {
            let Some(cluster) = $cluster() else { return Ok(()) };
            $crate::$module::$name(&cluster).await
        }
    )*};
}

/// The schema of the fixture databases, for SQLite.
pub const SQLITE_SCHEMA: &str = "CREATE TABLE whoami (name TEXT NOT NULL);
     CREATE TABLE post (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL);";

/// One primary and N read-only replica SQLite files, each knowing its name
/// (`SELECT name FROM whoami`): `primary`, `replica0`, `replica1`...
#[derive(Debug)]
pub struct SqliteSet {
    dir: tempfile::TempDir,
    /// The routed connection, round-robin from replica 0.
    pub db: MultiDb,
}

impl SqliteSet {
    /// Create the files and connect; replicas open with `mode=ro`.
    pub async fn new(replicas: usize) -> Result<Self, Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let primary = create(&dir.path().join("primary.db"), "primary").await?;
        let mut replica_connections = Vec::new();
        for index in 0..replicas {
            let name = format!("replica{index}");
            let path = dir.path().join(format!("{name}.db"));
            create(&path, &name).await?.close().await?;
            replica_connections.push(Database::connect(sqlite_url(&path, "ro")).await?);
        }
        let db = MultiDb::builder()
            .policy(RoundRobin::starting_at(0))
            .build(primary, replica_connections)?;
        Ok(SqliteSet { dir, db })
    }

    /// The folder holding the files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A separate read-write connection to a replica file, to play
    /// replication by hand.
    pub async fn replica_writer(&self, index: usize) -> Result<DatabaseConnection, DbErr> {
        Database::connect(sqlite_url(
            &self.dir.path().join(format!("replica{index}.db")),
            "rw",
        ))
        .await
    }
}

/// `sqlite://<path>?mode=<mode>`.
pub fn sqlite_url(path: &Path, mode: &str) -> String {
    format!("sqlite://{}?mode={mode}", path.display())
}

async fn create(path: &Path, name: &str) -> Result<DatabaseConnection, DbErr> {
    let db = Database::connect(sqlite_url(path, "rwc")).await?;
    db.execute_unprepared(SQLITE_SCHEMA).await?;
    db.execute_unprepared(&format!("INSERT INTO whoami (name) VALUES ('{name}')"))
        .await?;
    Ok(db)
}

/// Which database answers a plain read through `db`.
pub async fn who_answers(db: &impl ConnectionTrait) -> Result<String, DbErr> {
    let stmt = Statement::from_string(db.get_database_backend(), "SELECT name FROM whoami");
    let row = db
        .query_one_raw(stmt)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("whoami is empty".into()))?;
    row.try_get("", "name")
}
