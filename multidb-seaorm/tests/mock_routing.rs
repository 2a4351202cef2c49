//! Which connection gets which statement: every ordinary SeaORM operation run
//! through `&MultiDb` over `MockDatabase` connections, checked from the mocks'
//! own transaction logs (and from `db.stats()`), on Postgres, MySQL and SQLite.
//!
//! Each case builds a fresh `MultiDb` (its own unscoped write window, its own
//! rotation) with `RoundRobin::starting_at(0)` and, unless the rotation itself
//! is under test, one replica. A mock that receives a statement it has no
//! result queued for answers with an error, so a statement sent to the wrong
//! connection fails the operation as well as the log assertions.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::TryStreamExt;
use multidb_seaorm::policy::RoundRobin;
use multidb_seaorm::{MultiDb, MultiDbError, Reason, Target, pin_this_task, scope, use_master};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ActiveValue::Unchanged, ColumnTrait,
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, IntoDatabaseExecutor,
    IsolationLevel, LoaderTrait, MockDatabase, MockExecResult, ModelTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, RuntimeErr, Schema, Statement, StreamTrait,
    Transaction, TransactionError, TransactionOptions, TransactionTrait, Value,
};

const BACKENDS: [DbBackend; 3] = [DbBackend::Postgres, DbBackend::MySql, DbBackend::Sqlite];

mod cake {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "cake")]
    pub(crate) struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub name: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub(crate) enum Relation {
        #[sea_orm(has_many = "super::fruit::Entity")]
        Fruit,
    }

    impl Related<super::fruit::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Fruit.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

mod fruit {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "fruit")]
    pub(crate) struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub name: String,
        pub cake_id: Option<i32>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub(crate) enum Relation {
        #[sea_orm(
            belongs_to = "super::cake::Entity",
            from = "Column::CakeId",
            to = "super::cake::Column::Id"
        )]
        Cake,
    }

    impl Related<super::cake::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Cake.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// The table `sea-orm-migration` keeps its applied versions in.
mod seaql_migrations {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "seaql_migrations")]
    pub(crate) struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: String,
        pub applied_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub(crate) enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

// ---------------------------------------------------------------- helpers

fn cake(id: i32, name: &str) -> cake::Model {
    cake::Model {
        id,
        name: name.to_owned(),
    }
}

fn fruit(id: i32, name: &str, cake_id: i32) -> fruit::Model {
    fruit::Model {
        id,
        name: name.to_owned(),
        cake_id: Some(cake_id),
    }
}

fn new_cake(name: &str) -> cake::ActiveModel {
    cake::ActiveModel {
        id: NotSet,
        name: Set(name.to_owned()),
    }
}

fn affected(rows: u64, last_insert_id: u64) -> MockExecResult {
    MockExecResult {
        last_insert_id,
        rows_affected: rows,
    }
}

/// A mock row of one column.
fn row(column: &str, value: impl Into<Value>) -> BTreeMap<String, Value> {
    BTreeMap::from([(column.to_owned(), value.into())])
}

/// A `MultiDb` over these mocks, rotating from replica 0.
fn multidb(primary: MockDatabase, replicas: Vec<MockDatabase>) -> MultiDb {
    multidb_with_window(
        primary,
        replicas,
        Duration::from_secs(15), // the default window
    )
}

fn multidb_with_window(
    primary: MockDatabase,
    replicas: Vec<MockDatabase>,
    window: Duration,
) -> MultiDb {
    MultiDb::builder()
        .policy(RoundRobin::starting_at(0))
        .unscoped_write_window(window)
        .build(
            primary.into_connection(),
            replicas
                .into_iter()
                .map(MockDatabase::into_connection)
                .collect(),
        )
        .expect("the mocks all use the same backend")
}

/// Everything the mock behind `conn` received (and forget it): one
/// `Transaction` per statement run outside a transaction, one per
/// committed or rolled-back transaction.
fn drain(conn: &DatabaseConnection) -> Vec<Transaction> {
    conn.clone().into_transaction_log()
}

