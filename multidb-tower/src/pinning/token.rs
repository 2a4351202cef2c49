//! The pin token: the value of the cookie (and of the optional header).
//!
//! * unsigned: `<expiry>`, the Unix time (seconds) until which the client is
//!   pinned;
//! * signed: `<expiry>.<mac>`, where `<mac>` is the unpadded base64url
//!   HMAC-SHA256, under the first signing key, of `<cookie name>|<expiry>`.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::config::Settings;

type HmacSha256 = Hmac<Sha256>;

/// A token is accepted up to this many seconds further in the future than
/// the pin duration allows, for clocks that differ between the servers
/// behind a load balancer.
pub(crate) const CLOCK_SKEW_SECS: u64 = 5;

/// The longest token we could have issued: 20 digits, a dot, 43 base64
/// characters. Anything longer is malformed.
const MAX_TOKEN_LEN: usize = 20 + 1 + 43;

/// Base64url characters of an unpadded 32-byte MAC.
const MAC_B64_LEN: usize = 43;

/// The HMAC keys, keyed once; the first signs, all verify.
pub(crate) struct Signer {
    macs: Vec<HmacSha256>,
}

impl Signer {
    /// `keys` is non-empty (checked by the config).
    pub(crate) fn new(keys: &[Vec<u8>]) -> Self {
        Signer {
            macs: keys
                .iter()
                // HMAC accepts keys of any length: `new_from_slice` never
                // fails for it, and the config already rejected short keys.
                .filter_map(|key| HmacSha256::new_from_slice(key).ok())
                .collect(),
        }
    }

    fn mac(base: &HmacSha256, name: &str, expiry: &[u8]) -> HmacSha256 {
        let mut mac = base.clone();
        mac.update(name.as_bytes());
        mac.update(b"|");
        mac.update(expiry);
        mac
    }

    fn sign(&self, name: &str, expiry: &str) -> Option<String> {
        let base = self.macs.first()?;
        let tag = Self::mac(base, name, expiry.as_bytes())
            .finalize()
            .into_bytes();
        Some(URL_SAFE_NO_PAD.encode(tag))
    }

    /// Constant-time check of `tag` against every key.
    fn verify(&self, name: &str, expiry: &[u8], tag: &[u8]) -> bool {
        self.macs
            .iter()
            .any(|base| Self::mac(base, name, expiry).verify_slice(tag).is_ok())
    }
}

/// Why a token was ignored (for `tracing`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reject {
    /// Not a token we could have issued.
    Malformed,
    /// Keys are configured and the token carries no signature.
    Unsigned,
    /// The signature matches no key.
    BadSignature,
    /// The pin is over.
    Expired,
    /// The pin ends later than any pin we issue could.
    TooFarAhead,
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

impl Settings {
    /// The token for a pin from `now` for the configured duration, and its
    /// expiry.
    pub(crate) fn issue(&self, now: u64) -> (String, u64) {
        let expiry = now.saturating_add(self.pin_secs);
        let expiry_str = expiry.to_string();
        let token = match self
            .signer
            .as_ref()
            .and_then(|s| s.sign(&self.cookie_name, &expiry_str))
        {
            Some(tag) => format!("{expiry_str}.{tag}"),
            None => expiry_str,
        };
        (token, expiry)
    }

    /// Whether `value` is a valid pin at time `now`: well formed, not
    /// expired, not too far ahead, and (with keys) correctly signed.
    pub(crate) fn check(&self, value: &[u8], now: u64) -> Result<(), Reject> {
        if value.is_empty() || value.len() > MAX_TOKEN_LEN {
            return Err(Reject::Malformed);
        }
        let (expiry_part, tag_part) = match value.iter().position(|&b| b == b'.') {
            Some(dot) => (&value[..dot], Some(&value[dot + 1..])),
            None => (value, None),
        };
        let expiry = parse_secs(expiry_part).ok_or(Reject::Malformed)?;
        if tag_part.is_some() && self.signer.is_none() {
            // We never issue signed tokens without keys.
            return Err(Reject::Malformed);
        }
        if expiry <= now {
            return Err(Reject::Expired);
        }
        let latest = now
            .saturating_add(self.pin_secs)
            .saturating_add(CLOCK_SKEW_SECS);
        if expiry > latest {
            return Err(Reject::TooFarAhead);
        }
        let Some(signer) = &self.signer else {
            return Ok(());
        };
        let tag_b64 = tag_part.ok_or(Reject::Unsigned)?;
        if tag_b64.len() != MAC_B64_LEN {
            return Err(Reject::Malformed);
        }
        let mut tag = [0u8; 48];
        let len = URL_SAFE_NO_PAD
            .decode_slice(tag_b64, &mut tag)
            .map_err(|_| Reject::Malformed)?;
        if signer.verify(&self.cookie_name, expiry_part, &tag[..len]) {
            Ok(())
        } else {
            Err(Reject::BadSignature)
        }
    }
}

