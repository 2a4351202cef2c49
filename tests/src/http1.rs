//! The one HTTP/1.1 client of the workspace's tests, the examples' e2e test
//! and the workload benchmark: a keep-alive [`Connection`] (hyper's client
//! connection, so chunked and sized bodies alike), the one-shot [`send`],
//! the [`Reply`] they read, and a browser-like cookie [`Jar`].
//!
//! [`Reply`] is also what the pinning conformance adapters answer with
//! (`crate::pinning`), so one set of helpers reads every response.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// The pin cookie's default name (`PinningConfig::cookie_name`).
pub const PIN_COOKIE: &str = "multidb_pin_writes";

/// Why a request got no reply.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// A server that has not answered a request within this hangs: the test
/// fails saying so, instead of waiting for ever (CI's budget is finite).
pub const REPLY_WITHIN: Duration = Duration::from_secs(30);

/// A response, read out whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body, decoded (chunked or not) and read as UTF-8, lossily.
    pub body: String,
}

impl Reply {
    /// The first value of header `name`, if it is visible ASCII.
    pub fn header(&self, name: impl header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every value of header `name`, in order.
    pub fn headers_named(&self, name: impl header::AsHeaderName) -> Vec<&str> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().expect("a visible-ASCII header value"))
            .collect()
    }

    /// Every `Set-Cookie` header, in order.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers_named(header::SET_COOKIE)
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    /// The `Set-Cookie` of cookie `name`, if any; panics if there are two.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        let prefix = format!("{name}=");
        let mut ours: Vec<String> = self
            .set_cookies()
            .into_iter()
            .filter(|c| c.starts_with(&prefix))
            .collect();
        assert!(ours.len() <= 1, "at most one {name} per response: {ours:?}");
        ours.pop()
    }

    /// The `Set-Cookie` of the default-named pin, if any.
    pub fn pin_cookie(&self) -> Option<String> {
        self.set_cookie(PIN_COOKIE)
    }

    /// The value of the default-named pin; panics if there is none.
    pub fn pin_value(&self) -> String {
        let cookie = self.pin_cookie().expect("a pin cookie");
        cookie_value(&cookie).to_owned()
    }

    /// `name=value` of the default-named pin, what a browser sends back;
    /// panics if there is none.
    pub fn pin_pair(&self) -> String {
        let cookie = self.pin_cookie().expect("a pin cookie");
        cookie_pair(&cookie).to_owned()
    }

    /// Whether the handler of `crate::pinning`'s routes ran pinned (its
    /// `x-seen` header; responses to HEAD have no body).
    pub fn handler_pinned(&self) -> bool {
        match self.header("x-seen") {
            Some("pinned") => true,
            Some("unpinned") => false,
            other => panic!("x-seen: {other:?} ({self:?})"),
        }
    }
}

/// `name=value` of a `Set-Cookie`: what a browser sends back.
pub fn cookie_pair(set_cookie: &str) -> &str {
    set_cookie.split(';').next().unwrap_or_default().trim()
}

/// The value in `name=value; attributes…`.
pub fn cookie_value(set_cookie: &str) -> &str {
    cookie_pair(set_cookie)
        .split_once('=')
        .map(|(_, v)| v)
        .unwrap_or_default()
}

/// The attributes of a `Set-Cookie`, after the `name=value` pair.
pub fn cookie_attributes(set_cookie: &str) -> Vec<&str> {
    set_cookie.split("; ").skip(1).collect()
}

/// A request to build: `request("POST", "/items").header(…).body(…)`.
pub fn request(method: &str, path: &str) -> http::request::Builder {
    Request::builder().method(method).uri(path)
}

/// A keep-alive HTTP/1.1 connection to `addr`, opened on first use and
/// reopened after an error.
#[derive(Debug)]
pub struct Connection {
    addr: SocketAddr,
    sender: Option<SendRequest<String>>,
}

impl Connection {
    /// A connection to `addr`; nothing is opened yet.
    pub fn new(addr: SocketAddr) -> Self {
        Connection { addr, sender: None }
    }

