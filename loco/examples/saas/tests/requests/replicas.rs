//! End to end over real PostgreSQL replication (`scripts/test-loco.sh`: a
//! primary, a streaming replica and one delayed by 1 s): what a user of the
//! ported starter does, 20 times each, never reads around their own write;
//! jobs enqueued after a write find their row; list reads go to replicas.

use std::sync::mpsc;
use std::time::Duration;

use app::{app::App, workers::report};
use loco_rs::{
    app::Hooks, boot::StartMode, config::WorkerMode, environment::Environment, prelude::*,
    TestServer,
};
use multidb_loco::{multidb_seaorm::Target, testing::request, Causal, CausalWorker};
use serial_test::serial;

const ROUNDS: usize = 20;

fn bearer(token: &str) -> (axum::http::HeaderName, axum::http::HeaderValue) {
    super::prepare_data::auth_header(token)
}

/// Register a new user and log in: the token.
async fn register_and_login(server: &TestServer, email: &str) -> String {
    let user = serde_json::json!({ "name": "loco", "email": email, "password": "12341234" });
    let registered = server.post("/api/auth/register").json(&user).await;
    assert_eq!(registered.status_code(), 200, "{}", registered.text());
    let login = serde_json::json!({ "email": email, "password": "12341234" });
    let response = server.post("/api/auth/login").json(&login).await;
    assert_eq!(response.status_code(), 200, "{}", response.text());
    response.json::<serde_json::Value>()["token"]
        .as_str()
        .expect("a token")
        .to_owned()
}

fn unique(what: &str, round: usize) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{what}-{round}-{nanos}")
}

fn replicas_serve_reads() -> bool {
    std::env::var("DATABASE_REPLICA_URLS").is_ok_and(|urls| !urls.is_empty())
}

#[tokio::test]
#[serial]
async fn register_login_current_user_never_misses() {
    request::<App, _, _>(|server, _ctx| async move {
        let mut misses = 0;
        for round in 0..ROUNDS {
            let token =
                register_and_login(&server, &format!("{}@loco.com", unique("u", round))).await;
            let (name, value) = bearer(&token);
            let current = server
                .get("/api/auth/current")
                .add_header(name, value)
                .await;
            if current.status_code() != 200 {
                misses += 1;
            }
        }
        println!("register → login → current user: {misses} misses in {ROUNDS}");
        assert_eq!(misses, 0);
    })
    .await;
}

#[tokio::test]
#[serial]
async fn create_then_show_and_list_never_miss_and_lists_read_replicas() {
    request::<App, _, _>(|server, ctx| async move {
        let token = register_and_login(&server, &format!("{}@loco.com", unique("p", 0))).await;
        let db = multidb_loco::db(&ctx).expect("the initializer ran");
        let replica_reads = db.stats().total(Target::Replica);
        let (mut show_misses, mut list_misses) = (0, 0);
        for round in 0..ROUNDS {
            let (name, value) = bearer(&token);
            let post = serde_json::json!({ "title": unique("post", round), "content": "hi" });
            let created = server
                .post("/api/posts")
                .add_header(name, value)
                .json(&post)
                .await;
            assert_eq!(created.status_code(), 201, "{}", created.text());
            let id = created.json::<serde_json::Value>()["id"]
                .as_i64()
                .expect("an id");
            let (name, value) = bearer(&token);
            let shown = server
                .get(&format!("/api/posts/{id}"))
                .add_header(name, value)
                .await;
            if shown.status_code() != 200 {
                show_misses += 1;
            }
            let (name, value) = bearer(&token);
            let list = server
                .get("/api/posts?page_size=1000")
                .add_header(name, value)
                .await;
            let listed = list.json::<serde_json::Value>()["items"]
                .as_array()
                .is_some_and(|items| items.iter().any(|item| item["id"].as_i64() == Some(id)));
            if !listed {
                list_misses += 1;
            }
        }
        let during = db.stats().total(Target::Replica) - replica_reads;
        // Once the replicas have replayed the author's last write (the
        // delayed one after 1 s) and the monitor has seen it, the author's
        // pin sends the lists to them.
        tokio::time::sleep(Duration::from_millis(2_000)).await;
        let replica_reads = db.stats().total(Target::Replica);
        let mut stale_lists = 0;
        for _ in 0..ROUNDS {
            let (name, value) = bearer(&token);
            let list = server
                .get("/api/posts?page_size=1000")
                .add_header(name, value)
                .await;
            let items = list.json::<serde_json::Value>()["items"]
                .as_array()
                .map_or(0, Vec::len);
            if items < ROUNDS {
                stale_lists += 1;
            }
        }
        let after = db.stats().total(Target::Replica) - replica_reads;
        println!(
            "create → show: {show_misses} misses in {ROUNDS}; list after create: {list_misses} \
             misses in {ROUNDS} ({during} reads on replicas: right after a write they have not \
             been seen to reach it); {ROUNDS} lists 2 s later: {after} reads on replicas, \
             {stale_lists} stale"
        );
        assert_eq!((show_misses, list_misses, stale_lists), (0, 0, 0));
        if replicas_serve_reads() {
            // Each list is two reads (count, page).
            assert!(after >= 2 * ROUNDS as u64, "{after} replica reads");
        }
    })
    .await;
}

