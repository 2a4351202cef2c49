//! Which connection gets which statement, over `MockDatabase` connections (see
//! `common/mod.rs`). Replicas and the policy: rotation, no replicas, backends,
//! accessors.

mod common;

use common::*;

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
            sqls(&replica(&db, index)).len(),
            2,
            "replica {index}'s own log"
        );
    }

    // One more read (replica 0), then a clone: it must go on to replica 1,
    // not restart at 0.
    cake::Entity::find().all(&db).await.expect("read 7");
    let clone = db.clone();
    cake::Entity::find().all(&clone).await.expect("read 8");
    assert_eq!(sqls(&replica(&db, 0)).len(), 1);
    assert_eq!(sqls(&replica(&db, 1)).len(), 1);
    assert_eq!(sqls(&replica(&db, 2)).len(), 0);
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
    // `replica()` hands out a handle: which replica it is shows in whose
    // log a statement sent through it lands.
    let mut picked = Vec::new();
    for _ in 0..5 {
        // A mock logs the statement even when it has no result to give.
        let _ = db.replica().execute_unprepared("SELECT 1").await;
        let index = (0..3)
            .find(|&i| !sqls(&replica(&db, i)).is_empty())
            .expect("replica() returns one of replicas()");
        picked.push(index);
    }
    assert_eq!(picked, [0, 1, 2, 0, 1]);
    assert!(sqls(primary(&db)).is_empty());
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

#[tokio::test]
async fn weighted_weights_stay_with_their_replicas_when_one_is_removed() {
    use multidb_seaorm::policy::Weighted;
    let sqlite = || sea_orm::Database::connect("sqlite::memory:");
    let db = MultiDb::builder()
        .policy(Weighted::new([1, 0, 3]))
        .build(
            sqlite().await.expect("primary"),
            vec![
                sqlite().await.expect("r0"),
                sqlite().await.expect("r1"),
                sqlite().await.expect("r2"),
            ],
        )
        .expect("one backend");
    let first = db.replica_status()[0].id;
    db.remove_replica(first).await.expect("r0 removed");
    let ids: Vec<String> = db
        .replica_status()
        .iter()
        .map(|s| s.id.to_string())
        .collect();
    assert_eq!(ids, ["r1", "r2"]);
    for _ in 0..40 {
        db.query_one_raw(Statement::from_string(DbBackend::Sqlite, "SELECT 1"))
            .await
            .expect("read");
    }
    // r1 weighs 0 and r2 weighs 3: every read on r2. By position, the
    // survivors would have weighed 1 and 0, and r1 had them all.
    assert_eq!((db.stats().replica(0), db.stats().replica(1)), (0, 40));
}
