//! The middleware through `actix_web::test`: the same behaviour as the
//! tower layer's tests, for the same `PinningConfig`.

use std::io;
use std::sync::{Arc, Mutex};
use std::task::Poll;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::web::Bytes;
use actix_web::{App, HttpResponse, test, web};
use multidb_actix::{DbWrite, PinningConfig, PinningMiddleware};
use multidb_core::__private::note_write;
use multidb_core::context::{db_write, mark_db_write, this_task_is_pinned};
use tracing_subscriber::fmt::MakeWriter;

const COOKIE_NAME: &str = "multidb_pin_writes";
const KEY: &[u8] = b"test key: 32 bytes or longer, ok";

/// Whether the handler ran pinned, in the body and in `x-seen`.
fn seen() -> HttpResponse {
    let seen = if this_task_is_pinned() {
        "pinned"
    } else {
        "unpinned"
    };
    HttpResponse::Ok()
        .insert_header(("x-seen", seen))
        .body(seen)
}

async fn read() -> HttpResponse {
    seen()
}

async fn with_db_write() -> HttpResponse {
    let before = seen();
    db_write(async {}).await;
    before
}

async fn mark() -> HttpResponse {
    let before = seen();
    mark_db_write();
    before
}

async fn marked() -> HttpResponse {
    let mut response = seen();
    response.extensions_mut().insert(DbWrite);
    response
}

async fn wrote() -> HttpResponse {
    let before = seen();
    note_write();
    before
}

async fn failing() -> HttpResponse {
    HttpResponse::InternalServerError().finish()
}

async fn own_cache_control() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::SET_COOKIE, "session=abc; Path=/"))
        .finish()
}

async fn panics() -> HttpResponse {
    note_write();
    panic!("boom after the write");
}

/// A body that says, each time it is polled, whether it runs pinned.
async fn streaming() -> HttpResponse {
    let mut left = 2;
    let body = futures_util::stream::poll_fn(move |_| {
        if left == 0 {
            return Poll::Ready(None);
        }
        left -= 1;
        let chunk = if this_task_is_pinned() {
            "pinned;"
        } else {
            "unpinned;"
        };
        Poll::Ready(Some(Ok::<_, io::Error>(Bytes::from_static(
            chunk.as_bytes(),
        ))))
    });
    HttpResponse::Ok().streaming(body)
}

async fn app(
    config: PinningConfig,
) -> impl Service<
    actix_http::Request,
    Response = ServiceResponse<impl MessageBody>,
    Error = actix_web::Error,
> {
    test::init_service(
        App::new()
            .route("/read", web::route().to(read))
            .route("/db_write", web::route().to(with_db_write))
            .route("/mark", web::route().to(mark))
            .route("/marked", web::route().to(marked))
            .route("/wrote", web::route().to(wrote))
            .route("/fail", web::route().to(failing))
            .route("/own", web::route().to(own_cache_control))
            .route("/panic", web::route().to(panics))
            .route("/stream", web::route().to(streaming))
            .route("/static/x", web::route().to(read))
            .wrap(PinningMiddleware::new(config).expect("valid configuration")),
    )
    .await
}

/// A response, read out.
struct Outcome {
    status: StatusCode,
    headers: header::HeaderMap,
    body: String,
}

impl Outcome {
    fn header(&self, name: impl header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().expect("ASCII"))
    }

    fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .map(|v| v.to_str().expect("ASCII").to_owned())
            .collect()
    }

    fn pin_cookie(&self) -> Option<String> {
        let mut ours: Vec<String> = self
            .set_cookies()
            .into_iter()
            .filter(|c| c.starts_with(&format!("{COOKIE_NAME}=")))
            .collect();
        assert!(ours.len() <= 1, "{ours:?}");
        ours.pop()
    }

    /// `name=value`, what a browser sends back.
    fn pin_pair(&self) -> String {
        let cookie = self.pin_cookie().expect("a pin cookie");
        cookie.split(';').next().unwrap_or_default().to_owned()
    }

    fn handler_pinned(&self) -> bool {
        match self
            .headers
            .get("x-seen")
            .map(|v| v.to_str().expect("ASCII"))
        {
            Some("pinned") => true,
            Some("unpinned") => false,
            other => panic!("x-seen: {other:?}"),
        }
    }
}

/// Send one request through `app`. A service error becomes its response, as
/// actix-web's dispatcher does (the over-HTTP test checks that for real).
async fn send<S, B>(app: &S, request: test::TestRequest) -> Outcome
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    match test::try_call_service(app, request.to_request()).await {
        Ok(response) => {
            let status = response.status();
            let headers = response.headers().clone();
            let body = test::read_body(response).await;
            outcome(status, headers, &body)
        }
        Err(error) => {
            let response = error.error_response();
            let status = response.status();
            let headers = response.headers().clone();
            let body = actix_web::body::to_bytes(response.into_body())
                .await
                .unwrap_or_default();
            outcome(status, headers, &body)
        }
    }
}

