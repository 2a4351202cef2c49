//! The forum story through actix-web, over real HTTP on loopback, under REAL
//! replication lag: an `HttpServer` behind `PinningMiddleware`, over a
//! `MultiDb` whose only replica is the delayed one of a [`Cluster`].
//! `tests/tests/{postgres,mariadb}.rs` call these.

use std::net::SocketAddr;
use std::time::Instant;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, web};
use multidb_seaorm::{MultiDb, PinningMiddleware, Target};
use sea_orm::entity::prelude::*;
use sea_orm::{Database, Set};

use crate::http1::{self, Reply};
use crate::scenarios::Outcome;
use crate::servers::{Cluster, wait_until};

crate::post_entity!(actix_item, "actix_item");

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// `POST /items` (the body is the title; `303` to the item).
async fn create_item(db: web::Data<MultiDb>, title: String) -> HttpResponse {
    let inserted = actix_item::ActiveModel {
        title: Set(title),
        ..Default::default()
    }
    .insert(db.get_ref())
    .await;
    match inserted {
        Ok(item) => HttpResponse::SeeOther()
            .insert_header(("location", format!("/items/{}", item.id)))
            .finish(),
        Err(error) => HttpResponse::InternalServerError().body(error.to_string()),
    }
}

/// `GET /items/{id}`: the title, or 404.
async fn show_item(db: web::Data<MultiDb>, id: web::Path<i32>) -> HttpResponse {
    match actix_item::Entity::find_by_id(id.into_inner())
        .one(db.get_ref())
        .await
    {
        Ok(Some(item)) => HttpResponse::Ok().body(item.title),
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(error) => HttpResponse::InternalServerError().body(error.to_string()),
    }
}

/// The server, on its own thread with its own actix runtime (where its
/// `MultiDb` connects, so its sockets belong to that runtime).
struct Served {
    addr: SocketAddr,
    /// For the routing counters only; queries go through the server.
    db: MultiDb,
    handle: ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Served {
    async fn start(cluster: &Cluster) -> Result<Self, BoxError> {
        let cluster = cluster.clone();
        let (ready, started) = tokio::sync::oneshot::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let db = match cluster.delayed_only().await {
                    Ok(db) => db,
                    Err(error) => {
                        let _ = ready.send(Err(error.to_string()));
                        return;
                    }
                };
                let app_db = db.clone();
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(web::Data::new(app_db.clone()))
                        .route("/items", web::post().to(create_item))
                        .route("/items/{id}", web::get().to(show_item))
                        .wrap(PinningMiddleware::default())
                })
                .workers(1)
                .disable_signals()
                .bind(("127.0.0.1", 0));
                let server = match server {
                    Ok(server) => server,
                    Err(error) => {
                        let _ = ready.send(Err(error.to_string()));
                        return;
                    }
                };
                let Some(addr) = server.addrs().first().copied() else {
                    let _ = ready.send(Err("bound to no address".to_owned()));
                    return;
                };
                let server = server.run();
                let _ = ready.send(Ok((addr, db, server.handle())));
                if let Err(error) = server.await {
                    eprintln!("actix server failed: {error}");
                }
            });
        });
        let (addr, db, handle) = started.await?.map_err(BoxError::from)?;
        Ok(Served {
            addr,
            db,
            handle,
            thread: Some(thread),
        })
    }

    async fn stop(mut self) -> Result<(), BoxError> {
        self.handle.stop(true).await;
        if let Some(thread) = self.thread.take() {
            tokio::task::spawn_blocking(move || thread.join())
                .await?
                .map_err(|_| "the server thread panicked")?;
        }
        Ok(())
    }
}

/// One request on a new connection, with an optional cookie and body.
async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    body: &str,
) -> Result<Reply, BoxError> {
    let mut request = http1::request(method, path);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    http1::send(addr, request.body(body.to_owned())?).await
}

/// POST, `303`, and the redirected GET with the cookie reads the primary
/// and finds the row, while the same GET without it reads the lagging
/// replica (404) — until it replays it. Through actix-web, over HTTP.
pub async fn actix_post_then_get_with_the_cookie_sees_the_row(c: &Cluster) -> Outcome {
    c.create_table("actix_item")
        .await
        .map_err(|e| e.to_string())?;
    let delayed = Database::connect(c.delayed.as_str()).await?;
    let served = Served::start(c).await?;
    let addr = served.addr;

    let written = Instant::now();
    let posted = send(addr, "POST", "/items", None, "through actix-web").await?;
    assert_eq!(posted.status.as_u16(), 303, "{posted:?}");
    let location = posted.header("location").ok_or("no Location")?.to_owned();
    let id: i32 = location.trim_start_matches("/items/").parse()?;
    let set_cookie = posted.header("set-cookie").ok_or("the POST set no pin")?;
    assert!(
        set_cookie.starts_with("multidb_pin_writes="),
        "{set_cookie}"
    );
    assert_eq!(posted.header("cache-control"), Some("private"));
    let cookie = set_cookie.split(';').next().unwrap_or_default().to_owned();

    // The premise: without the cookie, the lagging replica answers 404.
    let before = served.db.stats();
    let stale = send(addr, "GET", &location, None, "").await?;
    assert_eq!(
        stale.status.as_u16(),
        404,
        "the replica is not lagging: {stale:?}"
    );
    // No pin (the replica it read from goes into the affinity cookie).
    assert!(stale.set_cookie(http1::PIN_COOKIE).is_none());
    assert_eq!(served.db.stats().replica(0), before.replica(0) + 1);

    // With the cookie: the primary, and the row.
    let followed = send(addr, "GET", &location, Some(&cookie), "").await?;
    assert_eq!(
        (followed.status.as_u16(), followed.body.as_str()),
        (200, "through actix-web")
    );
    assert!(
        followed.set_cookie(http1::PIN_COOKIE).is_none(),
        "reading does not extend the pin"
    );
    // Pinned (a timed pin) or causal (the pin carries the write's
    // position, which the replica has not reached): the primary either way.
    assert_eq!(
        served.db.stats().total(Target::Primary),
        before.total(Target::Primary) + 1
    );
    let on_replica = actix_item::Entity::find_by_id(id).one(&delayed).await?;
    let elapsed = written.elapsed();
    assert!(
        on_replica.is_none(),
        "the replica caught up after {elapsed:?}; the test proves nothing"
    );

    // The replica catches up, and the row is there without the cookie.
    wait_until(c.delay * 10, || async {
        matches!(send(addr, "GET", &location, None, "").await, Ok(reply) if reply.status.as_u16() == 200)
    })
    .await
    .map_err(|waited| format!("the replica did not catch up in {waited:?}"))?;
    let lag = written.elapsed();
    println!(
        "{:?} via actix-web: cookie read at {elapsed:?} found the row on the primary; \
         the replica served it {lag:?} after the POST",
        c.backend
    );
    assert!(
        lag >= c.least_lag().mul_f32(0.8),
        "the replica caught up in {lag:?}"
    );
    served.stop().await
}
