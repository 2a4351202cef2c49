//! The layer through an axum `Router`, unsigned pins: django-multidb-router's
//! `PinningRouterMiddleware` tests, ported, and more.

mod common;

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use axum::routing::any;
use common::*;
use futures_util::{StreamExt as _, stream};
use http_body::Body as _;
use http_body_util::BodyExt as _;
use multidb_core::__private::{TaskState, note_write, task_state};
use multidb_core::context::{mark_db_write, pin_this_task, this_task_is_pinned, unpin_this_task};
use multidb_tower::{PinningConfig, PinningLayer, SameSite};
use tokio::sync::Barrier;
use tower::{ServiceBuilder, ServiceExt, service_fn};

fn default_app() -> axum::Router {
    app(PinningConfig::default())
}

#[tokio::test]
async fn get_without_cookie_is_unpinned_and_sets_no_cookie() {
    let out = send(&default_app(), request("GET", "/read")).await;
    assert_eq!(out.status, StatusCode::OK);
    assert!(!out.handler_pinned());
    assert!(out.set_cookies().is_empty());
}

#[tokio::test]
async fn post_pins_the_request_and_sets_the_cookie_with_default_attributes() {
    let out = send(&default_app(), request("POST", "/read")).await;
    assert!(out.handler_pinned());
    let cookie = out.pin_cookie().expect("a pin cookie");

    let expiry: u64 = cookie_value(&cookie)
        .parse()
        .expect("unsigned: Unix seconds");
    assert!((now() + 13..=now() + 15).contains(&expiry), "{cookie}");

    let attrs = attributes(&cookie);
    assert_eq!(attrs.len(), 6, "{cookie}");
    assert_eq!(attrs[0], "Max-Age=15");
    let expires = attrs[1].strip_prefix("Expires=").expect("Expires second");
    assert_expires_in(expires, 15);
    assert_eq!(
        httpdate::parse_http_date(expires).expect("date"),
        std::time::UNIX_EPOCH + Duration::from_secs(expiry),
        "Expires is the token's expiry"
    );
    assert_eq!(attrs[2..], ["Path=/", "SameSite=Lax", "HttpOnly", "Secure"]);
}

#[tokio::test]
async fn get_with_the_cookie_from_a_post_is_pinned_and_not_extended() {
    let app = default_app();
    let post = send(&app, request("POST", "/read")).await;
    let pin = format!("{COOKIE_NAME}={}", post.pin_value());
    let get = send(&app, get_with_cookie(&pin)).await;
    assert!(get.handler_pinned());
    assert!(get.set_cookies().is_empty(), "reading never extends a pin");
}

#[tokio::test]
async fn methods_that_may_write_pin() {
    let app = default_app();
    for method in [
        "POST", "PUT", "PATCH", "DELETE", "CONNECT", "PROPFIND", "PURGE",
    ] {
        let out = send(&app, request(method, "/read")).await;
        assert!(out.handler_pinned(), "{method}");
        assert!(out.pin_cookie().is_some(), "{method}");
    }
}

#[tokio::test]
async fn read_methods_do_not_pin() {
    let app = default_app();
    for method in ["GET", "HEAD", "OPTIONS", "TRACE"] {
        let out = send(&app, request(method, "/read")).await;
        assert!(out.set_cookies().is_empty(), "{method}");
        assert!(!out.handler_pinned(), "{method}");
    }
}

#[tokio::test]
async fn writes_pin_even_when_the_handler_fails() {
    let app = default_app();
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        let out = send(&app, request(method, "/error")).await;
        assert_eq!(out.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(out.pin_cookie().is_some(), "{method}");
    }
    let out = send(&app, request("GET", "/error")).await;
    assert!(out.set_cookies().is_empty());
}

#[tokio::test]
async fn db_write_in_a_get_pins() {
    let out = send(&default_app(), request("GET", "/db_write")).await;
    assert!(!out.handler_pinned());
    assert!(out.pin_cookie().is_some());
}

#[tokio::test]
async fn mark_db_write_in_a_get_pins() {
    let out = send(&default_app(), request("GET", "/mark")).await;
    assert!(!out.handler_pinned());
    assert!(out.pin_cookie().is_some());
}

