//! The pin cookie and header parser, through the public `PinningLayer` (the
//! parser itself is crate-private): arbitrary `Cookie` and pin-header values
//! never panic, and with signing on, nothing the signer did not issue pins a
//! read request.
#![no_main]

use futures_util::FutureExt as _;
use http::{HeaderValue, Method, Request, Response};
use libfuzzer_sys::fuzz_target;
use multidb_core::context::this_task_is_pinned;
use multidb_tower::{PinningConfig, PinningLayer};
use tower::{Layer as _, Service as _, ServiceExt as _};

const KEY: &[u8] = b"fuzzing key: 32 bytes or longer!";
const HEADER: &str = "x-multidb-pin";

fuzz_target!(|data: &[u8]| {
    // The input is split at 0xFF bytes into header values: the first half
    // Cookie headers, the rest pin headers.
    let parts: Vec<&[u8]> = data.split(|&b| b == 0xff).collect();
    for signed in [true, false] {
        let mut config = PinningConfig::default().header_name(HEADER);
        if signed {
            config = config.signing_key(KEY);
        }
        let layer = PinningLayer::try_new(config).expect("valid config");
        let mut service = layer.layer(tower::service_fn(|_req: Request<()>| async {
            // The handler reports what it saw in a header (the body is wrapped).
            let mut response = Response::new(());
            if this_task_is_pinned() {
                response
                    .headers_mut()
                    .insert("x-seen", HeaderValue::from_static("pinned"));
            }
            Ok::<_, std::convert::Infallible>(response)
        }));
        let mut request = Request::builder().method(Method::GET).uri("/");
        for (i, part) in parts.iter().enumerate() {
            let Ok(value) = HeaderValue::from_bytes(part) else {
                continue;
            };
            let name = if i % 2 == 0 { "cookie" } else { HEADER };
            request = request.header(name, value);
        }
        let Ok(request) = request.body(()) else {
            return;
        };
        let Some(Ok(service)) = service.ready().now_or_never() else {
            panic!("the service is always ready");
        };
        let Some(Ok(response)) = service.call(request).now_or_never() else {
            panic!("the handler answers at once");
        };
        if signed {
            assert!(
                !response.headers().contains_key("x-seen"),
                "an unsigned input pinned: {parts:?}"
            );
        }
    }
});
