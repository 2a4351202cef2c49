//! Finding pin tokens in request headers, without allocating, failing or
//! panicking on whatever a client sends.

use http::HeaderMap;
use http::header::COOKIE;

use super::config::Settings;
use super::token::Reject;

/// At most this many bytes of `Cookie` headers are looked at, in total: a
/// header that would go past it, and every header after it, is ignored.
pub(crate) const MAX_COOKIE_BYTES: usize = 32 * 1024;

/// At most this many bytes of pin headers are looked at, in total.
const MAX_PIN_HEADER_BYTES: usize = 4 * 1024;

/// At most this many candidate tokens (cookies with our name, or pin header
/// values) are checked per request, so that a client cannot make us compute
/// many MACs.
pub(crate) const MAX_CANDIDATES: usize = 8;

/// Where a valid pin was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    Cookie,
    Header,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Cookie => "cookie",
            Source::Header => "header",
        }
    }
}

impl Settings {
    /// Whether the request carries a valid pin: any valid cookie with our
    /// name, or any valid value of the pin header.
    pub(crate) fn find_pin(&self, headers: &HeaderMap, now: u64) -> Option<Source> {
        let mut budget = MAX_CANDIDATES;
        if self.any_valid(
            cookie_values(headers, &self.cookie_name),
            now,
            Source::Cookie,
            &mut budget,
        ) {
            return Some(Source::Cookie);
        }
        let name = self.header_name.as_ref()?;
        let values = bounded(
            headers.get_all(name).iter().map(|v| v.as_bytes()),
            MAX_PIN_HEADER_BYTES,
        )
        .flat_map(|value| value.split(|&b| b == b','))
        .map(trim);
        self.any_valid(values, now, Source::Header, &mut budget)
            .then_some(Source::Header)
    }

    fn any_valid<'a>(
        &self,
        candidates: impl Iterator<Item = &'a [u8]>,
        now: u64,
        source: Source,
        budget: &mut usize,
    ) -> bool {
        for value in candidates {
            if *budget == 0 {
                tracing::trace!(
                    source = source.as_str(),
                    "multidb: too many pin candidates, rest ignored"
                );
                return false;
            }
            *budget -= 1;
            match self.check(value, now) {
                Ok(()) => return true,
                Err(reject) => log_reject(source, reject),
            }
        }
        false
    }
}

fn log_reject(source: Source, reject: Reject) {
    tracing::trace!(
        source = source.as_str(),
        ?reject,
        "multidb: ignored pin token"
    );
}

/// The header values, in order, until their total length would exceed
/// `max` bytes.
fn bounded<'a>(
    values: impl Iterator<Item = &'a [u8]>,
    max: usize,
) -> impl Iterator<Item = &'a [u8]> {
    let mut seen = 0usize;
    values.take_while(move |value| {
        seen = seen.saturating_add(value.len());
        seen <= max
    })
}

/// The values of every cookie named `name`, across all `Cookie` headers
/// (HTTP/2 clients send one header per cookie), double quotes stripped.
/// Works on bytes: a non-UTF-8 byte elsewhere does not hide our cookie.
pub(crate) fn cookie_values<'a>(
    headers: &'a HeaderMap,
    name: &'a str,
) -> impl Iterator<Item = &'a [u8]> {
    bounded(
        headers.get_all(COOKIE).iter().map(|v| v.as_bytes()),
        MAX_COOKIE_BYTES,
    )
    .flat_map(|header| header.split(|&b| b == b';'))
    .filter_map(move |pair| {
        let eq = pair.iter().position(|&b| b == b'=')?;
        (trim(&pair[..eq]) == name.as_bytes()).then(|| unquote(trim(&pair[eq + 1..])))
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PinningConfig;
    use http::HeaderValue;

    fn headers(cookies: &[&[u8]]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for c in cookies {
            map.append(
                COOKIE,
                HeaderValue::from_bytes(c).expect("valid header bytes"),
            );
        }
        map
    }

    fn values(map: &HeaderMap, name: &str) -> Vec<Vec<u8>> {
        cookie_values(map, name).map(<[u8]>::to_vec).collect()
    }

    #[test]
    fn finds_every_occurrence_across_headers() {
        let map = headers(&[b"a=1; pin=2;pin=3", b"pin=\"4\"", b"xpin=5; pin = 6 ; pin"]);
        assert_eq!(
            values(&map, "pin"),
            [b"2".to_vec(), b"3".to_vec(), b"4".to_vec(), b"6".to_vec()]
        );
        assert!(values(&map, "none").is_empty());
    }

    #[test]
    fn non_utf8_bytes_elsewhere_do_not_matter() {
        let map = headers(&[b"junk=\xff\xfe; pin=7; \xc3\x28=x"]);
        assert_eq!(values(&map, "pin"), [b"7".to_vec()]);
    }

    #[test]
    fn empty_and_degenerate_headers() {
        let map = headers(&[b"", b";;;", b"=", b"pin=", b"  ;  =  ; pin"]);
        assert_eq!(values(&map, "pin"), [b"".to_vec()]);
    }

    #[test]
    fn oversized_headers_are_ignored() {
        let big = format!("pad={}; pin=1", "x".repeat(MAX_COOKIE_BYTES));
        let map = headers(&[big.as_bytes(), b"pin=2"]);
        assert!(values(&map, "pin").is_empty());
        let map = headers(&[b"pin=2", big.as_bytes()]);
        assert_eq!(values(&map, "pin"), [b"2".to_vec()]);
    }

    #[test]
    fn candidate_budget() {
        let settings = PinningConfig::default().compile().expect("valid");
        let now = 1_700_000_000;
        let valid = format!("multidb_pin_writes={}", now + 10);
        let mut cookies: Vec<Vec<u8>> = (0..MAX_CANDIDATES)
            .map(|_| b"multidb_pin_writes=x".to_vec())
            .collect();
        cookies.push(valid.clone().into_bytes());
        let refs: Vec<&[u8]> = cookies.iter().map(Vec::as_slice).collect();
        assert_eq!(settings.find_pin(&headers(&refs), now), None);
        let refs: Vec<&[u8]> = refs[1..].to_vec();
        assert_eq!(
            settings.find_pin(&headers(&refs), now),
            Some(Source::Cookie)
        );
    }

    #[test]
    fn header_values_may_be_comma_separated() {
        let settings = PinningConfig::default()
            .header_name("x-pin")
            .compile()
            .expect("valid");
        let now = 1_700_000_000;
        let mut map = HeaderMap::new();
        let value = format!("garbage, {}", now + 3);
        map.append("x-pin", HeaderValue::from_str(&value).expect("ascii"));
        assert_eq!(settings.find_pin(&map, now), Some(Source::Header));
    }
}
