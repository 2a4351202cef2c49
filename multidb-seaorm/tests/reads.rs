//! Which connection gets which statement, over `MockDatabase` connections (see
//! `common/mod.rs`). Reads (find, count, paginate, stream, loaders) go to the
//! replica.

mod common;

use common::*;

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
        let on_replica = drain(&replica(&db, 0));
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
            &sqls(&replica(&db, 0)),
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
            &sqls(&replica(&db, 0)),
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
            &sqls(&replica(&db, 0)),
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