/// The SQL of every statement `conn` received, all outside transactions.
/// Backticks (MySQL) are turned into double quotes so that one expectation
/// fits every backend.
#[track_caller]
fn sqls(conn: &DatabaseConnection) -> Vec<String> {
    drain(conn)
        .into_iter()
        .map(|txn| match txn.statements() {
            [one] => normalize(&one.sql),
            many => panic!("expected single statements, got a transaction: {many:#?}"),
        })
        .collect()
}

/// The SQL of every transaction `conn` received, statement by statement.
fn transactions(conn: &DatabaseConnection) -> Vec<Vec<String>> {
    drain(conn)
        .into_iter()
        .map(|txn| txn.statements().iter().map(|s| normalize(&s.sql)).collect())
        .collect()
}

fn normalize(sql: &str) -> String {
    sql.replace('`', "\"")
}

/// `got` has exactly as many statements as `expected`, and each starts with
/// the matching prefix.
#[track_caller]
fn assert_prefixes(who: &str, got: &[String], expected: &[&str]) {
    let matches = got.len() == expected.len()
        && got
            .iter()
            .zip(expected)
            .all(|(sql, prefix)| sql.starts_with(prefix));
    assert!(
        matches,
        "{who}: expected statements starting with {expected:#?}\n got {got:#?}"
    );
}

/// The routing counters are exactly these (every pair not listed is zero).
#[track_caller]
fn assert_routed(db: &MultiDb, expected: &[(Target, Reason, u64)]) {
    let stats = db.stats();
    for target in [Target::Primary, Target::Replica] {
        for &reason in Reason::ALL {
            let want = expected
                .iter()
                .filter(|(t, r, _)| *t == target && *r == reason)
                .map(|(_, _, n)| n)
                .sum::<u64>();
            assert_eq!(
                stats.count(target, reason),
                want,
                "statements routed to {target} for {reason}; all counters: {stats:?}"
            );
        }
    }
}

fn primary(db: &MultiDb) -> &DatabaseConnection {
    db.primary()
}

fn replica(db: &MultiDb, index: usize) -> &DatabaseConnection {
    &db.replicas()[index]
}

// ------------------------------------------------------------------ reads

#[tokio::test]
async fn find_all_one_and_by_id_read_from_the_replica() {
    for backend in BACKENDS {
        let db = multidb(
            MockDatabase::new(backend),
            vec![MockDatabase::new(backend).append_query_results([
                vec![cake(1, "apple pie"), cake(2, "cheese cake")],
                vec![cake(1, "apple pie")],
                vec![cake(2, "cheese cake")],
                vec![cake(2, "cheese cake")],
            ])],
        );

        let all = cake::Entity::find().all(&db).await.expect("find().all");
        assert_eq!(all.len(), 2);
        let one = cake::Entity::find().one(&db).await.expect("find().one");
        assert_eq!(one, Some(cake(1, "apple pie")));
        let by_id = cake::Entity::find_by_id(2)
            .one(&db)
            .await
            .expect("find_by_id");
        assert_eq!(by_id, Some(cake(2, "cheese cake")));
        let filtered = cake::Entity::find()
            .filter(cake::Column::Name.contains("cheese"))
            .order_by_asc(cake::Column::Id)
            .all(&db)
            .await
            .expect("filter + order");
        assert_eq!(filtered, [cake(2, "cheese cake")]);

        assert_eq!(sqls(primary(&db)), Vec::<String>::new(), "{backend:?}");
        let on_replica = drain(replica(&db, 0));
        assert_eq!(
            on_replica[0],
            Transaction::one(cake::Entity::find().build(backend)),
            "{backend:?}: find().all() is sent verbatim to the replica"
        );
        let on_replica: Vec<String> = on_replica
            .iter()
            .map(|t| normalize(&t.statements()[0].sql))
            .collect();
        assert_prefixes(
            &format!("{backend:?} replica"),
            &on_replica,
            &[
                r#"SELECT "cake"."id", "cake"."name" FROM "cake""#,
                r#"SELECT "cake"."id", "cake"."name" FROM "cake" LIMIT"#,
                r#"SELECT "cake"."id", "cake"."name" FROM "cake" WHERE "cake"."id" ="#,
                r#"SELECT "cake"."id", "cake"."name" FROM "cake" WHERE "cake"."name" LIKE"#,
            ],
        );
        assert_routed(&db, &[(Target::Replica, Reason::Policy, 4)]);
    }
}

