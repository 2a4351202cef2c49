//! Signed pins through an axum `Router`: valid ones pin, everything else is
//! ignored without failing the request.

mod common;

use axum::http::{HeaderValue, StatusCode, header};
use common::*;
use multidb_tower::PinningConfig;

fn signed_app() -> axum::Router {
    app(PinningConfig::default().signing_key(KEY))
}

fn pin(value: &str) -> String {
    format!("{COOKIE_NAME}={value}")
}

/// `cookie` is ignored: the request succeeds, unpinned, with no new pin.
async fn assert_ignored(app: &axum::Router, cookie: &str) {
    let out = send(app, get_with_cookie(cookie)).await;
    assert_eq!(out.status, StatusCode::OK, "{cookie}");
    assert!(!out.handler_pinned(), "{cookie} pinned");
    assert!(out.set_cookies().is_empty(), "{cookie}");
}

#[tokio::test]
async fn issued_pins_are_signed_as_documented() {
    let out = send(&signed_app(), request("POST", "/read")).await;
    let value = out.pin_value();
    let (expiry, _) = value.split_once('.').expect("<expiry>.<mac>");
    let expiry: u64 = expiry.parse().expect("seconds");
    assert_eq!(value, sign(KEY, COOKIE_NAME, expiry));
    assert!((now() + 13..=now() + 15).contains(&expiry));
}

#[tokio::test]
async fn a_valid_signed_pin_pins() {
    let app = signed_app();
    let issued = send(&app, request("PATCH", "/read")).await.pin_value();
    assert!(
        send(&app, get_with_cookie(&pin(&issued)))
            .await
            .handler_pinned()
    );
    let made_here = sign(KEY, COOKIE_NAME, now() + 10);
    assert!(
        send(&app, get_with_cookie(&pin(&made_here)))
            .await
            .handler_pinned()
    );
}

#[tokio::test]
async fn forged_tampered_expired_and_far_future_pins_are_ignored() {
    let app = signed_app();
    let expiry = now() + 10;
    let valid = sign(KEY, COOKIE_NAME, expiry);
    let (_, valid_mac) = valid.split_once('.').expect("signed");

    // A random signature.
    let forged = format!(
        "{expiry}.{}",
        mac(b"not the key, but just as long.....", "x")
    );
    assert_ignored(&app, &pin(&forged)).await;
    // Another key, same message.
    assert_ignored(&app, &pin(&sign(OLD_KEY, COOKIE_NAME, expiry))).await;
    // Signed for another cookie name.
    assert_ignored(&app, &pin(&sign(KEY, "other", expiry))).await;
    // The expiry changed, the signature kept.
    assert_ignored(&app, &pin(&format!("{}.{valid_mac}", expiry + 1))).await;
    assert_ignored(&app, &pin(&format!("0{expiry}.{valid_mac}"))).await;
    // Properly signed, but over.
    assert_ignored(&app, &pin(&sign(KEY, COOKIE_NAME, now() - 1))).await;
    assert_ignored(&app, &pin(&sign(KEY, COOKIE_NAME, now()))).await;
    // Properly signed, but further ahead than any pin we issue.
    assert_ignored(&app, &pin(&sign(KEY, COOKIE_NAME, now() + 3600))).await;
    assert_ignored(&app, &pin(&sign(KEY, COOKIE_NAME, u64::MAX))).await;
    // One flipped character of the signature.
    let mut flipped = valid.clone().into_bytes();
    let last = flipped.len() - 2;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    assert_ignored(&app, &pin(&String::from_utf8(flipped).expect("ASCII"))).await;
}

#[tokio::test]
async fn unsigned_and_malformed_pins_are_ignored() {
    let app = signed_app();
    let expiry = now() + 10;
    let valid = sign(KEY, COOKIE_NAME, expiry);
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
        format!("{COOKIE_NAME}=ä{valid}").into_bytes(),
        [format!("{COOKIE_NAME}=").as_bytes(), b"\xff\xfe.\x80"].concat(),
    ] {
        let value = HeaderValue::from_bytes(&bytes).expect("obs-text is allowed");
        let out = send(&app, request("GET", "/read").header(header::COOKIE, value)).await;
        assert_eq!(out.status, StatusCode::OK);
        assert!(!out.handler_pinned());
    }
}

#[tokio::test]
async fn duplicate_signed_cookies_pin_if_any_is_valid() {
    let app = signed_app();
    let expiry = now() + 10;
    let valid = sign(KEY, COOKIE_NAME, expiry);
    let forged = sign(OLD_KEY, COOKIE_NAME, expiry);
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

#[tokio::test]
async fn key_rotation() {
    let old_app = app(PinningConfig::default().signing_key(OLD_KEY));
    let rotated = app(PinningConfig::default().signing_keys([KEY, OLD_KEY]));
    let new_only = signed_app();

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
    assert_eq!(new_pin, sign(KEY, COOKIE_NAME, expiry));
    assert!(
        send(&new_only, get_with_cookie(&pin(&new_pin)))
            .await
            .handler_pinned()
    );
}

#[tokio::test]
async fn signed_header_form() {
    let app = app(PinningConfig::default()
        .signing_key(KEY)
        .header_name("x-multidb-pin"));
    let post = send(&app, request("DELETE", "/read")).await;
    let token = post.headers["x-multidb-pin"]
        .to_str()
        .expect("ASCII")
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
    let other_key = sign(OLD_KEY, COOKIE_NAME, now() + 10);
    let out = send(
        &app,
        request("GET", "/read").header("x-multidb-pin", other_key),
    )
    .await;
    assert!(!out.handler_pinned());
}
