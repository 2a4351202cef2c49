//! What only the tower layer has: `Service` semantics (errors, work done in
//! `call`, requests on other tasks), its `ScopedBody` and hyper polling
//! it. Everything the layer decides is in `conformance.rs`.

mod common;

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::{Request, Response, header};
use common::{Tower, router};
use http_body::Body as _;
use http_body_util::BodyExt as _;
use multidb_core::context::{mark_db_write, this_task_is_pinned};
use multidb_tests::http1::{PIN_COOKIE, cookie_pair, request};
use multidb_tests::pinning::{PinningApp as _, send};
use multidb_tower::{PinningConfig, PinningLayer};
use tower::{ServiceBuilder, ServiceExt, service_fn};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_on_other_tasks_do_not_share_state() {
    // `/wait` meets the other request at a barrier.
    let app = Tower::start(PinningConfig::default()).await;
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
async fn hyper_polls_the_body_in_the_requests_context() -> Result<(), multidb_tests::http1::Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = router(PinningConfig::default());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let exchange = |method: &str, path: &str, cookie: Option<&str>| {
        let mut request = request(method, path);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        let request = request.body(String::new());
        async move { multidb_tests::http1::send(addr, request?).await }
    };

    let post = exchange("POST", "/stream/write", None).await?;
    assert_eq!(post.status, 200, "{post:?}");
    assert_eq!(
        post.body,
        "observe:pinned;write:pinned+wrote;observe:pinned+wrote;"
    );
    let pin = cookie_pair(&post.pin_cookie().ok_or("a pin cookie")?).to_owned();
    assert!(pin.starts_with(PIN_COOKIE));

    let get = exchange("GET", "/stream", None).await?;
    assert_eq!(get.body, "observe:unpinned;observe:unpinned;");

    let pinned = exchange("GET", "/stream", Some(&pin)).await?;
    assert_eq!(pinned.body, "observe:pinned;observe:pinned;");

    server.abort();
    Ok(())
}