#[tokio::test]
async fn count_and_paginate_read_from_the_replica() {
    for backend in BACKENDS {
        let db = multidb(
            MockDatabase::new(backend),
            vec![
                MockDatabase::new(backend)
                    .append_query_results([[row("num_items", 3i64)]])
                    .append_query_results([vec![cake(1, "a"), cake(2, "b")]])
                    .append_query_results([[row("num_items", 3i64)]])
                    .append_query_results([[row("num_items", 3i64)]]),
            ],
        );

        let count = cake::Entity::find().count(&db).await.expect("count");
        assert_eq!(count, 3);
        let pages = cake::Entity::find()
            .order_by_asc(cake::Column::Id)
            .paginate(&db, 2);
        let page = pages.fetch_page(0).await.expect("fetch_page");
        assert_eq!(page.len(), 2);
        assert_eq!(pages.num_items().await.expect("num_items"), 3);
        assert_eq!(pages.num_pages().await.expect("num_pages"), 2);

        assert_eq!(sqls(primary(&db)), Vec::<String>::new(), "{backend:?}");
        assert_prefixes(
            &format!("{backend:?} replica"),
            &sqls(replica(&db, 0)),
            &[
                "SELECT COUNT(*) AS num_items FROM (SELECT",
                r#"SELECT "cake"."id", "cake"."name" FROM "cake" ORDER BY "cake"."id" ASC LIMIT"#,
                "SELECT COUNT(*) AS num_items FROM (SELECT",
                "SELECT COUNT(*) AS num_items FROM (SELECT",
            ],
        );
        assert_routed(&db, &[(Target::Replica, Reason::Policy, 4)]);
    }
}

#[tokio::test]
async fn stream_reads_from_the_replica_and_from_the_primary_after_a_write() {
    for backend in BACKENDS {
        let db = multidb(
            MockDatabase::new(backend)
                .append_exec_results([affected(1, 0)])
                .append_query_results([vec![cake(3, "c")]]),
            vec![
                MockDatabase::new(backend)
                    .append_query_results([vec![cake(1, "a"), cake(2, "b")]])
                    .append_query_results([[row("one", 1i32)]]),
            ],
        );

        scope(async {
            let streamed: Vec<cake::Model> = cake::Entity::find()
                .stream(&db)
                .await
                .expect("stream on the replica")
                .try_collect()
                .await
                .expect("rows");
            assert_eq!(streamed, [cake(1, "a"), cake(2, "b")]);

            cake::Entity::delete_by_id(9)
                .exec(&db)
                .await
                .expect("a write");

            let streamed: Vec<cake::Model> = cake::Entity::find()
                .stream(&db)
                .await
                .expect("stream on the primary")
                .try_collect()
                .await
                .expect("rows");
            assert_eq!(streamed, [cake(3, "c")]);
        })
        .await;

        // The raw StreamTrait entry point routes the same way.
        let rows: Vec<_> = scope(async {
            StreamTrait::stream_raw(&db, Statement::from_string(backend, "SELECT 1 AS one"))
                .await
                .expect("stream_raw on the replica")
                .try_collect()
                .await
                .expect("rows")
        })
        .await;
        assert_eq!(rows.len(), 1);

        assert_prefixes(
            &format!("{backend:?} primary"),
            &sqls(primary(&db)),
            &[
                "DELETE FROM \"cake\"",
                r#"SELECT "cake"."id", "cake"."name" FROM "cake""#,
            ],
        );
        assert_prefixes(
            &format!("{backend:?} replica"),
            &sqls(replica(&db, 0)),
            &[
                r#"SELECT "cake"."id", "cake"."name" FROM "cake""#,
                "SELECT 1 AS one",
            ],
        );
        assert_routed(
            &db,
            &[
                (Target::Replica, Reason::Policy, 2),
                (Target::Primary, Reason::Write, 1),
                (Target::Primary, Reason::ReadAfterWrite, 1),
            ],
        );
    }
}

