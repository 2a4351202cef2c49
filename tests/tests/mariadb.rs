//! Against a real MariaDB primary with two GTID replicas, one of them
//! with MASTER_DELAY (`scripts/replicas.sh`).

multidb_tests::cluster_tests!(multidb_tests::servers::Cluster::mariadb);
