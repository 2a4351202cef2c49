//! Which connection gets which statement, over `MockDatabase` connections (see
//! `common/mod.rs`). The routing context: scopes, `use_master`, pins and the
//! unscoped write window.

mod common;

use common::*;

#[tokio::test]
async fn in_a_scope_reads_use_the_replica_until_the_first_write() {
    for backend in BACKENDS {
        let db = multidb(
            MockDatabase::new(backend)
                .append_exec_results([affected(1, 0)])
                .append_query_results([vec![cake(2, "primary")], vec![cake(3, "primary")]]),
            vec![
                MockDatabase::new(backend)
                    .append_query_results([vec![cake(1, "replica")], vec![cake(4, "replica")]]),
            ],
        );

        scope(async {
            let before = cake::Entity::find().all(&db).await.expect("read 1");
            assert_eq!(before, [cake(1, "replica")]);
            cake::Entity::delete_by_id(9)
                .exec(&db)
                .await
                .expect("write");
            let after = cake::Entity::find().all(&db).await.expect("read 2");
            assert_eq!(after, [cake(2, "primary")]);
            let again = cake::Entity::find().all(&db).await.expect("read 3");
            assert_eq!(again, [cake(3, "primary")]);
        })
        .await;
        // A fresh scope starts clean: back to the replica.
        let fresh = scope(cake::Entity::find().all(&db)).await.expect("read 4");
        assert_eq!(fresh, [cake(4, "replica")]);

        assert_prefixes(
            &format!("{backend:?} primary"),
            &sqls(primary(&db)),
            &["DELETE FROM \"cake\"", "SELECT \"cake\"", "SELECT \"cake\""],
        );
        assert_prefixes(
            &format!("{backend:?} replica"),
            &sqls(&replica(&db, 0)),
            &["SELECT \"cake\"", "SELECT \"cake\""],
        );
        assert_routed(
            &db,
            &[
                (Target::Replica, Reason::Policy, 2),
                (Target::Primary, Reason::Write, 1),
                (Target::Primary, Reason::ReadAfterWrite, 2),
            ],
        );
    }
}

#[tokio::test]
async fn a_write_in_use_master_pins_the_rest_of_the_enclosing_scope() {
    let backend = DbBackend::Postgres;
    let db = multidb(
        MockDatabase::new(backend)
            .append_exec_results([affected(1, 0)])
            .append_query_results([vec![cake(2, "primary")]]),
        vec![MockDatabase::new(backend)],
    );
    scope(async {
        use_master(cake::Entity::delete_by_id(9).exec(&db))
            .await
            .expect("write");
        cake::Entity::find().all(&db).await.expect("read");
    })
    .await;
    assert_eq!(sqls(&replica(&db, 0)), Vec::<String>::new());
    assert_routed(
        &db,
        &[
            (Target::Primary, Reason::Write, 1),
            (Target::Primary, Reason::ReadAfterWrite, 1),
        ],
    );
}

#[tokio::test]
async fn use_master_and_pins_send_reads_to_the_primary() {
    for backend in BACKENDS {
        let db = multidb(
            MockDatabase::new(backend).append_query_results([
                vec![cake(1, "primary")],
                vec![cake(2, "primary")],
                vec![cake(3, "primary")],
            ]),
            vec![
                MockDatabase::new(backend)
                    .append_query_results([vec![cake(4, "replica")], vec![cake(5, "replica")]]),
            ],
        );

        // Outside any scope.
        let pinned = use_master(cake::Entity::find().all(&db))
            .await
            .expect("read 1");
        assert_eq!(pinned, [cake(1, "primary")]);
        // Inside a scope, and restored when the block ends.
        scope(async {
            let pinned = use_master(cake::Entity::find().all(&db))
                .await
                .expect("read 2");
            assert_eq!(pinned, [cake(2, "primary")]);
            let unpinned = cake::Entity::find().all(&db).await.expect("read 3");
            assert_eq!(unpinned, [cake(4, "replica")]);
            pin_this_task();
            let pinned = cake::Entity::find().all(&db).await.expect("read 4");
            assert_eq!(pinned, [cake(3, "primary")]);
        })
        .await;
        let unpinned = cake::Entity::find().all(&db).await.expect("read 5");
        assert_eq!(unpinned, [cake(5, "replica")]);

        assert_eq!(sqls(primary(&db)).len(), 3, "{backend:?}");
        assert_eq!(sqls(&replica(&db, 0)).len(), 2, "{backend:?}");
        assert_routed(
            &db,
            &[
                (Target::Primary, Reason::Pinned, 3),
                (Target::Replica, Reason::Policy, 2),
            ],
        );
    }
}