#[tokio::test]
async fn a_marked_response_pins() {
    let out = send(&default_app(), request("GET", "/marked")).await;
    assert!(!out.handler_pinned());
    assert!(out.pin_cookie().is_some());
}

#[tokio::test]
async fn a_write_statement_during_a_get_pins_by_default() {
    let out = send(&default_app(), request("GET", "/note_write")).await;
    assert!(out.pin_cookie().is_some());
}

#[tokio::test]
async fn a_write_statement_does_not_pin_without_pin_on_any_write() {
    let app = app(PinningConfig::default().pin_on_any_write(false));
    let out = send(&app, request("GET", "/note_write")).await;
    assert!(out.set_cookies().is_empty());
    // The explicit signals still pin.
    assert!(
        send(&app, request("GET", "/mark"))
            .await
            .pin_cookie()
            .is_some()
    );
    assert!(
        send(&app, request("POST", "/read"))
            .await
            .pin_cookie()
            .is_some()
    );
}

#[tokio::test]
async fn custom_cookie_name_and_duration() {
    let app = app(PinningConfig::default()
        .cookie_name("pin")
        .pin_for(Duration::from_secs(60)));
    let out = send(&app, request("POST", "/read")).await;
    assert!(out.pin_cookie().is_none());
    let cookie = out.pin_cookie_named("pin").expect("custom cookie");
    let attrs = attributes(&cookie);
    assert_eq!(attrs[0], "Max-Age=60");
    assert_expires_in(attrs[1].strip_prefix("Expires=").expect("Expires"), 60);
    let expiry: u64 = cookie_value(&cookie).parse().expect("seconds");
    assert!((now() + 58..=now() + 60).contains(&expiry));

    let pin = format!("pin={expiry}");
    assert!(send(&app, get_with_cookie(&pin)).await.handler_pinned());
    // The default name means nothing to this configuration.
    let other = format!("{COOKIE_NAME}={expiry}");
    assert!(!send(&app, get_with_cookie(&other)).await.handler_pinned());
}

#[tokio::test]
async fn custom_cookie_attributes() {
    let app = app(PinningConfig::default()
        .secure(false)
        .http_only(false)
        .same_site(SameSite::Strict)
        .cookie_path("/app")
        .cookie_domain("example.com"));
    let cookie = send(&app, request("POST", "/read"))
        .await
        .pin_cookie()
        .expect("cookie");
    assert_eq!(
        attributes(&cookie)[2..],
        ["Path=/app", "Domain=example.com", "SameSite=Strict"]
    );
    let app = self::app(PinningConfig::default().same_site(SameSite::None));
    let cookie = send(&app, request("POST", "/read"))
        .await
        .pin_cookie()
        .expect("cookie");
    assert!(
        cookie.ends_with("; SameSite=None; HttpOnly; Secure"),
        "{cookie}"
    );
}

#[tokio::test]
async fn invalid_cookies_are_ignored() {
    let app = default_app();
    let huge = "9".repeat(5000);
    let cases = [
        format!("{COOKIE_NAME}={}", now() - 1),           // expired
        format!("{COOKIE_NAME}={}", now()),               // expires now
        format!("{COOKIE_NAME}={}", now() + 3600),        // beyond the cap
        format!("{COOKIE_NAME}={}", u64::MAX),            // far future
        format!("{COOKIE_NAME}=99999999999999999999999"), // overflow
        format!("{COOKIE_NAME}=abc"),
        format!("{COOKIE_NAME}="),
        format!("{COOKIE_NAME}=.."),
        format!("{COOKIE_NAME}={}.abc", now() + 5), // signed form, no keys
        format!("{COOKIE_NAME}={huge}"),
        format!("{COOKIE_NAME}=-{}", now() + 5),
        COOKIE_NAME.to_owned(),
        format!("{}={}", COOKIE_NAME.to_uppercase(), now() + 5), // names are case-sensitive
        format!("x{COOKIE_NAME}={}", now() + 5),
    ];
    for cookie in &cases {
        let out = send(&app, get_with_cookie(cookie)).await;
        assert_eq!(out.status, StatusCode::OK, "{cookie}");
        assert!(!out.handler_pinned(), "{cookie}");
        assert!(out.set_cookies().is_empty(), "{cookie}");
    }
}

