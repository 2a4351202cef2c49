//! Which connection gets which statement, over `MockDatabase` connections (see
//! `common/mod.rs`). Writes (insert, save, update, delete, their `_many` forms)
//! run wholly on the primary.

mod common;

use common::*;

/// What the primary of a fresh `MultiDb` must have received for one
/// `ActiveModel::insert` of cake 7, and the mock results it needs.
fn insert_primary(backend: DbBackend) -> MockDatabase {
    if backend.support_returning() {
        // INSERT ... RETURNING, sent through query_one / query_all
        MockDatabase::new(backend).append_query_results([[cake(7, "new")]])
    } else {
        // INSERT, then SELECT the row back by its last insert id
        MockDatabase::new(backend)
            .append_exec_results([affected(1, 7)])
            .append_query_results([[cake(7, "new")]])
    }
}

#[track_caller]
fn assert_insert_on_primary(db: &MultiDb, backend: DbBackend) {
    let on_primary = sqls(primary(db));
    if backend.support_returning() {
        assert_prefixes(
            &format!("{backend:?} primary"),
            &on_primary,
            &["INSERT INTO \"cake\" (\"name\") VALUES"],
        );
        assert!(
            on_primary[0].contains("RETURNING"),
            "{backend:?}: expected INSERT ... RETURNING, got {on_primary:?}"
        );
    } else {
        assert_prefixes(
            &format!("{backend:?} primary"),
            &on_primary,
            &[
                "INSERT INTO \"cake\" (\"name\") VALUES",
                r#"SELECT "cake"."id", "cake"."name" FROM "cake" WHERE "cake"."id" ="#,
            ],
        );
    }
    assert_eq!(
        sqls(&replica(db, 0)),
        Vec::<String>::new(),
        "{backend:?}: the replica must not see the insert nor its read-back"
    );
}

#[tokio::test]
async fn active_model_insert_runs_wholly_on_the_primary_outside_any_scope() {
    for backend in BACKENDS {
        let db = multidb(insert_primary(backend), vec![MockDatabase::new(backend)]);

        let inserted = new_cake("new").insert(&db).await.expect("insert");
        assert_eq!(inserted, cake(7, "new"));

        assert_insert_on_primary(&db, backend);
        if backend.support_returning() {
            assert_routed(&db, &[(Target::Primary, Reason::Write, 1)]);
        } else {
            assert_routed(
                &db,
                &[
                    (Target::Primary, Reason::Write, 1),
                    (Target::Primary, Reason::RecentUnscopedWrite, 1),
                ],
            );
        }
    }
}

#[tokio::test]
async fn active_model_insert_runs_wholly_on_the_primary_inside_a_scope() {
    for backend in BACKENDS {
        let db = multidb(insert_primary(backend), vec![MockDatabase::new(backend)]);

        let inserted = scope(new_cake("new").insert(&db)).await.expect("insert");
        assert_eq!(inserted, cake(7, "new"));

        assert_insert_on_primary(&db, backend);
        if backend.support_returning() {
            assert_routed(&db, &[(Target::Primary, Reason::Write, 1)]);
        } else {
            assert_routed(
                &db,
                &[
                    (Target::Primary, Reason::Write, 1),
                    (Target::Primary, Reason::ReadAfterWrite, 1),
                ],
            );
        }
    }
}

#[tokio::test]
async fn mysql_insert_then_select_back_stays_on_the_primary_with_a_lagging_replica() {
    // The replica "lags": it would answer the read-back with no row at all.
    // Were the SELECT sent there, `insert` would fail with RecordNotFound.
    let db = multidb(
        insert_primary(DbBackend::MySql),
        vec![MockDatabase::new(DbBackend::MySql).append_query_results([Vec::<cake::Model>::new()])],
    );
    let inserted = new_cake("new").insert(&db).await;
    assert_eq!(inserted, Ok(cake(7, "new")));
    assert_eq!(db.stats().total(Target::Replica), 0);
}

#[tokio::test]
async fn save_inserts_then_updates_on_the_primary() {
    for backend in BACKENDS {
        let primary_mock = if backend.support_returning() {
            MockDatabase::new(backend)
                .append_query_results([[cake(7, "new")]])
                .append_query_results([[cake(7, "renamed")]])
        } else {
            MockDatabase::new(backend)
                .append_exec_results([affected(1, 7), affected(1, 0)])
                .append_query_results([[cake(7, "new")], [cake(7, "renamed")]])
        };
        let db = multidb(primary_mock, vec![MockDatabase::new(backend)]);

        scope(async {
            let mut saved = new_cake("new").save(&db).await.expect("save = insert");
            saved.name = Set("renamed".to_owned());
            let saved = saved.save(&db).await.expect("save = update");
            assert_eq!(saved.name, Unchanged("renamed".to_owned()));
        })
        .await;

        let expected: &[&str] = if backend.support_returning() {
            &["INSERT INTO \"cake\"", "UPDATE \"cake\" SET \"name\" ="]
        } else {
            &[
                "INSERT INTO \"cake\"",
                r#"SELECT "cake"."id", "cake"."name" FROM "cake" WHERE "cake"."id" ="#,
                "UPDATE \"cake\" SET \"name\" =",
                r#"SELECT "cake"."id", "cake"."name" FROM "cake" WHERE "cake"."id" ="#,
            ]
        };
        assert_prefixes(
            &format!("{backend:?} primary"),
            &sqls(primary(&db)),
            expected,
        );
        assert_eq!(sqls(&replica(&db, 0)), Vec::<String>::new(), "{backend:?}");
        assert_eq!(db.stats().total(Target::Replica), 0, "{backend:?}");
    }
}

