//! An axum handler behind `PinningLayer` next to the same handler without
//! it, called with `tower::ServiceExt::oneshot` on the `Router` (no
//! sockets: what is measured is the layer). Three requests: a GET without a
//! cookie, a GET with a signed pin cookie, a POST (which sets one). The
//! response body is read to its end on both sides, since the layer wraps it.
//! Target: at most 1 µs added at the median, for each.
//!
//!     cargo bench -p multidb-benches --bench pinning

use std::hint::black_box;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::routing::{get, post};
use criterion::Criterion;
use http::{Request, StatusCode, header};
use multidb_benches::{Mode, machine, paired};
use multidb_seaorm::{PinningConfig, PinningLayer, this_task_is_pinned};
use tokio::runtime::Runtime;
use tower::ServiceExt;

const KEY: &[u8; 32] = b"multidb bench signing key 32 byt";

async fn show_post() -> &'static str {
    if this_task_is_pinned() {
        "post (primary)"
    } else {
        "post"
    }
}

async fn create_post() -> StatusCode {
    StatusCode::CREATED
}

fn app(layered: bool) -> Router {
    let router = Router::new()
        .route("/posts/1", get(show_post))
        .route("/posts", post(create_post));
    if layered {
        router.layer(
            PinningLayer::new(PinningConfig::default().signing_key(KEY))
                .expect("a valid pinning config"),
        )
    } else {
        router
    }
}

/// The requests measured.
#[derive(Clone, Copy, Debug)]
enum Case {
    GetAnonymous,
    GetPinned,
    Post,
}

impl Case {
    const ALL: [Case; 3] = [Case::GetAnonymous, Case::GetPinned, Case::Post];

    fn name(self) -> &'static str {
        match self {
            Case::GetAnonymous => "pinning/get_no_cookie",
            Case::GetPinned => "pinning/get_signed_cookie",
            Case::Post => "pinning/post_sets_cookie",
        }
    }

    fn request(self, cookie: &str) -> Request<Body> {
        let request = match self {
            Case::GetAnonymous => Request::get("/posts/1"),
            Case::GetPinned => Request::get("/posts/1").header(header::COOKIE, cookie),
            Case::Post => Request::post("/posts"),
        };
        request.body(Body::empty()).expect("a valid request")
    }
}

/// One request through `app`, its body read to the end.
async fn call(app: &Router, request: Request<Body>) -> (http::response::Parts, axum::body::Bytes) {
    let response = app
        .clone()
        .oneshot(request)
        .await
        .expect("Router is infallible");
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .expect("an in-memory body");
    (parts, body)
}

fn calls(rt: &Runtime, app: &Router, case: Case, cookie: &str, n: u64) -> Duration {
    rt.block_on(async {
        let start = Instant::now();
        for _ in 0..n {
            black_box(call(app, case.request(cookie)).await);
        }
        start.elapsed()
    })
}

/// A signed pin, from a POST through the layer; and every case answers as
/// it should (the POST sets a cookie, the cookie pins the GET).
fn signed_cookie(rt: &Runtime, layered: &Router) -> String {
    rt.block_on(async {
        let (parts, _) = call(layered, Case::Post.request("")).await;
        let set_cookie = parts.headers[header::SET_COOKIE]
            .to_str()
            .expect("an ASCII Set-Cookie");
        let cookie = set_cookie.split(';').next().unwrap_or_default().to_owned();
        assert!(
            cookie.starts_with("multidb_pin_writes="),
            "unexpected cookie {set_cookie}"
        );
        let (_, body) = call(layered, Case::GetPinned.request(&cookie)).await;
        assert_eq!(
            body, "post (primary)",
            "the signed cookie did not pin the GET"
        );
        let (parts, body) = call(layered, Case::GetAnonymous.request("")).await;
        assert_eq!(body, "post");
        assert!(parts.headers.get(header::SET_COOKIE).is_none());
        cookie
    })
}

fn main() {
    let mode = Mode::from_args();
    println!("machine: {}", machine());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let (bare, layered) = (app(false), app(true));
    let cookie = signed_cookie(&rt, &layered);
    if let Some(profile) = &mode.profile {
        let mut cases = Vec::new();
        for case in Case::ALL {
            let (without, with) = (
                format!("{}/bare", case.name()),
                format!("{}/pinning_layer", case.name()),
            );
            profile.maybe(&without, |n| calls(&rt, &bare, case, &cookie, n));
            profile.maybe(&with, |n| calls(&rt, &layered, case, &cookie, n));
            cases.extend([without, with]);
        }
        profile.unknown(&cases.iter().map(String::as_str).collect::<Vec<_>>());
    }
    let mut c: Criterion = multidb_benches::criterion();
    for case in Case::ALL {
        let mut g = c.benchmark_group(case.name());
        g.bench_function("bare", |b| {
            b.iter_custom(|n| calls(&rt, &bare, case, &cookie, n))
        });
        g.bench_function("pinning_layer", |b| {
            b.iter_custom(|n| calls(&rt, &layered, case, &cookie, n))
        });
        g.finish();
    }
    for case in Case::ALL {
        if mode.wants(case.name()) {
            paired::compare(
                case.name(),
                &mode,
                |n| calls(&rt, &bare, case, &cookie, n),
                |n| calls(&rt, &layered, case, &cookie, n),
            );
        }
    }
    c.final_summary();
}
