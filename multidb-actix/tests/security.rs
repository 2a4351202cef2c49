//! What the second security review and the real-client trial found under
//! actix-web, each checked on a real actix-web app: a handler that panics
//! (served by `HttpServer`, over TCP), and exempt prefixes matched on the
//! path the router matches.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{App, HttpResponse, HttpServer, test, web};
use multidb_actix::{PinningConfig, PinningMiddleware};
use multidb_core::__private::note_write;
use multidb_core::context::this_task_is_pinned;

async fn wrote_then_panicked() -> HttpResponse {
    note_write();
    panic!("boom after the write");
}

/// Whether the handler ran pinned.
async fn health() -> HttpResponse {
    note_write();
    HttpResponse::Ok().body(if this_task_is_pinned() {
        "pinned"
    } else {
        "unpinned"
    })
}

/// One raw HTTP/1.1 exchange over TCP: what the client received.
fn exchange(addr: SocketAddr, request: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.write_all(request.as_bytes())?;
    let mut response = Vec::new();
    // A server that drops the connection may reset it: what came is kept.
    let _ = stream.read_to_end(&mut response);
    Ok(String::from_utf8_lossy(&response).into_owned())
}

/// The real-client trial: actix-web catches no panic, so a POST whose
/// handler panicked after writing got no response at all, and no pin.
/// With the default configuration the client now gets a 500 that pins it.
#[actix_web::test]
async fn a_post_that_panics_answers_500_with_the_pin_by_default() -> std::io::Result<()> {
    let server = HttpServer::new(|| {
        App::new()
            .route("/posts", web::post().to(wrote_then_panicked))
            .wrap(PinningMiddleware::new(PinningConfig::default()).expect("valid configuration"))
    })
    .workers(1)
    .disable_signals()
    .bind(("127.0.0.1", 0))?;
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    let running = actix_web::rt::spawn(server);

    let request =
        "POST /posts HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    let response = actix_web::rt::task::spawn_blocking(move || exchange(addr, request))
        .await
        .expect("the client thread")?;
    handle.stop(true).await;
    let _ = running.await;

    assert!(
        response.starts_with("HTTP/1.1 500"),
        "no response, or not a 500: {response:?}"
    );
    let lower = response.to_ascii_lowercase();
    assert!(
        lower.contains("\r\nset-cookie: multidb_pin_writes="),
        "{response}"
    );
    assert!(lower.contains("\r\ncache-control: private"), "{response}");
    Ok(())
}

/// Security review 2, third defect: exempt prefixes were matched on the
/// raw path while actix-web's router matches the percent-decoded one, so
/// `/%68ealth` ran the exempt `/health` handler unexempted.
#[actix_web::test]
async fn exempt_prefixes_match_the_path_the_router_matches() {
    let app = test::init_service(
        App::new()
            .route("/health", web::route().to(health))
            .route("/health/{what}", web::route().to(health))
            .wrap(
                PinningMiddleware::new(PinningConfig::default().exempt_path_prefix("/health"))
                    .expect("valid configuration"),
            ),
    )
    .await;
    let pin = format!(
        "multidb_pin_writes={}",
        multidb_http::__private::now_secs() + 10
    );
    for path in [
        "/health",
        "/%68ealth",
        "/h%65alth/db",
        "/%68%65%61%6C%74%68",
    ] {
        for method in [Method::POST, Method::GET] {
            let request = test::TestRequest::default()
                .method(method.clone())
                .uri(path)
                .insert_header((header::COOKIE, pin.as_str()))
                .to_request();
            let response = test::call_service(&app, request).await;
            assert_eq!(response.status(), StatusCode::OK, "{method} {path}");
            let set_cookie: Vec<&HeaderValue> =
                response.headers().get_all(header::SET_COOKIE).collect();
            assert!(set_cookie.is_empty(), "{method} {path}: {set_cookie:?}");
            let body = test::read_body(response).await;
            assert_eq!(body, "unpinned", "{method} {path}");
        }
    }
    // `%2F` is not decoded by the router: `/health%2Fx` is not below
    // `/health`, and is not routed there either.
    let request = test::TestRequest::post().uri("/health%2Fx").to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.headers().contains_key(header::SET_COOKIE));
}
