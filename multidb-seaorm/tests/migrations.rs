//! Which connection gets which statement, over `MockDatabase` connections (see
//! `common/mod.rs`). Migrations run on the primary.

mod common;

use common::*;

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
        assert_eq!(transactions(&replica(&db, 0)), Vec::<Vec<String>>::new());
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
