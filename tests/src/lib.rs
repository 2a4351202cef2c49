//! The workspace's one test-support library, for the integration tests
//! under `tests/tests/`, the adapters' tests, the examples' e2e test and
//! the benchmarks:
//!
//! - [`servers`]: the replication clusters of `scripts/replicas.sh`, from
//!   its environment variables ([`servers::Cluster::from_env`]);
//! - [`http1`]: the HTTP/1.1 client (keep-alive, chunked bodies, a cookie
//!   jar);
//! - [`pinning`]: the HTTP pinning conformance suite that the tower and the
//!   actix-web adapters both run ([`pinning_conformance!`]);
//! - the real-cluster scenarios (`*_scenarios`), run on both backends by
//!   [`cluster_tests!`] and [`failover_tests!`];
//! - [`SqliteSet`]: one primary and N replica SQLite files whose rows
//!   differ, so a test can see which database answered; the replicas are
//!   opened read-only, so a misrouted write fails loudly.
//!
//! The macros' scenario lists are checked against the `pub async fn`s of
//! the scenario files by this crate's own tests, so a scenario cannot be
//! left out.

pub mod actix_scenarios;
pub mod balancer_scenarios;
pub mod causal_scenarios;
pub mod discovery_scenarios;
pub mod failover_scenarios;
pub mod http1;
pub mod http_scenarios;
pub mod load_scenarios;
pub mod logs;
pub mod membership_scenarios;
pub mod metrics_scenarios;
pub mod monitor_scenarios;
pub mod monotonic_scenarios;
pub mod pinning;
pub mod private;
pub mod scenarios;
pub mod servers;

/// The `http` crate (1.x) that [`http1`] and [`pinning`] speak, for the
/// crates whose framework speaks another (actix-web: 0.2).
pub use http;

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
/// lives here once, so every backend runs every scenario; a test of this
/// crate fails when a `pub async fn` of a `*_scenarios.rs` file (but
/// `failover_scenarios.rs`, see [`failover_tests!`]) is not in it.
/// `cluster_tests!(@names)` is the list itself.
#[macro_export]
macro_rules! cluster_tests {
    ($cluster:path) => {
        $crate::cluster_tests!(@list each [$cluster]);
    };
    (@names) => {
        $crate::cluster_tests!(@list names)
    };
    (@list $($how:tt)*) => {
        $crate::cluster_tests! { @$($how)*:
            scenarios::reads_spread_over_replicas_and_writes_land_on_the_primary,
            scenarios::lag_is_real_and_replicas_refuse_writes,
            scenarios::mixed_concurrent_workload_never_writes_to_a_replica,
            scenarios::read_your_writes_under_real_lag,
            scenarios::primary_only_statements_and_streams,
            scenarios::an_unreachable_replica_is_skipped_for_reads,
            scenarios::the_primarys_catalog_sends_read_only_functions_to_replicas,
            scenarios::a_replica_behind_a_migration_sends_the_read_elsewhere,
            http_scenarios::post_then_get_with_the_cookie_sees_the_row,
            http_scenarios::a_causal_pin_returns_the_client_to_the_replica,
            http_scenarios::an_older_pin_planted_ahead_of_the_clients_own_changes_nothing,
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
            causal_scenarios::a_read_150_ms_after_its_write_goes_to_the_fast_replica,
            causal_scenarios::concurrent_reads_share_one_probe,
            load_scenarios::a_slow_replica_gets_few_reads_and_its_share_back,
            membership_scenarios::replicas_added_and_removed_under_read_load,
            balancer_scenarios::a_load_balanced_endpoint_is_never_trusted_as_one_server,
            discovery_scenarios::replicas_follow_dns_records_under_read_load,
            monotonic_scenarios::tower_reads_never_go_back_in_time,
            monotonic_scenarios::actix_reads_never_go_back_in_time,
            monotonic_scenarios::a_pin_every_replica_has_is_cleared,
        }
    };
    (@each [$cluster:path]: $($module:ident::$name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() -> $crate::scenarios::Outcome {
            let Some(cluster) = $cluster() else { return Ok(()) };
            $crate::$module::$name(&cluster).await
        }
    )*};
    (@names: $($module:ident::$name:ident),* $(,)?) => {
        &[$(concat!(stringify!($module), "::", stringify!($name))),*]
    };
}