#[tokio::test]
async fn insert_many_and_inserts_without_returning_go_to_the_primary() {
    for backend in BACKENDS {
        let mut primary_mock = MockDatabase::new(backend);
        if backend.support_returning() {
            primary_mock = primary_mock.append_query_results([[row("id", 9i32)]]);
        } else {
            primary_mock = primary_mock.append_exec_results([affected(2, 9)]);
        }
        primary_mock = primary_mock.append_exec_results([affected(1, 10), affected(2, 12)]);
        let db = multidb(primary_mock, vec![MockDatabase::new(backend)]);

        let many = cake::Entity::insert_many([new_cake("a"), new_cake("b")])
            .exec(&db)
            .await
            .expect("insert_many");
        assert_eq!(many.last_insert_id, Some(9));
        let rows = cake::Entity::insert(new_cake("c"))
            .exec_without_returning(&db)
            .await
            .expect("insert without returning");
        assert_eq!(rows, 1);
        let rows = cake::Entity::insert_many([new_cake("d"), new_cake("e")])
            .exec_without_returning(&db)
            .await
            .expect("insert_many without returning");
        assert_eq!(rows, 2);

        let on_primary = sqls(primary(&db));
        assert_prefixes(
            &format!("{backend:?} primary"),
            &on_primary,
            &[
                "INSERT INTO \"cake\" (\"name\") VALUES",
                "INSERT INTO \"cake\" (\"name\") VALUES",
                "INSERT INTO \"cake\" (\"name\") VALUES",
            ],
        );
        assert_eq!(
            on_primary[0].contains("RETURNING"),
            backend.support_returning(),
            "{backend:?}: {on_primary:?}"
        );
        assert_eq!(sqls(&replica(&db, 0)), Vec::<String>::new(), "{backend:?}");
        assert_routed(&db, &[(Target::Primary, Reason::Write, 3)]);
    }
}

#[tokio::test]
async fn active_model_update_runs_wholly_on_the_primary_in_and_out_of_a_scope() {
    for in_scope in [false, true] {
        for backend in BACKENDS {
            let primary_mock = if backend.support_returning() {
                MockDatabase::new(backend).append_query_results([[cake(7, "renamed")]])
            } else {
                MockDatabase::new(backend)
                    .append_exec_results([affected(1, 0)])
                    .append_query_results([[cake(7, "renamed")]])
            };
            let db = multidb(primary_mock, vec![MockDatabase::new(backend)]);
            let change = cake::ActiveModel {
                id: Unchanged(7),
                name: Set("renamed".to_owned()),
            };

            let updated = if in_scope {
                scope(change.update(&db)).await
            } else {
                change.update(&db).await
            };
            assert_eq!(
                updated,
                Ok(cake(7, "renamed")),
                "{backend:?} in scope: {in_scope}"
            );

            let on_primary = sqls(primary(&db));
            if backend.support_returning() {
                assert_prefixes(
                    &format!("{backend:?} primary"),
                    &on_primary,
                    &["UPDATE \"cake\" SET \"name\" ="],
                );
                assert!(on_primary[0].contains("RETURNING"), "{on_primary:?}");
                assert_routed(&db, &[(Target::Primary, Reason::Write, 1)]);
            } else {
                assert_prefixes(
                    &format!("{backend:?} primary"),
                    &on_primary,
                    &[
                        "UPDATE \"cake\" SET \"name\" =",
                        r#"SELECT "cake"."id", "cake"."name" FROM "cake" WHERE "cake"."id" ="#,
                    ],
                );
                let read_back = if in_scope {
                    Reason::ReadAfterWrite
                } else {
                    Reason::RecentUnscopedWrite
                };
                assert_routed(
                    &db,
                    &[
                        (Target::Primary, Reason::Write, 1),
                        (Target::Primary, read_back, 1),
                    ],
                );
            }
            assert_eq!(sqls(&replica(&db, 0)), Vec::<String>::new(), "{backend:?}");
        }
    }
}

#[tokio::test]
async fn update_many_delete_and_delete_many_go_to_the_primary() {
    for backend in BACKENDS {
        let db = multidb(
            MockDatabase::new(backend).append_exec_results([
                affected(3, 0),
                affected(1, 0),
                affected(1, 0),
                affected(4, 0),
            ]),
            vec![MockDatabase::new(backend)],
        );

        let updated = cake::Entity::update_many()
            .col_expr(cake::Column::Name, Expr::value("stale"))
            .filter(cake::Column::Id.gt(1))
            .exec(&db)
            .await
            .expect("update_many");
        assert_eq!(updated.rows_affected, 3);
        let deleted = cake::ActiveModel {
            id: Set(7),
            name: NotSet,
        }
        .delete(&db)
        .await
        .expect("ActiveModel::delete");
        assert_eq!(deleted.rows_affected, 1);
        let deleted = cake::Entity::delete_by_id(8)
            .exec(&db)
            .await
            .expect("delete_by_id");
        assert_eq!(deleted.rows_affected, 1);
        let deleted = cake::Entity::delete_many()
            .filter(cake::Column::Name.eq("stale"))
            .exec(&db)
            .await
            .expect("delete_many");
        assert_eq!(deleted.rows_affected, 4);

        assert_prefixes(
            &format!("{backend:?} primary"),
            &sqls(primary(&db)),
            &[
                "UPDATE \"cake\" SET \"name\" =",
                "DELETE FROM \"cake\" WHERE \"cake\".\"id\" =",
                "DELETE FROM \"cake\" WHERE \"cake\".\"id\" =",
                "DELETE FROM \"cake\" WHERE \"cake\".\"name\" =",
            ],
        );
        assert_eq!(sqls(&replica(&db, 0)), Vec::<String>::new(), "{backend:?}");
        assert_routed(&db, &[(Target::Primary, Reason::Write, 4)]);
    }
}
