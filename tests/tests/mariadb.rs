//! Against a real MariaDB primary with two GTID replicas, one of them
//! with MASTER_DELAY (`scripts/replicas.sh`).

multidb_tests::cluster_tests!(
    multidb_tests::servers::Cluster::mariadb:
    scenarios::reads_spread_over_replicas_and_writes_land_on_the_primary,
    scenarios::lag_is_real_and_replicas_refuse_writes,
    scenarios::mixed_concurrent_workload_never_writes_to_a_replica,
    scenarios::read_your_writes_under_real_lag,
    scenarios::primary_only_statements_and_streams,
    scenarios::an_unreachable_replica_is_skipped_for_reads,
    http_scenarios::post_then_get_with_the_cookie_sees_the_row,
);
