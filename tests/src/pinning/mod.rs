//! One HTTP pinning conformance suite for every framework adapter.
//!
//! The decisions (what pins a request, what pins the client, which pin is
//! valid, which response stays private) live in `multidb-http`; the tower
//! layer and the actix-web middleware only carry them. So every scenario in
//! [`scenarios`] runs against both: each adapter's tests implement
//! [`PinningApp`] ("serve [`Routes`] behind your middleware with this
//! configuration; send this request, give me the [`Reply`]") and
//! instantiate [`pinning_conformance!`](crate::pinning_conformance) once.
//! The macro lists every scenario, and a test of this crate fails when a
//! `pub async fn` of `scenarios.rs` is missing from it: a scenario added
//! once runs for both frameworks, and cannot be forgotten.

pub mod scenarios;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::stream::{self, BoxStream, StreamExt as _};
use hmac::{Hmac, Mac as _};
use http::Request;
use multidb_seaorm::{
    PinningConfig, db_write, mark_db_write, pin_this_task, this_task_is_pinned, unpin_this_task,
};
use sha2::Sha256;
use tokio::sync::Barrier;

use crate::http1::Reply;
use crate::private::{TaskState, note_write, task_state};

/// A signing key, and the one it replaced (both 32 bytes or longer).
pub const KEY: &[u8] = b"test key: 32 bytes or longer, ok";
pub const OLD_KEY: &[u8] = b"the previous key, also >=32 byte";

/// [`Routes`] served by one framework behind its pinning middleware.
pub trait PinningApp: Sized {
    /// Serve [`Routes::handle`] for every method and path, behind the
    /// framework's middleware configured with `config`.
    fn start(config: PinningConfig) -> impl Future<Output = Self>;

    /// Send `request` through the app and read the reply whole. An error
    /// of the middleware stack becomes the response the framework's server
    /// would make of it.
    fn send(&self, request: Request<String>) -> impl Future<Output = Reply>;
}

/// Send `request` (with no body) through `app`.
pub async fn send<A: PinningApp>(app: &A, request: http::request::Builder) -> Reply {
    app.send(request.body(String::new()).expect("a valid request"))
        .await
}

/// What a handler answers, for the adapter to turn into its framework's
/// response.
pub struct Handled {
    pub status: u16,
    pub headers: Vec<(&'static str, &'static str)>,
    pub body: Body,
    /// Whether the response carries the `DbWrite` extension.
    pub marked: bool,
}

/// A [`Handled`] body.
pub enum Body {
    Full(String),
    /// Chunks made while the body is polled, after the handler returned.
    Stream(BoxStream<'static, String>),
}

/// The test application, the same for every framework. Every route takes
/// every method; the handler answers whether it ran pinned (`x-seen` and
/// the body), as seen before it does anything else:
///
/// | path | then |
/// |---|---|
/// | `/read`, `/static…`, `/statics` | nothing |
/// | `/db_write` | `db_write(async {})` |
/// | `/mark` | `mark_db_write()` |
/// | `/marked` | the response carries `DbWrite` |
/// | `/wrote` | a write statement ran (`note_write`) |
/// | `/error` | answers 500 |
/// | `/own_headers` | sets cookies `session` and `theme`, `Cache-Control: no-store`, and marks |
/// | `/panic` | a write statement ran, then panics |
/// | `/wait[?mark]` | meets another request at a barrier, marks when asked; body `before/after` |
/// | `/stream…`, `/static/stream` | a streaming body, see [`lazy_body`] |
///
/// Anything else is 404.
#[derive(Clone)]
pub struct Routes {
    barrier: Arc<Barrier>,
}

impl Default for Routes {
    fn default() -> Self {
        Routes {
            barrier: Arc::new(Barrier::new(2)),
        }
    }
}

/// `pinned` or `unpinned`.
pub fn seen() -> &'static str {
    if this_task_is_pinned() {
        "pinned"
    } else {
        "unpinned"
    }
}

