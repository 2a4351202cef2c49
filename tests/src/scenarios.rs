//! Scenarios run against a real replication [`Cluster`], the same for
//! PostgreSQL and MariaDB; `tests/tests/{postgres,mariadb}.rs` call them.

use std::collections::BTreeSet;
use std::time::Instant;

use futures_util::TryStreamExt;
use multidb_seaorm::{MultiDb, Reason, Target, scope, use_master};
use sea_orm::entity::prelude::*;
use sea_orm::{
    ConnectionTrait, Database, DbBackend, QuerySelect, Set, Statement, StreamTrait,
    TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

use crate::servers::{Cluster, port_of_url, wait_until};

/// What a scenario returns.
pub type Outcome = Result<(), Box<dyn std::error::Error + Send + Sync>>;

fn boxed<E: std::fmt::Display>(error: E) -> Box<dyn std::error::Error + Send + Sync> {
    error.to_string().into()
}

crate::post_entity!(workload_post, "workload_post");
crate::post_entity!(ryw_post, "ryw_post");

/// Reads alternate over both replicas; the primary serves none of them;
/// writes land on the primary.
pub async fn reads_spread_over_replicas_and_writes_land_on_the_primary(c: &Cluster) -> Outcome {
    c.create_table("spread_post").await.map_err(boxed)?;
    let db = c.both_replicas().await.map_err(boxed)?;
    let (replica, delayed, primary) = (
        port_of_url(&c.replica),
        port_of_url(&c.delayed),
        port_of_url(&c.primary),
    );
    let mut ports = Vec::new();
    for _ in 0..4 {
        ports.push(Some(scope(c.port_of(&db)).await?));
    }
    assert_eq!(ports, [replica, delayed, replica, delayed]);
    assert!(!ports.contains(&primary));

    scope(db.execute_unprepared("INSERT INTO spread_post (title) VALUES ('w')")).await?;
    let on_primary = Database::connect(c.primary.as_str()).await?;
    let count = count_rows(&on_primary, c.backend, "spread_post").await?;
    assert_eq!(count, 1, "the write is on the primary");
    Ok(())
}

async fn count_rows(
    db: &impl ConnectionTrait,
    backend: DbBackend,
    table: &str,
) -> Result<i64, DbErr> {
    let stmt = Statement::from_string(backend, format!("SELECT COUNT(*) AS n FROM {table}"));
    let row = db
        .query_one_raw(stmt)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("COUNT(*) gave no row".into()))?;
    row.try_get("", "n")
}

/// The premise of everything else: the delayed replica really lags, the
/// other follows within milliseconds, and both refuse writes.
pub async fn lag_is_real_and_replicas_refuse_writes(c: &Cluster) -> Outcome {
    c.create_table("lag_post").await.map_err(boxed)?;
    let primary = Database::connect(c.primary.as_str()).await?;
    let replica = Database::connect(c.replica.as_str()).await?;
    let delayed = Database::connect(c.delayed.as_str()).await?;

    primary
        .execute_unprepared("INSERT INTO lag_post (title) VALUES ('x')")
        .await?;
    let written = Instant::now();
    assert_eq!(
        count_rows(&delayed, c.backend, "lag_post").await?,
        0,
        "delayed replica already has the row"
    );
    let fast = wait_until(c.delay, || async {
        count_rows(&replica, c.backend, "lag_post").await.ok() == Some(1)
    })
    .await
    .map_err(|waited| format!("fast replica did not catch up in {waited:?}"))?;
    wait_until(c.delay * 10, || async {
        count_rows(&delayed, c.backend, "lag_post").await.ok() == Some(1)
    })
    .await
    .map_err(|waited| format!("delayed replica did not catch up in {waited:?}"))?;
    let slow = written.elapsed();
    println!(
        "{:?}: fast replica caught up after {fast:?}, delayed after {slow:?}",
        c.backend
    );
    assert!(
        slow >= c.least_lag().mul_f32(0.8),
        "the delayed replica caught up in {slow:?}"
    );

    for (name, db) in [("replica", &replica), ("delayed replica", &delayed)] {
        let refused = db
            .execute_unprepared("INSERT INTO lag_post (title) VALUES ('misrouted')")
            .await
            .map_err(|e| e.to_string());
        let message = refused.expect_err(&format!("the {name} accepted a write"));
        assert!(
            message.contains("read-only"),
            "the {name} refused for another reason: {message}"
        );
    }
    Ok(())
}