#[tokio::test]
async fn loaders_and_related_queries_read_from_the_replica() {
    for backend in BACKENDS {
        let db = multidb(
            MockDatabase::new(backend),
            vec![
                MockDatabase::new(backend)
                    // load_many: the fruits of cakes 1 and 2
                    .append_query_results([vec![
                        fruit(10, "apple", 1),
                        fruit(11, "pear", 1),
                        fruit(12, "cherry", 2),
                    ]])
                    // load_one: the cake of each fruit
                    .append_query_results([vec![cake(1, "a"), cake(2, "b")]])
                    // find_related
                    .append_query_results([vec![fruit(12, "cherry", 2)]])
                    // find_also_related
                    .append_query_results([vec![(fruit(12, "cherry", 2), Some(cake(2, "b")))]]),
            ],
        );

        let cakes = vec![cake(1, "a"), cake(2, "b")];
        let fruits = cakes
            .load_many(fruit::Entity, &db)
            .await
            .expect("load_many");
        assert_eq!(fruits[0].len(), 2);
        assert_eq!(fruits[1], [fruit(12, "cherry", 2)]);

        let some_fruits = vec![fruit(10, "apple", 1), fruit(12, "cherry", 2)];
        let their_cakes = some_fruits
            .load_one(cake::Entity, &db)
            .await
            .expect("load_one");
        assert_eq!(their_cakes, [Some(cake(1, "a")), Some(cake(2, "b"))]);

        let related = cake(2, "b")
            .find_related(fruit::Entity)
            .all(&db)
            .await
            .expect("find_related");
        assert_eq!(related, [fruit(12, "cherry", 2)]);

        let with_cake = fruit::Entity::find()
            .find_also_related(cake::Entity)
            .all(&db)
            .await
            .expect("find_also_related");
        assert_eq!(with_cake, [(fruit(12, "cherry", 2), Some(cake(2, "b")))]);

        assert_eq!(sqls(primary(&db)), Vec::<String>::new(), "{backend:?}");
        assert_prefixes(
            &format!("{backend:?} replica"),
            &sqls(replica(&db, 0)),
            &[
                r#"SELECT "fruit"."id", "fruit"."name", "fruit"."cake_id" FROM "fruit" WHERE "#,
                r#"SELECT "cake"."id", "cake"."name" FROM "cake" WHERE "#,
                r#"SELECT "fruit"."id", "fruit"."name", "fruit"."cake_id" FROM "fruit" INNER JOIN "cake""#,
                r#"SELECT "fruit"."id" AS "A_id", "fruit"."name" AS "A_name", "fruit"."cake_id" AS "A_cake_id", "cake"."id" AS "B_id", "cake"."name" AS "B_name" FROM "fruit" LEFT JOIN "cake""#,
            ],
        );
        assert_routed(&db, &[(Target::Replica, Reason::Policy, 4)]);
    }
}

// ----------------------------------------------------------------- writes

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
        sqls(replica(db, 0)),
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
        assert_eq!(sqls(replica(&db, 0)), Vec::<String>::new(), "{backend:?}");
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
        assert_eq!(sqls(replica(&db, 0)), Vec::<String>::new(), "{backend:?}");
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
            assert_eq!(sqls(replica(&db, 0)), Vec::<String>::new(), "{backend:?}");
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
        assert_eq!(sqls(replica(&db, 0)), Vec::<String>::new(), "{backend:?}");
        assert_routed(&db, &[(Target::Primary, Reason::Write, 4)]);
    }
}

