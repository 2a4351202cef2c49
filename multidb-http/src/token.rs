//! The pin token: the value of the cookie (and of the optional header). It
//! knows nothing of cookies, headers or the configuration.
//!
//! ```text
//! token    = payload [ "." mac ]        ; the mac when, and only when, keys are set
//! payload  = expiry [ ":" position ]
//! expiry   = 1*20DIGIT                  ; Unix time (s) until which the client is pinned
//! position = 1*200( ALPHA / DIGIT / "." / "_" / "~" / "-" )   ; opaque, optional
//! mac      = 43base64url                ; unpadded HMAC-SHA256 of `<cookie name>|<payload>`
//! ```
//!
//! The format is versioned by its shape: the first tokens (`<expiry>` and
//! `<expiry>.<mac>`) are exactly this grammar without a position, and their
//! MAC input (`<name>|<expiry>`) is unchanged, so pins issued before the
//! position existed stay valid. A later field goes after another `:`.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::pin::TARGET;

type HmacSha256 = Hmac<Sha256>;

/// A token is accepted up to this many seconds further in the future than
/// the pin duration allows, for clocks that differ between the servers
/// behind a load balancer.
pub(crate) const CLOCK_SKEW_SECS: u64 = 5;

/// The longest position a token carries.
pub(crate) const MAX_POSITION_LEN: usize = 200;

/// The longest token we could have issued: 20 digits, `:`, a position, a
/// dot, 43 base64 characters. Anything longer is malformed.
const MAX_TOKEN_LEN: usize = 20 + 1 + MAX_POSITION_LEN + 1 + MAC_B64_LEN;

/// Base64url characters of an unpadded 32-byte MAC.
const MAC_B64_LEN: usize = 43;

/// Whether `position` can travel in a token: 1 to [`MAX_POSITION_LEN`] bytes of
/// `[A-Za-z0-9._~-]`, characters that need no quoting in a cookie or a
/// header.
pub(crate) fn is_valid_position(position: &[u8]) -> bool {
    (1..=MAX_POSITION_LEN).contains(&position.len())
        && position
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"._~-".contains(&b))
}

/// The HMAC keys, keyed once; the first signs, all verify.
struct Signer {
    macs: Vec<HmacSha256>,
}

impl Signer {
    fn mac(base: &HmacSha256, name: &str, payload: &[u8]) -> HmacSha256 {
        let mut mac = base.clone();
        mac.update(name.as_bytes());
        mac.update(b"|");
        mac.update(payload);
        mac
    }
}

/// Issues and checks the tokens of one cookie name, pin duration and key
/// list.
pub(crate) struct Tokens {
    /// Bound into the MAC, so a pin of one cookie is not valid for another.
    name: String,
    pin_secs: u64,
    signer: Option<Signer>,
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

/// A valid token, read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Checked<'a> {
    /// When the pin ends (Unix seconds).
    pub(crate) expiry: u64,
    /// The position it carries, if any (valid characters only).
    pub(crate) position: Option<&'a [u8]>,
}

/// A token that passed the cheap checks (well formed, within the pin
/// window); with keys, its MAC is still to be verified.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Unverified<'a> {
    checked: Checked<'a>,
    /// What the MAC covers.
    payload: &'a [u8],
    /// The MAC, base64url, if the token carries one.
    tag: Option<&'a [u8]>,
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

impl Tokens {
    /// `keys`, if any, are non-empty and long enough (the configuration
    /// checked them).
    pub(crate) fn new(name: &str, pin_secs: u64, keys: Option<&[Vec<u8>]>) -> Self {
        let signer = keys.map(|keys| Signer {
            macs: keys
                .iter()
                .map(|key| match HmacSha256::new_from_slice(key) {
                    Ok(mac) => mac,
                    // HMAC takes keys of any length (long ones are hashed).
                    Err(_) => unreachable!("HMAC accepts every key length"),
                })
                .collect(),
        });
        Tokens {
            name: name.to_owned(),
            pin_secs,
            signer,
        }
    }

    /// The pin duration, whole seconds.
    pub(crate) fn pin_secs(&self) -> u64 {
        self.pin_secs
    }

    /// Whether tokens are signed.
    pub(crate) fn signed(&self) -> bool {
        self.signer.is_some()
    }

    /// The length of the token [`write`](Self::write) makes for `now` and
    /// `position`, so the caller can allocate exactly once.
    pub(crate) fn token_len(&self, now: u64, position: Option<&str>) -> usize {
        let expiry = now.saturating_add(self.pin_secs);
        let digits = expiry.checked_ilog10().map_or(1, |log| log as usize + 1);
        let position = position
            .filter(|p| is_valid_position(p.as_bytes()))
            .map_or(0, |p| 1 + p.len());
        let mac = if self.signer.is_some() {
            1 + MAC_B64_LEN
        } else {
            0
        };
        digits + position + mac
    }