#[tokio::test]
async fn an_unscoped_write_sends_unscoped_reads_to_the_primary_for_the_window() {
    for backend in BACKENDS {
        let db = multidb(
            MockDatabase::new(backend)
                .append_exec_results([affected(1, 0)])
                .append_query_results([vec![cake(1, "primary")]]),
            vec![
                MockDatabase::new(backend)
                    .append_query_results([vec![cake(2, "replica")], vec![cake(3, "replica")]]),
            ],
        );
        let clone = db.clone();

        let before = cake::Entity::find().all(&db).await.expect("read before");
        assert_eq!(before, [cake(2, "replica")]);
        cake::Entity::delete_by_id(9)
            .exec(&db)
            .await
            .expect("unscoped write");
        // Any clone shares the window.
        let after = cake::Entity::find().all(&clone).await.expect("read after");
        assert_eq!(after, [cake(1, "primary")]);
        // A scope has its own read-your-writes; the window does not apply.
        let scoped = scope(cake::Entity::find().all(&db))
            .await
            .expect("scoped read");
        assert_eq!(scoped, [cake(3, "replica")]);

        assert_prefixes(
            &format!("{backend:?} primary"),
            &sqls(primary(&db)),
            &["DELETE FROM \"cake\"", "SELECT \"cake\""],
        );
        assert_eq!(sqls(&replica(&db, 0)).len(), 2, "{backend:?}");
        assert_routed(
            &db,
            &[
                (Target::Replica, Reason::Policy, 2),
                (Target::Primary, Reason::Write, 1),
                (Target::Primary, Reason::RecentUnscopedWrite, 1),
            ],
        );
    }
}

#[tokio::test]
async fn the_unscoped_window_is_per_multidb_and_zero_turns_it_off() {
    let backend = DbBackend::Postgres;
    let other = multidb(
        MockDatabase::new(backend),
        vec![MockDatabase::new(backend).append_query_results([vec![cake(2, "replica")]])],
    );
    let db = multidb_with_window(
        MockDatabase::new(backend).append_exec_results([affected(1, 0)]),
        vec![MockDatabase::new(backend).append_query_results([vec![cake(3, "replica")]])],
        Duration::ZERO,
    );

    cake::Entity::delete_by_id(9)
        .exec(&db)
        .await
        .expect("unscoped write");
    let read = cake::Entity::find()
        .all(&db)
        .await
        .expect("read, window off");
    assert_eq!(read, [cake(3, "replica")]);
    // Another MultiDb never saw the write.
    let read = cake::Entity::find()
        .all(&other)
        .await
        .expect("read, other db");
    assert_eq!(read, [cake(2, "replica")]);

    assert_routed(
        &db,
        &[
            (Target::Primary, Reason::Write, 1),
            (Target::Replica, Reason::Policy, 1),
        ],
    );
    assert_routed(&other, &[(Target::Replica, Reason::Policy, 1)]);
}

#[tokio::test]
async fn an_unscoped_transaction_opens_the_unscoped_window() {
    let backend = DbBackend::MySql;
    let db = multidb(
        MockDatabase::new(backend).append_query_results([vec![cake(1, "primary")]]),
        vec![MockDatabase::new(backend)],
    );
    let txn = db
        .begin_with_options(TransactionOptions::default())
        .await
        .expect("begin");
    txn.commit().await.expect("commit");
    let read = cake::Entity::find().all(&db).await.expect("read");
    assert_eq!(read, [cake(1, "primary")]);
    assert_routed(
        &db,
        &[
            (Target::Primary, Reason::Transaction, 1),
            (Target::Primary, Reason::RecentUnscopedWrite, 1),
        ],
    );
}

#[tokio::test]
async fn a_write_in_use_master_outside_any_scope_still_pins_later_unscoped_reads() {
    let backend = DbBackend::Postgres;
    let db = multidb(
        MockDatabase::new(backend)
            .append_exec_results([affected(1, 0)])
            .append_query_results([vec![cake(1, "primary")]]),
        vec![MockDatabase::new(backend).append_query_results([vec![cake(2, "stale replica")]])],
    );
    use_master(cake::Entity::delete_by_id(9).exec(&db))
        .await
        .expect("write");
    let read = cake::Entity::find().all(&db).await.expect("read");
    assert_eq!(
        read,
        [cake(1, "primary")],
        "read-your-writes after use_master"
    );
    assert_routed(
        &db,
        &[
            (Target::Primary, Reason::Write, 1),
            (Target::Primary, Reason::RecentUnscopedWrite, 1),
        ],
    );
}