/// Declare one `#[tokio::test]` per failover scenario
/// ([`failover_scenarios`]: servers stopped, paused, promoted) for the
/// cluster that `$cluster` returns. They act on the same spare replica and
/// primary, so the scenarios of one invocation run one at a time. Checked
/// like [`cluster_tests!`]; `failover_tests!(@names)` is the list.
#[macro_export]
macro_rules! failover_tests {
    ($cluster:path) => {
        static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
        $crate::failover_tests!(@list each [$cluster]);
    };
    (@names) => {
        $crate::failover_tests!(@list names)
    };
    (@list $($how:tt)*) => {
        $crate::failover_tests! { @$($how)*:
            a_replica_stopped_hard_under_load_fails_no_read,
            all_replicas_down_reads_go_to_the_primary,
            paused_replication_excludes_the_replica_until_resumed,
            a_promoted_replica_gets_no_reads,
            the_primary_stopped_reads_go_on_writes_fail_fast,
            a_dead_replica_costs_no_read_more_than_a_moment,
            a_causal_wait_is_served_by_the_replica_that_catches_up,
            a_short_causal_wait_falls_back_to_the_primary_in_time,
        }
    };
    (@each [$cluster:path]: $($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() -> $crate::scenarios::Outcome {
            let Some(cluster) = $cluster() else { return Ok(()) };
            let _turn = ONE_AT_A_TIME.lock().await;
            $crate::failover_scenarios::$name(&cluster).await
        }
    )*};
    (@names: $($name:ident),* $(,)?) => {
        &[$(concat!("failover_scenarios::", stringify!($name))),*]
    };
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

/// Every scenario of a file is in its macro's list.
#[cfg(test)]
mod every_scenario_is_listed {
    use std::collections::BTreeSet;
    use std::path::Path;

    /// `module::name` of each `pub async fn` in `src/<file>`.
    fn defined(file: &str) -> BTreeSet<String> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(file);
        let source = std::fs::read_to_string(&path).expect("a scenario file");
        let module = file.trim_end_matches(".rs").replace('/', "::");
        source
            .lines()
            .filter_map(|line| line.trim_start().strip_prefix("pub async fn "))
            .map(|rest| {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                format!("{module}::{name}")
            })
            .collect()
    }

    /// The `*_scenarios.rs` files next to this one.
    fn scenario_files() -> Vec<String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .expect("src/")
            .map(|entry| {
                entry
                    .expect("an entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|name| name.ends_with("scenarios.rs"))
            .collect();
        files.sort();
        files
    }

    /// `names` (a macro's list) is exactly `defined`.
    fn assert_lists(list: &str, names: &[&str], defined: &BTreeSet<String>) {
        let listed: BTreeSet<String> = names.iter().map(|n| (*n).to_owned()).collect();
        assert_eq!(listed.len(), names.len(), "{list} lists one twice");
        let missing: Vec<_> = defined.difference(&listed).collect();
        let unknown: Vec<_> = listed.difference(defined).collect();
        assert!(
            missing.is_empty() && unknown.is_empty(),
            "{list}: scenarios missing from the list: {missing:?}; listed but not defined: {unknown:?}"
        );
    }

    #[test]
    fn cluster_and_failover_tests_list_every_cluster_scenario() {
        let files = scenario_files();
        assert!(files.len() >= 6, "{files:?}");
        let mut cluster = BTreeSet::new();
        let mut failover = BTreeSet::new();
        for file in &files {
            if file == "metrics_scenarios.rs" {
                // A binary of its own (tests/tests/metrics.rs): the metrics
                // recorder is global to the process.
                continue;
            }
            let target = if file == "failover_scenarios.rs" {
                &mut failover
            } else {
                &mut cluster
            };
            target.extend(defined(file));
        }
        assert_lists("cluster_tests!", crate::cluster_tests!(@names), &cluster);
        assert_lists("failover_tests!", crate::failover_tests!(@names), &failover);
    }

    #[test]
    fn pinning_conformance_lists_every_pinning_scenario() {
        let defined: BTreeSet<String> = defined("pinning/scenarios.rs")
            .into_iter()
            .map(|name| name.trim_start_matches("pinning::scenarios::").to_owned())
            .collect();
        assert!(defined.len() > 30, "{defined:?}");
        assert_lists(
            "pinning_conformance!",
            crate::pinning_conformance!(@names),
            &defined,
        );
    }
}
