//! django-multidb-router's pinning tests, ported to tasks, observed on
//! SQLite files whose contents say which database answered.

use std::sync::Arc;

use multidb_seaorm::{
    MultiDb, db_write, in_current_scope, pin_this_task, scope, this_task_is_pinned,
    unpin_this_task, use_master,
};
use multidb_tests::{SqliteSet, who_answers};
use sea_orm::{ConnectionTrait, DbErr};
use tokio::sync::Barrier;

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[tokio::test]
async fn a_task_starts_unpinned_and_reads_a_replica() -> TestResult {
    let set = SqliteSet::new(1).await?;
    scope(async {
        assert!(!this_task_is_pinned());
        assert_eq!(who_answers(&set.db).await?, "replica0");
        Ok::<_, DbErr>(())
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn pin_then_unpin() -> TestResult {
    let set = SqliteSet::new(1).await?;
    scope(async {
        pin_this_task();
        assert!(this_task_is_pinned());
        assert_eq!(who_answers(&set.db).await?, "primary");
        unpin_this_task();
        assert!(!this_task_is_pinned());
        assert_eq!(who_answers(&set.db).await?, "replica0");
        Ok::<_, DbErr>(())
    })
    .await?;
    Ok(())
}

#[multidb_seaorm::db_write]
async fn write_view(db: &MultiDb) -> Result<String, DbErr> {
    who_answers(db).await
}

#[tokio::test]
async fn a_db_write_view_reads_the_primary_and_leaves_the_task_unpinned() -> TestResult {
    let set = SqliteSet::new(1).await?;
    let request = multidb_seaorm::RequestContext::new();
    request
        .scope(false, async {
            assert_eq!(write_view(&set.db).await?, "primary");
            assert!(!this_task_is_pinned());
            assert_eq!(who_answers(&set.db).await?, "replica0");
            Ok::<_, DbErr>(())
        })
        .await?;
    assert!(
        request.db_write_marked(),
        "the request is marked for pinning"
    );
    Ok(())
}

#[multidb_seaorm::use_master]
async fn master_reader(db: &MultiDb) -> Result<String, DbErr> {
    who_answers(db).await
}

#[tokio::test]
async fn use_master_starting_unpinned_and_starting_pinned() -> TestResult {
    let set = SqliteSet::new(1).await?;
    scope(async {
        assert_eq!(master_reader(&set.db).await?, "primary");
        assert!(!this_task_is_pinned(), "unpinned again after the block");
        pin_this_task();
        assert_eq!(master_reader(&set.db).await?, "primary");
        assert!(
            this_task_is_pinned(),
            "still pinned: it was before the block"
        );
        Ok::<_, DbErr>(())
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn an_error_inside_use_master_propagates_and_the_state_is_restored() -> TestResult {
    let set = SqliteSet::new(1).await?;
    scope(async {
        let result = use_master(async {
            set.db
                .execute_unprepared("SELECT * FROM no_such_table")
                .await
        })
        .await;
        assert!(result.is_err());
        assert!(!this_task_is_pinned());
        Ok::<_, DbErr>(())
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn nesting_restores_the_outer_state() {
    scope(async {
        use_master(async {
            use_master(async {
                unpin_this_task();
                assert!(!this_task_is_pinned());
            })
            .await;
            assert!(this_task_is_pinned(), "outer block still pinned");
        })
        .await;
        assert!(!this_task_is_pinned());
    })
    .await;
}

#[tokio::test]
async fn a_panic_inside_use_master_restores_the_state() {
    scope(async {
        let caught = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(
            use_master(async { panic!("handler failed") }),
        ))
        .await;
        assert!(caught.is_err());
        assert!(!this_task_is_pinned());
    })
    .await;
}

#[tokio::test]
async fn a_cancelled_use_master_restores_the_state() {
    scope(async {
        let never = use_master(std::future::pending::<()>());
        let timed_out = tokio::time::timeout(std::time::Duration::from_millis(10), never).await;
        assert!(timed_out.is_err());
        assert!(!this_task_is_pinned());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_tasks_keep_separate_states() -> TestResult {
    let set = Arc::new(SqliteSet::new(1).await?);
    let barrier = Arc::new(Barrier::new(2));
    let pinned_task = {
        let (set, barrier) = (set.clone(), barrier.clone());
        tokio::spawn(scope(async move {
            pin_this_task();
            barrier.wait().await; // the other task looks now
            barrier.wait().await;
            who_answers(&set.db).await
        }))
    };
    let plain_task = {
        let (set, barrier) = (set.clone(), barrier.clone());
        tokio::spawn(scope(async move {
            barrier.wait().await;
            let pinned = this_task_is_pinned();
            let answer = who_answers(&set.db).await;
            barrier.wait().await;
            (pinned, answer)
        }))
    };
    assert_eq!(pinned_task.await??, "primary");
    let (pinned, answer) = plain_task.await?;
    assert!(!pinned);
    assert_eq!(answer?, "replica0");
    Ok(())
}

#[tokio::test]
async fn read_after_write_in_a_task_then_a_fresh_task_reads_replicas() -> TestResult {
    let set = SqliteSet::new(1).await?;
    scope(async {
        set.db
            .execute_unprepared("INSERT INTO post (title) VALUES ('x')")
            .await?;
        assert_eq!(who_answers(&set.db).await?, "primary");
        Ok::<_, DbErr>(())
    })
    .await?;
    let fresh = tokio::spawn({
        let db = set.db.clone();
        scope(async move { who_answers(&db).await })
    });
    assert_eq!(fresh.await??, "replica0");
    Ok(())
}

#[tokio::test]
async fn a_spawned_task_shares_the_requests_writes() -> TestResult {
    let set = SqliteSet::new(1).await?;
    scope(async {
        let db = set.db.clone();
        tokio::spawn(in_current_scope(async move {
            db.execute_unprepared("INSERT INTO post (title) VALUES ('from a job')")
                .await
        }))
        .await
        .map_err(|e| DbErr::Custom(e.to_string()))??;
        assert_eq!(who_answers(&set.db).await?, "primary");
        Ok::<_, DbErr>(())
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn outside_any_scope_pinning_is_a_no_op_and_use_master_still_works() -> TestResult {
    let set = SqliteSet::new(1).await?;
    pin_this_task();
    assert!(!this_task_is_pinned());
    assert_eq!(who_answers(&set.db).await?, "replica0");
    assert_eq!(use_master(who_answers(&set.db)).await?, "primary");
    // db_write outside any request still reads the primary, and marks nothing.
    assert_eq!(db_write(who_answers(&set.db)).await?, "primary");
    Ok(())
}
