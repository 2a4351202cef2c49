//! Against a real MariaDB primary with two GTID replicas, one of
//! them with MASTER_DELAY (`scripts/replicas.sh`).

use multidb_tests::servers::Cluster;
use multidb_tests::{http_scenarios, scenarios};

macro_rules! scenario {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() -> scenarios::Outcome {
            let Some(cluster) = Cluster::mariadb() else { return Ok(()) };
            scenarios::$name(&cluster).await
        }
    )*};
}

scenario!(
    reads_spread_over_replicas_and_writes_land_on_the_primary,
    lag_is_real_and_replicas_refuse_writes,
    mixed_concurrent_workload_never_writes_to_a_replica,
    read_your_writes_under_real_lag,
    primary_only_statements_and_streams,
);

/// Read-your-writes across HTTP requests (`PinningLayer`'s cookie) while
/// the only replica really lags.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_then_get_with_the_cookie_sees_the_row() -> scenarios::Outcome {
    let Some(cluster) = Cluster::mariadb() else {
        return Ok(());
    };
    http_scenarios::post_then_get_with_the_cookie_sees_the_row(&cluster).await
}
