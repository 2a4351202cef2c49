//! The pin cookie, both ways: reading the values of our cookie out of
//! `Cookie` headers, and writing the `Set-Cookie` line.
//!
//! Both are written by hand rather than with the `cookie` crate, on
//! purpose. Reading: `Cookie::split_parse` takes a `&str`, so one non-UTF-8
//! byte anywhere in the header (another site's cookie) would hide ours, and
//! it builds a `Cookie` per pair; here the header is scanned once as bytes,
//! linearly, without allocating, and nothing a client sends can fail the
//! request. Writing: the attributes never change, so they are formatted
//! once, when the layer is built; per response only the token and the
//! expiry are written, into one `String`, with no `time` dependency.

use std::fmt::Write as _;

use httpdate::HttpDate;

use crate::token::Tokens;

/// 10000-01-01T00:00:00Z: the first time `httpdate` cannot format.
const LAST_HTTP_DATE: u64 = 253_402_300_800;

/// `; Expires=` and an IMF-fixdate (`Tue, 14 Nov 2023 22:13:35 GMT`).
const EXPIRES_LEN: usize = 10 + 29;

/// The values of every cookie named `name` in `headers` (all `Cookie`
/// headers, in order: HTTP/2 clients send one header per cookie), double
/// quotes stripped. Works on bytes, so a non-UTF-8 byte elsewhere does not
/// hide our cookie; reads the whole headers, however long the server let
/// them be, in one pass.
pub(crate) fn cookie_values<'a, 'n>(
    headers: impl Iterator<Item = &'a [u8]>,
    name: &'n [u8],
) -> impl Iterator<Item = &'a [u8]> {
    headers
        .flat_map(|header| header.split(|&b| b == b';'))
        .filter_map(move |pair| {
            let eq = pair.iter().position(|&b| b == b'=')?;
            (trim(&pair[..eq]) == name).then(|| unquote(trim(&pair[eq + 1..])))
        })
}

/// The comma-separated values of the pin header(s), trimmed.
pub(crate) fn header_values<'a>(
    headers: impl Iterator<Item = &'a [u8]>,
) -> impl Iterator<Item = &'a [u8]> {
    headers
        .flat_map(|value| value.split(|&b| b == b','))
        .map(trim)
}