#[tokio::test]
async fn non_ascii_and_non_utf8_cookies_never_fail_the_request() {
    let app = default_app();
    let valid = now() + 10;
    for (bytes, pinned) in [
        (format!("{COOKIE_NAME}=é{valid}").into_bytes(), false),
        (b"\xff\xfe\xfd".to_vec(), false),
        (format!("{COOKIE_NAME}=\u{ff11}").into_bytes(), false),
        // Our cookie is found even next to bytes that are not UTF-8.
        (
            [
                b"junk=\xff\xfe; ".as_slice(),
                format!("{COOKIE_NAME}={valid}").as_bytes(),
            ]
            .concat(),
            true,
        ),
    ] {
        let value = HeaderValue::from_bytes(&bytes).expect("obs-text is allowed");
        let out = send(&app, request("GET", "/read").header(header::COOKIE, value)).await;
        assert_eq!(out.status, StatusCode::OK);
        assert_eq!(out.handler_pinned(), pinned, "{bytes:?}");
    }
}

#[tokio::test]
async fn a_64_kib_cookie_header_is_read_whole() {
    let app = default_app();
    let pin = format!("{COOKIE_NAME}={}", now() + 10);
    let pad = "x".repeat(64 * 1024);
    for header in [format!("{pin}; big={pad}"), format!("big={pad}; {pin}")] {
        assert!(header.len() > 64 * 1024);
        let out = send(&app, get_with_cookie(&header)).await;
        assert_eq!(out.status, StatusCode::OK);
        assert!(
            out.handler_pinned(),
            "pin at {}",
            header.find(&pin).unwrap_or(0)
        );
    }
}

#[tokio::test]
async fn nine_junk_copies_ahead_of_the_real_pin_do_not_hide_it() {
    let app = default_app();
    let junk = format!("{COOKIE_NAME}=junk; ").repeat(9);
    let header = format!("{junk}{COOKIE_NAME}={}", now() + 10);
    assert!(send(&app, get_with_cookie(&header)).await.handler_pinned());
    // Also as separate headers, as HTTP/2 clients send them.
    let mut request = request("GET", "/read");
    for _ in 0..9 {
        request = request.header(header::COOKIE, format!("{COOKIE_NAME}={}", now() + 99_999));
    }
    let request = request.header(header::COOKIE, format!("{COOKIE_NAME}={}", now() + 10));
    assert!(send(&app, request).await.handler_pinned());
}

#[tokio::test]
async fn duplicate_cookies_pin_if_any_is_valid() {
    let app = default_app();
    let valid = now() + 10;
    let pinned = format!("{COOKIE_NAME}=abc; other=1; {COOKIE_NAME}={valid}; {COOKIE_NAME}=0");
    assert!(send(&app, get_with_cookie(&pinned)).await.handler_pinned());
    let unpinned = format!("{COOKIE_NAME}=abc; {COOKIE_NAME}=0; {COOKIE_NAME}=");
    assert!(
        !send(&app, get_with_cookie(&unpinned))
            .await
            .handler_pinned()
    );
}

#[tokio::test]
async fn cookies_split_over_several_headers_are_read() {
    // HTTP/2 clients send one `cookie` header per cookie.
    let app = default_app();
    let out = send(
        &app,
        request("GET", "/read")
            .header(header::COOKIE, "a=1")
            .header(header::COOKIE, "b=2")
            .header(header::COOKIE, format!("{COOKIE_NAME}=\"{}\"", now() + 10)),
    )
    .await;
    assert!(out.handler_pinned());
}

#[tokio::test]
async fn the_applications_own_cookies_survive() {
    let out = send(&default_app(), request("GET", "/own_cookies")).await;
    let cookies = out.set_cookies();
    assert_eq!(cookies.len(), 3, "{cookies:?}");
    assert_eq!(cookies[0], "session=abc; Path=/");
    assert_eq!(cookies[1], "theme=dark; Path=/");
    assert!(cookies[2].starts_with(&format!("{COOKIE_NAME}=")));
}

