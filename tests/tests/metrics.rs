//! Metrics (feature `metrics`) and the status page against the real
//! PostgreSQL and MariaDB clusters. A binary of its own: the Prometheus
//! recorder is global to the process, so no other test's statements may
//! count; and the scenarios run one at a time (they share the recorder and
//! stop the spare replica).

macro_rules! metrics_tests {
    ($backend:ident, $cluster:path) => {
        mod $backend {
            use multidb_tests::metrics_scenarios;

            metrics_tests!(@each $cluster:
                metrics_follow_a_replica_killed_restarted_and_paused,
                the_status_page_in_headless_chromium,
            );
        }
    };
    (@each $cluster:path: $($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() -> multidb_tests::scenarios::Outcome {
            let Some(cluster) = $cluster() else { return Ok(()) };
            let _turn = super::ONE_AT_A_TIME.lock().await;
            metrics_scenarios::$name(&cluster).await
        }
    )*};
}

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

metrics_tests!(postgres, multidb_tests::servers::Cluster::postgres);
metrics_tests!(mariadb, multidb_tests::servers::Cluster::mariadb);
