//! Across requests, over real HTTP on loopback, with both replicas (the
//! fast one, and the one 1 s behind) taken in turns: a client that never
//! wrote never sees a row and then not (replica affinity, the layer's
//! default), through tower (axum) and actix-web alike; and the pin of a
//! client whose write every replica has is cleared (`Max-Age=0`).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use multidb_seaorm::{MultiDb, PinningConfig, PinningLayer, PinningMiddleware};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Database, Set};

use crate::http1::{self, Connection, Jar};
use crate::scenarios::Outcome;
use crate::servers::Cluster;

crate::post_entity!(mono_item, "mono_item");
crate::post_entity!(mono_actix_item, "mono_actix_item");

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The axum scenarios share `mono_item`: one at a time.
static MONO_ITEM: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How many times a client reads a new row until it sees it, then reads
/// it again.
const TRIALS: usize = 20;

/// Reads after the row was first seen, in each trial.
const AGAIN: usize = 5;

/// `MultiDb` over both replicas in turns, checked every 100 ms.
async fn both(c: &Cluster) -> Result<MultiDb, BoxError> {
    Ok(MultiDb::builder()
        .policy(multidb_seaorm::policy::RoundRobin::starting_at(0))
        .monitor_interval(Duration::from_millis(100))
        .primary(c.primary.as_str())
        .replica(c.replica.as_str())
        .replica(c.delayed.as_str())
        .connect()
        .await
        .map_err(|e| e.to_string())?)
}

/// Plain HTTP on loopback: not `Secure`.
fn config(affinity: bool) -> PinningConfig {
    PinningConfig::default()
        .secure(false)
        .replica_affinity(affinity)
}

async fn axum_create(State(db): State<MultiDb>, title: String) -> Response {
    let inserted = mono_item::ActiveModel {
        title: Set(title),
        ..Default::default()
    }
    .insert(&db)
    .await;
    match inserted {
        Ok(item) => Redirect::to(&format!("/items/{}", item.id)).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

async fn axum_show(State(db): State<MultiDb>, Path(id): Path<i32>) -> Response {
    use sea_orm::EntityTrait;
    match mono_item::Entity::find_by_id(id).one(&db).await {
        Ok(Some(item)) => item.title.into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

/// An axum server over `db` behind `PinningLayer::new(config)`, on
/// `127.0.0.1:0`, until the sender is dropped.
async fn serve_axum(
    db: MultiDb,
    config: PinningConfig,
) -> Result<(SocketAddr, tokio::sync::oneshot::Sender<()>), BoxError> {
    let app = Router::new()
        .route("/items", post(axum_create))
        .route("/items/{id}", get(axum_show))
        .with_state(db)
        .layer(PinningLayer::new(config)?);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    Ok((addr, stop))
}

async fn actix_show(db: web::Data<MultiDb>, id: web::Path<i32>) -> HttpResponse {
    use sea_orm::EntityTrait;
    match mono_actix_item::Entity::find_by_id(id.into_inner())
        .one(db.get_ref())
        .await
    {
        Ok(Some(item)) => HttpResponse::Ok().body(item.title),
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(error) => HttpResponse::InternalServerError().body(error.to_string()),
    }
}

/// An actix-web server behind `PinningMiddleware::new(config)` on its own
/// thread and runtime (where its `MultiDb` connects), until the handle
/// stops it.
async fn serve_actix(
    c: &Cluster,
    config: PinningConfig,
) -> Result<(SocketAddr, actix_web::dev::ServerHandle), BoxError> {
    let cluster = c.clone();
    let (ready, started) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let db = match both(&cluster).await {
                Ok(db) => db,
                Err(error) => {
                    let _ = ready.send(Err(error.to_string()));
                    return;
                }
            };
            let middleware = match PinningMiddleware::new(config) {
                Ok(middleware) => middleware,
                Err(error) => {
                    let _ = ready.send(Err(error.to_string()));
                    return;
                }
            };
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(web::Data::new(db.clone()))
                    .route("/items/{id}", web::get().to(actix_show))
                    .wrap(middleware.clone())
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
            let _ = ready.send(Ok((addr, server.handle())));
            let _ = server.await;
        });
    });
    started.await?.map_err(BoxError::from)
}

