//! What happens to the pin when a response is made around the handler: a
//! panic, a timeout, the application's own `Cache-Control`.

mod common;

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::routing::any;
use common::*;
use multidb_core::__private::note_write;
use multidb_tower::{PinningConfig, PinningLayer};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tracing_subscriber::fmt::MakeWriter;

/// Everything logged while the guard lives (this thread only: the tests
/// run on a current-thread runtime).
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    fn capture() -> (Self, tracing::subscriber::DefaultGuard) {
        let logs = Logs::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    fn text(&self) -> String {
        let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Ok(mut logs) = self.0.lock() {
            logs.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Logs {
    type Writer = Logs;

    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
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
        .route("/read", any(|| async { seen() }))
        .route(
            "/cached",
            any(|| async { ([(header::CACHE_CONTROL, "no-store")], "mine") }),
        )
}

fn pinning(config: PinningConfig) -> PinningLayer {
    PinningLayer::new(config).expect("valid configuration")
}

fn timeout() -> TimeoutLayer {
    TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_millis(20))
}

#[tokio::test]
async fn catch_panics_answers_500_with_the_pin() {
    let (logs, _guard) = Logs::capture();
    let app = routes().layer(pinning(PinningConfig::default().catch_panics(true)));
    let out = send(&app, request("POST", "/panic")).await;
    assert_eq!(out.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(out.pin_cookie().is_some(), "{:?}", out.headers);
    assert_eq!(out.headers[header::CACHE_CONTROL], "private");
    assert_eq!(out.body, "");
    let logs = logs.text();
    assert!(logs.contains("handler panicked"), "{logs}");
    assert!(logs.contains("boom after the write"), "{logs}");
    assert!(!logs.contains(LOST), "{logs}");

    // A GET that wrote pins too (`wrote`), by the same rule as a response.
    let out = send(&app, request("GET", "/panic")).await;
    assert_eq!(out.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(out.pin_cookie().is_some());
}

#[tokio::test]
async fn a_panic_catcher_outside_the_layer_loses_the_pin_and_says_so() {
    let (logs, _guard) = Logs::capture();
    let app = routes()
        .layer(pinning(PinningConfig::default().catch_panics(false)))
        .layer(CatchPanicLayer::new());
    let out = send(&app, request("POST", "/panic")).await;
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
    let out = send(&app, request("POST", "/panic")).await;
    assert_eq!(out.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(out.pin_cookie().is_some());
}

#[tokio::test]
async fn a_timeout_outside_the_layer_after_a_post_loses_the_pin_and_says_so() {
    let (logs, _guard) = Logs::capture();
    let app = routes()
        .layer(pinning(PinningConfig::default()))
        .layer(timeout());
    let out = send(&app, request("POST", "/slow")).await;
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
                seen()
            }),
        )
        .layer(pinning(PinningConfig::default()))
        .layer(timeout());
    let out = send(&app, request("GET", "/hang")).await;
    assert_eq!(out.status, StatusCode::REQUEST_TIMEOUT);
    assert!(!logs.text().contains(LOST), "{}", logs.text());
}

#[tokio::test]
async fn a_timeout_inside_the_layer_keeps_the_pin() {
    let (logs, _guard) = Logs::capture();
    let app = routes()
        .layer(timeout())
        .layer(pinning(PinningConfig::default()));
    let out = send(&app, request("POST", "/slow")).await;
    assert_eq!(out.status, StatusCode::REQUEST_TIMEOUT);
    assert!(out.pin_cookie().is_some());
    assert!(!logs.text().contains(LOST), "{}", logs.text());
}

#[tokio::test]
async fn responses_that_pin_are_private_unless_the_application_said_otherwise() {
    let app = routes().layer(pinning(PinningConfig::default()));
    let post = send(&app, request("POST", "/read")).await;
    assert!(post.pin_cookie().is_some());
    let cache_control: Vec<&HeaderValue> =
        post.headers.get_all(header::CACHE_CONTROL).iter().collect();
    assert_eq!(cache_control, [&HeaderValue::from_static("private")]);

    // The application's own Cache-Control is kept, alone.
    let own = send(&app, request("POST", "/cached")).await;
    assert!(own.pin_cookie().is_some());
    let cache_control: Vec<&HeaderValue> =
        own.headers.get_all(header::CACHE_CONTROL).iter().collect();
    assert_eq!(cache_control, [&HeaderValue::from_static("no-store")]);

    // A response that sets no pin is left alone.
    let get = send(&app, request("GET", "/read")).await;
    assert!(get.pin_cookie().is_none());
    assert!(get.headers.get(header::CACHE_CONTROL).is_none());
    let pinned_get = send(
        &app,
        get_with_cookie(&format!("{COOKIE_NAME}={}", now() + 5)),
    )
    .await;
    assert!(pinned_get.handler_pinned());
    assert!(pinned_get.headers.get(header::CACHE_CONTROL).is_none());
}