#[tokio::test]
async fn exempt_paths_are_never_pinned_and_get_no_cookie() {
    let app = app(PinningConfig::default()
        .exempt_path_prefix("/static/")
        .exempt_path_prefix("/health"));
    for path in ["/static", "/static/app.js", "/static/css/site.css"] {
        let out = send(&app, request("POST", path)).await;
        assert!(!out.handler_pinned(), "{path}");
        assert!(out.set_cookies().is_empty(), "{path}");
        let pin = format!("{COOKIE_NAME}={}", now() + 10);
        let out = send(&app, request("GET", path).header(header::COOKIE, pin)).await;
        assert!(!out.handler_pinned(), "{path}");
    }
    // A prefix is matched by whole path segments.
    let out = send(&app, request("POST", "/statics")).await;
    assert!(out.handler_pinned());
    assert!(out.pin_cookie().is_some());
}

#[tokio::test]
async fn the_header_form_for_api_clients() {
    let app = app(PinningConfig::default().header_name("x-multidb-pin"));
    let post = send(&app, request("POST", "/read")).await;
    let token = post.headers["x-multidb-pin"]
        .to_str()
        .expect("ASCII")
        .to_owned();
    assert_eq!(token, post.pin_value(), "the same token as the cookie");

    let pinned = send(
        &app,
        request("GET", "/read").header("x-multidb-pin", &token),
    )
    .await;
    assert!(pinned.handler_pinned());
    assert!(
        pinned.headers.get("x-multidb-pin").is_none(),
        "no refresh on reads"
    );

    for bad in ["abc", "", "0"] {
        let out = send(&app, request("GET", "/read").header("x-multidb-pin", bad)).await;
        assert!(!out.handler_pinned(), "{bad:?}");
    }
    // Without `header_name`, the header means nothing and is never sent.
    let plain = default_app();
    let out = send(
        &plain,
        request("GET", "/read").header("x-multidb-pin", &token),
    )
    .await;
    assert!(!out.handler_pinned());
    assert!(
        send(&plain, request("POST", "/read"))
            .await
            .headers
            .get("x-multidb-pin")
            .is_none()
    );
}

/// `/wait` meets another request at a barrier, marks its request when asked
/// (`?mark`), and answers with whether it ran pinned before and after.
fn barrier_app() -> axum::Router {
    let barrier = Arc::new(Barrier::new(2));
    axum::Router::new()
        .route(
            "/wait",
            any(move |req: Request<Body>| async move {
                let before = seen().1;
                barrier.wait().await;
                if req.uri().query() == Some("mark") {
                    mark_db_write();
                }
                format!("{before}/{}", seen().1)
            }),
        )
        .layer(PinningLayer::default())
}

#[tokio::test]
async fn interleaved_requests_on_one_task_do_not_share_state() {
    // Both futures are polled by the same task, interleaved at the barrier.
    let app = barrier_app();
    let (post, get) = tokio::join!(
        send(&app, request("POST", "/wait")),
        send(&app, request("GET", "/wait")),
    );
    assert_eq!(post.body, "pinned/pinned");
    assert!(post.pin_cookie().is_some());
    assert_eq!(get.body, "unpinned/unpinned");
    assert!(get.set_cookies().is_empty());

    let (marking, plain) = tokio::join!(
        send(&app, request("GET", "/wait?mark")),
        send(&app, request("GET", "/wait")),
    );
    assert!(marking.pin_cookie().is_some());
    assert!(
        plain.set_cookies().is_empty(),
        "another request's mark leaked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_on_other_tasks_do_not_share_state() {
    let app = barrier_app();
    let marking = tokio::spawn({
        let app = app.clone();
        async move { send(&app, request("GET", "/wait?mark")).await }
    });
    let writing = tokio::spawn({
        let app = app.clone();
        async move { send(&app, request("DELETE", "/wait")).await }
    });
    let (marking, writing) = (marking.await.expect("task"), writing.await.expect("task"));
    assert_eq!(marking.body, "unpinned/unpinned");
    assert!(marking.pin_cookie().is_some());
    assert_eq!(writing.body, "pinned/pinned");
    assert!(writing.pin_cookie().is_some());

    let plain = tokio::spawn({
        let app = app.clone();
        async move { send(&app, request("GET", "/wait")).await }
    });
    let marking = tokio::spawn(async move { send(&app, request("GET", "/wait?mark")).await });
    let (plain, marking) = (plain.await.expect("task"), marking.await.expect("task"));
    assert!(
        plain.set_cookies().is_empty(),
        "another request's mark leaked"
    );
    assert!(marking.pin_cookie().is_some());
}

#[tokio::test]
async fn errors_of_the_inner_service_pass_through() {
    let service = ServiceBuilder::new()
        .layer(PinningLayer::default())
        .service(service_fn(|_req: Request<Body>| async {
            Err::<Response<Body>, _>("inner failure")
        }));
    let result = service
        .oneshot(request("POST", "/").body(Body::empty()).expect("request"))
        .await;
    assert_eq!(result.err(), Some("inner failure"));
}

/// A service that does its work in `call`, not in the future.
#[derive(Clone)]
struct EagerService;

impl tower::Service<Request<Body>> for EagerService {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let pinned = this_task_is_pinned();
        if req.uri().path() == "/mark" {
            mark_db_write();
        }
        std::future::ready(Ok(Response::new(Body::from(pinned.to_string()))))
    }
}

