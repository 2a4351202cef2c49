//! Failover against the real PostgreSQL and MariaDB clusters: servers
//! stopped, paused, promoted. Each backend's scenarios run one at a time
//! (they act on the same spare replica and primary).

mod postgres {
    multidb_tests::failover_tests!(multidb_tests::servers::Cluster::postgres);
}

mod mariadb {
    multidb_tests::failover_tests!(multidb_tests::servers::Cluster::mariadb);
}
