//! The pinning conformance suite (`multidb_tests::pinning`), through the
//! layer in an axum `Router`: the same scenarios as actix-web's.

mod common;

multidb_tests::pinning_conformance!(common::Tower, tokio::test);