#[tokio::test]
async fn the_inner_call_runs_inside_the_context() {
    let service = ServiceBuilder::new()
        .layer(PinningLayer::default())
        .service(EagerService);
    let send = |method: &str, path: &str| {
        let request = request(method, path).body(Body::empty()).expect("request");
        service.clone().oneshot(request)
    };
    let post = send("POST", "/").await.expect("infallible");
    let body = axum::body::to_bytes(Body::new(post.into_body()), 64)
        .await
        .expect("body");
    assert_eq!(body, "true");
    let mark = send("GET", "/mark").await.expect("infallible");
    assert!(mark.headers().get(header::SET_COOKIE).is_some());
    let plain = send("GET", "/").await.expect("infallible");
    assert!(plain.headers().get(header::SET_COOKIE).is_none());
    let body = axum::body::to_bytes(Body::new(plain.into_body()), 64)
        .await
        .expect("body");
    assert_eq!(body, "false");
    // Outside the layer, nothing is left pinned.
    assert!(!this_task_is_pinned());
}

// ---------------------------------------------------------------------------
// Streaming bodies: polled after the handler returned, in its context.

/// The current task's routing state, in short: `unscoped`, or `pinned` /
/// `unpinned` with `+wrote` once a write ran in the request.
fn observed() -> String {
    match task_state() {
        TaskState::Unscoped => "unscoped".to_owned(),
        TaskState::Scoped { pinned, wrote } => format!(
            "{}{}",
            if pinned { "pinned" } else { "unpinned" },
            if wrote { "+wrote" } else { "" },
        ),
        other => format!("{other:?}"),
    }
}

/// A body that does nothing until it is polled: each item, at poll time,
/// yields to the runtime, performs its action (`observe`, `write`, `pin`,
/// `unpin`) and reports `action:state;` as observed right after it.
fn lazy_body(actions: &'static [&'static str]) -> Body {
    Body::from_stream(stream::iter(actions).then(|&action| async move {
        tokio::task::yield_now().await;
        match action {
            "write" => {
                note_write();
            }
            "pin" => pin_this_task(),
            "unpin" => unpin_this_task(),
            _ => {}
        }
        Ok::<_, Infallible>(format!("{action}:{};", observed()))
    }))
}

fn stream_app() -> axum::Router {
    axum::Router::new()
        .route(
            "/stream",
            any(|| async { lazy_body(&["observe", "observe"]) }),
        )
        .route(
            "/stream/write",
            any(|| async { lazy_body(&["observe", "write", "observe"]) }),
        )
        .route(
            "/stream/pin",
            any(|| async { lazy_body(&["observe", "pin", "observe", "unpin", "observe"]) }),
        )
        .route(
            "/stream/handler_wrote",
            any(|| async {
                note_write();
                lazy_body(&["observe"])
            }),
        )
        .route(
            "/stream/handler_pinned",
            any(|| async {
                pin_this_task();
                lazy_body(&["observe"])
            }),
        )
        .route(
            "/stream/handler_unpinned",
            any(|| async {
                unpin_this_task();
                lazy_body(&["observe"])
            }),
        )
        .route("/static/stream", any(|| async { lazy_body(&["observe"]) }))
        .layer(
            PinningLayer::new(PinningConfig::default().exempt_path_prefix("/static"))
                .expect("valid configuration"),
        )
}

