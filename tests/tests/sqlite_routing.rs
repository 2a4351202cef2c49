//! Routing observed on real SQLite files whose contents differ per database;
//! the replicas are read-only, so a misrouted write would fail.

use multidb_seaorm::{MultiDb, Reason, Target, scope, use_master};
use multidb_tests::{SqliteSet, post, who_answers};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, Set, Statement,
    TransactionTrait,
};

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[tokio::test]
async fn reads_rotate_over_replicas_and_a_clone_continues_the_rotation() -> TestResult {
    let set = SqliteSet::new(3).await?;
    let mut answers = Vec::new();
    for _ in 0..4 {
        answers.push(who_answers(&set.db).await?);
    }
    let clone = set.db.clone();
    for _ in 0..2 {
        answers.push(who_answers(&clone).await?);
    }
    assert_eq!(
        answers,
        [
            "replica0", "replica1", "replica2", "replica0", "replica1", "replica2"
        ]
    );
    Ok(())
}

#[tokio::test]
async fn writes_land_on_the_primary_and_replicas_refuse_them() -> TestResult {
    let set = SqliteSet::new(2).await?;
    scope(async {
        let created = post::ActiveModel {
            title: Set("hello".into()),
            ..Default::default()
        }
        .insert(&set.db) // INSERT … RETURNING through query_one
        .await?;
        assert_eq!(created.title, "hello");
        post::Entity::update_many()
            .col_expr(post::Column::Title, "bye".into())
            .exec(&set.db)
            .await?;
        Ok::<_, sea_orm::DbErr>(())
    })
    .await?;
    let primary_posts = post::Entity::find().all(set.db.primary()).await?;
    assert_eq!(primary_posts.len(), 1);
    assert_eq!(primary_posts[0].title, "bye");
    for replica in set.db.replicas() {
        assert_eq!(post::Entity::find().count(&replica).await?, 0);
        let refused = replica
            .execute_unprepared("INSERT INTO post (title) VALUES ('misrouted')")
            .await;
        let message = refused
            .expect_err("a read-only replica must refuse writes")
            .to_string();
        assert!(message.contains("readonly"), "{message}");
    }
    Ok(())
}

#[tokio::test]
async fn a_scope_reads_replicas_until_it_writes_then_the_primary() -> TestResult {
    let set = SqliteSet::new(2).await?;
    scope(async {
        assert_eq!(who_answers(&set.db).await?, "replica0");
        set.db
            .execute_unprepared("INSERT INTO post (title) VALUES ('mine')")
            .await?;
        assert_eq!(who_answers(&set.db).await?, "primary");
        // Read-your-writes: the row is there although no replica has it.
        assert_eq!(post::Entity::find().count(&set.db).await?, 1);
        Ok::<_, sea_orm::DbErr>(())
    })
    .await?;
    // A fresh scope starts on the replicas again.
    let fresh = scope(who_answers(&set.db)).await?;
    assert_eq!(fresh, "replica1");
    Ok(())
}

#[tokio::test]
async fn transactions_run_on_the_primary() -> TestResult {
    let set = SqliteSet::new(1).await?;
    scope(async {
        let txn = set.db.begin().await?;
        assert_eq!(who_answers(&txn).await?, "primary");
        txn.execute_unprepared("INSERT INTO post (title) VALUES ('in txn')")
            .await?;
        txn.commit().await?;
        Ok::<_, sea_orm::DbErr>(())
    })
    .await?;
    assert_eq!(post::Entity::find().count(set.db.primary()).await?, 1);
    assert_eq!(
        set.db.stats().count(Target::Primary, Reason::Transaction),
        1
    );
    Ok(())
}

