//! Configuration is checked once, with typed errors.

use std::time::Duration;

use multidb_http::__private::compile;
use multidb_http::{ConfigError, MAX_PIN_DURATION, MIN_SIGNING_KEY_LEN, PinningConfig, SameSite};

fn error(config: PinningConfig) -> ConfigError {
    let error = config.validate().expect_err("invalid configuration");
    assert_eq!(
        compile(&config).err().as_ref(),
        Some(&error),
        "validate and compile agree"
    );
    assert!(!error.to_string().is_empty());
    error
}

#[test]
fn the_default_is_valid() {
    assert_eq!(PinningConfig::default().validate(), Ok(()));
}

#[test]
fn cookie_names_must_be_tokens() {
    for name in [
        "", "a b", "a;b", "a=b", "a,b", "é", "a\tb", "(pin)", "a\"b", "a/b",
    ] {
        assert_eq!(
            error(PinningConfig::default().cookie_name(name)),
            ConfigError::InvalidCookieName {
                name: name.to_owned()
            },
            "{name:?}"
        );
    }
    for name in ["pin", "PIN_2", "a-b.c", "x!#$%&'*+^`|~"] {
        assert_eq!(
            PinningConfig::default().cookie_name(name).validate(),
            Ok(()),
            "{name}"
        );
    }
}

#[test]
fn cookie_name_prefixes() {
    let secure = PinningConfig::default().cookie_name("__Secure-pin");
    assert_eq!(secure.clone().validate(), Ok(()));
    assert!(matches!(
        error(secure.secure(false)),
        ConfigError::CookiePrefixRequirements { .. }
    ));
    let host = PinningConfig::default().cookie_name("__Host-pin");
    assert_eq!(host.clone().validate(), Ok(()));
    for bad in [
        host.clone().secure(false),
        host.clone().cookie_path("/app"),
        host.clone().cookie_domain("example.com"),
    ] {
        assert!(matches!(
            error(bad),
            ConfigError::CookiePrefixRequirements { .. }
        ));
    }
}

#[test]
fn signing_keys_must_be_long_enough() {
    let short = [0u8; MIN_SIGNING_KEY_LEN - 1];
    let long = [7u8; MIN_SIGNING_KEY_LEN];
    assert_eq!(
        error(PinningConfig::default().signing_key(short)),
        ConfigError::SigningKeyTooShort { index: 0, len: 31 }
    );
    assert_eq!(
        error(PinningConfig::default().signing_keys([&long[..], &long[..], b"short"])),
        ConfigError::SigningKeyTooShort { index: 2, len: 5 }
    );
    assert_eq!(
        error(PinningConfig::default().signing_keys(Vec::<Vec<u8>>::new())),
        ConfigError::NoSigningKeys
    );
    assert_eq!(
        PinningConfig::default().signing_key(long).validate(),
        Ok(())
    );
}

#[test]
fn keys_never_appear_in_debug_output() {
    let config = PinningConfig::default().signing_key(b"super secret key material, 32+ bytes");
    let debug = format!("{config:?}");
    assert!(!debug.contains("super secret"), "{debug}");
    assert!(debug.contains("redacted"), "{debug}");
    let settings = compile(&config).expect("valid");
    assert!(!format!("{settings:?}").contains("super secret"));
}

#[test]
fn pin_duration_range() {
    for duration in [
        Duration::ZERO,
        Duration::from_millis(999),
        MAX_PIN_DURATION + Duration::from_secs(1),
    ] {
        assert_eq!(
            error(PinningConfig::default().pin_for(duration)),
            ConfigError::PinDurationOutOfRange { duration }
        );
    }
    for duration in [Duration::from_secs(1), MAX_PIN_DURATION] {
        assert_eq!(
            PinningConfig::default().pin_for(duration).validate(),
            Ok(())
        );
    }
}

#[test]
fn cookie_attributes() {
    for path in ["", "app", "/a;b", "/é", "/a\nb"] {
        assert_eq!(
            error(PinningConfig::default().cookie_path(path)),
            ConfigError::InvalidCookiePath {
                path: path.to_owned()
            }
        );
    }
    for domain in ["", ".", "exa mple.com", "a;b", "é.com"] {
        assert_eq!(
            error(PinningConfig::default().cookie_domain(domain)),
            ConfigError::InvalidCookieDomain {
                domain: domain.to_owned()
            }
        );
    }
    assert_eq!(
        error(
            PinningConfig::default()
                .same_site(SameSite::None)
                .secure(false)
        ),
        ConfigError::SameSiteNoneRequiresSecure
    );
}

#[test]
fn header_names() {
    for name in ["", "x pin", "x-pin:", "cookie", "Set-Cookie", "é"] {
        assert_eq!(
            error(PinningConfig::default().header_name(name)),
            ConfigError::InvalidHeaderName {
                name: name.to_owned()
            },
            "{name:?}"
        );
    }
    assert_eq!(
        PinningConfig::default()
            .header_name("X-Multidb-Pin")
            .validate(),
        Ok(())
    );
}

#[test]
fn exempt_prefixes_are_paths() {
    assert_eq!(
        error(PinningConfig::default().exempt_path_prefix("static")),
        ConfigError::InvalidExemptPathPrefix {
            prefix: "static".to_owned()
        }
    );
}
