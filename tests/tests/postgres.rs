//! Against a real PostgreSQL primary with two streaming replicas, one of
//! them replaying with a delay (`scripts/replicas.sh`).

multidb_tests::cluster_tests!(multidb_tests::servers::Cluster::postgres);