    async fn sender(&mut self) -> Result<&mut SendRequest<String>, Error> {
        let usable = match &mut self.sender {
            Some(sender) => sender.ready().await.is_ok(),
            None => false,
        };
        if !usable {
            let stream = TcpStream::connect(self.addr)
                .await
                .map_err(|e| format!("connect {}: {e}", self.addr))?;
            stream.set_nodelay(true)?;
            let (sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            // Ends when `sender` is dropped.
            tokio::spawn(connection);
            self.sender = Some(sender);
        }
        self.sender.as_mut().ok_or_else(|| "no connection".into())
    }

    /// Send `request` (a `Host` header is added when missing) and read the
    /// whole reply.
    pub async fn send(&mut self, request: Request<String>) -> Result<Reply, Error> {
        let what = format!("{} {} to {}", request.method(), request.uri(), self.addr);
        match tokio::time::timeout(REPLY_WITHIN, self.send_unbounded(request)).await {
            Ok(reply) => reply,
            Err(_) => {
                self.sender = None;
                Err(format!("no reply to {what} within {REPLY_WITHIN:?}: the server hangs").into())
            }
        }
    }

    async fn send_unbounded(&mut self, mut request: Request<String>) -> Result<Reply, Error> {
        if !request.headers().contains_key(header::HOST) {
            let host = header::HeaderValue::from_str(&self.addr.to_string())?;
            request.headers_mut().insert(header::HOST, host);
        }
        let sender = self.sender().await?;
        let response = match sender.send_request(request).await {
            Ok(response) => response,
            Err(error) => {
                self.sender = None;
                return Err(error.into());
            }
        };
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok(Reply {
            status: parts.status,
            headers: parts.headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

/// One request on a new connection.
pub async fn send(addr: SocketAddr, request: Request<String>) -> Result<Reply, Error> {
    Connection::new(addr).send(request).await
}

/// A client's cookies, as a browser keeps them: name → value, until
/// `Max-Age` runs out (`Max-Age` ≤ 0 removes). Paths and domains are not
/// looked at: the tests talk to one site.
#[derive(Debug, Default)]
pub struct Jar {
    cookies: HashMap<String, (String, Option<Instant>)>,
}

impl Jar {
    /// Keep the cookies that `headers` set, as of `now`.
    pub fn store(&mut self, headers: &HeaderMap, now: Instant) {
        for value in headers.get_all(header::SET_COOKIE) {
            let Ok(value) = value.to_str() else { continue };
            let mut parts = value.split(';');
            let Some((name, cookie)) = parts.next().and_then(|nv| nv.trim().split_once('=')) else {
                continue;
            };
            let max_age = parts.find_map(|attribute| {
                let (key, value) = attribute.trim().split_once('=')?;
                key.eq_ignore_ascii_case("max-age")
                    .then(|| value.trim().parse::<i64>().ok())
                    .flatten()
            });
            match max_age {
                Some(secs) if secs <= 0 => {
                    self.cookies.remove(name);
                }
                Some(secs) => {
                    let expiry = now + Duration::from_secs(secs.unsigned_abs());
                    self.cookies
                        .insert(name.to_owned(), (cookie.to_owned(), Some(expiry)));
                }
                None => {
                    self.cookies
                        .insert(name.to_owned(), (cookie.to_owned(), None));
                }
            }
        }
    }

    /// The `Cookie` header to send at `now`, if any cookie is alive.
    pub fn header(&mut self, now: Instant) -> Option<String> {
        self.cookies
            .retain(|_, (_, expiry)| expiry.is_none_or(|at| at > now));
        if self.cookies.is_empty() {
            return None;
        }
        let pairs: Vec<String> = self
            .cookies
            .iter()
            .map(|(name, (value, _))| format!("{name}={value}"))
            .collect();
        Some(pairs.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jar_keeps_removes_and_expires_cookies() {
        let now = Instant::now();
        let mut jar = Jar::default();
        let mut headers = HeaderMap::new();
        headers.append(
            header::SET_COOKIE,
            "a=1; Max-Age=10; Path=/".parse().expect("valid"),
        );
        headers.append(header::SET_COOKIE, "b=2".parse().expect("valid"));
        jar.store(&headers, now);
        let mut sent: Vec<String> = jar
            .header(now)
            .expect("cookies")
            .split("; ")
            .map(str::to_owned)
            .collect();
        sent.sort();
        assert_eq!(sent, ["a=1", "b=2"]);
        assert_eq!(
            jar.header(now + Duration::from_secs(11)).as_deref(),
            Some("b=2")
        );
        let mut removal = HeaderMap::new();
        removal.append(header::SET_COOKIE, "b=; Max-Age=0".parse().expect("valid"));
        jar.store(&removal, now);
        assert_eq!(jar.header(now), None);
    }

    #[tokio::test]
    async fn chunked_and_sized_bodies_over_one_connection() -> Result<(), Error> {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let (mut tcp, _) = listener.accept().await?;
            let answers = [
                "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nset-cookie: a=1\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
                "HTTP/1.1 404 Not Found\r\ncontent-length: 4\r\n\r\nnope",
            ]
            .into_iter();
            let mut seen = Vec::new();
            let mut buf = [0; 1024];
            for answer in answers {
                // Wait for the end of one request head (no request bodies here).
                while !String::from_utf8_lossy(&seen).contains("\r\n\r\n") {
                    let n = tcp.read(&mut buf).await?;
                    if n == 0 {
                        return Ok(());
                    }
                    seen.extend_from_slice(&buf[..n]);
                }
                seen.clear();
                tcp.write_all(answer.as_bytes()).await?;
            }
            std::io::Result::Ok(())
        });
        let mut connection = Connection::new(addr);
        let first = connection
            .send(request("GET", "/").body(String::new())?)
            .await?;
        assert_eq!(
            (first.status, first.body.as_str()),
            (StatusCode::OK, "abcde")
        );
        assert_eq!(first.set_cookies(), ["a=1"]);
        let second = connection
            .send(request("GET", "/x").body(String::new())?)
            .await?;
        assert_eq!(
            (second.status, second.body.as_str()),
            (StatusCode::NOT_FOUND, "nope")
        );
        server.await??;
        Ok(())
    }
}
