//! What only the actix-web middleware has: a future dropped unfinished, an
//! inner middleware's error turned into a response. Everything the
//! middleware decides is in `conformance.rs`.

mod common;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::{App, HttpResponse, test, web};
use common::call;
use multidb_actix::{PinningConfig, PinningMiddleware};
use multidb_tests::http1::request;
use multidb_tests::logs::Logs;

async fn read() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn get(method: &str) -> actix_http::Request {
    common::test_request(
        request(method, "/read")
            .body(String::new())
            .expect("a request"),
    )
    .to_request()
}

#[actix_web::test]
async fn a_request_dropped_unfinished_after_a_post_is_logged() {
    let (logs, _guard) = Logs::capture();
    let app = test::init_service(
        App::new()
            .route("/read", web::route().to(read))
            .wrap(PinningMiddleware::new(PinningConfig::default()).expect("valid")),
    )
    .await;
    // What an outer timeout does: drop the future before it is ready.
    drop(app.call(get("POST")));
    assert!(
        logs.text()
            .contains("a request that may have written ended without a response"),
        "{}",
        logs.text()
    );
    // A read is not worth a warning.
    let (logs, _guard) = Logs::capture();
    drop(app.call(get("GET")));
    assert!(logs.text().is_empty(), "{}", logs.text());
}

/// An inner middleware that fails with an error instead of a response.
async fn failing_middleware_app() -> impl Service<
    actix_http::Request,
    Response = ServiceResponse<impl MessageBody>,
    Error = actix_web::Error,
> {
    use actix_web::middleware::from_fn;
    test::init_service(
        App::new()
            .route("/read", web::route().to(read))
            .wrap(from_fn(
                |_req, _next: actix_web::middleware::Next<actix_web::body::BoxBody>| async {
                    Err::<ServiceResponse<actix_web::body::BoxBody>, _>(
                        actix_web::error::ErrorServiceUnavailable("inner middleware failed"),
                    )
                },
            ))
            .wrap(PinningMiddleware::default()),
    )
    .await
}

#[actix_web::test]
async fn an_inner_error_after_a_post_still_pins() {
    let app = failing_middleware_app().await;
    let out = call(&app, get("POST")).await;
    assert_eq!(out.status, 503);
    assert!(out.pin_cookie().is_some());
    assert_eq!(out.header("cache-control"), Some("private"));
    let out = call(&app, get("GET")).await;
    assert_eq!(out.status, 503);
    assert!(out.pin_cookie().is_none());
}