/// 1 to 20 ASCII digits that fit in a `u64`.
fn parse_secs(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 20 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PinningConfig;
    use std::time::Duration;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
    const OLD_KEY: &[u8] = b"fedcba9876543210fedcba9876543210";
    const NOW: u64 = 1_700_000_000;

    fn settings(config: PinningConfig) -> Settings {
        config.compile().expect("valid configuration")
    }

    #[test]
    fn unsigned_round_trip() {
        let s = settings(PinningConfig::default());
        let (token, expiry) = s.issue(NOW);
        assert_eq!(token, (NOW + 15).to_string());
        assert_eq!(expiry, NOW + 15);
        assert_eq!(s.check(token.as_bytes(), NOW), Ok(()));
        assert_eq!(s.check(token.as_bytes(), NOW + 14), Ok(()));
        assert_eq!(s.check(token.as_bytes(), NOW + 15), Err(Reject::Expired));
    }

    #[test]
    fn signed_round_trip_and_format() {
        let s = settings(PinningConfig::default().signing_key(KEY));
        let (token, _) = s.issue(NOW);
        let (expiry, tag) = token.split_once('.').expect("signed token");
        assert_eq!(expiry, (NOW + 15).to_string());
        assert_eq!(tag.len(), MAC_B64_LEN);
        let mut mac = HmacSha256::new_from_slice(KEY).expect("any key length");
        mac.update(format!("multidb_pin_writes|{expiry}").as_bytes());
        assert_eq!(tag, URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()));
        assert_eq!(s.check(token.as_bytes(), NOW), Ok(()));
    }

    #[test]
    fn signature_binds_the_cookie_name() {
        let a = settings(PinningConfig::default().signing_key(KEY));
        let b = settings(
            PinningConfig::default()
                .signing_key(KEY)
                .cookie_name("other"),
        );
        let (token, _) = a.issue(NOW);
        assert_eq!(b.check(token.as_bytes(), NOW), Err(Reject::BadSignature));
    }

    #[test]
    fn rotation_signs_with_first_verifies_with_all() {
        let old = settings(PinningConfig::default().signing_key(OLD_KEY));
        let rotated = settings(PinningConfig::default().signing_keys([KEY, OLD_KEY]));
        let new_only = settings(PinningConfig::default().signing_key(KEY));
        let (old_token, _) = old.issue(NOW);
        assert_eq!(rotated.check(old_token.as_bytes(), NOW), Ok(()));
        assert_eq!(
            new_only.check(old_token.as_bytes(), NOW),
            Err(Reject::BadSignature)
        );
        let (new_token, _) = rotated.issue(NOW);
        assert_eq!(new_only.check(new_token.as_bytes(), NOW), Ok(()));
        assert_eq!(
            old.check(new_token.as_bytes(), NOW),
            Err(Reject::BadSignature)
        );
    }

    #[test]
    fn cap_on_expiry() {
        let s = settings(PinningConfig::default());
        let at = |secs: u64| s.check(secs.to_string().as_bytes(), NOW);
        assert_eq!(at(NOW + 15 + CLOCK_SKEW_SECS), Ok(()));
        assert_eq!(at(NOW + 16 + CLOCK_SKEW_SECS), Err(Reject::TooFarAhead));
        assert_eq!(at(u64::MAX), Err(Reject::TooFarAhead));
        assert_eq!(at(NOW), Err(Reject::Expired));
        assert_eq!(at(0), Err(Reject::Expired));
    }

    #[test]
    fn malformed_values() {
        let unsigned = settings(PinningConfig::default());
        let signed = settings(PinningConfig::default().signing_key(KEY));
        let huge = "9".repeat(10_000);
        let overflow = "99999999999999999999"; // 20 digits, > u64::MAX
        for bad in [
            "", "abc", "..", ".", "-5", "+5", " 5", "5 ", "1e9", "０", "é", &huge, overflow,
        ] {
            assert_eq!(
                unsigned.check(bad.as_bytes(), NOW),
                Err(Reject::Malformed),
                "{bad:?}"
            );
            assert_eq!(
                signed.check(bad.as_bytes(), NOW),
                Err(Reject::Malformed),
                "{bad:?}"
            );
        }
        let (token, _) = signed.issue(NOW);
        // Unsigned mode never accepts what only signed mode issues.
        assert_eq!(
            unsigned.check(token.as_bytes(), NOW),
            Err(Reject::Malformed)
        );
        // Signed mode refuses unsigned tokens.
        let bare = (NOW + 10).to_string();
        assert_eq!(signed.check(bare.as_bytes(), NOW), Err(Reject::Unsigned));
        // Truncated, padded, or non-base64 signatures.
        let (expiry, tag) = token.split_once('.').expect("signed token");
        for bad_tag in [
            &tag[1..],
            &format!("{tag}="),
            &format!("{}!", &tag[1..]),
            "",
        ] {
            let value = format!("{expiry}.{bad_tag}");
            assert_eq!(
                signed.check(value.as_bytes(), NOW),
                Err(Reject::Malformed),
                "{value}"
            );
        }
        let extra_dot = format!("{token}.x");
        assert!(signed.check(extra_dot.as_bytes(), NOW).is_err());
    }

    #[test]
    fn tampered_expiry_is_a_bad_signature() {
        let s = settings(PinningConfig::default().signing_key(KEY));
        let (token, _) = s.issue(NOW);
        let (_, tag) = token.split_once('.').expect("signed token");
        let tampered = format!("{}.{tag}", NOW + 14);
        assert_eq!(s.check(tampered.as_bytes(), NOW), Err(Reject::BadSignature));
    }

    #[test]
    fn sub_second_durations_round_up() {
        let s = settings(PinningConfig::default().pin_for(Duration::from_millis(1500)));
        assert_eq!(s.pin_secs, 2);
    }

    #[test]
    fn parse_secs_bounds() {
        assert_eq!(parse_secs(b"0"), Some(0));
        assert_eq!(parse_secs(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_secs(b"18446744073709551616"), None);
        assert_eq!(parse_secs(b""), None);
    }
}