fn outcome(status: StatusCode, headers: header::HeaderMap, body: &[u8]) -> Outcome {
    Outcome {
        status,
        headers,
        body: String::from_utf8(body.to_vec()).expect("UTF-8"),
    }
}

fn request(method: Method, path: &str) -> test::TestRequest {
    test::TestRequest::default().method(method).uri(path)
}

fn get_with_cookie(cookie: &str) -> test::TestRequest {
    request(Method::GET, "/read").insert_header((header::COOKIE, cookie.to_owned()))
}

fn now() -> u64 {
    multidb_http::__private::now_secs()
}

#[actix_web::test]
async fn a_get_without_cookie_is_unpinned_and_gets_no_cookie() {
    let app = app(PinningConfig::default()).await;
    let out = send(&app, request(Method::GET, "/read")).await;
    assert_eq!(out.status, StatusCode::OK);
    assert!(!out.handler_pinned());
    assert!(out.set_cookies().is_empty());
    assert!(out.headers.get(header::CACHE_CONTROL).is_none());
}

#[actix_web::test]
async fn a_post_is_pinned_and_pins_the_client_whose_next_get_is_pinned() {
    let app = app(PinningConfig::default()).await;
    let out = send(&app, request(Method::POST, "/read")).await;
    assert!(out.handler_pinned());
    let cookie = out.pin_cookie().expect("a pin");
    assert!(cookie.contains("; Max-Age=15; Expires="), "{cookie}");
    assert!(
        cookie.ends_with("; Path=/; SameSite=Lax; HttpOnly; Secure"),
        "{cookie}"
    );
    assert_eq!(out.header(header::CACHE_CONTROL), Some("private"));

    let next = send(&app, get_with_cookie(&out.pin_pair())).await;
    assert!(next.handler_pinned());
    assert!(
        next.set_cookies().is_empty(),
        "reading does not extend the pin"
    );
    assert!(next.headers.get(header::CACHE_CONTROL).is_none());
}