/// `trials` times: a row inserted on the primary (by someone else), which
/// one client reads through `addr` with its cookies every 20 ms until it
/// sees it, then [`AGAIN`] times more. How many trials saw it disappear.
async fn trials(
    c: &Cluster,
    addr: SocketAddr,
    table: &str,
    trials: usize,
) -> Result<usize, BoxError> {
    let primary = Database::connect(c.primary.as_str()).await?;
    let mut connection = Connection::new(addr);
    let mut jar = Jar::default();
    let mut back_in_time = 0;
    for n in 0..trials {
        let title = format!("row {n}");
        primary
            .execute_unprepared(&format!("INSERT INTO {table} (title) VALUES ('{title}')"))
            .await?;
        let id: i64 = primary
            .query_one_raw(sea_orm::Statement::from_string(
                c.backend,
                format!("SELECT CAST(MAX(id) AS {}) AS id FROM {table}", bigint(c)),
            ))
            .await?
            .ok_or("no row")?
            .try_get("", "id")?;
        let mut seen = false;
        let mut after_seen = 0;
        let started = Instant::now();
        while after_seen < AGAIN {
            if started.elapsed() > c.delay * 10 {
                return Err(format!("row {id} never showed up").into());
            }
            let mut request = http1::request("GET", &format!("/items/{id}"));
            if let Some(cookie) = jar.header(Instant::now()) {
                request = request.header("cookie", cookie);
            }
            let reply = connection.send(request.body(String::new())?).await?;
            jar.store(&reply.headers, Instant::now());
            let found = match reply.status.as_u16() {
                200 => true,
                404 => false,
                other => return Err(format!("GET /items/{id}: {other} {}", reply.body).into()),
            };
            if seen {
                after_seen += 1;
                if !found {
                    back_in_time += 1;
                    break;
                }
            }
            seen |= found;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    Ok(back_in_time)
}

fn bigint(c: &Cluster) -> &'static str {
    match c.backend {
        sea_orm::DbBackend::Postgres => "BIGINT",
        _ => "SIGNED",
    }
}

/// The trials with the layer's defaults: never back in time; and, to show
/// the premise, a few with affinity off: back in time.
async fn never_back_in_time<S, Fut>(c: &Cluster, table: &str, adapter: &str, serve: S) -> Outcome
where
    S: Fn(PinningConfig) -> Fut,
    Fut: std::future::Future<Output = Result<(SocketAddr, Box<dyn FnOnce() + Send>), BoxError>>,
{
    c.create_table(table).await.map_err(|e| e.to_string())?;
    let (addr, stop) = serve(PinningConfig::default().secure(false)).await?;
    let with_defaults = trials(c, addr, table, TRIALS).await;
    stop();
    let with_defaults = with_defaults?;
    c.create_table(table).await.map_err(|e| e.to_string())?;
    let (addr, stop) = serve(config(false)).await?;
    let without = trials(c, addr, table, 3).await;
    stop();
    let without = without?;
    println!(
        "{:?} via {adapter}: a reader saw a row disappear in {with_defaults} of {TRIALS} trials \
         with the defaults, {without} of 3 without replica affinity",
        c.backend
    );
    assert_eq!(with_defaults, 0, "back in time with the defaults");
    assert!(
        without > 0,
        "the replicas do not lag apart: the test proves nothing"
    );
    Ok(())
}

/// Through tower (axum's `PinningLayer`).
pub async fn tower_reads_never_go_back_in_time(c: &Cluster) -> Outcome {
    let _table = MONO_ITEM.lock().await;
    never_back_in_time(c, "mono_item", "tower", |config| async move {
        let db = both(c).await?;
        let (addr, stop) = serve_axum(db, config).await?;
        let stop: Box<dyn FnOnce() + Send> = Box::new(move || drop(stop));
        Ok((addr, stop))
    })
    .await
}

/// Through actix-web (`PinningMiddleware`).
pub async fn actix_reads_never_go_back_in_time(c: &Cluster) -> Outcome {
    never_back_in_time(c, "mono_actix_item", "actix-web", |config| async move {
        let (addr, handle) = serve_actix(c, config).await?;
        let stop: Box<dyn FnOnce() + Send> = Box::new(move || {
            drop(handle.stop(false));
        });
        Ok((addr, stop))
    })
    .await
}

/// A causal pin whose position every replica has reached is cleared by
/// the next response (`Max-Age=0`); the client's next request comes
/// without it and is not told again.
pub async fn a_pin_every_replica_has_is_cleared(c: &Cluster) -> Outcome {
    let _table = MONO_ITEM.lock().await;
    c.create_table("mono_item")
        .await
        .map_err(|e| e.to_string())?;
    let db = both(c).await?;
    let (addr, _stop) = serve_axum(db, config(true)).await?;
    let mut connection = Connection::new(addr);
    let mut jar = Jar::default();
    let mut send = async |method: &str, path: &str, body: &str| -> Result<http1::Reply, BoxError> {
        let mut request = http1::request(method, path);
        if let Some(cookie) = jar.header(Instant::now()) {
            request = request.header("cookie", cookie);
        }
        let reply = connection.send(request.body(body.to_owned())?).await?;
        jar.store(&reply.headers, Instant::now());
        Ok(reply)
    };
    let posted = send("POST", "/items", "pinned").await?;
    let pin = posted.pin_cookie().ok_or("the POST set no pin")?;
    assert!(
        pin.contains(':'),
        "a causal pin carries the position: {pin}"
    );
    let location = posted.header("location").ok_or("no Location")?.to_owned();
    // Both replicas replay it, and the monitor sees them: the first
    // response after that clears the pin (read until it does, within a
    // bound: the monitor checks every 500 ms, MariaDB's delay is whole
    // seconds).
    tokio::time::sleep(c.delay).await;
    let deadline = Instant::now() + c.delay * 4 + Duration::from_secs(2);
    let cleared = loop {
        let read = send("GET", &location, "").await?;
        assert_eq!(read.status.as_u16(), 200, "{read:?}");
        if let Some(cleared) = read.set_cookie(http1::PIN_COOKIE) {
            break cleared;
        }
        if Instant::now() > deadline {
            return Err("the pin every replica has was not cleared".into());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let again = send("GET", &location, "").await?;
    assert_eq!(again.status.as_u16(), 200);
    assert!(
        again.set_cookie(http1::PIN_COOKIE).is_none(),
        "the client came without its pin: nothing to clear"
    );
    println!(
        "{:?}: the pin was cleared once every replica had its position",
        c.backend
    );
    Ok(())
}