// ------------------------------------------------------- raw statements

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
            sqls(replica(&db, 0)),
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
        assert_eq!(sqls(replica(&db, 0)), Vec::<String>::new(), "{backend:?}");
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
    let on_replica = sqls(replica(&db, 0));
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
            sqls(replica(&db, 0)),
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

// ----------------------------------------------------------- transactions

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
        assert_eq!(transactions(replica(&db, 0)), Vec::<Vec<String>>::new());
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
        assert_eq!(transactions(replica(&db, 0)), Vec::<Vec<String>>::new());
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
        assert_eq!(transactions(replica(&db, 0)), Vec::<Vec<String>>::new());
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
        assert_eq!(transactions(replica(&db, 0)), Vec::<Vec<String>>::new());
        // The savepoint is opened on the transaction, which MultiDb never sees.
        assert_routed(&db, &[(Target::Primary, Reason::Transaction, 1)]);
    }
}

// ------------------------------------------------------------- migrations

const MIGRATION: &str = "m20250101_000001_create_fruit";

/// What `sea_orm_migration::MigratorTrait::up(db, None)` (2.0.4,
/// `exec_up`) does with its connection for one pending migration that
/// creates the `fruit` table: turn `db` into a `DatabaseExecutor`, create
/// `seaql_migrations` if missing (four times: up, get_pending_migrations,
/// get_migration_with_status and get_migration_models each call `install`),
/// read the applied versions, then, in a transaction on Postgres and
/// directly elsewhere, run the migration and record it.
async fn migrator_up<'c>(db: impl IntoDatabaseExecutor<'c>) -> Result<(), DbErr> {
    let db = db.into_database_executor();
    let backend = db.get_database_backend();
    let schema = Schema::new(backend);
    let mut install = schema.create_table_from_entity(seaql_migrations::Entity);
    install.if_not_exists();
    for _ in 0..4 {
        db.execute(&install).await?;
    }
    let applied = seaql_migrations::Entity::find()
        .order_by_asc(seaql_migrations::Column::Version)
        .all(&db)
        .await?;
    assert!(applied.is_empty(), "the mock has no migration applied");
    let record = seaql_migrations::ActiveModel {
        version: Set(MIGRATION.to_owned()),
        applied_at: Set(1_700_000_000),
    };
    let create_fruit = schema.create_table_from_entity(fruit::Entity);
    if backend == DbBackend::Postgres {
        let txn = db.begin().await?;
        txn.execute(&create_fruit).await?;
        seaql_migrations::Entity::insert(record).exec(&txn).await?;
        txn.commit().await?;
    } else {
        db.execute(&create_fruit).await?;
        seaql_migrations::Entity::insert(record).exec(&db).await?;
    }
    Ok(())
}

