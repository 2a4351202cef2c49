//! Which connection gets which statement, over `MockDatabase` connections (see
//! `common/mod.rs`). Transactions, their closures and savepoints run on the
//! primary; ping, close and error conversion reach every database.

mod common;

use common::*;

#[tokio::test]
async fn begin_and_commit_run_on_the_primary_and_pin_later_reads_of_the_scope() {
    for backend in BACKENDS {
        let mut primary_mock =
            MockDatabase::new(backend).append_query_results([vec![cake(1, "a")]]);
        primary_mock = if backend.support_returning() {
            primary_mock.append_query_results([[cake(7, "new")]])
        } else {
            primary_mock
                .append_exec_results([affected(1, 7)])
                .append_query_results([[cake(7, "new")]])
        };
        primary_mock = primary_mock.append_query_results([vec![cake(1, "a")]]);
        let db = multidb(primary_mock, vec![MockDatabase::new(backend)]);

        scope(async {
            let txn = db.begin().await.expect("begin");
            let all = cake::Entity::find().all(&txn).await.expect("read in txn");
            assert_eq!(all, [cake(1, "a")]);
            new_cake("new").insert(&txn).await.expect("insert in txn");
            txn.commit().await.expect("commit");

            // Opening the transaction counted as a write for this scope.
            cake::Entity::find()
                .all(&db)
                .await
                .expect("read after the transaction");
        })
        .await;

        let mut expected = vec!["BEGIN", r#"SELECT "cake"."id""#, "INSERT INTO \"cake\""];
        if !backend.support_returning() {
            expected.push(r#"SELECT "cake"."id", "cake"."name" FROM "cake" WHERE"#);
        }
        expected.push("COMMIT");
        let log = transactions(primary(&db));
        assert_eq!(log.len(), 2, "{backend:?}: {log:#?}");
        assert_prefixes(&format!("{backend:?} transaction"), &log[0], &expected);
        assert_prefixes(
            &format!("{backend:?} after"),
            &log[1],
            &[r#"SELECT "cake"."id", "cake"."name" FROM "cake""#],
        );
        assert_eq!(transactions(&replica(&db, 0)), Vec::<Vec<String>>::new());
        assert_routed(
            &db,
            &[
                (Target::Primary, Reason::Transaction, 1),
                (Target::Primary, Reason::ReadAfterWrite, 1),
            ],
        );
    }
}

#[tokio::test]
async fn transaction_closures_commit_and_roll_back_on_the_primary() {
    for backend in BACKENDS {
        let db = multidb(
            MockDatabase::new(backend)
                .append_query_results([vec![cake(1, "a")], vec![cake(2, "b")]])
                .append_exec_results([affected(1, 0)]),
            vec![MockDatabase::new(backend)],
        );

        let found = db
            .transaction::<_, Option<cake::Model>, DbErr>(|txn| {
                Box::pin(async move {
                    let found = cake::Entity::find_by_id(1).one(txn).await?;
                    cake::Entity::delete_by_id(3).exec(txn).await?;
                    Ok(found)
                })
            })
            .await
            .expect("transaction commits");
        assert_eq!(found, Some(cake(1, "a")));

        let failed = db
            .transaction_with_config::<_, (), DbErr>(
                |txn| {
                    Box::pin(async move {
                        cake::Entity::find().all(txn).await?;
                        Err(DbErr::Custom("changed my mind".to_owned()))
                    })
                },
                Some(IsolationLevel::Serializable),
                None,
            )
            .await;
        assert!(
            matches!(failed, Err(TransactionError::Transaction(DbErr::Custom(_)))),
            "{failed:?}"
        );

        let log = transactions(primary(&db));
        assert_eq!(log.len(), 2, "{backend:?}: {log:#?}");
        assert_prefixes(
            &format!("{backend:?} committed"),
            &log[0],
            &["BEGIN", "SELECT \"cake\"", "DELETE FROM \"cake\"", "COMMIT"],
        );
        assert_prefixes(
            &format!("{backend:?} rolled back"),
            &log[1],
            &["BEGIN", "SELECT \"cake\"", "ROLLBACK"],
        );
        assert_eq!(transactions(&replica(&db, 0)), Vec::<Vec<String>>::new());
        assert_routed(&db, &[(Target::Primary, Reason::Transaction, 2)]);
    }
}

/// `transaction_async` (SeaORM's async-closure form) runs on the primary,
/// like `transaction`, and a scope that used it reads its writes there.
#[tokio::test]
async fn async_closure_transactions_run_on_the_primary_and_count_as_writes() {
    for backend in BACKENDS {
        let db = multidb(
            MockDatabase::new(backend)
                .append_query_results([vec![cake(1, "a")], vec![cake(1, "a")]])
                .append_exec_results([affected(1, 0)]),
            vec![MockDatabase::new(backend)],
        );
        scope(async {
            db.transaction_async(async |txn| {
                cake::Entity::delete_by_id(3).exec(txn).await?;
                Ok::<_, DbErr>(())
            })
            .await
            .expect("transaction commits");
            let read = db
                .transaction_with_config_async(
                    async |txn| cake::Entity::find_by_id(1).one(txn).await,
                    None,
                    Some(sea_orm::AccessMode::ReadOnly),
                )
                .await
                .expect("read-only transaction");
            assert_eq!(read, Some(cake(1, "a")));
            // After the write, the scope reads the primary.
            let again = cake::Entity::find_by_id(1).one(&db).await.expect("read");
            assert_eq!(again, Some(cake(1, "a")));
        })
        .await;
        let log = transactions(primary(&db));
        assert_eq!(log.len(), 3, "{backend:?}: {log:#?}");
        assert_prefixes(
            &format!("{backend:?} async transaction"),
            &log[0],
            &["BEGIN", "DELETE FROM \"cake\"", "COMMIT"],
        );
        assert_eq!(transactions(&replica(&db, 0)), Vec::<Vec<String>>::new());
        assert_routed(
            &db,
            &[
                (Target::Primary, Reason::Transaction, 2),
                (Target::Primary, Reason::ReadAfterWrite, 1),
            ],
        );
    }
}

/// `ping` and `close` reach the primary and every replica; after `close`,
/// statements fail instead of reaching a closed pool silently.
#[tokio::test]
async fn ping_and_close_reach_every_database() {
    let (_files, db) = sqlite_pair().await;
    db.ping().await.expect("all answer");
    let clone = db.clone();
    db.close().await.expect("all close");
    assert!(clone.ping().await.is_err(), "a clone is closed too");
    let read = Statement::from_string(DbBackend::Sqlite, "SELECT 1");
    assert!(clone.query_one_raw(read).await.is_err());
}

/// A primary and a replica, each an SQLite file of its own (in the
/// returned folder, removed when it is dropped).
async fn sqlite_pair() -> (tempfile::TempDir, MultiDb) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = |name: &str| format!("sqlite://{}?mode=rwc", dir.path().join(name).display());
    let db = MultiDb::builder()
        .primary(url("primary.db"))
        .replica(url("replica.db"))
        .connect()
        .await
        .expect("connects");
    (dir, db)
}

/// `MultiDbError` converts into `DbErr`, keeping its message.
#[tokio::test]
async fn multidb_errors_convert_into_db_errors() {
    let mismatch = MultiDb::new(
        MockDatabase::new(DbBackend::Postgres).into_connection(),
        vec![MockDatabase::new(DbBackend::MySql).into_connection()],
    )
    .expect_err("backends differ");
    let message = mismatch.to_string();
    let converted: DbErr = mismatch.into();
    assert!(
        matches!(&converted, DbErr::Custom(text) if *text == message),
        "{converted:?}"
    );

    let unreachable = MultiDb::builder()
        .primary("postgres://nobody@127.0.0.1:1/none")
        .connect()
        .await
        .expect_err("nothing listens on port 1");
    let converted: DbErr = unreachable.into();
    assert!(
        matches!(&converted, DbErr::Conn(RuntimeErr::Internal(text)) if text.contains("primary")),
        "{converted:?}"
    );
}

#[tokio::test]
async fn nested_transactions_are_savepoints_on_the_primary() {
    for backend in BACKENDS {
        let db = multidb(
            MockDatabase::new(backend)
                .append_exec_results([affected(1, 0), affected(1, 0)])
                .append_query_results([vec![cake(1, "a")]]),
            vec![MockDatabase::new(backend)],
        );

        let outer = db
            .begin_with_config(Some(IsolationLevel::RepeatableRead), None)
            .await
            .expect("begin");
        cake::Entity::delete_by_id(1)
            .exec(&outer)
            .await
            .expect("outer write");
        let inner = outer.begin().await.expect("savepoint");
        cake::Entity::find().all(&inner).await.expect("inner read");
        cake::Entity::delete_by_id(2)
            .exec(&inner)
            .await
            .expect("inner write");
        inner.commit().await.expect("release savepoint");
        outer.commit().await.expect("commit");

        let log = transactions(primary(&db));
        assert_eq!(log.len(), 1, "{backend:?}: {log:#?}");
        assert_prefixes(
            &format!("{backend:?} nested"),
            &log[0],
            &[
                "BEGIN",
                "DELETE FROM \"cake\"",
                "SAVEPOINT savepoint_1",
                "SELECT \"cake\"",
                "DELETE FROM \"cake\"",
                "RELEASE SAVEPOINT savepoint_1",
                "COMMIT",
            ],
        );
        assert_eq!(transactions(&replica(&db, 0)), Vec::<Vec<String>>::new());
        // The savepoint is opened on the transaction, which MultiDb never sees.
        assert_routed(&db, &[(Target::Primary, Reason::Transaction, 1)]);
    }
}