#[tokio::test]
async fn a_streaming_body_of_a_post_is_polled_pinned() {
    let out = send(&stream_app(), request("POST", "/stream")).await;
    assert_eq!(out.body, "observe:pinned;observe:pinned;");
    assert!(out.pin_cookie().is_some());
    // `send` polled the body after the layer's future had completed, on
    // this task: nothing is left behind.
    assert_eq!(task_state(), TaskState::Unscoped);
}

#[tokio::test]
async fn a_streaming_body_of_a_get_is_polled_in_its_unpinned_context() {
    let app = stream_app();
    let out = send(&app, request("GET", "/stream")).await;
    // Scoped (not `unscoped`), and not pinned.
    assert_eq!(out.body, "observe:unpinned;observe:unpinned;");
    assert!(out.set_cookies().is_empty());
}

#[tokio::test]
async fn a_streaming_body_for_a_pinned_client_is_polled_pinned() {
    let app = stream_app();
    let post = send(&app, request("POST", "/stream")).await;
    let pin = format!("{COOKIE_NAME}={}", post.pin_value());
    let get = send(&app, request("GET", "/stream").header(header::COOKIE, pin)).await;
    assert_eq!(get.body, "observe:pinned;observe:pinned;");
    assert!(get.set_cookies().is_empty());
}

#[tokio::test]
async fn a_write_in_the_body_is_seen_by_the_rest_of_the_body_but_cannot_pin_the_client() {
    let app = stream_app();
    let get = send(&app, request("GET", "/stream/write")).await;
    // Every poll shares the request's facts: after the write, `wrote` is
    // set, so the router sends the reads that follow to the primary.
    assert_eq!(
        get.body,
        "observe:unpinned;write:unpinned+wrote;observe:unpinned+wrote;"
    );
    // The head, without a pin, was ready before the body ran.
    assert!(get.set_cookies().is_empty());

    let post = send(&app, request("POST", "/stream/write")).await;
    assert_eq!(
        post.body,
        "observe:pinned;write:pinned+wrote;observe:pinned+wrote;"
    );
    assert!(post.pin_cookie().is_some());

    // The write belonged to those requests only.
    let next = send(&app, request("GET", "/stream")).await;
    assert_eq!(next.body, "observe:unpinned;observe:unpinned;");
}

#[tokio::test]
async fn the_body_shares_the_handlers_request() {
    let app = stream_app();
    // A write in the handler: the body sees it, and the client is pinned.
    let wrote = send(&app, request("GET", "/stream/handler_wrote")).await;
    assert_eq!(wrote.body, "observe:unpinned+wrote;");
    assert!(wrote.pin_cookie().is_some());
    // The body goes on with the pin the handler's task ended with.
    let pinned = send(&app, request("GET", "/stream/handler_pinned")).await;
    assert_eq!(pinned.body, "observe:pinned;");
    assert!(
        pinned.set_cookies().is_empty(),
        "pin_this_task pins no client"
    );
    let unpinned = send(&app, request("POST", "/stream/handler_unpinned")).await;
    assert_eq!(unpinned.body, "observe:unpinned;");
    assert!(unpinned.pin_cookie().is_some(), "the method still pins");
}

#[tokio::test]
async fn a_pin_made_in_the_body_lasts_for_the_rest_of_the_body_only() {
    let app = stream_app();
    let out = send(&app, request("GET", "/stream/pin")).await;
    assert_eq!(
        out.body,
        "observe:unpinned;pin:pinned;observe:pinned;unpin:unpinned;observe:unpinned;"
    );
    assert!(out.set_cookies().is_empty());
    let next = send(&app, request("GET", "/stream")).await;
    assert_eq!(next.body, "observe:unpinned;observe:unpinned;");
    assert!(!this_task_is_pinned());
}

