//! Failover against the real PostgreSQL and MariaDB clusters: servers
//! stopped, paused, promoted. Each backend's scenarios run one at a time
//! (they act on the same spare replica and primary).

macro_rules! failover_tests {
    ($backend:ident, $cluster:path) => {
        mod $backend {
            use multidb_tests::failover_scenarios;

            static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

            failover_tests!(@each $cluster:
                a_replica_stopped_hard_under_load_fails_no_read,
                all_replicas_down_reads_go_to_the_primary,
                paused_replication_excludes_the_replica_until_resumed,
                a_promoted_replica_gets_no_reads,
                the_primary_stopped_reads_go_on_writes_fail_fast,
            );
        }
    };
    (@each $cluster:path: $($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() -> multidb_tests::scenarios::Outcome {
            let Some(cluster) = $cluster() else { return Ok(()) };
            let _turn = ONE_AT_A_TIME.lock().await;
            failover_scenarios::$name(&cluster).await
        }
    )*};
}

failover_tests!(postgres, multidb_tests::servers::Cluster::postgres);
failover_tests!(mariadb, multidb_tests::servers::Cluster::mariadb);
