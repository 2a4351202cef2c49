//! The forum's operator pages, outside the pinning layer (they read no
//! database): `GET /multidb`, multidb's status page, and `GET /metrics`, the
//! Prometheus text of every metric (with the `metrics` feature, see
//! `prometheus.rs`). Serve them where only operators reach them: they show
//! replica addresses, positions and errors.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use multidb_seaorm::MultiDb;

/// Renders the metrics as Prometheus text.
pub(crate) type Scrape = Arc<dyn Fn() -> String + Send + Sync>;

/// The Prometheus text format's content type.
pub(crate) const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `GET /multidb`, and `GET /metrics` when `scrape` is given.
pub(crate) fn routes(db: MultiDb, scrape: Option<Scrape>) -> Router {
    let router = Router::new().route(
        "/multidb",
        get(|State(db): State<MultiDb>| async move { Html(db.status_page()) }),
    );
    let router = match scrape {
        Some(scrape) => router.route(
            "/metrics",
            get(move || async move {
                ([(header::CONTENT_TYPE, PROMETHEUS_TEXT)], scrape()).into_response()
            }),
        ),
        None => router,
    };
    router.with_state(db)
}
