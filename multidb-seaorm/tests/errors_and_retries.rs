//! Which connection gets which statement, over `MockDatabase` connections (see
//! `common/mod.rs`). Errors and retries: an unreachable replica is skipped;
//! query errors and failed writes are not retried.

mod common;

use common::*;

#[tokio::test]
async fn a_replica_that_cannot_connect_is_skipped_for_the_next_then_the_primary() {
    let backend = DbBackend::Postgres;
    let down = || {
        MockDatabase::new(backend)
            .append_query_errors([DbErr::Conn(RuntimeErr::Internal("down".to_owned()))])
    };
    let db = multidb(
        MockDatabase::new(backend).append_query_results([vec![cake(1, "primary")]]),
        vec![down(), down()],
    );
    let read = scope(cake::Entity::find().all(&db))
        .await
        .expect("falls back");
    assert_eq!(read, [cake(1, "primary")]);
    assert_eq!(sqls(&replica(&db, 0)).len(), 1);
    assert_eq!(sqls(&replica(&db, 1)).len(), 1);
    assert_eq!(sqls(primary(&db)).len(), 1);
    assert_routed(
        &db,
        &[
            (Target::Replica, Reason::Policy, 1),
            (Target::Replica, Reason::Fallback, 1),
            (Target::Primary, Reason::Fallback, 1),
        ],
    );
}

#[tokio::test]
async fn query_errors_and_failed_writes_are_not_retried() {
    let backend = DbBackend::MySql;
    let db = multidb(
        MockDatabase::new(backend)
            .append_exec_errors([DbErr::Conn(RuntimeErr::Internal("primary down".to_owned()))]),
        vec![
            MockDatabase::new(backend)
                .append_query_errors([DbErr::Custom("syntax error".to_owned())]),
            MockDatabase::new(backend),
        ],
    );
    let read = scope(cake::Entity::find().all(&db)).await;
    assert!(matches!(read, Err(DbErr::Custom(_))), "{read:?}");
    let write = scope(cake::Entity::delete_by_id(1).exec(&db)).await;
    assert!(matches!(write, Err(DbErr::Conn(_))), "{write:?}");

    assert_eq!(sqls(&replica(&db, 0)).len(), 1);
    assert_eq!(sqls(&replica(&db, 1)), Vec::<String>::new());
    assert_prefixes("primary", &sqls(primary(&db)), &["DELETE FROM \"cake\""]);
    assert_routed(
        &db,
        &[
            (Target::Replica, Reason::Policy, 1),
            (Target::Primary, Reason::Write, 1),
        ],
    );
}
