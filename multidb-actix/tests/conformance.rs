//! The pinning conformance suite (`multidb_tests::pinning`), through the
//! middleware in an actix-web `App`: the same scenarios as tower's.

mod common;

multidb_tests::pinning_conformance!(common::Actix, actix_web::test);
