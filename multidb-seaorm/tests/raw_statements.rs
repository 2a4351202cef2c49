//! Which connection gets which statement, over `MockDatabase` connections (see
//! `common/mod.rs`). Raw statements are routed by their text; row locks go to
//! the primary.

mod common;

use common::*;

#[tokio::test]
async fn raw_statements_are_routed_by_their_text() {
    for backend in BACKENDS {
        let db = multidb(
            MockDatabase::new(backend)
                .append_exec_results([affected(2, 0), affected(0, 0), affected(0, 0)])
                .append_query_results([[row("id", 5i32)]]),
            vec![
                MockDatabase::new(backend)
                    .append_query_results([vec![row("one", 1i32)]])
                    .append_query_results([vec![row("one", 1i32)]])
                    .append_query_results([vec![cake(1, "a")]]),
            ],
        );

        // Reads first, each in its own scope so no write pins them.
        scope(async {
            let rows = db
                .query_all_raw(Statement::from_string(backend, "SELECT 1 AS one"))
                .await
                .expect("query_all_raw");
            assert_eq!(rows.len(), 1);
        })
        .await;
        scope(async {
            let first = db
                .query_one_raw(Statement::from_sql_and_values(
                    backend,
                    "select 1 as one where 1 = $1",
                    [1i32.into()],
                ))
                .await
                .expect("query_one_raw");
            assert!(first.is_some());
        })
        .await;
        scope(async {
            let raw = cake::Entity::find()
                .from_raw_sql(Statement::from_string(
                    backend,
                    r#"SELECT "id", "name" FROM "cake""#,
                ))
                .all(&db)
                .await
                .expect("find().from_raw_sql");
            assert_eq!(raw, [cake(1, "a")]);
        })
        .await;

        // Writes, whatever method sends them.
        scope(async {
            let res = db
                .execute_raw(Statement::from_string(
                    backend,
                    "UPDATE cake SET name = 'x'",
                ))
                .await
                .expect("execute_raw");
            assert_eq!(res.rows_affected(), 2);
        })
        .await;
        scope(async {
            let row = db
                .query_one_raw(Statement::from_string(
                    backend,
                    "INSERT INTO cake (name) VALUES ('y') RETURNING id",
                ))
                .await
                .expect("INSERT ... RETURNING through query_one_raw");
            assert!(row.is_some());
        })
        .await;
        scope(async {
            db.execute_unprepared("CREATE TABLE t (x INT)")
                .await
                .expect("execute_unprepared DDL");
            db.execute_unprepared("DROP TABLE t")
                .await
                .expect("execute_unprepared DDL");
        })
        .await;

        assert_eq!(
            sqls(primary(&db)),
            [
                "UPDATE cake SET name = 'x'",
                "INSERT INTO cake (name) VALUES ('y') RETURNING id",
                "CREATE TABLE t (x INT)",
                "DROP TABLE t",
            ],
            "{backend:?}"
        );
        assert_eq!(
            sqls(&replica(&db, 0)),
            [
                "SELECT 1 AS one",
                "select 1 as one where 1 = $1",
                r#"SELECT "id", "name" FROM "cake""#,
            ],
            "{backend:?}"
        );
        assert_routed(
            &db,
            &[
                (Target::Replica, Reason::Policy, 3),
                (Target::Primary, Reason::Write, 4),
            ],
        );
    }
}

#[tokio::test]
async fn select_for_update_goes_to_the_primary() {
    for backend in [DbBackend::Postgres, DbBackend::MySql] {
        let db = multidb(
            MockDatabase::new(backend).append_query_results([
                vec![cake(1, "a")],
                vec![cake(1, "a")],
                vec![cake(1, "a")],
            ]),
            vec![MockDatabase::new(backend)],
        );

        scope(async {
            cake::Entity::find_by_id(1)
                .lock_exclusive()
                .one(&db)
                .await
                .expect("lock_exclusive");
        })
        .await;
        scope(async {
            cake::Entity::find()
                .lock_with_behavior(LockType::Update, LockBehavior::Nowait)
                .all(&db)
                .await
                .expect("FOR UPDATE NOWAIT");
        })
        .await;
        scope(async {
            cake::Entity::find()
                .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
                .all(&db)
                .await
                .expect("FOR UPDATE SKIP LOCKED");
        })
        .await;

        let on_primary = sqls(primary(&db));
        assert_eq!(on_primary.len(), 3, "{backend:?}: {on_primary:?}");
        assert!(on_primary[0].ends_with("FOR UPDATE"), "{on_primary:?}");
        assert!(
            on_primary[1].ends_with("FOR UPDATE NOWAIT"),
            "{on_primary:?}"
        );
        assert!(
            on_primary[2].ends_with("FOR UPDATE SKIP LOCKED"),
            "{on_primary:?}"
        );
        assert_eq!(sqls(&replica(&db, 0)), Vec::<String>::new(), "{backend:?}");
        assert_routed(&db, &[(Target::Primary, Reason::Write, 3)]);
    }
}

#[tokio::test]
async fn sqlite_has_no_row_locks_so_lock_exclusive_is_a_plain_read() {
    // SeaQuery drops the lock clause for SQLite, which has no row locks: the
    // statement is a plain SELECT, routed as one (outside a transaction).
    let backend = DbBackend::Sqlite;
    let db = multidb(
        MockDatabase::new(backend),
        vec![MockDatabase::new(backend).append_query_results([vec![cake(1, "a")]])],
    );
    let locked = scope(cake::Entity::find_by_id(1).lock_exclusive().one(&db)).await;
    assert_eq!(locked, Ok(Some(cake(1, "a"))));
    let on_replica = sqls(&replica(&db, 0));
    assert_eq!(on_replica.len(), 1);
    assert!(!on_replica[0].contains("FOR UPDATE"), "{on_replica:?}");
    assert_routed(&db, &[(Target::Replica, Reason::Policy, 1)]);
}

#[tokio::test]
async fn select_for_share_and_other_row_locks_go_to_the_primary() {
    let cases: [(DbBackend, LockType, &str); 5] = [
        (DbBackend::Postgres, LockType::Share, "FOR SHARE"),
        (DbBackend::Postgres, LockType::KeyShare, "FOR KEY SHARE"),
        (
            DbBackend::Postgres,
            LockType::NoKeyUpdate,
            "FOR NO KEY UPDATE",
        ),
        (DbBackend::MySql, LockType::Share, "LOCK IN SHARE MODE"),
        (DbBackend::MySql, LockType::Update, "FOR UPDATE"),
    ];
    for (backend, lock, phrase) in cases {
        let db = multidb(
            MockDatabase::new(backend).append_query_results([vec![cake(1, "a")]]),
            vec![MockDatabase::new(backend)],
        );
        let locked = scope(cake::Entity::find_by_id(1).lock(lock).one(&db)).await;
        assert_eq!(
            sqls(&replica(&db, 0)),
            Vec::<String>::new(),
            "{backend:?} {phrase}: a locking read reached the replica"
        );
        assert_eq!(locked, Ok(Some(cake(1, "a"))), "{backend:?} {phrase}");
        let on_primary = sqls(primary(&db));
        assert_eq!(on_primary.len(), 1, "{backend:?}: {on_primary:?}");
        assert!(on_primary[0].ends_with(phrase), "{on_primary:?}");
        assert_routed(&db, &[(Target::Primary, Reason::Write, 1)]);
    }
}