/// Many tasks mixing reads, entity and raw writes and transactions through
/// one `MultiDb`: no statement may reach a replica that refuses it.
pub async fn mixed_concurrent_workload_never_writes_to_a_replica(c: &Cluster) -> Outcome {
    c.create_table("workload_post").await.map_err(boxed)?;
    let db = c.both_replicas().await.map_err(boxed)?;
    let mut tasks = Vec::new();
    for task in 0..16 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            for step in 0..20 {
                scope(workload_step(&db, task, step)).await?;
            }
            Ok::<_, DbErr>(())
        }));
    }
    let mut errors = Vec::new();
    for task in tasks {
        if let Err(error) = task.await? {
            errors.push(error.to_string());
        }
    }
    assert!(errors.is_empty(), "errors: {errors:?}");
    let stats = db.stats();
    assert!(stats.replica(0) > 0 && stats.replica(1) > 0, "{stats:?}");
    assert!(
        stats.count(Target::Primary, Reason::Write) >= 16 * 12,
        "{stats:?}"
    );
    Ok(())
}

async fn workload_step(db: &MultiDb, task: i32, step: i32) -> Result<(), DbErr> {
    use workload_post::{ActiveModel, Column, Entity};
    let title = format!("t{task}-s{step}");
    match step % 5 {
        0 => {
            let post = ActiveModel {
                title: Set(title.clone()),
                ..Default::default()
            }
            .insert(db)
            .await?;
            let mut post: ActiveModel = post.into();
            post.title = Set(format!("{title}-edited"));
            post.update(db).await?;
        }
        1 => {
            Entity::find()
                .filter(Column::Title.starts_with(format!("t{task}-")))
                .all(db)
                .await?;
        }
        2 => {
            let txn = db.begin().await?;
            ActiveModel {
                title: Set(title),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            Entity::find().count(&txn).await?;
            txn.commit().await?;
        }
        3 => {
            let backend = db.get_database_backend();
            let sql = format!(
                "UPDATE workload_post SET title = CONCAT(title, '!') WHERE title = '{title}'"
            );
            db.execute_raw(Statement::from_string(backend, sql)).await?;
            Entity::find().count(db).await?;
        }
        _ => {
            db.execute_unprepared(&format!(
                "INSERT INTO workload_post (title) VALUES ('{title}')"
            ))
            .await?;
        }
    }
    Ok(())
}

/// Read-your-writes while the only replica lags: in a scope after a write,
/// with `use_master`, with `#[db_write]`, and SeaORM's `insert`/`update`
/// (which read the row back on MySQL) in and out of a scope.
pub async fn read_your_writes_under_real_lag(c: &Cluster) -> Outcome {
    use ryw_post::{ActiveModel, Entity};
    c.create_table("ryw_post").await.map_err(boxed)?;
    let db = c.delayed_only().await.map_err(boxed)?;
    let delayed = Database::connect(c.delayed.as_str()).await?;

    // In a scope, after a write.
    let id = scope(async {
        let post = ActiveModel {
            title: Set("scoped".into()),
            ..Default::default()
        }
        .insert(&db)
        .await?;
        let mut edit: ActiveModel = post.clone().into();
        edit.title = Set("scoped, edited".into());
        edit.update(&db).await?;
        let found = Entity::find_by_id(post.id).one(&db).await?;
        assert_eq!(found.map(|p| p.title).as_deref(), Some("scoped, edited"));
        Ok::<_, DbErr>(post.id)
    })
    .await?;
    // The premise: the replica does not have it yet.
    assert!(
        Entity::find_by_id(id).one(&delayed).await?.is_none(),
        "replica not lagging"
    );
    // So a fresh scope, reading the replica, does not see it either.
    assert!(scope(Entity::find_by_id(id).one(&db)).await?.is_none());
    // use_master does.
    assert!(use_master(Entity::find_by_id(id).one(&db)).await?.is_some());
    // So does a #[db_write] handler that wrote.
    let title = scope(db_write_handler(&db)).await?;
    assert_eq!(title, "from db_write");

    // A transaction that wrote, then a read in the same scope.
    let committed = scope(async {
        let txn = db.begin().await?;
        let post = ActiveModel {
            title: Set("in a transaction".into()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Entity::find_by_id(post.id).one(&db).await
    })
    .await?;
    assert!(
        committed.is_some(),
        "the read after the commit met the lagging replica"
    );

    // Out of any scope: insert and update (MySQL: write, then select back).
    let unscoped = ActiveModel {
        title: Set("unscoped".into()),
        ..Default::default()
    }
    .insert(&db)
    .await?;
    let mut edit: ActiveModel = unscoped.into();
    edit.title = Set("unscoped, edited".into());
    let edited = edit.update(&db).await?;
    assert_eq!(edited.title, "unscoped, edited");
    assert!(Entity::find_by_id(edited.id).one(&db).await?.is_some());
    Ok(())
}

#[multidb_seaorm::db_write]
async fn db_write_handler(db: &MultiDb) -> Result<String, DbErr> {
    use ryw_post::{ActiveModel, Entity};
    let post = ActiveModel {
        title: Set("from db_write".into()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let found = Entity::find_by_id(post.id)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("just written".into()))?;
    Ok(found.title)
}

/// Transactions, `FOR UPDATE`, sequences and migrations run on the
/// primary; streaming reads on the replicas.
pub async fn primary_only_statements_and_streams(c: &Cluster) -> Outcome {
    c.create_table("lock_post").await.map_err(boxed)?;
    let db = c.both_replicas().await.map_err(boxed)?;
    let primary_port = port_of_url(&c.primary);
    scope(db.execute_unprepared("INSERT INTO lock_post (title) VALUES ('row')")).await?;

    // A transaction reads the primary.
    let txn = db.begin().await?;
    assert_eq!(Some(c.port_of(&txn).await?), primary_port);
    txn.commit().await?;

    // SELECT … FOR UPDATE goes to the primary: raw, answering its port…
    let port_sql = match c.backend {
        DbBackend::Postgres => {
            "SELECT inet_server_port()::bigint AS port FROM lock_post LIMIT 1 FOR UPDATE"
        }
        _ => "SELECT CAST(@@port AS SIGNED) AS port FROM lock_post LIMIT 1 FOR UPDATE",
    };
    let locked = scope(db.query_one_raw(Statement::from_string(c.backend, port_sql))).await?;
    let port: i64 = locked.ok_or("no row")?.try_get("", "port")?;
    assert_eq!(Some(port), primary_port);
    // …and built by SeaORM, without a transaction: a PostgreSQL replica
    // refuses row locks ("cannot execute SELECT FOR UPDATE in a read-only
    // transaction"), so success on PostgreSQL shows it reached the primary.
    let locked = scope(lock_post::Entity::find().lock_exclusive().all(&db)).await?;
    assert_eq!(locked.len(), 1);
    assert_eq!(db.stats().count(Target::Replica, Reason::Policy), 0);

    if c.backend == DbBackend::Postgres {
        scope(db.execute_unprepared("CREATE SEQUENCE IF NOT EXISTS multidb_seq")).await?;
        let next = Statement::from_string(c.backend, "SELECT nextval('multidb_seq') AS n");
        // A replica would refuse: "cannot execute nextval() in a read-only transaction".
        assert!(scope(db.query_one_raw(next)).await?.is_some());
    }

    // Migrations run on the primary; from nothing, on a cluster that an
    // earlier run migrated too (the replicas still have its tables).
    let primary = Database::connect(c.primary.as_str()).await?;
    for table in ["migrated_post", "seaql_migrations"] {
        primary
            .execute_unprepared(&format!("DROP TABLE IF EXISTS {table}"))
            .await?;
    }
    migration::Migrator::up(&db, None).await?;
    assert_eq!(count_rows(&primary, c.backend, "migrated_post").await?, 0);

    // Streams read replicas (one scope each: a scope stays on one replica).
    let mut stream_ports = BTreeSet::new();
    for _ in 0..2 {
        let rows: Vec<_> = scope(async {
            let stmt = Statement::from_string(c.backend, c.port_query());
            db.stream_raw(stmt).await?.try_collect().await
        })
        .await?;
        for row in rows {
            stream_ports.insert(row.try_get::<i64>("", "port")?);
        }
    }
    let replica_ports: BTreeSet<i64> = [port_of_url(&c.replica), port_of_url(&c.delayed)]
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(stream_ports, replica_ports);
    Ok(())
}

crate::post_entity!(lock_post, "lock_post");

mod migration {
    // The trait's signature elides SchemaManager's lifetime; so must the impl.
    #![allow(elided_lifetimes_in_paths)]
    use sea_orm_migration::prelude::*;

    pub(super) struct Migrator;

    impl MigratorTrait for Migrator {
        fn migrations() -> Vec<Box<dyn MigrationTrait>> {
            vec![Box::new(CreateMigratedPost)]
        }
    }

    #[derive(DeriveMigrationName)]
    struct CreateMigratedPost;

    #[async_trait::async_trait]
    impl MigrationTrait for CreateMigratedPost {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .create_table(
                    Table::create()
                        .table("migrated_post")
                        .if_not_exists()
                        .col(ColumnDef::new("id").integer().not_null().primary_key())
                        .col(ColumnDef::new("title").string().not_null())
                        .to_owned(),
                )
                .await
        }
    }
}

/// A replica that refuses connections (nothing listens on its port) costs
/// reads nothing but time: they are retried on the other replica, then the
/// primary, and never fail.
pub async fn an_unreachable_replica_is_skipped_for_reads(c: &Cluster) -> Outcome {
    let dead_url = match c.backend {
        DbBackend::Postgres => "postgres://postgres@127.0.0.1:1/postgres",
        _ => "mysql://multidb_app:multidb@127.0.0.1:1/multidb",
    };
    let dead = sea_orm::ConnectOptions::new(dead_url)
        .connect_lazy(true)
        .acquire_timeout(std::time::Duration::from_millis(300))
        .to_owned();
    // No monitor: this is about the retry of the read that meets the dead
    // replica first (a monitor would take it out before any read).
    let db = MultiDb::builder()
        .policy(multidb_seaorm::policy::RoundRobin::starting_at(0))
        .monitor_interval(std::time::Duration::ZERO)
        .primary(c.primary.as_str())
        .replica(dead)
        .replica(c.replica.as_str())
        .connect()
        .await?;
    let port = scope(c.port_of(&db)).await?;
    assert_eq!(
        Some(port),
        port_of_url(&c.replica),
        "retried on the live replica"
    );
    assert_eq!(db.stats().count(Target::Replica, Reason::Fallback), 1);
    Ok(())
}

/// The monitor loads the primary's catalog of functions: a read-only user
/// function (PostgreSQL `STABLE`, MariaDB `READS SQL DATA`) that no allow
/// list knows goes to a replica once the catalog is loaded, a function that
/// may write (`VOLATILE`, `MODIFIES SQL DATA`) still to the primary.
pub async fn the_primarys_catalog_sends_read_only_functions_to_replicas(c: &Cluster) -> Outcome {
    let (admin_url, create) = match c.backend {
        DbBackend::Postgres => (
            c.primary.clone(),
            [
                "CREATE OR REPLACE FUNCTION multidb_cat_stable() RETURNS int STABLE \
                 LANGUAGE sql AS 'SELECT 42'",
                "CREATE OR REPLACE FUNCTION multidb_cat_volatile() RETURNS int VOLATILE \
                 LANGUAGE sql AS 'SELECT 7'",
            ],
        ),
        _ => (
            // Creating functions with binary logging on needs more than the
            // application's user may do.
            std::env::var("MULTIDB_MYSQL_ADMIN_PRIMARY_URL")
                .map_err(|_| "MULTIDB_MYSQL_ADMIN_PRIMARY_URL is not set")?,
            [
                "CREATE OR REPLACE FUNCTION multidb_cat_stable() RETURNS INT \
                 READS SQL DATA RETURN 42",
                "CREATE OR REPLACE FUNCTION multidb_cat_volatile() RETURNS INT \
                 DETERMINISTIC MODIFIES SQL DATA RETURN 7",
            ],
        ),
    };
    let admin = Cluster::connect(&admin_url).await?;
    for sql in create {
        admin.execute_unprepared(sql).await?;
    }
    let db = MultiDb::builder()
        .primary(c.primary.as_str())
        .replica(c.replica.as_str())
        .monitor_interval(std::time::Duration::from_millis(100))
        .connect()
        .await?;
    let backend = c.backend;
    let call =
        |function: &str| Statement::from_string(backend, format!("SELECT {function}() AS answer"));
    // Until the monitor's first tick loaded the catalog, the unknown
    // function goes to the primary (the conservative answer); then to the
    // replica, once it has replayed the function's creation.
    let waited = wait_until(std::time::Duration::from_secs(10), || {
        answered_by_a_replica(db.clone(), call("multidb_cat_stable"))
    })
    .await
    .map_err(|waited| {
        format!("the read-only function still went to the primary after {waited:?}")
    })?;
    let before = db.stats().count(Target::Primary, Reason::Write);
    scope(db.query_one_raw(call("multidb_cat_volatile"))).await?;
    assert_eq!(
        db.stats().count(Target::Primary, Reason::Write),
        before + 1,
        "a function that may write goes to the primary"
    );
    println!("{backend:?}: the read-only function reached the replica after {waited:?}");
    if backend == DbBackend::Postgres {
        // A function created through the MultiDb: its `CREATE` makes the
        // monitor check the catalog on its next ticks, not 30 s after the
        // first load (the MariaDB user cannot create functions here).
        db.execute_unprepared(
            "CREATE OR REPLACE FUNCTION multidb_cat_after_ddl() RETURNS int STABLE \
             LANGUAGE sql AS 'SELECT 43'",
        )
        .await?;
        let waited = wait_until(std::time::Duration::from_secs(10), || {
            answered_by_a_replica(db.clone(), call("multidb_cat_after_ddl"))
        })
        .await
        .map_err(|waited| {
            format!(
                "a function created through the MultiDb still went to the primary after \
                 {waited:?}: the catalog was not checked after the CREATE"
            )
        })?;
        println!(
            "{backend:?}: a function created through the MultiDb reached the replica after {waited:?}"
        );
        admin
            .execute_unprepared("DROP FUNCTION multidb_cat_after_ddl")
            .await?;
    }
    for function in ["multidb_cat_stable", "multidb_cat_volatile"] {
        admin
            .execute_unprepared(&format!("DROP FUNCTION {function}"))
            .await?;
    }
    Ok(())
}

/// A migration ran on the primary and a replica has not replayed it yet:
/// a read of the new table that lands there gets "no such table" (42P01 /
/// 42S02), which is not an answer from a replica behind the schema. The
/// read is retried on the primary and succeeds; the replica stays in.
pub async fn a_replica_behind_a_migration_sends_the_read_elsewhere(c: &Cluster) -> Outcome {
    // Not `migrated_post`, which `primary_only_statements_and_streams`
    // migrates, in parallel, and expects to find.
    let table = "late_migration_post";
    let primary = Database::connect(c.primary.as_str()).await?;
    primary
        .execute_unprepared(&format!("DROP TABLE IF EXISTS {table}"))
        .await?;
    // Wait until the delayed replica has dropped it too.
    let delayed = Database::connect(c.delayed.as_str()).await?;
    let probe = format!("SELECT COUNT(*) AS n FROM {table}");
    wait_until(c.delay * 10, || async {
        delayed
            .query_one_raw(Statement::from_string(c.backend, probe.clone()))
            .await
            .is_err()
    })
    .await
    .map_err(|waited| format!("the delayed replica still has {table} after {waited:?}"))?;
    // Only the delayed replica: a read either runs there or moves on.
    let db = MultiDb::builder()
        .primary(c.primary.as_str())
        .replica(c.delayed.as_str())
        .connect()
        .await?;
    // The migration, on the primary directly (as a migration tool would).
    primary
        .execute_unprepared(&format!(
            "CREATE TABLE {table} (id INT PRIMARY KEY, title VARCHAR(200) NOT NULL)"
        ))
        .await?;
    primary
        .execute_unprepared(&format!("INSERT INTO {table} VALUES (1, 'new')"))
        .await?;
    let started = Instant::now();
    let count = count_rows(&db, c.backend, table).await?;
    assert_eq!(count, 1, "the read was answered by the primary");
    assert!(
        started.elapsed() < c.delay,
        "the read did not wait for the replica"
    );
    let stats = db.stats();
    assert_eq!(stats.failures(0), 1, "it failed once on the replica");
    assert_eq!(stats.total(Target::Primary), 1, "then ran on the primary");
    assert_eq!(
        db.replica_status()[0].health,
        multidb_seaorm::ReplicaHealth::Up,
        "the replica stays in"
    );
    // Once the replica has the table, reads go there again.
    wait_until(c.delay * 10, || async {
        delayed
            .query_one_raw(Statement::from_string(c.backend, probe.clone()))
            .await
            .is_ok()
    })
    .await
    .map_err(|waited| format!("the delayed replica lacks {table} after {waited:?}"))?;
    let before = db.stats().replica(0);
    count_rows(&db, c.backend, table).await?;
    assert_eq!(db.stats().replica(0), before + 1, "back on the replica");
    primary
        .execute_unprepared(&format!("DROP TABLE {table}"))
        .await?;
    Ok(())
}

/// Whether `stmt`, read in a scope, was answered by a replica (one more
/// policy read there).
async fn answered_by_a_replica(db: MultiDb, stmt: Statement) -> bool {
    let before = db.stats().count(Target::Replica, Reason::Policy);
    let answered = scope(db.query_one_raw(stmt))
        .await
        .is_ok_and(|row| row.is_some());
    answered && db.stats().count(Target::Replica, Reason::Policy) == before + 1
}