#[tokio::test]
async fn use_master_reads_the_primary_and_restores() -> TestResult {
    let set = SqliteSet::new(1).await?;
    scope(async {
        assert_eq!(use_master(who_answers(&set.db)).await?, "primary");
        assert_eq!(who_answers(&set.db).await?, "replica0");
        Ok::<_, sea_orm::DbErr>(())
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn unparsable_and_multi_statement_sql_goes_to_the_primary() -> TestResult {
    let set = SqliteSet::new(1).await?;
    scope(async {
        // Would fail on the read-only replica if misrouted.
        set.db
            .execute_unprepared("SELECT 1; INSERT INTO post (title) VALUES ('sneaky')")
            .await?;
        // Unparsable (unterminated string): the primary answers the error.
        let error = set
            .db
            .execute_unprepared("SELECT 'unterminated")
            .await
            .expect_err("not SQL");
        assert!(error.to_string().contains("unrecognized token"), "{error}");
        Ok::<_, sea_orm::DbErr>(())
    })
    .await?;
    assert_eq!(post::Entity::find().count(set.db.primary()).await?, 1);
    assert_eq!(set.db.stats().total(Target::Replica), 0);
    Ok(())
}

#[tokio::test]
async fn an_unreachable_replica_falls_back_for_reads_then_rests() -> TestResult {
    let set = SqliteSet::new(2).await?;
    set.db.replicas()[0].clone().close().await?;
    let first = scope(who_answers(&set.db)).await?;
    assert_eq!(first, "replica1", "retried on the next replica");
    assert_eq!(set.db.stats().count(Target::Replica, Reason::Fallback), 1);
    // Replica 0 rests: its turns go to replica 1 without another failure.
    for _ in 0..3 {
        assert_eq!(scope(who_answers(&set.db)).await?, "replica1");
    }
    assert_eq!(set.db.stats().count(Target::Replica, Reason::Fallback), 1);
    set.db.replicas()[1].clone().close().await?;
    let second = scope(who_answers(&set.db)).await?;
    assert_eq!(second, "primary", "then on the primary");
    assert_eq!(set.db.stats().count(Target::Primary, Reason::Fallback), 1);
    // Both rest now: reads go straight to the primary, as unhealthy.
    assert_eq!(scope(who_answers(&set.db)).await?, "primary");
    assert_eq!(set.db.stats().count(Target::Primary, Reason::Down), 1);
    Ok(())
}

#[tokio::test]
async fn a_rested_replica_gets_another_chance() -> TestResult {
    use sea_orm::{MockDatabase, RuntimeErr};
    use std::collections::BTreeMap;

    let row = |name: &str| BTreeMap::from([("name", sea_orm::Value::from(name))]);
    let primary = MockDatabase::new(DbBackend::Sqlite)
        .append_query_results([[row("primary")]])
        .into_connection();
    // The replica's first connection attempt fails; later ones work.
    let replica = MockDatabase::new(DbBackend::Sqlite)
        .append_query_errors([sea_orm::DbErr::Conn(RuntimeErr::Internal("refused".into()))])
        .append_query_results([[row("replica0")]])
        .into_connection();
    let db = MultiDb::builder()
        .replica_rest(std::time::Duration::from_millis(100))
        .build(primary, vec![replica])?;
    assert_eq!(scope(who_answers(&db)).await?, "primary");
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    assert_eq!(scope(who_answers(&db)).await?, "replica0");
    Ok(())
}

#[tokio::test]
async fn a_read_only_transaction_does_not_count_as_a_write() -> TestResult {
    let set = SqliteSet::new(1).await?;
    scope(async {
        let txn = set
            .db
            .begin_with_config(None, Some(sea_orm::AccessMode::ReadOnly))
            .await?;
        txn.commit().await?;
        assert_eq!(who_answers(&set.db).await?, "replica0");
        let txn = set.db.begin().await?;
        txn.commit().await?;
        assert_eq!(who_answers(&set.db).await?, "primary");
        Ok::<_, sea_orm::DbErr>(())
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn replicas_of_another_backend_are_refused() -> TestResult {
    let set = SqliteSet::new(0).await?;
    let mock = sea_orm::MockDatabase::new(DbBackend::Postgres).into_connection();
    let error = MultiDb::new(set.db.primary().clone(), vec![mock])
        .expect_err("a Postgres replica under a SQLite primary");
    assert!(error.to_string().contains("replica #0"), "{error}");
    Ok(())
}

#[tokio::test]
async fn raw_statements_are_routed_by_their_text() -> TestResult {
    let set = SqliteSet::new(1).await?;
    scope(async {
        let read = Statement::from_string(DbBackend::Sqlite, "SELECT name FROM whoami");
        let rows = set.db.query_all_raw(read).await?;
        assert_eq!(rows[0].try_get::<String>("", "name")?, "replica0");
        let write = Statement::from_string(
            DbBackend::Sqlite,
            "INSERT INTO post (title) VALUES ('raw') RETURNING id",
        );
        assert!(set.db.query_one_raw(write).await?.is_some());
        Ok::<_, sea_orm::DbErr>(())
    })
    .await?;
    assert_eq!(post::Entity::find().count(set.db.primary()).await?, 1);
    Ok(())
}

#[tokio::test]
async fn declared_read_only_functions_read_replicas_and_others_go_to_the_primary() -> TestResult {
    let set = SqliteSet::new(1).await?;
    let declared = MultiDb::builder()
        .read_only_functions(["app_score"])
        .build(set.db.primary().clone(), set.db.replicas().to_vec())?;
    // The function does not exist: the answer is an error either way; what
    // is checked is where the statement went.
    let call = || Statement::from_string(DbBackend::Sqlite, "SELECT app_score(1) AS s");
    let _ = scope(set.db.query_one_raw(call())).await;
    assert_eq!(
        set.db.stats().count(Target::Primary, Reason::Write),
        1,
        "unknown function: may write"
    );
    let _ = scope(declared.query_one_raw(call())).await;
    assert_eq!(
        declared.stats().count(Target::Replica, Reason::Policy),
        1,
        "declared read-only"
    );
    let refused = MultiDb::builder()
        .read_only_functions(["nextval"])
        .build(set.db.primary().clone(), vec![]);
    let error = refused.expect_err("a function known to write");
    assert!(error.to_string().contains("read_only_functions"), "{error}");
    Ok(())
}