fn trim(bytes: &[u8]) -> &[u8] {
    let is_ws = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes.iter().position(|b| !is_ws(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_ws(b))
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

fn unquote(value: &[u8]) -> &[u8] {
    match value {
        [b'"', inner @ .., b'"'] => inner,
        _ => value,
    }
}

/// The `Set-Cookie` line, its fixed parts precomputed.
#[derive(Debug)]
pub(crate) struct SetCookie {
    /// `multidb_pin_writes=`
    prefix: String,
    /// `; Max-Age=15`
    max_age: String,
    /// `; Path=/; SameSite=Lax; HttpOnly; Secure`
    attributes: String,
}

/// A `Set-Cookie` value and where the token sits in it.
#[derive(Debug)]
pub(crate) struct Written {
    pub(crate) line: String,
    pub(crate) token: std::ops::Range<usize>,
}

impl SetCookie {
    /// `name` and `attributes` were validated by the configuration.
    pub(crate) fn new(name: &str, pin_secs: u64, attributes: String) -> Self {
        SetCookie {
            prefix: format!("{name}="),
            max_age: format!("; Max-Age={pin_secs}"),
            attributes,
        }
    }

    /// `name=<token>; Max-Age=…; Expires=…; <attributes>` for a pin from
    /// `now`, in one allocation of the exact size (so turning it into a
    /// header value allocates nothing more).
    pub(crate) fn write(&self, tokens: &Tokens, now: u64, position: Option<&str>) -> Written {
        let expiry = now.saturating_add(tokens.pin_secs());
        // `Max-Age` wins in every current browser; `Expires` is for old ones.
        // httpdate panics after year 9999: a clock that wrong gets no `Expires`.
        let expires = expiry < LAST_HTTP_DATE;
        let len = self.prefix.len()
            + tokens.token_len(now, position)
            + self.max_age.len()
            + if expires { EXPIRES_LEN } else { 0 }
            + self.attributes.len();
        let mut line = String::with_capacity(len);
        line.push_str(&self.prefix);
        let start = line.len();
        tokens.write(now, position, &mut line);
        let token = start..line.len();
        line.push_str(&self.max_age);
        if expires {
            let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(expiry);
            // Writing to a String cannot fail.
            let _ = write!(line, "; Expires={}", HttpDate::from(at));
        }
        line.push_str(&self.attributes);
        Written { line, token }
    }

    /// `name=; Max-Age=0; Expires=<epoch>; <attributes>`: removes the
    /// cookie (same name, path and domain, so browsers replace it).
    pub(crate) fn clear(&self) -> String {
        format!(
            "{}; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT{}",
            self.prefix, self.attributes
        )
    }
}

/// The replica affinity cookie, `<pin cookie name>_replica=<id>` (the
/// replica's `ReplicaId` number): a
/// session cookie (no `Max-Age`) with the pin cookie's attributes.
#[derive(Debug)]
pub(crate) struct AffinityCookie {
    /// `multidb_pin_writes_replica`
    name: String,
    attributes: String,
}

impl AffinityCookie {
    pub(crate) fn new(pin_name: &str, attributes: String) -> Self {
        AffinityCookie {
            name: format!("{pin_name}_replica"),
            attributes,
        }
    }

    /// The replica id a request's cookies name (the first valid value;
    /// anything else is ignored: at worst a client picks its replica).
    pub(crate) fn read<'a>(&self, cookies: impl Iterator<Item = &'a [u8]>) -> Option<usize> {
        cookie_values(cookies, self.name.as_bytes()).find_map(|value| {
            (!value.is_empty() && value.len() <= 4 && value.iter().all(u8::is_ascii_digit))
                .then(|| value.iter().fold(0, |n, d| n * 10 + usize::from(d - b'0')))
        })
    }

    /// The `Set-Cookie` line for `replica`.
    pub(crate) fn write(&self, replica: usize) -> String {
        format!("{}={replica}{}", self.name, self.attributes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values<'a>(headers: &'a [&'a [u8]], name: &'a str) -> Vec<&'a [u8]> {
        cookie_values(headers.iter().copied(), name.as_bytes()).collect()
    }

    #[test]
    fn finds_every_occurrence_across_headers() {
        let headers: &[&[u8]] = &[b"a=1; pin=2;pin=3", b"pin=\"4\"", b"xpin=5; pin = 6 ; pin"];
        assert_eq!(values(headers, "pin"), [&b"2"[..], b"3", b"4", b"6"]);
        assert!(values(headers, "none").is_empty());
    }

    #[test]
    fn non_utf8_bytes_elsewhere_do_not_matter() {
        let headers: &[&[u8]] = &[b"junk=\xff\xfe; pin=7; \xc3\x28=x"];
        assert_eq!(values(headers, "pin"), [b"7"]);
    }

    #[test]
    fn empty_and_degenerate_headers() {
        let headers: &[&[u8]] = &[b"", b";;;", b"=", b"pin=", b"  ;  =  ; pin"];
        assert_eq!(values(headers, "pin"), [b""]);
    }

    #[test]
    fn a_long_header_is_read_whole() {
        let big = format!("pad={}; pin=1", "x".repeat(64 * 1024));
        let headers: &[&[u8]] = &[big.as_bytes(), b"pin=2"];
        assert_eq!(values(headers, "pin"), [b"1", b"2"]);
    }

    #[test]
    fn header_values_may_be_comma_separated() {
        let headers: &[&[u8]] = &[b"garbage, 12 ,", b"13"];
        let found: Vec<&[u8]> = header_values(headers.iter().copied()).collect();
        assert_eq!(found, [&b"garbage"[..], b"12", b"", b"13"]);
    }

    #[test]
    fn the_clearing_and_affinity_lines() {
        let set_cookie = SetCookie::new("pin", 15, "; Path=/; HttpOnly".to_owned());
        assert_eq!(
            set_cookie.clear(),
            "pin=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly"
        );
        let affinity = AffinityCookie::new("pin", "; Path=/".to_owned());
        assert_eq!(affinity.write(3), "pin_replica=3; Path=/");
        let read = |header: &[u8]| affinity.read([header].into_iter());
        assert_eq!(read(b"pin=1; pin_replica=12"), Some(12));
        assert_eq!(read(b"pin_replica=x; pin_replica=2"), Some(2));
        for bad in [
            &b"pin_replica="[..],
            b"pin_replica=-1",
            b"pin_replica=99999",
            b"pin=3",
        ] {
            assert_eq!(read(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_set_cookie_line() {
        let tokens = Tokens::new("pin", 15, None);
        let set_cookie = SetCookie::new("pin", 15, "; Path=/; HttpOnly".to_owned());
        let written = set_cookie.write(&tokens, 1_700_000_000, None);
        assert_eq!(
            written.line,
            "pin=1700000015; Max-Age=15; Expires=Tue, 14 Nov 2023 22:13:35 GMT; Path=/; HttpOnly"
        );
        assert_eq!(&written.line[written.token.clone()], "1700000015");
        assert_eq!(
            written.line.capacity(),
            written.line.len(),
            "one exact allocation"
        );
        let signed = Tokens::new("pin", 15, Some(&[vec![1u8; 32]]));
        let written = set_cookie.write(&signed, 1_700_000_000, Some("0-1A2B"));
        assert_eq!(
            written.line.capacity(),
            written.line.len(),
            "{}",
            written.line
        );
        // A clock past year 9999 gets no Expires rather than a panic.
        let far = set_cookie.write(&tokens, LAST_HTTP_DATE, None);
        assert!(!far.line.contains("Expires"), "{}", far.line);
        assert_eq!(far.line.capacity(), far.line.len());
    }
}
