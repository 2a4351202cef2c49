//! The forum example end to end, over real HTTP on loopback: the same
//! `app.rs` and `sqlite.rs` the example runs, served by `axum::serve`, driven
//! by the workspace's HTTP/1.1 client (`multidb_tests::http1`).
//!
//! The replication lag here is the example's SQLite replayer (a simulated
//! lag): this test proves the HTTP and cookie path — `POST`, `303`,
//! `Set-Cookie`, the browser sending the cookie back, the layer pinning that
//! request. Read-your-writes across requests under REAL replication lag
//! (PostgreSQL streaming replication, MariaDB GTID replication with a
//! delayed replica) is `multidb_tests::http_scenarios`, run by
//! `tests/tests/{postgres,mariadb}.rs`.

#[path = "../forum/actix.rs"]
mod actix;
#[path = "../forum/app.rs"]
mod app;
#[path = "../forum/model.rs"]
mod model;
#[path = "../forum/observe.rs"]
mod observe;
#[path = "../forum/sqlite.rs"]
mod sqlite;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use multidb_tests::http1::{self, Reply};
use multidb_tests::servers::Cluster;
use sea_orm::ConnectionTrait;
use tokio::net::TcpListener;

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// Long enough that the reads right after the POST surely happen before the
/// replayer copies the post, short enough for a test.
const LAG: Duration = Duration::from_millis(1500);

/// A signing key, as `MULTIDB_PIN_KEY` would give.
const KEY: &str = "forum e2e test key, 32 bytes or more";

/// The forum on SQLite with two lagging replicas, served on `127.0.0.1:0`.
struct Served {
    addr: SocketAddr,
    forum: sqlite::SqliteForum,
    server: tokio::task::JoinHandle<()>,
}

