//! Many tasks routing through one `MultiDb` at once, on a 2-worker tokio
//! runtime: 1 task, then 10,000 concurrent tasks, each side by side with
//! the same tasks on the bare connection. If routing took a global lock, or
//! fought over one cache line, the time per statement would grow with the
//! tasks more through `MultiDb` than through the bare connection. Target:
//! it does not collapse (no global lock).
//!
//!     cargo bench -p multidb-benches --bench concurrency
//!
//! The database is SeaORM's mock connection with a backend that answers
//! every query with no rows at once and keeps no log
//! (`multidb_benches::NullBackend`), so the routing is most of what is
//! measured. (Its `Mutex` is per connection and is taken on both sides.)
//! Each task sends `SELECT … WHERE id = $1` with `query_one_raw`, outside
//! any scope (the cheapest and most shared path: the unscoped-write check
//! reads a process-wide atomic).
//!
//! Two more cases, for callgrind only (`benches/callgrind.sh`), give the
//! floor of any router built on SeaORM's API: `forward` wraps the
//! connection in a future of its own that awaits the statement (the trait
//! returns a boxed future, so that costs a box), and `forward_copy` also
//! keeps a copy of the statement, as a wrapper that may retry a read must
//! (SeaORM takes the statement by value and does not give it back on
//! error).

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::Criterion;
use multidb_benches::{Mode, machine, null_connection, paired};
use multidb_seaorm::{MultiDb, Reason, Target};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult, Statement,
};
use tokio::runtime::Runtime;

const SQL: &str =
    r#"SELECT "bench_kv"."id", "bench_kv"."v" FROM "bench_kv" WHERE "bench_kv"."id" = $1 LIMIT $2"#;
const TASKS: usize = 10_000;
/// Statements each of the 10,000 tasks sends per batch in the paired runs.
const PER_TASK: u64 = 5;

async fn one<C: ConnectionTrait>(db: &C, id: i64) {
    let stmt = Statement::from_sql_and_values(DbBackend::Postgres, SQL, [id.into(), 1i64.into()]);
    let row = db
        .query_one_raw(stmt)
        .await
        .expect("the null backend answers every query");
    black_box(row);
}

/// A connection that forwards every statement to `inner`, keeping a copy
/// of it first when `keep_copy` is set: what any wrapper pays.
struct Forward {
    inner: DatabaseConnection,
    keep_copy: bool,
}

impl Forward {
    fn kept(&self, stmt: &Statement) -> Option<Statement> {
        self.keep_copy.then(|| stmt.clone())
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Forward {
    fn get_database_backend(&self) -> DbBackend {
        self.inner.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        let kept = self.kept(&stmt);
        let result = self.inner.execute_raw(stmt).await;
        black_box(kept);
        result
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.inner.execute_unprepared(sql).await
    }

    // The one measured. Written out as `MultiDb`'s are: the one box the
    // trait demands and one state machine in it, so that the wrapper can
    // act on the answer (a router must, to retry), and no `async_trait`
    // block around that.
    fn query_one_raw<'a, 'async_trait>(
        &'a self,
        stmt: Statement,
    ) -> Pin<Box<dyn Future<Output = Result<Option<QueryResult>, DbErr>> + Send + 'async_trait>>
    where
        'a: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move {
            let kept = self.kept(&stmt);
            let answer = self.inner.query_one_raw(stmt).await;
            black_box(kept);
            answer
        })
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let kept = self.kept(&stmt);
        let result = self.inner.query_all_raw(stmt).await;
        black_box(kept);
        result
    }
}

