//! What happens to the pin when a response is made around the layer or
//! inside it: tower-http's panic catcher and timeout. (The layer's own
//! `catch_panics` and `Cache-Control` are in `conformance.rs`.)

mod common;

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::StatusCode;
use axum::routing::any;
use common::send;
use multidb_tests::http1::request;
use multidb_tests::logs::Logs;
use multidb_tests::private::note_write;
use multidb_tower::{PinningConfig, PinningLayer};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

/// A request with no body.
fn empty(request: axum::http::request::Builder) -> axum::http::Request<Body> {
    request.body(Body::empty()).expect("a valid request")
}

const LOST: &str = "a request that may have written ended without a response";

async fn wrote_then_panicked() -> &'static str {
    note_write();
    panic!("boom after the write");
}

async fn wrote_then_hung() -> &'static str {
    note_write();
    tokio::time::sleep(Duration::from_secs(60)).await;
    "too late"
}

fn routes() -> Router {
    Router::new()
        .route("/panic", any(wrote_then_panicked))
        .route("/slow", any(wrote_then_hung))
}

fn pinning(config: PinningConfig) -> PinningLayer {
    PinningLayer::new(config).expect("valid configuration")
}

fn timeout() -> TimeoutLayer {
    TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_millis(20))
}

#[tokio::test]
async fn a_panic_catcher_outside_the_layer_loses_the_pin_and_says_so() {
    let (logs, _guard) = Logs::capture();
    let app = routes()
        .layer(pinning(PinningConfig::default().catch_panics(false)))
        .layer(CatchPanicLayer::new());
    let out = send(&app, empty(request("POST", "/panic"))).await;
    assert_eq!(out.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(out.pin_cookie().is_none(), "made outside the layer");
    let logs = logs.text();
    assert!(logs.contains(LOST), "{logs}");
    assert!(logs.contains("WARN"), "{logs}");
}

#[tokio::test]
async fn a_panic_catcher_inside_the_layer_keeps_the_pin() {
    let app = routes()
        .layer(CatchPanicLayer::new())
        .layer(pinning(PinningConfig::default()));
    let out = send(&app, empty(request("POST", "/panic"))).await;
    assert_eq!(out.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(out.pin_cookie().is_some());
}

#[tokio::test]
async fn a_timeout_outside_the_layer_after_a_post_loses_the_pin_and_says_so() {
    let (logs, _guard) = Logs::capture();
    let app = routes()
        .layer(pinning(PinningConfig::default()))
        .layer(timeout());
    let out = send(&app, empty(request("POST", "/slow"))).await;
    assert_eq!(out.status, StatusCode::REQUEST_TIMEOUT);
    assert!(out.pin_cookie().is_none(), "made outside the layer");
    let logs = logs.text();
    assert!(logs.contains(LOST), "{logs}");
    assert!(
        logs.contains("dropped before its response was ready"),
        "{logs}"
    );

    // A read that wrote nothing and times out is not worth a warning.
    let (logs, _guard) = Logs::capture();
    let app = Router::new()
        .route(
            "/hang",
            any(|| async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                "too late"
            }),
        )
        .layer(pinning(PinningConfig::default()))
        .layer(timeout());
    let out = send(&app, empty(request("GET", "/hang"))).await;
    assert_eq!(out.status, StatusCode::REQUEST_TIMEOUT);
    assert!(!logs.text().contains(LOST), "{}", logs.text());
}

#[tokio::test]
async fn a_timeout_inside_the_layer_keeps_the_pin() {
    let (logs, _guard) = Logs::capture();
    let app = routes()
        .layer(timeout())
        .layer(pinning(PinningConfig::default()));
    let out = send(&app, empty(request("POST", "/slow"))).await;
    assert_eq!(out.status, StatusCode::REQUEST_TIMEOUT);
    assert!(out.pin_cookie().is_some());
    assert!(!logs.text().contains(LOST), "{}", logs.text());
}
