//! The conformance scenarios: each `pub async fn` here runs against every
//! [`PinningApp`] through [`pinning_conformance!`](crate::pinning_conformance)
//! (django-multidb-router's `PinningRouterMiddleware` tests, ported, and
//! more). A test of this crate checks that the macro lists them all.

use std::time::Duration;

use http::header::{self, HeaderValue};
use http::{HeaderMap, StatusCode};
use multidb_seaorm::{PinningConfig, SameSite};

use super::{KEY, OLD_KEY, PinningApp, assert_expires_in, mac, now, send, sign};
use crate::http1::{PIN_COOKIE, Reply, cookie_attributes, cookie_value, request};
use crate::logs::Logs;
use crate::private::{TaskState, task_state};

async fn default_app<A: PinningApp>() -> A {
    A::start(PinningConfig::default()).await
}

/// A GET of `/read` carrying `cookie` in a `Cookie` header.
fn get_with_cookie(cookie: &str) -> http::request::Builder {
    request("GET", "/read").header(header::COOKIE, cookie)
}

fn pin(value: &str) -> String {
    format!("{PIN_COOKIE}={value}")
}

fn cache_control(reply: &Reply) -> Vec<&str> {
    reply.headers_named(header::CACHE_CONTROL)
}

fn no_header(headers: &HeaderMap, name: &str) -> bool {
    headers.get(name).is_none()
}

pub async fn a_get_without_cookie_is_unpinned_and_gets_no_cookie<A: PinningApp>() {
    let out = send(&default_app::<A>().await, request("GET", "/read")).await;
    assert_eq!(out.status, StatusCode::OK);
    assert!(!out.handler_pinned());
    assert!(out.set_cookies().is_empty());
    assert!(cache_control(&out).is_empty());
}

pub async fn a_post_pins_the_request_and_sets_the_cookie_with_default_attributes<A: PinningApp>() {
    let out = send(&default_app::<A>().await, request("POST", "/read")).await;
    assert!(out.handler_pinned());
    let cookie = out.pin_cookie().expect("a pin cookie");

    let expiry: u64 = cookie_value(&cookie)
        .parse()
        .expect("unsigned: Unix seconds");
    assert!((now() + 13..=now() + 15).contains(&expiry), "{cookie}");

    let attrs = cookie_attributes(&cookie);
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
    assert_eq!(cache_control(&out), ["private"]);
}

pub async fn a_get_with_the_cookie_from_a_post_is_pinned_and_not_extended<A: PinningApp>() {
    let app = default_app::<A>().await;
    let post = send(&app, request("POST", "/read")).await;
    let get = send(&app, get_with_cookie(&post.pin_pair())).await;
    assert!(get.handler_pinned());
    assert!(get.set_cookies().is_empty(), "reading never extends a pin");
    assert!(cache_control(&get).is_empty());
}

pub async fn methods_that_may_write_pin<A: PinningApp>() {
    let app = default_app::<A>().await;
    for method in [
        "POST", "PUT", "PATCH", "DELETE", "CONNECT", "PROPFIND", "PURGE",
    ] {
        let out = send(&app, request(method, "/read")).await;
        assert!(out.handler_pinned(), "{method}");
        assert!(out.pin_cookie().is_some(), "{method}");
    }
}

pub async fn read_methods_do_not_pin<A: PinningApp>() {
    let app = default_app::<A>().await;
    for method in ["GET", "HEAD", "OPTIONS", "TRACE"] {
        let out = send(&app, request(method, "/read")).await;
        assert!(out.set_cookies().is_empty(), "{method}");
        assert!(!out.handler_pinned(), "{method}");
    }
}

