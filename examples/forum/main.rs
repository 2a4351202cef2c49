//! A tiny forum on axum, reading from replicas, where a user who posts and
//! is redirected to the post always sees it — the story multidb exists for.
//!
//! ```text
//! cargo run -p multidb-examples --example forum
//! ```
//!
//! Routes: `GET /posts` (list and form), `POST /posts` (urlencoded
//! `title=…&body=…`; `303 See Other` to the new post), `GET /posts/{id}`
//! (404 if absent); for operators, `GET /multidb` (multidb's status page)
//! and, run with `--features metrics`, `GET /metrics` (Prometheus):
//!
//! ```text
//! cargo run -p multidb-examples --example forum --features metrics
//! ```
//!
//! By default the data lives in SQLite files in a temporary folder (removed
//! on Ctrl-C): a primary and two read-only replicas, which a background task
//! keeps up to date `MULTIDB_FORUM_SQLITE_LAG_MS` (default 2000) late — a
//! replication lag you can watch. `POST /posts` is pinned to the primary
//! (it is a POST) and sets the `multidb_pin_writes` cookie; the redirected
//! `GET` carries it, so it reads the primary and finds the post, while a
//! client without the cookie gets 404 until the replicas caught up.
//!
//! Environment:
//!
//! - `DATABASE_URL`: the primary, any SeaORM URL (`postgres://…`,
//!   `mysql://…`, `sqlite://…`); the `forum_post` table is created there if
//!   missing. Unset: the SQLite files above.
//! - `DATABASE_REPLICA_URLS`: the replicas, comma-separated (with
//!   `DATABASE_URL`).
//! - `MULTIDB_FORUM_SQLITE_LAG_MS`: the simulated lag (SQLite only).
//! - `MULTIDB_PIN_KEY`: a key of at least 32 bytes to sign pins with
//!   (unset: unsigned pins, which a client could forge for itself).
//! - `FORUM_FRAMEWORK`: `axum` (the default) or `actix`: the same forum
//!   served by actix-web behind `PinningMiddleware` (`actix.rs`).
//! - `BIND` (default `127.0.0.1`) and `PORT` (default `3000`).
//! - `RUST_LOG` (default `multidb=debug,forum=info`: every statement's
//!   route and reason, every request's pin).

mod actix;
mod app;
mod model;
mod observe;
#[cfg(feature = "metrics")]
mod prometheus;
mod sqlite;

use std::time::Duration;

use multidb_seaorm::MultiDb;
use tracing_subscriber::EnvFilter;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), BoxError> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("multidb=debug,forum=info")),
        )
        .init();
    match env("FORUM_FRAMEWORK").as_deref() {
        None | Some("axum") => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(serve(Framework::Axum)),
        // actix-web runs on its own (tokio-based) runtime.
        Some("actix") => actix_web::rt::System::new().block_on(serve(Framework::Actix)),
        Some(other) => Err(format!("FORUM_FRAMEWORK={other:?}: `axum` or `actix`").into()),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Framework {
    Axum,
    Actix,
}

async fn serve(framework: Framework) -> Result<(), BoxError> {
    let bind = env("BIND").unwrap_or_else(|| "127.0.0.1".into());
    let port: u16 = match env("PORT") {
        Some(port) => parse("PORT", &port)?,
        None => 3000,
    };
    let key = env("MULTIDB_PIN_KEY");
    if key.is_none() {
        tracing::info!("pins are unsigned; set MULTIDB_PIN_KEY (32+ bytes) to sign them");
    }
    // The recorder first: the MultiDb describes its metrics when built.
    #[cfg(feature = "metrics")]
    let scrape = Some(prometheus::install()?);
    #[cfg(not(feature = "metrics"))]
    let scrape: Option<observe::Scrape> = None;
    let (db, sqlite) = connect().await?;

    if framework == Framework::Actix {
        let pinning = actix::pinning(key.as_deref())?;
        let server = actix_web::HttpServer::new(move || {
            actix::app(db.clone(), pinning.clone()).configure(actix::observe(scrape.clone()))
        })
        .bind((bind.as_str(), port))?;
        for addr in server.addrs() {
            tracing::info!("forum (actix-web) on http://{addr}/posts");
        }
        // Stops on Ctrl-C (actix-web's own signal handling).
        server.run().await?;
    } else {
        let pinning = app::pinning(key.as_deref())?;
        let listener = tokio::net::TcpListener::bind((bind.as_str(), port)).await?;
        tracing::info!("forum on http://{}/posts", listener.local_addr()?);
        let app = app::app(db.clone(), pinning).merge(observe::routes(db, scrape));
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                // If the handler cannot be installed, serve until killed.
                if tokio::signal::ctrl_c().await.is_err() {
                    std::future::pending::<()>().await;
                }
            })
            .await?;
    }
    if let Some(mut set) = sqlite {
        tracing::info!(dir = %set.dir().display(), "stopped; removing the SQLite files");
        set.close().await?;
    }
    Ok(())
}

/// `DATABASE_URL` and `DATABASE_REPLICA_URLS`, or the SQLite files (kept
/// alive, with their replayer, by the second value while serving).
async fn connect() -> Result<(MultiDb, Option<sqlite::SqliteForum>), BoxError> {
    // `sqlite` keeps the SQLite files and their replayer alive while serving.
    Ok(match env("DATABASE_URL") {
        Some(primary) => {
            let mut builder = MultiDb::builder().primary(primary.as_str());
            let replicas = env("DATABASE_REPLICA_URLS").unwrap_or_default();
            for url in replicas.split(',').map(str::trim).filter(|u| !u.is_empty()) {
                builder = builder.replica(url);
            }
            let db = builder.connect().await?;
            model::create_schema(&db).await?;
            tracing::info!(
                backend = ?db.get_database_backend(),
                replicas = db.replicas().len(),
                "connected to DATABASE_URL and DATABASE_REPLICA_URLS"
            );
            (db, None)
        }
        None => {
            let lag = match env("MULTIDB_FORUM_SQLITE_LAG_MS") {
                Some(ms) => Duration::from_millis(parse("MULTIDB_FORUM_SQLITE_LAG_MS", &ms)?),
                None => Duration::from_millis(2000),
            };
            let set = sqlite::SqliteForum::start(2, lag).await?;
            tracing::info!(
                dir = %set.dir().display(),
                lag_ms = lag.as_millis(),
                "SQLite primary and 2 read-only replicas, replayed with a lag"
            );
            (set.db.clone(), Some(set))
        }
    })
}

/// `value`, the value of variable `name`, parsed.
fn parse<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, String> {
    value.parse().map_err(|_| {
        format!(
            "{name}={value:?} is not a valid {}",
            std::any::type_name::<T>()
        )
    })
}

/// A non-empty environment variable.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}