#[tokio::test]
async fn migrations_run_on_the_primary() {
    for backend in BACKENDS {
        let mut primary_mock = MockDatabase::new(backend)
            .append_exec_results(vec![affected(0, 0); 5])
            .append_query_results([Vec::<seaql_migrations::Model>::new()]);
        primary_mock = if backend.support_returning() {
            primary_mock.append_query_results([[row("version", MIGRATION)]])
        } else {
            primary_mock.append_exec_results([affected(1, 0)])
        };
        primary_mock = primary_mock.append_query_results([vec![fruit(1, "apple", 1)]]);
        let db = multidb(primary_mock, vec![MockDatabase::new(backend)]);

        scope(async {
            migrator_up(&db).await.expect("migrate up");
            // A migration counts as a write: the scope now reads the primary.
            fruit::Entity::find()
                .all(&db)
                .await
                .expect("read after migrating");
        })
        .await;

        let log = transactions(primary(&db));
        let create_migrations = "CREATE TABLE IF NOT EXISTS \"seaql_migrations\"";
        let mut expected: Vec<Vec<&str>> = vec![vec![create_migrations]; 4];
        expected.push(vec![r#"SELECT "seaql_migrations"."version""#]);
        if backend == DbBackend::Postgres {
            expected.push(vec![
                "BEGIN",
                "CREATE TABLE \"fruit\"",
                "INSERT INTO \"seaql_migrations\"",
                "COMMIT",
            ]);
        } else {
            expected.push(vec!["CREATE TABLE \"fruit\""]);
            expected.push(vec!["INSERT INTO \"seaql_migrations\""]);
        }
        expected.push(vec![r#"SELECT "fruit"."id""#]);
        assert_eq!(log.len(), expected.len(), "{backend:?}: {log:#?}");
        for (got, want) in log.iter().zip(&expected) {
            assert_prefixes(&format!("{backend:?} primary"), got, want);
        }
        assert_eq!(transactions(replica(&db, 0)), Vec::<Vec<String>>::new());
        // Handing out the primary for the migration is one routing decision.
        assert_routed(
            &db,
            &[
                (Target::Primary, Reason::Write, 1),
                (Target::Primary, Reason::ReadAfterWrite, 1),
            ],
        );
    }
}

// ------------------------------------------------------ routing context

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
            &sqls(replica(&db, 0)),
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
    assert_eq!(sqls(replica(&db, 0)), Vec::<String>::new());
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
        assert_eq!(sqls(replica(&db, 0)).len(), 2, "{backend:?}");
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
        assert_eq!(sqls(replica(&db, 0)).len(), 2, "{backend:?}");
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

// --------------------------------------------------- replicas and policy

#[tokio::test]
async fn round_robin_over_three_replicas_alternates_strictly_and_clones_continue() {
    let backend = DbBackend::Postgres;
    let replica_mock = || {
        MockDatabase::new(backend).append_query_results([
            vec![cake(1, "a")],
            vec![cake(1, "a")],
            vec![cake(1, "a")],
        ])
    };
    let db = multidb(
        MockDatabase::new(backend),
        vec![replica_mock(), replica_mock(), replica_mock()],
    );

    let mut order = Vec::new();
    for _ in 0..6 {
        let before = db.stats();
        cake::Entity::find().all(&db).await.expect("read");
        let after = db.stats();
        let served: Vec<usize> = (0..3)
            .filter(|&i| after.replica(i) == before.replica(i) + 1)
            .collect();
        assert_eq!(served.len(), 1, "exactly one replica served each read");
        order.push(served[0]);
    }
    assert_eq!(order, [0, 1, 2, 0, 1, 2]);
    for index in 0..3 {
        assert_eq!(db.stats().replica(index), 2);
        assert_eq!(
            sqls(replica(&db, index)).len(),
            2,
            "replica {index}'s own log"
        );
    }

    // One more read (replica 0), then a clone: it must go on to replica 1,
    // not restart at 0.
    cake::Entity::find().all(&db).await.expect("read 7");
    let clone = db.clone();
    cake::Entity::find().all(&clone).await.expect("read 8");
    assert_eq!(sqls(replica(&db, 0)).len(), 1);
    assert_eq!(sqls(replica(&db, 1)).len(), 1);
    assert_eq!(sqls(replica(&db, 2)).len(), 0);
    assert_eq!(
        (0..3).map(|i| clone.stats().replica(i)).collect::<Vec<_>>(),
        [3, 3, 2],
        "clones share the counters too"
    );
    assert_eq!(sqls(primary(&db)), Vec::<String>::new());
    assert_routed(&db, &[(Target::Replica, Reason::Policy, 8)]);
}

#[tokio::test]
async fn without_replicas_reads_go_to_the_primary_for_no_replica() {
    for backend in BACKENDS {
        let db = multidb(
            MockDatabase::new(backend)
                .append_query_results([vec![cake(1, "a")], vec![cake(1, "a")]]),
            vec![],
        );
        cake::Entity::find().all(&db).await.expect("unscoped read");
        scope(cake::Entity::find().all(&db))
            .await
            .expect("scoped read");
        assert_eq!(sqls(primary(&db)).len(), 2);
        assert_eq!(db.stats().count(Target::Primary, Reason::NoReplica), 2);
        assert_routed(&db, &[(Target::Primary, Reason::NoReplica, 2)]);
        assert!(std::ptr::eq(db.replica(), db.primary()));
        assert!(db.replicas().is_empty());
    }
}

#[tokio::test]
async fn replicas_of_another_backend_are_refused() {
    let built = MultiDb::builder().build(
        MockDatabase::new(DbBackend::Postgres).into_connection(),
        vec![
            MockDatabase::new(DbBackend::Postgres).into_connection(),
            MockDatabase::new(DbBackend::MySql).into_connection(),
        ],
    );
    match built {
        Err(MultiDbError::BackendMismatch {
            replica,
            primary,
            found,
        }) => {
            assert_eq!(replica, 1);
            assert_eq!(primary, DbBackend::Postgres);
            assert_eq!(found, DbBackend::MySql);
        }
        other => panic!("expected BackendMismatch, got {other:?}"),
    }
    let built = MultiDb::new(
        MockDatabase::new(DbBackend::Sqlite).into_connection(),
        vec![MockDatabase::new(DbBackend::Postgres).into_connection()],
    );
    assert!(
        matches!(
            built,
            Err(MultiDbError::BackendMismatch {
                replica: 0,
                primary: DbBackend::Sqlite,
                found: DbBackend::Postgres,
            })
        ),
        "{built:?}"
    );
}

#[tokio::test]
async fn replica_accessor_cycles_through_the_replicas() {
    let backend = DbBackend::Sqlite;
    let db = multidb(
        MockDatabase::new(backend),
        vec![
            MockDatabase::new(backend),
            MockDatabase::new(backend),
            MockDatabase::new(backend),
        ],
    );
    let picked: Vec<usize> = (0..5)
        .map(|_| {
            let chosen = db.replica();
            db.replicas()
                .iter()
                .position(|r| std::ptr::eq(r, chosen))
                .expect("replica() returns one of replicas()")
        })
        .collect();
    assert_eq!(picked, [0, 1, 2, 0, 1]);
    assert!(!std::ptr::eq(db.replica(), db.primary()));
}

#[tokio::test]
async fn backend_and_returning_support_follow_the_primary() {
    for backend in BACKENDS {
        let db = multidb(MockDatabase::new(backend), vec![MockDatabase::new(backend)]);
        assert_eq!(ConnectionTrait::get_database_backend(&db), backend);
        assert_eq!(StreamTrait::get_database_backend(&db), backend);
        assert_eq!(db.support_returning(), db.primary().support_returning());
        assert_eq!(db.support_returning(), backend.support_returning());
        assert!(db.is_mock_connection());
    }
    // Postgres always has RETURNING, MySQL (without `mariadb-use-returning`)
    // never: so both of SeaORM's insert paths are exercised above.
    assert!(DbBackend::Postgres.support_returning());
    assert!(!DbBackend::MySql.support_returning());
}

// ------------------------------------------------------- errors, retries

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
    assert_eq!(sqls(replica(&db, 0)).len(), 1);
    assert_eq!(sqls(replica(&db, 1)).len(), 1);
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

    assert_eq!(sqls(replica(&db, 0)).len(), 1);
    assert_eq!(sqls(replica(&db, 1)), Vec::<String>::new());
    assert_prefixes("primary", &sqls(primary(&db)), &["DELETE FROM \"cake\""]);
    assert_routed(
        &db,
        &[
            (Target::Replica, Reason::Policy, 1),
            (Target::Primary, Reason::Write, 1),
        ],
    );
}