    /// Append to `out` the token of a pin from `now` for the pin duration,
    /// carrying `position` if it is valid ([`is_valid_position`]; an invalid
    /// one is left out, with a warning). Returns the expiry.
    pub(crate) fn write(&self, now: u64, position: Option<&str>, out: &mut String) -> u64 {
        let expiry = now.saturating_add(self.pin_secs);
        let start = out.len();
        // Writing to a String cannot fail.
        let _ = write!(out, "{expiry}");
        match position {
            Some(position) if is_valid_position(position.as_bytes()) => {
                out.push(':');
                out.push_str(position);
            }
            Some(_) => tracing::warn!(
                target: TARGET,
                max_len = MAX_POSITION_LEN,
                "pin position left out of the token: 1 to max_len of [A-Za-z0-9._~-] are allowed"
            ),
            None => {}
        }
        if let Some(base) = self.signer.as_ref().and_then(|s| s.macs.first()) {
            let tag = Signer::mac(base, &self.name, &out.as_bytes()[start..]).finalize();
            out.push('.');
            URL_SAFE_NO_PAD.encode_string(tag.into_bytes(), out);
        }
        expiry
    }

    /// `value` read as a pin at time `now`: well formed, not expired, not
    /// too far ahead, and (with keys) correctly signed.
    #[cfg(test)]
    pub(crate) fn check<'a>(&self, value: &'a [u8], now: u64) -> Result<Checked<'a>, Reject> {
        self.verify(self.read(value, now)?)
    }

    /// `value` read as a pin at time `now`, with the cheap checks only (a
    /// few byte comparisons): well formed, not expired, not too far ahead.
    pub(crate) fn read<'a>(&self, value: &'a [u8], now: u64) -> Result<Unverified<'a>, Reject> {
        if value.is_empty() || value.len() > MAX_TOKEN_LEN {
            return Err(Reject::Malformed);
        }
        let (payload, tag) = match &self.signer {
            // A position may hold dots: the MAC is after the last one.
            Some(_) => match value.iter().rposition(|&b| b == b'.') {
                Some(dot) => (&value[..dot], Some(&value[dot + 1..])),
                None => (value, None),
            },
            None => (value, None),
        };
        let digits = payload
            .iter()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(payload.len());
        let expiry = parse_secs(&payload[..digits]).ok_or(Reject::Malformed)?;
        let position = match &payload[digits..] {
            [] => None,
            [b':', position @ ..] if is_valid_position(position) => Some(position),
            // Among others, a signed token given to a service without keys.
            _ => return Err(Reject::Malformed),
        };
        if expiry <= now {
            return Err(Reject::Expired);
        }
        let latest = now
            .saturating_add(self.pin_secs)
            .saturating_add(CLOCK_SKEW_SECS);
        if expiry > latest {
            return Err(Reject::TooFarAhead);
        }
        Ok(Unverified {
            checked: Checked { expiry, position },
            payload,
            tag,
        })
    }

    /// The token, if it is correctly signed (always, without keys): one
    /// HMAC per key, at worst.
    pub(crate) fn verify<'a>(&self, token: Unverified<'a>) -> Result<Checked<'a>, Reject> {
        let Unverified {
            checked,
            payload,
            tag,
        } = token;
        let Some(signer) = &self.signer else {
            return Ok(checked);
        };
        let tag_b64 = tag.ok_or(Reject::Unsigned)?;
        if tag_b64.len() != MAC_B64_LEN {
            return Err(Reject::Malformed);
        }
        let mut tag = [0u8; 48];
        let len = URL_SAFE_NO_PAD
            .decode_slice(tag_b64, &mut tag)
            .map_err(|_| Reject::Malformed)?;
        // `verify_slice` compares in constant time.
        let valid = signer.macs.iter().any(|base| {
            Signer::mac(base, &self.name, payload)
                .verify_slice(&tag[..len])
                .is_ok()
        });
        if valid {
            Ok(checked)
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

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
    const OLD_KEY: &[u8] = b"fedcba9876543210fedcba9876543210";
    const NOW: u64 = 1_700_000_000;
    const NAME: &str = "multidb_pin_writes";

    fn unsigned() -> Tokens {
        Tokens::new(NAME, 15, None)
    }

    fn signed(keys: &[&[u8]]) -> Tokens {
        let keys: Vec<Vec<u8>> = keys.iter().map(|k| k.to_vec()).collect();
        Tokens::new(NAME, 15, Some(&keys))
    }

    fn issue(tokens: &Tokens, now: u64, position: Option<&str>) -> String {
        let mut out = String::new();
        tokens.write(now, position, &mut out);
        assert_eq!(out.len(), tokens.token_len(now, position), "{out}");
        out
    }

    fn ok(expiry: u64) -> Result<Checked<'static>, Reject> {
        Ok(Checked {
            expiry,
            position: None,
        })
    }

    #[test]
    fn unsigned_round_trip() {
        let s = unsigned();
        let token = issue(&s, NOW, None);
        assert_eq!(token, (NOW + 15).to_string());
        assert_eq!(s.check(token.as_bytes(), NOW), ok(NOW + 15));
        assert_eq!(s.check(token.as_bytes(), NOW + 14), ok(NOW + 15));
        assert_eq!(s.check(token.as_bytes(), NOW + 15), Err(Reject::Expired));
    }

    #[test]
    fn signed_round_trip_and_format() {
        let s = signed(&[KEY]);
        let token = issue(&s, NOW, None);
        let (expiry, tag) = token.split_once('.').expect("signed token");
        assert_eq!(expiry, (NOW + 15).to_string());
        assert_eq!(tag.len(), MAC_B64_LEN);
        let mut mac = HmacSha256::new_from_slice(KEY).expect("any key length");
        mac.update(format!("multidb_pin_writes|{expiry}").as_bytes());
        assert_eq!(tag, URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()));
        assert_eq!(s.check(token.as_bytes(), NOW), ok(NOW + 15));
    }

    #[test]
    fn positions_round_trip_signed_and_unsigned() {
        for s in [unsigned(), signed(&[KEY])] {
            let position = "0/16B3F28".replace('/', "-") + ".x~_";
            let token = issue(&s, NOW, Some(&position));
            assert!(token.starts_with(&format!("{}:{position}", NOW + 15)));
            let checked = s.check(token.as_bytes(), NOW).expect("valid");
            assert_eq!(checked.position, Some(position.as_bytes()));
            // The position is covered by the MAC.
            if s.signed() {
                let tampered = token.replacen(".x~_", ".y~_", 1);
                assert_eq!(s.check(tampered.as_bytes(), NOW), Err(Reject::BadSignature));
            }
        }
        let longest = "a".repeat(MAX_POSITION_LEN);
        let s = signed(&[KEY]);
        let token = issue(&s, u64::MAX - 15, Some(&longest));
        assert_eq!(token.len(), MAX_TOKEN_LEN);
        // Invalid positions are left out rather than breaking the token.
        for bad in ["", "a b", "a;b", "a:b", &"a".repeat(MAX_POSITION_LEN + 1)] {
            let token = issue(&s, NOW, Some(bad));
            assert_eq!(s.check(token.as_bytes(), NOW), ok(NOW + 15), "{bad:?}");
        }
    }

    #[test]
    fn signature_binds_the_cookie_name() {
        let a = signed(&[KEY]);
        let keys = vec![KEY.to_vec()];
        let b = Tokens::new("other", 15, Some(&keys));
        let token = issue(&a, NOW, None);
        assert_eq!(b.check(token.as_bytes(), NOW), Err(Reject::BadSignature));
    }

    #[test]
    fn rotation_signs_with_first_verifies_with_all() {
        let old = signed(&[OLD_KEY]);
        let rotated = signed(&[KEY, OLD_KEY]);
        let new_only = signed(&[KEY]);
        let old_token = issue(&old, NOW, None);
        assert!(rotated.check(old_token.as_bytes(), NOW).is_ok());
        assert_eq!(
            new_only.check(old_token.as_bytes(), NOW),
            Err(Reject::BadSignature)
        );
        let new_token = issue(&rotated, NOW, None);
        assert!(new_only.check(new_token.as_bytes(), NOW).is_ok());
        assert_eq!(
            old.check(new_token.as_bytes(), NOW),
            Err(Reject::BadSignature)
        );
    }

    #[test]
    fn cap_on_expiry() {
        let s = unsigned();
        let at = |secs: u64| s.check(secs.to_string().as_bytes(), NOW).map(|c| c.expiry);
        assert_eq!(
            at(NOW + 15 + CLOCK_SKEW_SECS),
            Ok(NOW + 15 + CLOCK_SKEW_SECS)
        );
        assert_eq!(at(NOW + 16 + CLOCK_SKEW_SECS), Err(Reject::TooFarAhead));
        assert_eq!(at(u64::MAX), Err(Reject::TooFarAhead));
        assert_eq!(at(NOW), Err(Reject::Expired));
        assert_eq!(at(0), Err(Reject::Expired));
    }

    #[test]
    fn malformed_values() {
        let unsigned = unsigned();
        let signed = signed(&[KEY]);
        let huge = "9".repeat(10_000);
        let overflow = "99999999999999999999"; // 20 digits, > u64::MAX
        let soon = NOW + 3;
        for bad in [
            "",
            "abc",
            "..",
            ".",
            "-5",
            "+5",
            " 5",
            "5 ",
            "1e9",
            "０",
            "é",
            &huge,
            overflow,
            &format!("{soon}:"),
            &format!("{soon}:a b"),
            &format!(":{soon}"),
        ] {
            assert_eq!(
                unsigned.check(bad.as_bytes(), NOW),
                Err(Reject::Malformed),
                "{bad:?}"
            );
            assert!(signed.check(bad.as_bytes(), NOW).is_err(), "{bad:?}");
        }
        let token = issue(&signed, NOW, None);
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
        let s = signed(&[KEY]);
        let token = issue(&s, NOW, None);
        let (_, tag) = token.split_once('.').expect("signed token");
        let tampered = format!("{}.{tag}", NOW + 14);
        assert_eq!(s.check(tampered.as_bytes(), NOW), Err(Reject::BadSignature));
    }

    #[test]
    fn parse_secs_bounds() {
        assert_eq!(parse_secs(b"0"), Some(0));
        assert_eq!(parse_secs(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_secs(b"18446744073709551616"), None);
        assert_eq!(parse_secs(b""), None);
    }
}
