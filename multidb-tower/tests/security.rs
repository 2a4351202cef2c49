//! What the second security review and the real-client trial found, under
//! tower/axum: a handler that panics, and exempt prefixes matched on the
//! path axum routes.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::routing::any;
use multidb_core::__private::note_write;
use multidb_core::context::this_task_is_pinned;
use multidb_tower::{PinningConfig, PinningLayer};
use tower::ServiceExt;

async fn wrote_then_panicked() -> &'static str {
    note_write();
    panic!("boom after the write");
}

async fn health() -> &'static str {
    note_write();
    if this_task_is_pinned() {
        "pinned"
    } else {
        "unpinned"
    }
}

fn request(method: &str, path: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .body(Body::empty())
        .expect("a valid request")
}

/// The real-client trial: neither axum nor hyper catches a panic, so a
/// POST whose handler panicked after writing got no response and no pin.
/// With the default configuration the client gets a 500 that pins it.
#[tokio::test]
async fn a_post_that_panics_answers_500_with_the_pin_by_default() {
    let app = Router::new()
        .route("/posts", any(wrote_then_panicked))
        .layer(PinningLayer::new(PinningConfig::default()).expect("valid configuration"));
    for method in ["POST", "GET"] {
        let response = app
            .clone()
            .oneshot(request(method, "/posts"))
            .await
            .expect("infallible");
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let set_cookie = response.headers().get(header::SET_COOKIE);
        let set_cookie = set_cookie.and_then(|value| value.to_str().ok());
        assert!(
            set_cookie.is_some_and(|value| value.starts_with("multidb_pin_writes=")),
            "{method}: {set_cookie:?}"
        );
        assert_eq!(response.headers()[header::CACHE_CONTROL], "private");
    }
}

/// Exempt prefixes are matched on the path axum routes: the request's,
/// not percent-decoded. `/%68ealth` is not `/health` to axum's router
/// (it is not found), so it is not exempt either; under actix-web, whose
/// router decodes it, it is both (see `multidb-actix/tests/security.rs`).
#[tokio::test]
async fn exempt_prefixes_match_the_path_axum_routes() {
    let app = Router::new()
        .route("/health", any(health))
        .route("/health/{what}", any(health))
        .layer(
            PinningLayer::new(PinningConfig::default().exempt_path_prefix("/health"))
                .expect("valid configuration"),
        );
    for path in ["/health", "/health/db"] {
        let response = app.clone().oneshot(request("POST", path)).await;
        let response = response.expect("infallible");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(
            !response.headers().contains_key(header::SET_COOKIE),
            "{path}"
        );
        let body = axum::body::to_bytes(response.into_body(), 64).await;
        assert_eq!(body.expect("a body"), "unpinned", "{path}");
    }
    for path in ["/%68ealth", "/h%65alth/db"] {
        let response = app.clone().oneshot(request("POST", path)).await;
        let response = response.expect("infallible");
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        // Not exempt: a POST pins, as to any route.
        assert!(
            response.headers().contains_key(header::SET_COOKIE),
            "{path}"
        );
    }
}
