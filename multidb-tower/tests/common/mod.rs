//! The test application and helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::any;
use axum::{Extension, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use multidb_core::__private::note_write;
use multidb_core::context::{db_write, mark_db_write, this_task_is_pinned};
use multidb_tower::{DbWrite, PinningConfig, PinningLayer};
use sha2::Sha256;
use tower::ServiceExt;

pub const COOKIE_NAME: &str = "multidb_pin_writes";
pub const KEY: &[u8] = b"test key: 32 bytes or longer, ok";
pub const OLD_KEY: &[u8] = b"the previous key, also >=32 byte";

/// What the handler saw: `pinned` or `unpinned`, in the body and in the
/// `x-seen` header (responses to HEAD and CONNECT have no body).
pub fn seen() -> ([(&'static str, &'static str); 1], &'static str) {
    let seen = if this_task_is_pinned() {
        "pinned"
    } else {
        "unpinned"
    };
    ([("x-seen", seen)], seen)
}

/// The test application: every route accepts every method and answers with
/// whether the handler ran pinned (before doing anything else).
pub fn app(config: PinningConfig) -> Router {
    Router::new()
        .route("/read", any(|| async { seen() }))
        .route(
            "/db_write",
            any(|| async {
                let before = seen();
                db_write(async {}).await;
                before
            }),
        )
        .route(
            "/mark",
            any(|| async {
                let before = seen();
                mark_db_write();
                before
            }),
        )
        .route("/marked", any(|| async { (Extension(DbWrite), seen()) }))
        .route(
            "/note_write",
            any(|| async {
                let before = seen();
                note_write();
                before
            }),
        )
        .route(
            "/error",
            any(|| async { (StatusCode::INTERNAL_SERVER_ERROR, seen()) }),
        )
        .route(
            "/own_cookies",
            any(|| async {
                let mut headers = HeaderMap::new();
                headers.append(
                    header::SET_COOKIE,
                    HeaderValue::from_static("session=abc; Path=/"),
                );
                headers.append(
                    header::SET_COOKIE,
                    HeaderValue::from_static("theme=dark; Path=/"),
                );
                mark_db_write();
                (headers, seen()).into_response()
            }),
        )
        .route("/static", any(|| async { seen() }))
        .route("/static/{*rest}", any(|| async { seen() }))
        .route("/statics", any(|| async { seen() }))
        .layer(PinningLayer::new(config).expect("valid configuration"))
}

/// A response, read out.
#[derive(Debug)]
pub struct Outcome {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Outcome {
    /// Every `Set-Cookie` header.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().expect("ASCII Set-Cookie").to_owned())
            .collect()
    }

    /// The `Set-Cookie` for the cookie `name`, if any (at most one).
    pub fn pin_cookie_named(&self, name: &str) -> Option<String> {
        let prefix = format!("{name}=");
        let mut ours: Vec<String> = self
            .set_cookies()
            .into_iter()
            .filter(|c| c.starts_with(&prefix))
            .collect();
        assert!(
            ours.len() <= 1,
            "at most one pin cookie per response: {ours:?}"
        );
        ours.pop()
    }

    /// The default-named pin `Set-Cookie`, if any.
    pub fn pin_cookie(&self) -> Option<String> {
        self.pin_cookie_named(COOKIE_NAME)
    }

    /// The value of the default-named pin cookie; panics if there is none.
    pub fn pin_value(&self) -> String {
        let cookie = self.pin_cookie().expect("a pin cookie");
        cookie_value(&cookie).to_owned()
    }

    /// Whether the handler ran pinned.
    pub fn handler_pinned(&self) -> bool {
        let seen = self.headers.get("x-seen").expect("an x-seen header");
        match seen.to_str().expect("ASCII") {
            "pinned" => true,
            "unpinned" => false,
            other => panic!("unexpected body {other:?}"),
        }
    }
}

/// The value in `name=value; attributes…`.
pub fn cookie_value(set_cookie: &str) -> &str {
    let pair = set_cookie.split(';').next().unwrap_or_default();
    pair.split_once('=').map(|(_, v)| v).unwrap_or_default()
}

/// The attributes of a `Set-Cookie`, after the name=value pair.
pub fn attributes(set_cookie: &str) -> Vec<&str> {
    set_cookie.split("; ").skip(1).collect()
}

/// A request with no body.
pub fn request(method: &str, path: &str) -> axum::http::request::Builder {
    Request::builder()
        .method(Method::from_bytes(method.as_bytes()).expect("valid method"))
        .uri(path)
}

/// Send one request through `app`.
pub async fn send(app: &Router, request: axum::http::request::Builder) -> Outcome {
    send_request(app, request.body(Body::empty()).expect("valid request")).await
}

/// Send one built request through `app`.
pub async fn send_request(app: &Router, request: Request<Body>) -> Outcome {
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    Outcome {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).expect("UTF-8 body"),
    }
}

/// A GET of `/read` carrying `cookie` in a `Cookie` header.
pub fn get_with_cookie(cookie: &str) -> axum::http::request::Builder {
    request("GET", "/read").header(header::COOKIE, cookie)
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// The documented signed token, computed independently of the crate.
pub fn sign(key: &[u8], name: &str, expiry: u64) -> String {
    format!("{expiry}.{}", mac(key, &format!("{name}|{expiry}")))
}

/// Unpadded base64url HMAC-SHA256 of `message`.
pub fn mac(key: &[u8], message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(message.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Assert that `expires` (an HTTP date) is `secs` from now, give or take 2 s.
pub fn assert_expires_in(expires: &str, secs: u64) {
    let at = httpdate::parse_http_date(expires).expect("an HTTP date");
    let expected = SystemTime::now() + Duration::from_secs(secs);
    let diff = match at.duration_since(expected) {
        Ok(d) => d,
        Err(e) => e.duration(),
    };
    assert!(
        diff <= Duration::from_secs(2),
        "Expires={expires}, expected about now+{secs}s"
    );
}