pub async fn writes_pin_even_when_the_handler_fails<A: PinningApp>() {
    let app = default_app::<A>().await;
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        let out = send(&app, request(method, "/error")).await;
        assert_eq!(out.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(out.pin_cookie().is_some(), "{method}");
    }
    for method in ["GET", "HEAD", "OPTIONS"] {
        let out = send(&app, request(method, "/error")).await;
        assert_eq!(out.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(out.set_cookies().is_empty(), "{method}");
    }
}

pub async fn db_write_in_a_get_pins<A: PinningApp>() {
    let out = send(&default_app::<A>().await, request("GET", "/db_write")).await;
    assert!(!out.handler_pinned());
    assert!(out.pin_cookie().is_some());
}

pub async fn mark_db_write_in_a_get_pins<A: PinningApp>() {
    let out = send(&default_app::<A>().await, request("GET", "/mark")).await;
    assert!(!out.handler_pinned());
    assert!(out.pin_cookie().is_some());
}

pub async fn a_marked_response_pins<A: PinningApp>() {
    let out = send(&default_app::<A>().await, request("GET", "/marked")).await;
    assert!(!out.handler_pinned());
    assert!(out.pin_cookie().is_some());
}

pub async fn a_write_statement_during_a_get_pins_by_default<A: PinningApp>() {
    let out = send(&default_app::<A>().await, request("GET", "/wrote")).await;
    assert!(!out.handler_pinned());
    assert!(out.pin_cookie().is_some());
}

pub async fn a_write_statement_does_not_pin_without_pin_on_any_write<A: PinningApp>() {
    let app = A::start(PinningConfig::default().pin_on_any_write(false)).await;
    let out = send(&app, request("GET", "/wrote")).await;
    assert!(out.set_cookies().is_empty());
    // The explicit signals still pin.
    for path in ["/mark", "/db_write", "/marked"] {
        let out = send(&app, request("GET", path)).await;
        assert!(out.pin_cookie().is_some(), "{path}");
    }
    assert!(
        send(&app, request("POST", "/read"))
            .await
            .pin_cookie()
            .is_some()
    );
}

pub async fn custom_cookie_name_and_duration<A: PinningApp>() {
    let app = A::start(
        PinningConfig::default()
            .cookie_name("pin")
            .pin_for(Duration::from_secs(60)),
    )
    .await;
    let out = send(&app, request("POST", "/read")).await;
    assert!(out.pin_cookie().is_none());
    let cookie = out.set_cookie("pin").expect("custom cookie");
    let attrs = cookie_attributes(&cookie);
    assert_eq!(attrs[0], "Max-Age=60");
    assert_expires_in(attrs[1].strip_prefix("Expires=").expect("Expires"), 60);
    let expiry: u64 = cookie_value(&cookie).parse().expect("seconds");
    assert!((now() + 58..=now() + 60).contains(&expiry));

    let custom = format!("pin={expiry}");
    assert!(send(&app, get_with_cookie(&custom)).await.handler_pinned());
    // The default name means nothing to this configuration.
    let other = pin(&expiry.to_string());
    assert!(!send(&app, get_with_cookie(&other)).await.handler_pinned());
}

pub async fn custom_cookie_attributes<A: PinningApp>() {
    let app = A::start(
        PinningConfig::default()
            .secure(false)
            .http_only(false)
            .same_site(SameSite::Strict)
            .cookie_path("/app")
            .cookie_domain("example.com"),
    )
    .await;
    let cookie = send(&app, request("POST", "/read"))
        .await
        .pin_cookie()
        .expect("cookie");
    assert_eq!(
        cookie_attributes(&cookie)[2..],
        ["Path=/app", "Domain=example.com", "SameSite=Strict"]
    );
    let app = A::start(PinningConfig::default().same_site(SameSite::None)).await;
    let cookie = send(&app, request("POST", "/read"))
        .await
        .pin_cookie()
        .expect("cookie");
    assert!(
        cookie.ends_with("; SameSite=None; HttpOnly; Secure"),
        "{cookie}"
    );
}

pub async fn invalid_cookies_are_ignored<A: PinningApp>() {
    let app = default_app::<A>().await;
    let huge = "9".repeat(5000);
    let cases = [
        pin(&(now() - 1).to_string()),    // expired
        pin(&now().to_string()),          // expires now
        pin(&(now() + 3600).to_string()), // beyond the cap
        pin(&u64::MAX.to_string()),       // far future
        pin("99999999999999999999999"),   // overflow
        pin("abc"),
        pin(""),
        pin(".."),
        pin(&format!("{}.abc", now() + 5)), // signed form, no keys
        pin(&huge),
        pin(&format!("-{}", now() + 5)),
        PIN_COOKIE.to_owned(),
        format!("{}={}", PIN_COOKIE.to_uppercase(), now() + 5), // names are case-sensitive
        format!("x{PIN_COOKIE}={}", now() + 5),
    ];
    for cookie in &cases {
        let out = send(&app, get_with_cookie(cookie)).await;
        assert_eq!(out.status, StatusCode::OK, "{cookie}");
        assert!(!out.handler_pinned(), "{cookie}");
        assert!(out.set_cookies().is_empty(), "{cookie}");
    }
}

pub async fn non_ascii_and_non_utf8_cookies_never_fail_the_request<A: PinningApp>() {
    let app = default_app::<A>().await;
    let valid = now() + 10;
    for (bytes, pinned) in [
        (format!("{PIN_COOKIE}=é{valid}").into_bytes(), false),
        (b"\xff\xfe\xfd".to_vec(), false),
        (format!("{PIN_COOKIE}=\u{ff11}").into_bytes(), false),
        // Our cookie is found even next to bytes that are not UTF-8.
        (
            [
                b"junk=\xff\xfe; ".as_slice(),
                format!("{PIN_COOKIE}={valid}").as_bytes(),
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

pub async fn a_64_kib_cookie_header_is_read_whole<A: PinningApp>() {
    let app = default_app::<A>().await;
    let pin = pin(&(now() + 10).to_string());
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

pub async fn nine_junk_copies_ahead_of_the_real_pin_do_not_hide_it<A: PinningApp>() {
    let app = default_app::<A>().await;
    let junk = format!("{}; ", pin("junk")).repeat(9);
    let header = format!("{junk}{}", pin(&(now() + 10).to_string()));
    assert!(send(&app, get_with_cookie(&header)).await.handler_pinned());
    // Also as separate headers, as HTTP/2 clients send them.
    let mut request = request("GET", "/read");
    for _ in 0..9 {
        request = request.header(header::COOKIE, pin(&(now() + 99_999).to_string()));
    }
    let request = request.header(header::COOKIE, pin(&(now() + 10).to_string()));
    assert!(send(&app, request).await.handler_pinned());
}

pub async fn duplicate_cookies_pin_if_any_is_valid<A: PinningApp>() {
    let app = default_app::<A>().await;
    let valid = now() + 10;
    let pinned = format!("{PIN_COOKIE}=abc; other=1; {PIN_COOKIE}={valid}; {PIN_COOKIE}=0");
    assert!(send(&app, get_with_cookie(&pinned)).await.handler_pinned());
    let unpinned = format!("{PIN_COOKIE}=abc; {PIN_COOKIE}=0; {PIN_COOKIE}=");
    assert!(
        !send(&app, get_with_cookie(&unpinned))
            .await
            .handler_pinned()
    );
}

pub async fn cookies_split_over_several_headers_are_read<A: PinningApp>() {
    // HTTP/2 clients send one `cookie` header per cookie.
    let app = default_app::<A>().await;
    let out = send(
        &app,
        request("GET", "/read")
            .header(header::COOKIE, "a=1")
            .header(header::COOKIE, "b=2")
            .header(header::COOKIE, format!("{PIN_COOKIE}=\"{}\"", now() + 10)),
    )
    .await;
    assert!(out.handler_pinned());
}

pub async fn the_applications_own_cookies_and_cache_control_survive<A: PinningApp>() {
    let app = default_app::<A>().await;
    for method in ["GET", "POST"] {
        let out = send(&app, request(method, "/own_headers")).await;
        let cookies = out.set_cookies();
        assert_eq!(cookies.len(), 3, "{method}: {cookies:?}");
        assert_eq!(cookies[0], "session=abc; Path=/");
        assert_eq!(cookies[1], "theme=dark; Path=/");
        assert!(cookies[2].starts_with(&format!("{PIN_COOKIE}=")));
        // The application's own Cache-Control is kept, alone.
        assert_eq!(cache_control(&out), ["no-store"], "{method}");
    }
}

pub async fn responses_that_pin_are_private<A: PinningApp>() {
    let app = default_app::<A>().await;
    for (method, path) in [("POST", "/read"), ("GET", "/mark"), ("DELETE", "/error")] {
        let out = send(&app, request(method, path)).await;
        assert!(out.pin_cookie().is_some(), "{method} {path}");
        assert_eq!(cache_control(&out), ["private"], "{method} {path}");
    }
    // A response that sets no pin is left alone, pinned client or not.
    let get = send(&app, request("GET", "/read")).await;
    assert!(cache_control(&get).is_empty());
    let pinned_get = send(&app, get_with_cookie(&pin(&(now() + 5).to_string()))).await;
    assert!(pinned_get.handler_pinned());
    assert!(cache_control(&pinned_get).is_empty());
}

pub async fn exempt_paths_are_never_pinned_and_get_no_cookie<A: PinningApp>() {
    let app = A::start(
        PinningConfig::default()
            .exempt_path_prefix("/static/")
            .exempt_path_prefix("/health")
            .header_name("x-multidb-pin"),
    )
    .await;
    for path in ["/static", "/static/app.js", "/static/css/site.css"] {
        let out = send(&app, request("POST", path)).await;
        assert!(!out.handler_pinned(), "{path}");
        assert!(out.set_cookies().is_empty(), "{path}");
        assert!(no_header(&out.headers, "x-multidb-pin"), "{path}");
        assert!(cache_control(&out).is_empty(), "{path}");
        let pin = pin(&(now() + 10).to_string());
        let out = send(&app, request("GET", path).header(header::COOKIE, pin)).await;
        assert!(!out.handler_pinned(), "{path}");
    }
    // A prefix is matched by whole path segments.
    let out = send(&app, request("POST", "/statics")).await;
    assert!(out.handler_pinned());
    assert!(out.pin_cookie().is_some());
}

pub async fn the_header_form_for_api_clients<A: PinningApp>() {
    let app = A::start(PinningConfig::default().header_name("x-multidb-pin")).await;
    let post = send(&app, request("POST", "/read")).await;
    let token = post
        .header("x-multidb-pin")
        .expect("the pin header")
        .to_owned();
    assert_eq!(token, post.pin_value(), "the same token as the cookie");

    let pinned = send(
        &app,
        request("GET", "/read").header("x-multidb-pin", &token),
    )
    .await;
    assert!(pinned.handler_pinned());
    assert!(
        no_header(&pinned.headers, "x-multidb-pin"),
        "no refresh on reads"
    );
    // A list of values, a valid one among them.
    let listed = send(
        &app,
        request("GET", "/read").header("x-multidb-pin", format!("junk, {token}")),
    )
    .await;
    assert!(listed.handler_pinned());

    for bad in ["abc", "", "0"] {
        let out = send(&app, request("GET", "/read").header("x-multidb-pin", bad)).await;
        assert!(!out.handler_pinned(), "{bad:?}");
    }
    // Without `header_name`, the header means nothing and is never sent.
    let plain = default_app::<A>().await;
    let out = send(
        &plain,
        request("GET", "/read").header("x-multidb-pin", &token),
    )
    .await;
    assert!(!out.handler_pinned());
    let post = send(&plain, request("POST", "/read")).await;
    assert!(no_header(&post.headers, "x-multidb-pin"));
}

pub async fn catch_panics_answers_500_with_the_pin<A: PinningApp>() {
    let (logs, _guard) = Logs::capture();
    let app = A::start(PinningConfig::default().catch_panics(true)).await;
    let out = send(&app, request("POST", "/panic")).await;
    assert_eq!(out.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(out.pin_cookie().is_some(), "{:?}", out.headers);
    assert_eq!(cache_control(&out), ["private"]);
    assert_eq!(out.body, "");
    let logs = logs.text();
    assert!(logs.contains("handler panicked"), "{logs}");
    assert!(logs.contains("boom after the write"), "{logs}");
    assert!(
        !logs.contains("a request that may have written ended without a response"),
        "{logs}"
    );

    // A GET that wrote pins too (`wrote`), by the same rule as a response.
    let out = send(&app, request("GET", "/panic")).await;
    assert_eq!(out.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(out.pin_cookie().is_some());
}

pub async fn timed_pins_a_post_to_a_missing_route_the_documented_cost<A: PinningApp>() {
    // django's rule: the method pins, whatever the handler did. Causal pins
    // (replication positions) pin only after a real write.
    let out = send(&default_app::<A>().await, request("POST", "/no/such/route")).await;
    assert_eq!(out.status, StatusCode::NOT_FOUND);
    assert!(out.pin_cookie().is_some());
}

pub async fn interleaved_requests_on_one_task_do_not_share_state<A: PinningApp>() {
    // Both futures are polled by the same task, interleaved at the barrier.
    let app = default_app::<A>().await;
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

// Streaming bodies: polled after the handler returned, in its context.

fn stream_config() -> PinningConfig {
    PinningConfig::default().exempt_path_prefix("/static")
}

pub async fn a_streaming_body_of_a_post_is_polled_pinned<A: PinningApp>() {
    let app = A::start(stream_config()).await;
    let out = send(&app, request("POST", "/stream")).await;
    assert_eq!(out.body, "observe:pinned;observe:pinned;");
    assert!(out.pin_cookie().is_some());
    // The body was polled after the middleware's future had completed, on
    // this task: nothing is left behind.
    assert_eq!(task_state(), TaskState::Unscoped);
}

pub async fn a_streaming_body_of_a_get_is_polled_in_its_unpinned_context<A: PinningApp>() {
    let app = A::start(stream_config()).await;
    let out = send(&app, request("GET", "/stream")).await;
    // Scoped (not `unscoped`), and not pinned.
    assert_eq!(out.body, "observe:unpinned;observe:unpinned;");
    assert!(out.set_cookies().is_empty());
}

pub async fn a_streaming_body_for_a_pinned_client_is_polled_pinned<A: PinningApp>() {
    let app = A::start(stream_config()).await;
    let post = send(&app, request("POST", "/stream")).await;
    let get = send(
        &app,
        request("GET", "/stream").header(header::COOKIE, post.pin_pair()),
    )
    .await;
    assert_eq!(get.body, "observe:pinned;observe:pinned;");
    assert!(get.set_cookies().is_empty());
}

pub async fn a_write_in_the_body_is_seen_by_the_rest_of_the_body_but_cannot_pin_the_client<
    A: PinningApp,
>() {
    let app = A::start(stream_config()).await;
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

pub async fn the_body_shares_the_handlers_request<A: PinningApp>() {
    let app = A::start(stream_config()).await;
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

pub async fn a_pin_made_in_the_body_lasts_for_the_rest_of_the_body_only<A: PinningApp>() {
    let app = A::start(stream_config()).await;
    let out = send(&app, request("GET", "/stream/pin")).await;
    assert_eq!(
        out.body,
        "observe:unpinned;pin:pinned;observe:pinned;unpin:unpinned;observe:unpinned;"
    );
    assert!(out.set_cookies().is_empty());
    let next = send(&app, request("GET", "/stream")).await;
    assert_eq!(next.body, "observe:unpinned;observe:unpinned;");
    assert!(!multidb_seaorm::this_task_is_pinned());
}

pub async fn the_body_of_an_exempt_request_runs_in_a_fresh_unpinned_context<A: PinningApp>() {
    let app = A::start(stream_config()).await;
    let out = send(&app, request("POST", "/static/stream")).await;
    assert_eq!(out.body, "observe:unpinned;");
    assert!(out.set_cookies().is_empty());
}

pub async fn interleaved_streaming_bodies_on_one_task_do_not_share_state<A: PinningApp>() {
    // Both bodies are polled by this task, interleaved: each item yields.
    let app = A::start(stream_config()).await;
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

// Signed pins: valid ones pin, everything else is ignored without failing
// the request.

async fn signed_app<A: PinningApp>() -> A {
    A::start(PinningConfig::default().signing_key(KEY)).await
}

/// `cookie` is ignored: the request succeeds, unpinned, with no new pin.
async fn assert_ignored<A: PinningApp>(app: &A, cookie: &str) {
    let out = send(app, get_with_cookie(cookie)).await;
    assert_eq!(out.status, StatusCode::OK, "{cookie}");
    assert!(!out.handler_pinned(), "{cookie} pinned");
    assert!(out.set_cookies().is_empty(), "{cookie}");
}

pub async fn issued_pins_are_signed_as_documented<A: PinningApp>() {
    let out = send(&signed_app::<A>().await, request("POST", "/read")).await;
    let value = out.pin_value();
    let (expiry, mac) = value.split_once('.').expect("<expiry>.<mac>");
    assert_eq!(mac.len(), 43, "unpadded base64url of 32 bytes");
    let expiry: u64 = expiry.parse().expect("seconds");
    assert_eq!(value, sign(KEY, PIN_COOKIE, expiry));
    assert!((now() + 13..=now() + 15).contains(&expiry));
}

pub async fn a_valid_signed_pin_pins<A: PinningApp>() {
    let app = signed_app::<A>().await;
    let issued = send(&app, request("PATCH", "/read")).await.pin_value();
    assert!(
        send(&app, get_with_cookie(&pin(&issued)))
            .await
            .handler_pinned()
    );
    let made_here = sign(KEY, PIN_COOKIE, now() + 10);
    assert!(
        send(&app, get_with_cookie(&pin(&made_here)))
            .await
            .handler_pinned()
    );
}

pub async fn forged_tampered_expired_and_far_future_pins_are_ignored<A: PinningApp>() {
    let app = signed_app::<A>().await;
    let expiry = now() + 10;
    let valid = sign(KEY, PIN_COOKIE, expiry);
    let (_, valid_mac) = valid.split_once('.').expect("signed");

    // A random signature.
    let forged = format!(
        "{expiry}.{}",
        mac(b"not the key, but just as long.....", "x")
    );
    assert_ignored(&app, &pin(&forged)).await;
    // Another key, same message.
    assert_ignored(&app, &pin(&sign(OLD_KEY, PIN_COOKIE, expiry))).await;
    // Signed for another cookie name.
    assert_ignored(&app, &pin(&sign(KEY, "other", expiry))).await;
    // The expiry changed, the signature kept.
    assert_ignored(&app, &pin(&format!("{}.{valid_mac}", expiry + 1))).await;
    assert_ignored(&app, &pin(&format!("{}.{valid_mac}", now() + 14))).await;
    assert_ignored(&app, &pin(&format!("0{expiry}.{valid_mac}"))).await;
    // Properly signed, but over.
    assert_ignored(&app, &pin(&sign(KEY, PIN_COOKIE, now() - 1))).await;
    assert_ignored(&app, &pin(&sign(KEY, PIN_COOKIE, now()))).await;
    // Properly signed, but further ahead than any pin we issue.
    assert_ignored(&app, &pin(&sign(KEY, PIN_COOKIE, now() + 3600))).await;
    assert_ignored(&app, &pin(&sign(KEY, PIN_COOKIE, u64::MAX))).await;
    // One flipped character of the signature.
    let mut flipped = valid.clone().into_bytes();
    let last = flipped.len() - 2;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    assert_ignored(&app, &pin(&String::from_utf8(flipped).expect("ASCII"))).await;
}

pub async fn unsigned_and_malformed_signed_pins_are_ignored<A: PinningApp>() {
    let app = signed_app::<A>().await;
    let expiry = now() + 10;
    let valid = sign(KEY, PIN_COOKIE, expiry);
    let huge = format!("{expiry}.{}", "A".repeat(10_000));
    for value in [
        expiry.to_string(),
        format!("{expiry}."),
        format!(".{}", valid.split_once('.').expect("signed").1),
        "abc".to_owned(),
        String::new(),
        "..".to_owned(),
        format!("{valid}."),
        format!("{valid}="),
        format!("{valid}.{valid}"),
        huge,
        format!("\"{valid}"),
    ] {
        assert_ignored(&app, &pin(&value)).await;
    }
    for bytes in [
        format!("{PIN_COOKIE}=ä{valid}").into_bytes(),
        [format!("{PIN_COOKIE}=").as_bytes(), b"\xff\xfe.\x80"].concat(),
    ] {
        let value = HeaderValue::from_bytes(&bytes).expect("obs-text is allowed");
        let out = send(&app, request("GET", "/read").header(header::COOKIE, value)).await;
        assert_eq!(out.status, StatusCode::OK);
        assert!(!out.handler_pinned());
    }
}

pub async fn duplicate_signed_cookies_pin_if_any_is_valid<A: PinningApp>() {
    let app = signed_app::<A>().await;
    let expiry = now() + 10;
    let valid = sign(KEY, PIN_COOKIE, expiry);
    let forged = sign(OLD_KEY, PIN_COOKIE, expiry);
    let both = format!("{}; {}", pin(&forged), pin(&valid));
    assert!(send(&app, get_with_cookie(&both)).await.handler_pinned());
    let reversed = format!("{}; a=b; {}", pin(&valid), pin(&forged));
    assert!(
        send(&app, get_with_cookie(&reversed))
            .await
            .handler_pinned()
    );
    let none = format!(
        "{}; {}; {}",
        pin(&forged),
        pin(&expiry.to_string()),
        pin("abc")
    );
    assert_ignored(&app, &none).await;
}

pub async fn key_rotation<A: PinningApp>() {
    let old_app = A::start(PinningConfig::default().signing_key(OLD_KEY)).await;
    let rotated = A::start(PinningConfig::default().signing_keys([KEY, OLD_KEY])).await;
    let new_only = signed_app::<A>().await;

    // A pin issued before the rotation is still honoured during it.
    let old_pin = send(&old_app, request("POST", "/read")).await.pin_value();
    assert!(
        send(&rotated, get_with_cookie(&pin(&old_pin)))
            .await
            .handler_pinned()
    );
    // Once the old key is dropped, it is not.
    assert_ignored(&new_only, &pin(&old_pin)).await;

    // New pins are signed with the first key.
    let new_pin = send(&rotated, request("POST", "/read")).await.pin_value();
    let expiry: u64 = new_pin
        .split_once('.')
        .expect("signed")
        .0
        .parse()
        .expect("seconds");
    assert_eq!(new_pin, sign(KEY, PIN_COOKIE, expiry));
    assert!(
        send(&new_only, get_with_cookie(&pin(&new_pin)))
            .await
            .handler_pinned()
    );
}

pub async fn signed_header_form<A: PinningApp>() {
    let app = A::start(
        PinningConfig::default()
            .signing_key(KEY)
            .header_name("x-multidb-pin"),
    )
    .await;
    let post = send(&app, request("DELETE", "/read")).await;
    let token = post
        .header("x-multidb-pin")
        .expect("the pin header")
        .to_owned();
    assert_eq!(token, post.pin_value());
    let out = send(
        &app,
        request("GET", "/read").header("x-multidb-pin", &token),
    )
    .await;
    assert!(out.handler_pinned());

    let unsigned = (now() + 10).to_string();
    let out = send(
        &app,
        request("GET", "/read").header("x-multidb-pin", unsigned),
    )
    .await;
    assert!(!out.handler_pinned());
    let other_key = sign(OLD_KEY, PIN_COOKIE, now() + 10);
    let out = send(
        &app,
        request("GET", "/read").header("x-multidb-pin", other_key),
    )
    .await;
    assert!(!out.handler_pinned());
}