impl Routes {
    /// Answer `path` (`query` is what follows `?`).
    pub async fn handle(&self, path: &str, query: Option<&str>) -> Handled {
        let before = seen();
        let plain = |status| Handled {
            status,
            headers: vec![("x-seen", before)],
            body: Body::Full(before.to_owned()),
            marked: false,
        };
        let streaming = |actions: &'static [&'static str]| Handled {
            status: 200,
            headers: Vec::new(),
            body: Body::Stream(lazy_body(actions)),
            marked: false,
        };
        match path {
            "/read" | "/static" | "/statics" => plain(200),
            "/db_write" => {
                db_write(async {}).await;
                plain(200)
            }
            "/mark" => {
                mark_db_write();
                plain(200)
            }
            "/marked" => Handled {
                marked: true,
                ..plain(200)
            },
            "/wrote" => {
                note_write();
                plain(200)
            }
            "/error" => plain(500),
            "/own_headers" => {
                mark_db_write();
                let mut handled = plain(200);
                handled.headers.extend([
                    ("set-cookie", "session=abc; Path=/"),
                    ("set-cookie", "theme=dark; Path=/"),
                    ("cache-control", "no-store"),
                ]);
                handled
            }
            "/panic" => {
                note_write();
                panic!("boom after the write");
            }
            "/wait" => {
                self.barrier.wait().await;
                if query == Some("mark") {
                    mark_db_write();
                }
                Handled {
                    body: Body::Full(format!("{before}/{}", seen())),
                    ..plain(200)
                }
            }
            "/stream" => streaming(&["observe", "observe"]),
            "/stream/write" => streaming(&["observe", "write", "observe"]),
            "/stream/pin" => streaming(&["observe", "pin", "observe", "unpin", "observe"]),
            "/stream/handler_wrote" => {
                note_write();
                streaming(&["observe"])
            }
            "/stream/handler_pinned" => {
                pin_this_task();
                streaming(&["observe"])
            }
            "/stream/handler_unpinned" => {
                unpin_this_task();
                streaming(&["observe"])
            }
            "/static/stream" => streaming(&["observe"]),
            _ if path.starts_with("/static/") => plain(200),
            _ => Handled {
                status: 404,
                headers: Vec::new(),
                body: Body::Full(String::new()),
                marked: false,
            },
        }
    }
}

/// The current task's routing state, in short: `unscoped`, or `pinned` /
/// `unpinned` with `+wrote` once a write ran in the request.
pub fn observed() -> String {
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
/// `unpin`) and reports `action:state;` as [`observed`] right after it.
pub fn lazy_body(actions: &'static [&'static str]) -> BoxStream<'static, String> {
    stream::iter(actions)
        .then(|&action| async move {
            tokio::task::yield_now().await;
            match action {
                "write" => {
                    note_write();
                }
                "pin" => pin_this_task(),
                "unpin" => unpin_this_task(),
                _ => {}
            }
            format!("{action}:{};", observed())
        })
        .boxed()
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

/// One test per scenario of [`scenarios`], for the [`PinningApp`] `$app`,
/// each under the test attribute `$test` (`tokio::test`,
/// `actix_web::test`). `pinning_conformance!(@names)` is the list itself.
#[macro_export]
macro_rules! pinning_conformance {
    ($app:ty, $test:meta) => {
        $crate::pinning_conformance!(@list each [$app] [$test]);
    };
    (@names) => {
        $crate::pinning_conformance!(@list names)
    };
    (@list $($how:tt)*) => {
        $crate::pinning_conformance! { @$($how)*:
            a_get_without_cookie_is_unpinned_and_gets_no_cookie,
            a_post_pins_the_request_and_sets_the_cookie_with_default_attributes,
            a_get_with_the_cookie_from_a_post_is_pinned_and_not_extended,
            methods_that_may_write_pin,
            read_methods_do_not_pin,
            writes_pin_even_when_the_handler_fails,
            db_write_in_a_get_pins,
            mark_db_write_in_a_get_pins,
            a_marked_response_pins,
            a_write_statement_during_a_get_pins_by_default,
            a_write_statement_does_not_pin_without_pin_on_any_write,
            custom_cookie_name_and_duration,
            custom_cookie_attributes,
            invalid_cookies_are_ignored,
            non_ascii_and_non_utf8_cookies_never_fail_the_request,
            a_64_kib_cookie_header_is_read_whole,
            nine_junk_copies_ahead_of_the_real_pin_do_not_hide_it,
            duplicate_cookies_pin_if_any_is_valid,
            cookies_split_over_several_headers_are_read,
            the_applications_own_cookies_and_cache_control_survive,
            responses_that_pin_are_private,
            exempt_paths_are_never_pinned_and_get_no_cookie,
            the_header_form_for_api_clients,
            catch_panics_answers_500_with_the_pin,
            timed_pins_a_post_to_a_missing_route_the_documented_cost,
            interleaved_requests_on_one_task_do_not_share_state,
            a_streaming_body_of_a_post_is_polled_pinned,
            a_streaming_body_of_a_get_is_polled_in_its_unpinned_context,
            a_streaming_body_for_a_pinned_client_is_polled_pinned,
            a_write_in_the_body_is_seen_by_the_rest_of_the_body_but_cannot_pin_the_client,
            the_body_shares_the_handlers_request,
            a_pin_made_in_the_body_lasts_for_the_rest_of_the_body_only,
            the_body_of_an_exempt_request_runs_in_a_fresh_unpinned_context,
            interleaved_streaming_bodies_on_one_task_do_not_share_state,
            issued_pins_are_signed_as_documented,
            a_valid_signed_pin_pins,
            forged_tampered_expired_and_far_future_pins_are_ignored,
            unsigned_and_malformed_signed_pins_are_ignored,
            duplicate_signed_cookies_pin_if_any_is_valid,
            key_rotation,
            signed_header_form,
        }
    };
    (@each [$app:ty] [$test:meta]: $($name:ident),* $(,)?) => {$(
        #[$test]
        async fn $name() {
            $crate::pinning::scenarios::$name::<$app>().await
        }
    )*};
    (@names: $($name:ident),* $(,)?) => {
        &[$(stringify!($name)),*]
    };
}