/// `tasks` tasks, spawned at once, each sending `per_task` statements;
/// the wall time of them all.
fn run_all<C>(rt: &Runtime, db: &Arc<C>, tasks: usize, per_task: u64) -> Duration
where
    C: ConnectionTrait + Send + Sync + 'static,
{
    rt.block_on(async {
        let start = Instant::now();
        let handles: Vec<_> = (0..tasks)
            .map(|t| {
                let db = Arc::clone(db);
                tokio::spawn(async move {
                    for i in 0..per_task {
                        one(&*db, (t as i64) * 31 + i as i64).await;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.expect("a routing task panicked");
        }
        start.elapsed()
    })
}

/// [`run_all`] divided by `tasks`: criterion's "per iteration" is then per
/// statement (it asks for `per_task` iterations).
fn run<C>(rt: &Runtime, db: &Arc<C>, tasks: usize, per_task: u64) -> Duration
where
    C: ConnectionTrait + Send + Sync + 'static,
{
    run_all(rt, db, tasks, per_task) / tasks as u32
}

fn main() {
    let mode = Mode::from_args();
    println!("machine: {}", machine());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let replica = null_connection(DbBackend::Postgres);
    let routed = Arc::new(
        MultiDb::new(null_connection(DbBackend::Postgres), vec![replica.clone()])
            .expect("MultiDb over the null backend"),
    );
    let forward = |keep_copy| {
        Arc::new(Forward {
            inner: replica.clone(),
            keep_copy,
        })
    };
    let (forward, forward_copy) = (forward(false), forward(true));
    let bare = Arc::new(replica);

    if let Some(profile) = &mode.profile {
        let mut cases = Vec::new();
        profile.maybe("concurrency/1_task/forward", |n| run(&rt, &forward, 1, n));
        profile.maybe("concurrency/1_task/forward_copy", |n| {
            run(&rt, &forward_copy, 1, n)
        });
        cases.extend(
            [
                "concurrency/1_task/forward",
                "concurrency/1_task/forward_copy",
            ]
            .map(String::from),
        );
        for (name, tasks) in [
            ("concurrency/1_task", 1),
            ("concurrency/10000_tasks", TASKS),
        ] {
            let (without, with) = (format!("{name}/bare"), format!("{name}/multidb"));
            profile.maybe(&without, |n| run(&rt, &bare, tasks, n));
            profile.maybe(&with, |n| run(&rt, &routed, tasks, n));
            cases.extend([without, with]);
        }
        profile.unknown(&cases.iter().map(String::as_str).collect::<Vec<_>>());
    }
    let mut c: Criterion = multidb_benches::criterion();
    for (name, tasks) in [
        ("concurrency/1_task", 1),
        ("concurrency/10000_tasks", TASKS),
    ] {
        let mut g = c.benchmark_group(name);
        g.bench_function("bare", |b| b.iter_custom(|n| run(&rt, &bare, tasks, n)));
        g.bench_function("multidb", |b| {
            b.iter_custom(|n| run(&rt, &routed, tasks, n))
        });
        g.finish();
    }

    let mut found = Vec::new();
    for (name, tasks, unit) in [
        ("concurrency/1_task", 1, 1),
        ("concurrency/10000_tasks", TASKS, PER_TASK),
    ] {
        if mode.wants(name) {
            found.push(paired::compare_scaled(
                name,
                &mode,
                tasks as u64 * unit,
                |n| run_all(&rt, &bare, tasks, n * unit),
                |n| run_all(&rt, &routed, tasks, n * unit),
            ));
        }
    }
    if let [single, many] = &found[..] {
        println!(
            "concurrency: time per statement with 10,000 tasks / with 1 task: \
             bare {:.2}x, multidb {:.2}x (fastest deciles: bare {:.2}x, multidb {:.2}x); \
             multidb {:.2} M statements/s with 1 task, {:.2} M/s with 10,000 tasks \
             (bare {:.2} and {:.2})",
            many.bare_ns / single.bare_ns,
            many.routed_ns / single.routed_ns,
            many.fast_ns.0 / single.fast_ns.0,
            many.fast_ns.1 / single.fast_ns.1,
            1e3 / single.routed_ns,
            1e3 / many.routed_ns,
            1e3 / single.bare_ns,
            1e3 / many.bare_ns,
        );
    }
    let stats = routed.stats();
    assert_eq!(
        stats.count(Target::Replica, Reason::Policy),
        stats.total(Target::Replica) + stats.total(Target::Primary),
        "every statement should have been routed to the replica"
    );
    c.final_summary();
}