impl Served {
    async fn start() -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let forum = sqlite::SqliteForum::start(2, LAG).await?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let router = app::app(forum.db.clone(), app::pinning(Some(KEY))?)
            .merge(observe::routes(forum.db.clone(), None));
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                panic!("server failed: {error}");
            }
        });
        Ok(Served {
            addr,
            forum,
            server,
        })
    }

    /// Stop serving and close every pool before the test's runtime ends
    /// (`SqliteForum::close` says why).
    async fn close(mut self) -> TestResult {
        self.server.abort();
        let _ = (&mut self.server).await;
        self.forum.close().await?;
        Ok(())
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// One request on a new connection, with an optional `Cookie` header and
/// urlencoded form.
async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    form: Option<&str>,
) -> Result<Reply, http1::Error> {
    let mut request = http1::request(method, path);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    if form.is_some() {
        request = request.header("content-type", "application/x-www-form-urlencoded");
    }
    http1::send(addr, request.body(form.unwrap_or_default().to_owned())?).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_who_posts_is_redirected_and_sees_the_post_thanks_to_the_pin() -> TestResult {
    let served = Served::start().await?;
    let addr = served.addr;
    assert!(served.forum.dir().join("primary.db").is_file());
    assert!(served.forum.dir().join("replica1.db").is_file());
    // Creating the schema again is harmless (IF NOT EXISTS).
    model::create_schema(&served.forum.db).await?;

    let sent = Instant::now();
    let posted = send(
        addr,
        "POST",
        "/posts",
        None,
        Some("title=Hello%2C+replicas+%3C3&body=first+post"),
    )
    .await?;
    assert_eq!(posted.status, 303, "{posted:?}");
    let location = posted.header("location").ok_or("no Location")?.to_owned();
    assert!(location.starts_with("/posts/"), "{location}");
    let set_cookie = posted.header("set-cookie").ok_or("POST set no cookie")?;
    assert!(
        set_cookie.starts_with("multidb_pin_writes="),
        "{set_cookie}"
    );
    assert!(set_cookie.contains("; Max-Age=15; "), "{set_cookie}");
    assert!(!set_cookie.contains("Secure"), "plain HTTP: {set_cookie}");
    let value = http1::cookie_pair(set_cookie).trim_start_matches("multidb_pin_writes=");
    assert!(value.contains('.'), "signed with MULTIDB_PIN_KEY: {value}");
    let cookie = http1::cookie_pair(set_cookie).to_owned();

    // The premise: without the cookie the read goes to a replica, which does
    // not have the post yet.
    let stale = send(addr, "GET", &location, None, None).await?;
    let elapsed = sent.elapsed();
    assert!(
        elapsed < LAG,
        "the machine is too slow for this test: {elapsed:?} since the POST"
    );
    assert_eq!(stale.status, 404, "the replicas are not lagging: {stale:?}");
    assert!(stale.set_cookie(http1::PIN_COOKIE).is_none());

    // An unsigned (forged) pin is ignored when pins are signed.
    let expiry = value.split('.').next().unwrap_or_default();
    let forged = format!("multidb_pin_writes={expiry}");
    let refused = send(addr, "GET", &location, Some(&forged), None).await?;
    assert_eq!(refused.status, 404, "a forged pin was honoured");

    // What the redirected browser does: GET the Location with the cookie.
    // It reads the primary, and sees the post.
    let followed = send(addr, "GET", &location, Some(&cookie), None).await?;
    assert_eq!(followed.status, 200, "{followed:?}");
    assert!(
        followed.body.contains("Hello, replicas &lt;3"),
        "{}",
        followed.body
    );
    assert!(
        followed.set_cookie(http1::PIN_COOKIE).is_none(),
        "reading does not extend the pin"
    );
    let listed = send(addr, "GET", "/posts", Some(&cookie), None).await?;
    assert!(listed.body.contains(&format!("<a href=\"{location}\">")));
    assert!(sent.elapsed() < LAG, "took {:?}", sent.elapsed());

    // Once the replicas caught up, everyone sees it.
    let caught_up = loop {
        let reply = send(addr, "GET", &location, None, None).await?;
        if reply.status == 200 {
            break sent.elapsed();
        }
        assert_eq!(reply.status, 404, "{reply:?}");
        assert!(sent.elapsed() < LAG * 10, "the replicas never caught up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    println!("the replicas served the post {caught_up:?} after the POST (lag {LAG:?})");
    assert!(
        caught_up >= LAG,
        "visible on the replicas after {caught_up:?}, before the lag"
    );
    served.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_forms_and_missing_posts() -> TestResult {
    let served = Served::start().await?;
    let addr = served.addr;

    let empty = send(addr, "POST", "/posts", None, Some("title=+++&body=x")).await?;
    assert_eq!(empty.status, 422, "{empty:?}");
    // A POST pins the client even when it fails: it may have written.
    assert!(empty.header("set-cookie").is_some());

    let missing = send(addr, "GET", "/posts/999", None, None).await?;
    assert_eq!(missing.status, 404);
    assert!(missing.set_cookie(http1::PIN_COOKIE).is_none());

    let root = send(addr, "GET", "/", None, None).await?;
    assert_eq!(root.status, 303);
    assert_eq!(root.header("location"), Some("/posts"));

    let list = send(addr, "GET", "/posts", None, None).await?;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("<form method=post action=/posts>"));
    assert!(
        list.set_cookie(http1::PIN_COOKIE).is_none(),
        "reads do not pin"
    );
    served.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_is_paginated() -> TestResult {
    let served = Served::start().await?;
    let addr = served.addr;
    let primary = served.forum.db.primary();
    for n in 0..120 {
        primary
            .execute_unprepared(&format!(
                "INSERT INTO forum_post (title, body) VALUES ('post {n}', '')"
            ))
            .await?;
    }
    // The pin of a POST makes the lists read the primary, which has them all.
    let posted = send(addr, "POST", "/posts", None, Some("title=newest&body=")).await?;
    let cookie = http1::cookie_pair(posted.header("set-cookie").ok_or("no pin")?).to_owned();

    let mut path = "/posts".to_owned();
    let mut sizes = Vec::new();
    let mut titles = Vec::new();
    loop {
        let page = send(addr, "GET", &path, Some(&cookie), None).await?;
        assert_eq!(page.status, 200, "{page:?}");
        let items: Vec<&str> = page
            .body
            .lines()
            .filter(|l| l.starts_with("<li>"))
            .collect();
        sizes.push(items.len());
        titles.extend(items.iter().map(|l| l.to_string()));
        match page.body.split("href=\"/posts?before=").nth(1) {
            Some(rest) => {
                let id = rest.split('"').next().ok_or("no id")?;
                path = format!("/posts?before={id}");
            }
            None => {
                assert!(page.body.contains("no older posts"));
                break;
            }
        }
    }
    assert_eq!(sizes, [50, 50, 21]);
    assert!(titles[0].contains(">newest<"), "{}", titles[0]);
    assert!(titles[120].contains(">post 0<"), "{}", titles[120]);
    let bad = send(addr, "GET", "/posts?before=soon", None, None).await?;
    assert_eq!(bad.status, 400);
    served.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_counts_the_reads_and_metrics_need_the_feature() -> TestResult {
    let served = Served::start().await?;
    let addr = served.addr;
    for _ in 0..3 {
        assert_eq!(send(addr, "GET", "/posts", None, None).await?.status, 200);
    }
    let page = send(addr, "GET", "/multidb", None, None).await?;
    assert_eq!(page.status, 200, "{page:?}");
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    // Both SQLite replicas, named after their files, took reads.
    for name in ["replica0.db", "replica1.db"] {
        assert!(
            page.body
                .contains(&format!("data-replica=\"{name}\" data-health=\"up\"")),
            "{}",
            page.body
        );
    }
    let policy = page
        .body
        .split("<tr data-reason=\"policy\">")
        .nth(1)
        .ok_or("no policy row")?;
    let replica_reads: u64 = policy
        .split("<td class=\"n\">")
        .nth(2)
        .and_then(|cell| cell.split('<').next())
        .ok_or("no replica cell")?
        .parse()?;
    assert!(replica_reads >= 3, "{policy}");
    // Without a recorder (the feature's scrape) there is no /metrics.
    assert_eq!(send(addr, "GET", "/metrics", None, None).await?.status, 404);
    served.close().await
}

/// The actix-web forum, on its own thread and runtime (its SQLite files and
/// replayer live there too), served on `127.0.0.1:0`.
struct ActixServed {
    addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ActixServed {
    async fn start() -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let (ready, started) = tokio::sync::oneshot::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let setup = async {
                    let forum = sqlite::SqliteForum::start(2, LAG).await?;
                    let pinning = actix::pinning(Some(KEY))?;
                    let db = forum.db.clone();
                    let server = actix_web::HttpServer::new(move || {
                        actix::app(db.clone(), pinning.clone()).configure(actix::observe(None))
                    })
                    .workers(1)
                    .disable_signals()
                    .bind("127.0.0.1:0")?;
                    let addr = *server.addrs().first().ok_or("bound to no address")?;
                    Ok::<_, Box<dyn std::error::Error + Send + Sync>>((forum, addr, server.run()))
                };
                match setup.await {
                    Ok((mut forum, addr, server)) => {
                        let _ = ready.send(Ok((addr, server.handle())));
                        let _ = server.await;
                        let _ = forum.close().await;
                    }
                    Err(error) => {
                        let _ = ready.send(Err(error.to_string()));
                    }
                }
            });
        });
        let (addr, handle) = started.await??;
        Ok(ActixServed {
            addr,
            handle,
            thread: Some(thread),
        })
    }

    async fn stop(mut self) -> TestResult {
        self.handle.stop(true).await;
        if let Some(thread) = self.thread.take() {
            tokio::task::spawn_blocking(move || thread.join())
                .await?
                .map_err(|_| "the server thread panicked")?;
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_story_on_actix_web() -> TestResult {
    let served = ActixServed::start().await?;
    let addr = served.addr;
    let sent = Instant::now();
    let posted = send(addr, "POST", "/posts", None, Some("title=On+actix&body=x")).await?;
    assert_eq!(posted.status, 303, "{posted:?}");
    let location = posted.header("location").ok_or("no Location")?.to_owned();
    let set_cookie = posted.header("set-cookie").ok_or("POST set no cookie")?;
    assert!(
        set_cookie.starts_with("multidb_pin_writes="),
        "{set_cookie}"
    );
    assert!(!set_cookie.contains("Secure"), "plain HTTP: {set_cookie}");
    assert_eq!(posted.header("cache-control"), Some("private"));
    let cookie = http1::cookie_pair(set_cookie).to_owned();

    let stale = send(addr, "GET", &location, None, None).await?;
    assert_eq!(stale.status, 404, "the replicas are not lagging: {stale:?}");
    let followed = send(addr, "GET", &location, Some(&cookie), None).await?;
    assert_eq!(followed.status, 200, "{followed:?}");
    assert!(followed.body.contains("On actix"), "{}", followed.body);
    assert!(followed.set_cookie(http1::PIN_COOKIE).is_none());
    let listed = send(addr, "GET", "/posts", Some(&cookie), None).await?;
    assert!(listed.body.contains(&format!("<a href=\"{location}\">")));
    assert!(sent.elapsed() < LAG, "took {:?}", sent.elapsed());

    let status = send(addr, "GET", "/multidb", None, None).await?;
    assert_eq!(status.status, 200, "{status:?}");
    assert_eq!(status.body.matches("data-health=\"up\"").count(), 2);

    let empty = send(addr, "POST", "/posts", None, Some("title=+&body=x")).await?;
    assert_eq!(empty.status, 422);
    assert!(
        empty.header("set-cookie").is_some(),
        "a POST pins even when refused"
    );
    served.stop().await
}

/// On the real clusters (`scripts/replicas.sh`), the forum's very first
/// `GET /posts`, right after it created its table on the primary, answers
/// 200 — never a 500 because the lagging replica lacks the table yet. Both
/// backends, over the delayed replica; like every cluster test, it needs
/// the clusters (`multidb_tests::servers`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_get_on_real_replicas_finds_the_table() -> TestResult {
    for cluster in [Cluster::postgres(), Cluster::mariadb()] {
        let Some(cluster) = cluster else {
            eprintln!("skipped: MULTIDB_SKIP_SERVER_TESTS=1");
            return Ok(());
        };
        let stack = format!("{:?}", cluster.backend);
        let (primary, delayed) = (cluster.primary, cluster.delayed);
        // No forum table anywhere, as on a fresh install.
        let direct = sea_orm::Database::connect(primary.as_str()).await?;
        direct
            .execute_unprepared("DROP TABLE IF EXISTS forum_post")
            .await?;
        let replica = sea_orm::Database::connect(delayed.as_str()).await?;
        let probe = sea_orm::Statement::from_string(
            replica.get_database_backend(),
            "SELECT 1 FROM forum_post",
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while replica.query_one_raw(probe.clone()).await.is_ok() {
            if Instant::now() > deadline {
                return Err("the drop never reached the delayed replica".into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // What the forum's main does, then the first request at once.
        let db = multidb_seaorm::MultiDb::builder()
            .primary(primary.as_str())
            .replica(delayed.as_str())
            .connect()
            .await?;
        let started = Instant::now();
        model::create_schema(&db).await?;
        let ready = started.elapsed();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let router = app::app(db.clone(), app::pinning(Some(KEY))?);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        let first = send(addr, "GET", "/posts", None, None).await;
        server.abort();
        let first = first?;
        println!(
            "{stack}: schema on the replicas after {ready:?}; first GET /posts: {}",
            first.status
        );
        assert_eq!(first.status, 200, "{stack}: {}", first.body);
    }
    Ok(())
}