/// The app as `cargo loco start` runs it with `workers.mode: BackgroundAsync`:
/// Loco spawns each job in a task of its own, outside the request.
async fn boot_with_async_workers() -> (TestServer, AppContext) {
    let mut config = App::load_config(&Environment::Test).await.expect("config");
    config.workers.mode = WorkerMode::BackgroundAsync;
    let boot = App::boot(StartMode::ServerOnly, &Environment::Test, config)
        .await
        .expect("boot");
    let router = boot.router.expect("a router");
    let server = TestServer::new_with_config(
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        loco_rs::testing::request::RequestConfigBuilder::new()
            .save_cookies(true)
            .build(),
    )
    .expect("a test server");
    (server, boot.app_context)
}

async fn collect(results: &mpsc::Receiver<(i64, bool)>, ids: &[i64]) -> usize {
    let (mut found, mut reported) = (0, 0);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while reported < ids.len() {
        match results.try_recv() {
            Ok((id, was_found)) if ids.contains(&id) => {
                reported += 1;
                found += usize::from(was_found);
            }
            Ok(_) => {}
            Err(mpsc::TryRecvError::Empty) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(error) => panic!(
                "{} of {} jobs did not report: {error}",
                ids.len() - reported,
                ids.len()
            ),
        }
    }
    found
}

#[tokio::test]
#[serial]
async fn a_job_enqueued_after_a_write_finds_its_row() {
    let (server, ctx) = boot_with_async_workers().await;
    let (sink, results) = mpsc::channel();
    ctx.shared_store.insert(report::ReportSink(sink));
    let token = register_and_login(&server, &format!("{}@loco.com", unique("j", 0))).await;

    // In-process: the create handler enqueues the report job.
    let mut ids = Vec::new();
    for round in 0..ROUNDS {
        let (name, value) = bearer(&token);
        let post = serde_json::json!({ "title": unique("job", round), "content": "hi" });
        let created = server
            .post("/api/posts")
            .add_header(name, value)
            .json(&post)
            .await;
        assert_eq!(created.status_code(), 201, "{}", created.text());
        ids.push(
            created.json::<serde_json::Value>()["id"]
                .as_i64()
                .expect("an id"),
        );
    }
    let in_process = collect(&results, &ids).await;

    // Queued: the payload goes through JSON, as through a queue, and the
    // worker runs elsewhere, after a write made through `ctx.db`.
    let mut ids = Vec::new();
    for round in 0..ROUNDS {
        let ctx = ctx.clone();
        let payload = multidb_loco::multidb_seaorm::scope(async {
            let post = app::models::_entities::posts::ActiveModel {
                title: Set(unique("queued", round)),
                ..Default::default()
            };
            let post = post.insert(&ctx.db).await.expect("insert");
            let job = Causal::capture(&ctx, report::WorkerArgs { post_id: post.id })
                .await
                .expect("a position");
            (post.id, serde_json::to_string(&job).expect("json"))
        })
        .await;
        ids.push(payload.0);
        tokio::spawn(async move {
            let job: Causal<report::WorkerArgs> = serde_json::from_str(&payload.1).expect("json");
            CausalWorker::<report::Worker>::build(&ctx)
                .perform(job)
                .await
                .expect("the job");
        });
    }
    let queued = collect(&results, &ids).await;
    println!(
        "jobs enqueued after a write found their row: in-process {in_process} of {ROUNDS}, \
         queued {queued} of {ROUNDS}"
    );
    assert_eq!((in_process, queued), (ROUNDS, ROUNDS));
}

#[tokio::test]
#[serial]
async fn replicas_follow_a_per_test_database() {
    multidb_loco::testing::request_with_create_db::<App, _, _>(|server, ctx| async move {
        assert!(
            ctx.config.database.uri.contains("_loco_test_"),
            "a per-test database"
        );
        let token = register_and_login(&server, "per-test@loco.com").await;
        let (name, value) = bearer(&token);
        let post = serde_json::json!({ "title": "in the per-test database", "content": "hi" });
        let created = server
            .post("/api/posts")
            .add_header(name, value)
            .json(&post)
            .await;
        assert_eq!(created.status_code(), 201, "{}", created.text());
        // Past the delayed replica's second, and the monitor's next check.
        tokio::time::sleep(Duration::from_millis(2_000)).await;
        let db = multidb_loco::db(&ctx).expect("the initializer ran");
        let replica_reads = db.stats().total(Target::Replica);
        let (name, value) = bearer(&token);
        let list = server.get("/api/posts").add_header(name, value).await;
        let items = list.json::<serde_json::Value>()["items"]
            .as_array()
            .map_or(0, Vec::len);
        let replica_reads = db.stats().total(Target::Replica) - replica_reads;
        println!("per-test database: {items} post listed, {replica_reads} reads on replicas");
        assert_eq!(items, 1, "the per-test database's post, read where it is");
        if replicas_serve_reads() {
            assert!(replica_reads >= 2, "{replica_reads} replica reads");
        }
    })
    .await;
}