#[tokio::test]
async fn the_body_of_an_exempt_request_runs_in_a_fresh_unpinned_context() {
    let out = send(&stream_app(), request("POST", "/static/stream")).await;
    assert_eq!(out.body, "observe:unpinned;");
    assert!(out.set_cookies().is_empty());
}

#[tokio::test]
async fn interleaved_streaming_bodies_on_one_task_do_not_share_state() {
    // Both bodies are polled by this task, interleaved: each item yields.
    let app = stream_app();
    let (post, get, write) = tokio::join!(
        send(&app, request("POST", "/stream")),
        send(&app, request("GET", "/stream")),
        send(&app, request("GET", "/stream/write")),
    );
    assert_eq!(post.body, "observe:pinned;observe:pinned;");
    assert_eq!(get.body, "observe:unpinned;observe:unpinned;");
    assert_eq!(
        write.body,
        "observe:unpinned;write:unpinned+wrote;observe:unpinned+wrote;"
    );
}

#[tokio::test]
async fn the_scoped_body_delegates_size_hint_and_end_of_stream() {
    let service = ServiceBuilder::new()
        .layer(PinningLayer::default())
        .service(service_fn(|req: Request<Body>| async move {
            let body = if req.uri().path() == "/empty" {
                Body::empty()
            } else {
                Body::from("abc")
            };
            Ok::<_, Infallible>(Response::new(body))
        }));
    let send = |path: &str| {
        let request = request("GET", path).body(Body::empty()).expect("request");
        service.clone().oneshot(request)
    };
    let full = send("/").await.expect("infallible").into_body();
    assert_eq!(full.size_hint().exact(), Some(3));
    assert!(!full.is_end_stream());
    let empty = send("/empty").await.expect("infallible").into_body();
    assert_eq!(empty.size_hint().exact(), Some(0));
    assert!(empty.is_end_stream());
    let bytes = full.collect().await.expect("body").to_bytes();
    assert_eq!(bytes, "abc");
}

#[tokio::test]
async fn hyper_polls_the_body_in_the_requests_context() -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move { axum::serve(listener, stream_app()).await });
    let exchange = |head: String| async move {
        let mut tcp = tokio::net::TcpStream::connect(addr).await?;
        tcp.write_all(head.as_bytes()).await?;
        let mut response = String::new();
        tcp.read_to_string(&mut response).await?;
        std::io::Result::Ok(response)
    };
    let head = |method: &str, path: &str, extra: &str| {
        format!(
            "{method} {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\ncontent-length: 0\r\n{extra}\r\n"
        )
    };

    let post = exchange(head("POST", "/stream/write", "")).await?;
    assert!(post.starts_with("HTTP/1.1 200"), "{post}");
    for item in [
        "observe:pinned;",
        "write:pinned+wrote;",
        "observe:pinned+wrote;",
    ] {
        assert!(post.contains(item), "{item} in {post}");
    }
    let set_cookie = post
        .lines()
        .find_map(|line| line.strip_prefix("set-cookie: "))
        .expect("a pin cookie");
    let pin = set_cookie.split(';').next().unwrap_or_default().to_owned();

    let get = exchange(head("GET", "/stream", "")).await?;
    assert!(get.contains("observe:unpinned;"), "{get}");
    assert!(
        !get.contains("unscoped") && !get.contains(":pinned"),
        "{get}"
    );

    let pinned = exchange(head("GET", "/stream", &format!("cookie: {pin}\r\n"))).await?;
    assert!(pinned.contains("observe:pinned;"), "{pinned}");
    assert!(!pinned.contains("unpinned") && !pinned.contains("unscoped"));

    server.abort();
    Ok(())
}

#[tokio::test]
async fn timed_pins_a_post_to_a_missing_route_the_documented_cost() {
    // django's rule: the method pins, whatever the handler did. Causal pins
    // (replication positions) will pin only after a real write.
    let out = send(&default_app(), request("POST", "/no/such/route")).await;
    assert_eq!(out.status, StatusCode::NOT_FOUND);
    assert!(out.pin_cookie().is_some());
}