#[actix_web::test]
async fn methods_that_may_write_pin_even_when_they_fail() {
    let app = app(PinningConfig::default()).await;
    for method in [Method::PUT, Method::PATCH, Method::DELETE] {
        let out = send(&app, request(method.clone(), "/fail")).await;
        assert_eq!(out.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(out.pin_cookie().is_some(), "{method}");
    }
    for method in [Method::GET, Method::HEAD, Method::OPTIONS] {
        let out = send(&app, request(method.clone(), "/fail")).await;
        assert!(out.pin_cookie().is_none(), "{method}");
    }
}

#[actix_web::test]
async fn db_write_mark_db_write_dbwrite_and_writes_pin_a_get() {
    let app = app(PinningConfig::default()).await;
    for path in ["/db_write", "/mark", "/marked", "/wrote"] {
        let out = send(&app, request(Method::GET, path)).await;
        assert!(!out.handler_pinned(), "{path}");
        assert!(out.pin_cookie().is_some(), "{path}");
    }
    let strict = self::app(PinningConfig::default().pin_on_any_write(false)).await;
    let out = send(&strict, request(Method::GET, "/wrote")).await;
    assert!(out.pin_cookie().is_none());
}

#[actix_web::test]
async fn the_applications_own_cookies_and_cache_control_are_kept() {
    let app = app(PinningConfig::default()).await;
    let out = send(&app, request(Method::POST, "/own")).await;
    assert_eq!(out.set_cookies().len(), 2, "{:?}", out.set_cookies());
    assert!(out.pin_cookie().is_some());
    let cache_control: Vec<&HeaderValue> = out.headers.get_all(header::CACHE_CONTROL).collect();
    assert_eq!(cache_control, [&HeaderValue::from_static("no-store")]);
}

#[actix_web::test]
async fn invalid_cookies_are_ignored_and_every_copy_is_read() {
    let app = app(PinningConfig::default()).await;
    for cookie in [
        format!("{COOKIE_NAME}={}", now() - 1),
        format!("{COOKIE_NAME}={}", now() + 3600),
        format!("{COOKIE_NAME}=abc"),
        format!("{COOKIE_NAME}="),
        format!("x{COOKIE_NAME}={}", now() + 5),
    ] {
        let out = send(&app, get_with_cookie(&cookie)).await;
        assert_eq!(out.status, StatusCode::OK);
        assert!(!out.handler_pinned(), "{cookie}");
    }
    let pin = format!("{COOKIE_NAME}={}", now() + 10);
    let junk = format!("{COOKIE_NAME}=junk; ").repeat(9);
    assert!(
        send(&app, get_with_cookie(&format!("{junk}{pin}")))
            .await
            .handler_pinned()
    );
    let pad = "x".repeat(64 * 1024);
    assert!(
        send(&app, get_with_cookie(&format!("{pin}; big={pad}")))
            .await
            .handler_pinned()
    );
    assert!(
        send(&app, get_with_cookie(&format!("big={pad}; {pin}")))
            .await
            .handler_pinned()
    );
    let non_utf8 = [b"junk=\xff\xfe; ".as_slice(), pin.as_bytes()].concat();
    let value = HeaderValue::from_bytes(&non_utf8).expect("obs-text");
    let out = send(
        &app,
        request(Method::GET, "/read").insert_header((header::COOKIE, value)),
    )
    .await;
    assert!(out.handler_pinned());
}

#[actix_web::test]
async fn signed_pins_are_the_same_as_the_tower_layers() {
    let app = app(PinningConfig::default().signing_key(KEY)).await;
    let out = send(&app, request(Method::POST, "/read")).await;
    let pair = out.pin_pair();
    let value = pair.trim_start_matches(&format!("{COOKIE_NAME}="));
    let (expiry, mac) = value.split_once('.').expect("<expiry>.<mac>");
    assert_eq!(mac.len(), 43);
    assert!(send(&app, get_with_cookie(&pair)).await.handler_pinned());
    let forged = format!("{COOKIE_NAME}={expiry}");
    assert!(!send(&app, get_with_cookie(&forged)).await.handler_pinned());
    let tampered = format!("{COOKIE_NAME}={}.{mac}", now() + 14);
    assert!(
        !send(&app, get_with_cookie(&tampered))
            .await
            .handler_pinned()
    );
}

#[actix_web::test]
async fn the_header_form_and_exempt_paths() {
    let app = app(PinningConfig::default()
        .header_name("x-multidb-pin")
        .exempt_path_prefix("/static"))
    .await;
    let out = send(&app, request(Method::POST, "/read")).await;
    let token = out
        .header("x-multidb-pin")
        .expect("the pin header")
        .to_owned();
    assert!(out.pin_pair().ends_with(&format!("={token}")));
    let next = send(
        &app,
        request(Method::GET, "/read").insert_header(("x-multidb-pin", format!("junk, {token}"))),
    )
    .await;
    assert!(next.handler_pinned());

    let exempt = send(&app, request(Method::POST, "/static/x")).await;
    assert!(!exempt.handler_pinned());
    assert!(exempt.set_cookies().is_empty());
    assert!(exempt.headers.get("x-multidb-pin").is_none());
}

#[actix_web::test]
async fn a_streaming_body_is_polled_in_the_requests_context() {
    let app = app(PinningConfig::default()).await;
    assert_eq!(
        send(&app, request(Method::POST, "/stream")).await.body,
        "pinned;pinned;"
    );
    assert_eq!(
        send(&app, request(Method::GET, "/stream")).await.body,
        "unpinned;unpinned;"
    );
    let pin = format!("{COOKIE_NAME}={}", now() + 10);
    let out = send(
        &app,
        request(Method::GET, "/stream").insert_header((header::COOKIE, pin)),
    )
    .await;
    assert_eq!(out.body, "pinned;pinned;");
}

/// Everything logged while the guard lives, on this thread.
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

#[actix_web::test]
async fn catch_panics_answers_500_with_the_pin() {
    let (logs, _guard) = Logs::capture();
    let app = app(PinningConfig::default().catch_panics(true)).await;
    let out = send(&app, request(Method::POST, "/panic")).await;
    assert_eq!(out.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(out.pin_cookie().is_some());
    assert_eq!(out.header(header::CACHE_CONTROL), Some("private"));
    let logs = logs.text();
    assert!(logs.contains("boom after the write"), "{logs}");
}

#[actix_web::test]
async fn a_request_dropped_unfinished_after_a_post_is_logged() {
    let (logs, _guard) = Logs::capture();
    let app = app(PinningConfig::default()).await;
    // What an outer timeout does: drop the future before it is ready.
    let future = app.call(request(Method::POST, "/read").to_request());
    drop(future);
    assert!(
        logs.text()
            .contains("a request that may have written ended without a response"),
        "{}",
        logs.text()
    );
    // A read is not worth a warning.
    let (logs, _guard) = Logs::capture();
    drop(app.call(request(Method::GET, "/read").to_request()));
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
    let out = send(&app, request(Method::POST, "/read")).await;
    assert_eq!(out.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(out.pin_cookie().is_some());
    assert_eq!(out.header(header::CACHE_CONTROL), Some("private"));
    let out = send(&app, request(Method::GET, "/read")).await;
    assert_eq!(out.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(out.pin_cookie().is_none());
}

#[actix_web::test]
async fn timed_pins_a_post_to_a_missing_route_the_documented_cost() {
    let app = app(PinningConfig::default()).await;
    let out = send(&app, request(Method::POST, "/no/such/route")).await;
    assert_eq!(out.status, StatusCode::NOT_FOUND);
    assert!(out.pin_cookie().is_some());
}
