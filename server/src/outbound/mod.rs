//! The one HTTP client every integration uses to talk to the outside world (status-page
//! webhooks today; identity providers, Slack, GitHub and alert sources next).
//!
//! Whatever the destination, a call
//! - has one deadline covering connecting, sending and reading the whole answer, so a
//!   server that drips a byte a second cannot hold a worker;
//! - reads the answer as a stream up to a cap: an answer announcing a larger
//!   `Content-Length` is refused unread, and the connection is dropped as soon as the cap
//!   is passed (at most the cap and one network chunk are ever buffered);
//! - never goes through a proxy from the environment (`HTTP(S)_PROXY`, `ALL_PROXY`: a proxy
//!   resolves names itself, past the address check) and never follows a redirect;
//! - fails with an [`OutboundError`] that names its cause but never the URL, which may
//!   carry a secret (webhook paths, tokens in queries).
//!
//! Destinations chosen by outsiders (webhook URLs) use [`Destinations::PublicOnly`]: the
//! URL's literal address and every address a name resolves to, at each connection, must be
//! public ([`address::is_public`]), so a DNS answer cannot point a request into the
//! internal network. Destinations an admin configured (an internal identity provider, a
//! self-hosted tracker) use [`Destinations::AnyAddress`], with the same limits.

pub mod address;
pub mod failure;

pub use failure::{classify, Failure};

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use url::Url;

/// Who chose where a request goes, and so which addresses it may reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Destinations {
    /// Chosen by outsiders (webhook subscribers): public, globally routable addresses only.
    PublicOnly,
    /// Configured by an admin (an identity provider or tracker inside the company
    /// network): any address, private ones included.
    AnyAddress,
}

/// The limits of every call of one client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Connecting, sending and reading the whole answer, together.
    pub deadline: Duration,
    /// Connecting alone (a shorter deadline for unreachable hosts).
    pub connect_timeout: Duration,
    /// The largest answer body read; a call can lower or raise it
    /// ([`OutboundRequest::max_answer`]).
    pub max_answer: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            deadline: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            max_answer: 1024 * 1024,
        }
    }
}

/// Why a call failed. The text never contains the URL.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    /// The URL may not be used with this client (scheme, or an address that is not public).
    #[error("refused destination: {0}")]
    Destination(String),
    /// The request could not be built (a header value, a body that does not serialise).
    #[error("could not build the request: {0}")]
    Request(String),
    /// No answer: DNS, connection, TLS or the request's transmission failed.
    #[error("could not reach the server: {0}")]
    Unreachable(String),
    /// The deadline passed before the whole answer was read.
    #[error("timed out after {} s (connecting, sending and reading the answer)", .0.as_secs_f32())]
    TimedOut(Duration),
    /// The answer was (or announced to be) larger than allowed; it was not read further.
    #[error("the answer is larger than {limit} bytes{}", announced.map(|n| format!(" (it announced {n} bytes)")).unwrap_or_default())]
    AnswerTooLarge {
        limit: usize,
        announced: Option<u64>,
    },
    /// The answer broke off while it was read.
    #[error("reading the answer failed: {0}")]
    Answer(String),
}

/// A complete answer: status, headers and the body (within the cap).
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    /// The body as text, invalid UTF-8 replaced.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, OutboundError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| OutboundError::Answer(format!("the answer is not the expected JSON: {e}")))
    }
}

/// Looks a host name up (the system resolver; tests give their own).
type Lookup = Arc<
    dyn Fn(String) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send>>
        + Send
        + Sync,
>;

fn system_lookup() -> Lookup {
    Arc::new(|host: String| {
        Box::pin(async move { Ok(tokio::net::lookup_host((host, 0)).await?.collect()) })
    })
}

/// Resolves names and keeps only public addresses: reqwest connects only to what a
/// resolver returns, so this checks every connection of a [`Destinations::PublicOnly`]
/// client, whatever the DNS answers at that moment.
struct PublicOnlyResolver {
    lookup: Lookup,
}

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let lookup = self.lookup.clone();
        Box::pin(async move {
            let addresses: Vec<SocketAddr> = lookup(name.as_str().to_string())
                .await?
                .into_iter()
                .filter(|a| address::is_public(a.ip()))
                .collect();
            if addresses.is_empty() {
                return Err(format!("{} has no public address", name.as_str()).into());
            }
            let addrs: Addrs = Box::new(addresses.into_iter());
            Ok(addrs)
        })
    }
}

/// Whether `url` may be requested with `destinations`: http(s), and for
/// [`Destinations::PublicOnly`] no literal address that is not public and no
/// `localhost` name (names are checked again when they are resolved).
pub fn check_destination(url: &Url, destinations: Destinations) -> Result<(), OutboundError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(OutboundError::Destination(format!(
            "only http and https are allowed, not {}",
            url.scheme()
        )));
    }
    let Some(host) = url.host() else {
        return Err(OutboundError::Destination("the URL has no host".into()));
    };
    if destinations == Destinations::AnyAddress {
        return Ok(());
    }
    let literal = match host {
        url::Host::Ipv4(ip) => ip.into(),
        url::Host::Ipv6(ip) => ip.into(),
        url::Host::Domain(name) if is_localhost_name(name) => {
            return Err(OutboundError::Destination(
                "localhost names are not public (this machine)".into(),
            ))
        }
        url::Host::Domain(_) => return Ok(()),
    };
    match address::non_public_range(literal) {
        None => Ok(()),
        Some(range) => Err(OutboundError::Destination(format!(
            "the address is not public ({range})"
        ))),
    }
}

/// `localhost`, `localhost.` and names under it (RFC 6761: they all mean this machine).
pub fn is_localhost_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// The outbound HTTP client (cheap to clone: clones share their connections).
#[derive(Clone)]
pub struct OutboundClient {
    http: reqwest::Client,
    destinations: Destinations,
    limits: Limits,
}

impl std::fmt::Debug for OutboundClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboundClient")
            .field("destinations", &self.destinations)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl OutboundClient {
    /// A client for `destinations` with `limits`, introducing itself as `user_agent`.
    pub fn new(
        destinations: Destinations,
        limits: Limits,
        user_agent: &str,
    ) -> Result<OutboundClient, OutboundError> {
        Self::with_lookup(destinations, limits, user_agent, system_lookup())
    }

    fn with_lookup(
        destinations: Destinations,
        limits: Limits,
        user_agent: &str,
        lookup: Lookup,
    ) -> Result<OutboundClient, OutboundError> {
        let mut builder = reqwest::Client::builder()
            .user_agent(user_agent)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(limits.connect_timeout);
        if destinations == Destinations::PublicOnly {
            builder = builder.dns_resolver(Arc::new(PublicOnlyResolver { lookup }));
        }
        let http = builder
            .build()
            .map_err(|e| OutboundError::Request(describe(e)))?;
        Ok(OutboundClient {
            http,
            destinations,
            limits,
        })
    }

    /// Which destinations this client may reach.
    pub fn destinations(&self) -> Destinations {
        self.destinations
    }

    /// The limits of this client's calls.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// A request of `method` to `url`, sent with [`OutboundRequest::send`].
    pub fn request(&self, method: Method, url: &str) -> OutboundRequest<'_> {
        OutboundRequest {
            client: self,
            request: Url::parse(url)
                .map_err(|e| OutboundError::Destination(format!("not a URL: {e}")))
                .map(|url| self.http.request(method, url)),
            max_answer: self.limits.max_answer,
        }
    }

    pub fn get(&self, url: &str) -> OutboundRequest<'_> {
        self.request(Method::GET, url)
    }

    pub fn post(&self, url: &str) -> OutboundRequest<'_> {
        self.request(Method::POST, url)
    }

    /// Sends `request` and reads its answer within the limits.
    async fn execute(
        &self,
        request: reqwest::Request,
        max_answer: usize,
    ) -> Result<Answer, OutboundError> {
        check_destination(request.url(), self.destinations)?;
        let deadline = self.limits.deadline;
        // Dropping the exchange at the deadline drops its connection too.
        tokio::time::timeout(deadline, self.exchange(request, max_answer))
            .await
            .unwrap_or(Err(OutboundError::TimedOut(deadline)))
    }

    async fn exchange(
        &self,
        request: reqwest::Request,
        max_answer: usize,
    ) -> Result<Answer, OutboundError> {
        let mut response = self
            .http
            .execute(request)
            .await
            .map_err(|e| OutboundError::Unreachable(describe(e)))?;
        let announced = response.content_length();
        if announced.is_some_and(|n| n > max_answer as u64) {
            return Err(OutboundError::AnswerTooLarge {
                limit: max_answer,
                announced,
            });
        }
        let mut body = BytesMut::with_capacity(announced.unwrap_or(0) as usize);
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| OutboundError::Answer(describe(e)))?
        {
            if body.len() + chunk.len() > max_answer {
                // Dropping the response closes the connection: nothing more is read.
                return Err(OutboundError::AnswerTooLarge {
                    limit: max_answer,
                    announced: None,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer {
            status: response.status(),
            headers: response.headers().clone(),
            body: body.freeze(),
        })
    }
}

/// An error with its causes, without the URL ("error sending request" alone does not
/// tell a refused connection from a DNS failure).
fn describe(err: reqwest::Error) -> String {
    if err.is_timeout() {
        return "timed out".into();
    }
    let err = err.without_url();
    let mut text = err.to_string();
    let mut cause = std::error::Error::source(&err);
    while let Some(next) = cause {
        let next_text = next.to_string();
        if !text.contains(&next_text) {
            text.push_str(": ");
            text.push_str(&next_text);
        }
        cause = next.source();
    }
    text
}

/// One request being put together.
pub struct OutboundRequest<'a> {
    client: &'a OutboundClient,
    request: Result<reqwest::RequestBuilder, OutboundError>,
    max_answer: usize,
}

impl OutboundRequest<'_> {
    fn map(mut self, f: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder) -> Self {
        self.request = self.request.map(f);
        self
    }

    /// Adds a header.
    pub fn header<K, V>(self, name: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<oauth2::http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<oauth2::http::Error>,
    {
        self.map(|r| r.header(name, value))
    }

    /// `Authorization: Bearer <token>`.
    pub fn bearer_auth(self, token: &str) -> Self {
        self.map(|r| r.bearer_auth(token))
    }

    /// A JSON body.
    pub fn json<T: serde::Serialize + ?Sized>(self, body: &T) -> Self {
        self.map(|r| r.json(body))
    }

    /// A raw body (send `Content-Type` with it).
    pub fn body(self, body: impl Into<Bytes>) -> Self {
        let body: Bytes = body.into();
        self.map(|r| r.body(body))
    }

    /// Reads at most `bytes` of this call's answer instead of the client's default.
    pub fn max_answer(mut self, bytes: usize) -> Self {
        self.max_answer = bytes;
        self
    }

    /// Sends the request and reads the whole answer (any status) within the limits.
    pub async fn send(self) -> Result<Answer, OutboundError> {
        let request = self
            .request?
            .build()
            .map_err(|e| OutboundError::Request(describe(e)))?;
        self.client.execute(request, self.max_answer).await
    }
}

/// `request_async(&client)` of `oauth2` and `openidconnect` through this client: the
/// identity provider's answers get the same deadline, cap and address rules.
impl<'c> oauth2::AsyncHttpClient<'c> for OutboundClient {
    type Error = OutboundError;
    type Future = Pin<
        Box<dyn Future<Output = Result<oauth2::HttpResponse, OutboundError>> + Send + Sync + 'c>,
    >;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request)
                .map_err(|e| OutboundError::Request(describe(e)))?;
            let answer = self.execute(request, self.limits.max_answer).await?;
            let mut response = oauth2::http::Response::builder().status(answer.status);
            if let Some(headers) = response.headers_mut() {
                *headers = answer.headers;
            }
            response
                .body(answer.body.to_vec())
                .map_err(|e| OutboundError::Answer(e.to_string()))
        })
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, SocketAddr};
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use axum::body::Body;
    use axum::http::header;
    use axum::response::Response;
    use futures::StreamExt as _;
    use reqwest::dns::Resolve as _;

    use super::{
        check_destination, Destinations, Limits, Lookup, OutboundClient, OutboundError,
        PublicOnlyResolver,
    };

    fn limits(max_answer: usize) -> Limits {
        Limits {
            deadline: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(1),
            max_answer,
        }
    }

    fn any_address(max_answer: usize) -> OutboundClient {
        OutboundClient::new(Destinations::AnyAddress, limits(max_answer), "test").unwrap()
    }

    /// A lookup that answers every name with `addresses`.
    fn answering(addresses: Vec<IpAddr>) -> Lookup {
        Arc::new(move |_name: String| {
            let addresses = addresses.clone();
            Box::pin(async move {
                Ok(addresses
                    .into_iter()
                    .map(|ip| SocketAddr::new(ip, 0))
                    .collect())
            })
        })
    }

    /// A local server answering every request with `answer()`; returns its base URL.
    async fn serve(answer: fn() -> Response) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = axum::Router::new().fallback(move || async move { answer() });
        tokio::spawn(async move { axum::serve(listener, router).await });
        base
    }

    /// A local listener that only counts the connections it gets.
    async fn canary() -> (u16, Arc<AtomicU32>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicU32::new(0));
        let counter = hits.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            }
        });
        (port, hits)
    }

    /// Every range of the deny-list, by one address in it, as DNS could answer it.
    const NON_PUBLIC: [&str; 27] = [
        "0.0.0.1",
        "10.1.2.3",
        "100.64.0.1",
        "127.0.0.1",
        "169.254.169.254",
        "172.16.0.1",
        "192.0.0.9",
        "192.0.2.1",
        "192.88.99.1",
        "192.168.1.1",
        "198.18.0.1",
        "198.51.100.1",
        "203.0.113.1",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "::127.0.0.1",
        "::ffff:127.0.0.1",
        "64:ff9b::7f00:1",
        "64:ff9b:1::a00:1",
        "2001:db8::1",
        "2002:c0a8:101::1",
        "fd00::1",
        "fe80::1",
        "fec0::1",
    ];

    #[tokio::test]
    async fn names_resolving_only_to_non_public_addresses_are_refused_at_connect_time() {
        let more = [
            "100::1",
            "2001::1",
            "2001:2::1",
            "3fff::1",
            "5f00::1",
            "ff02::1",
        ];
        for address in NON_PUBLIC.iter().chain(more.iter()) {
            let resolver = PublicOnlyResolver {
                lookup: answering(vec![address.parse().unwrap()]),
            };
            let name = "hooks.example".parse().unwrap();
            let err = match resolver.resolve(name).await {
                Ok(addrs) => panic!("{address} kept: {:?}", addrs.collect::<Vec<_>>()),
                Err(err) => err.to_string(),
            };
            assert!(err.contains("has no public address"), "{address}: {err}");
        }
        // Of a mixed answer only the public addresses are kept (nothing connects here).
        let resolver = PublicOnlyResolver {
            lookup: answering(vec![
                "127.0.0.1".parse().unwrap(),
                "93.184.215.14".parse().unwrap(),
                "64:ff9b::a00:1".parse().unwrap(),
                "2606:2800:21f:cb07:6820:80da:af6b:8b2c".parse().unwrap(),
            ]),
        };
        let kept: Vec<IpAddr> = resolver
            .resolve("hooks.example".parse().unwrap())
            .await
            .unwrap()
            .map(|a| a.ip())
            .collect();
        assert_eq!(
            kept,
            [
                "93.184.215.14".parse::<IpAddr>().unwrap(),
                "2606:2800:21f:cb07:6820:80da:af6b:8b2c".parse().unwrap()
            ]
        );
    }

    /// The review's names for this machine (attack table row 40) get no connection: the
    /// resolver answers 127.0.0.1 for them, where a canary listens.
    #[tokio::test]
    async fn public_only_clients_never_connect_to_names_for_this_machine() {
        let (port, hits) = canary().await;
        let client = OutboundClient::with_lookup(
            Destinations::PublicOnly,
            limits(1024),
            "test",
            answering(vec!["127.0.0.1".parse().unwrap()]),
        )
        .unwrap();
        for host in ["vm", "runsc", "127.0.0.1.nip.io", "localhost.", "127.0.0.1"] {
            let err = client
                .post(&format!("http://{host}:{port}/hook"))
                .send()
                .await
                .unwrap_err();
            assert!(
                err.to_string().contains("has no public address")
                    || err.to_string().contains("not public"),
                "{host}: {err}"
            );
        }
        assert_eq!(hits.load(Ordering::SeqCst), 0, "the canary was reached");
    }

    #[test]
    fn public_only_clients_refuse_non_public_literals_before_connecting() {
        for address in NON_PUBLIC {
            let ip: IpAddr = address.parse().unwrap();
            let host = match ip {
                IpAddr::V4(_) => address.to_string(),
                IpAddr::V6(_) => format!("[{address}]"),
            };
            let url = url::Url::parse(&format!("http://{host}:8080/hook")).unwrap();
            let refused = check_destination(&url, Destinations::PublicOnly);
            assert!(
                matches!(&refused, Err(OutboundError::Destination(why)) if why.contains("not public")),
                "{url}: {refused:?}"
            );
            assert_eq!(check_destination(&url, Destinations::AnyAddress), Ok(()));
        }
        for url in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "gopher://example.com/",
        ] {
            let url = url::Url::parse(url).unwrap();
            assert!(
                check_destination(&url, Destinations::AnyAddress).is_err(),
                "{url}"
            );
        }
        let public = url::Url::parse("https://hooks.example.com/x").unwrap();
        assert_eq!(check_destination(&public, Destinations::PublicOnly), Ok(()));
    }

    #[tokio::test]
    async fn answers_are_read_up_to_the_cap_and_no_further() {
        let exact = serve(|| Response::new(Body::from(vec![b'a'; 1024]))).await;
        let answer = any_address(1024).get(&exact).send().await.unwrap();
        assert_eq!(answer.body.len(), 1024);
        assert_eq!(answer.text(), "a".repeat(1024));

        let announced = serve(|| Response::new(Body::from(vec![b'a'; 1025]))).await;
        let err = any_address(1024).get(&announced).send().await.unwrap_err();
        assert_eq!(
            err,
            OutboundError::AnswerTooLarge {
                limit: 1024,
                announced: Some(1025)
            }
        );
        // A call may ask for more than the client's default.
        let answer = any_address(1024)
            .get(&announced)
            .max_answer(2048)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.body.len(), 1025);

        let endless = serve(|| {
            let zeros = futures::stream::repeat_with(|| {
                Ok::<_, std::io::Error>(bytes::Bytes::from_static(&[0; 4096]))
            });
            Response::new(Body::from_stream(zeros))
        })
        .await;
        let err = any_address(64 * 1024)
            .get(&endless)
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            err,
            OutboundError::AnswerTooLarge {
                limit: 64 * 1024,
                announced: None
            }
        );
        assert_eq!(err.to_string(), "the answer is larger than 65536 bytes");
    }

    #[tokio::test]
    async fn requests_carry_their_headers_and_body_and_answers_parse() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = axum::Router::new().fallback(
            |headers: axum::http::HeaderMap, body: bytes::Bytes| async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string()
                };
                axum::Json(serde_json::json!({
                    "authorization": header("authorization"),
                    "content_type": header("content-type"),
                    "user_agent": header("user-agent"),
                    "x_custom": header("x-custom"),
                    "body": String::from_utf8_lossy(&body),
                }))
            },
        );
        tokio::spawn(async move { axum::serve(listener, router).await });
        let answer = any_address(1024)
            .post(&format!("{base}/echo"))
            .bearer_auth("t0ken")
            .header("X-Custom", "yes")
            .json(&serde_json::json!({"a": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status, 200);
        let echoed: serde_json::Value = answer.json().unwrap();
        assert_eq!(
            echoed,
            serde_json::json!({
                "authorization": "Bearer t0ken",
                "content_type": "application/json",
                "user_agent": "test",
                "x_custom": "yes",
                "body": r#"{"a":1}"#,
            })
        );
        let err = any_address(1024).get("not a url").send().await.unwrap_err();
        assert!(matches!(err, OutboundError::Destination(_)), "{err}");
        let not_json = serve(|| Response::new(Body::from("<html>"))).await;
        let answer = any_address(1024).get(&not_json).send().await.unwrap();
        let err = answer.json::<serde_json::Value>().unwrap_err();
        assert!(err.to_string().contains("not the expected JSON"), "{err}");
    }

    #[tokio::test]
    async fn a_dripping_answer_ends_at_the_deadline() {
        let drip = serve(|| {
            let drops = futures::stream::iter(0..100).then(|_| async {
                tokio::time::sleep(Duration::from_millis(500)).await;
                Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"."))
            });
            Response::new(Body::from_stream(drops))
        })
        .await;
        let err = any_address(1024).get(&drip).send().await.unwrap_err();
        assert_eq!(err, OutboundError::TimedOut(Duration::from_secs(2)));
        assert!(err.to_string().contains("timed out"), "{err}");
    }

    #[tokio::test]
    async fn redirects_are_answers_not_followed() {
        let (port, hits) = canary().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = axum::Router::new().fallback(move || async move {
            Response::builder()
                .status(302)
                .header(
                    header::LOCATION,
                    format!("http://127.0.0.1:{port}/internal"),
                )
                .body(Body::empty())
                .unwrap()
        });
        tokio::spawn(async move { axum::serve(listener, router).await });
        let answer = any_address(1024).get(&base).send().await.unwrap();
        assert_eq!(answer.status, 302);
        assert_eq!(hits.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn errors_name_their_cause_but_not_the_url() {
        let (port, _) = canary().await;
        // A port nobody listens on: bind, note, close.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let closed_port = closed.local_addr().unwrap().port();
        drop(closed);
        let err = any_address(1024)
            .get(&format!(
                "http://127.0.0.1:{closed_port}/hooks/secret-token?key=s3cret"
            ))
            .send()
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("Connection refused"), "{text}");
        assert!(
            !text.contains("secret-token") && !text.contains("s3cret"),
            "{text}"
        );
        // The canary closes at once: the answer broke off.
        let err = any_address(1024)
            .get(&format!("http://127.0.0.1:{port}/hooks/secret-token"))
            .send()
            .await
            .unwrap_err();
        assert!(!err.to_string().contains("secret-token"), "{err}");
    }

    /// `oauth2`/`openidconnect` requests go through the client and its limits.
    #[tokio::test]
    async fn oauth2_requests_use_the_same_client_and_limits() {
        use oauth2::AsyncHttpClient as _;
        let base = serve(|| {
            Response::builder()
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(r#"{"access_token":"t","token_type":"bearer"}"#))
                .unwrap()
        })
        .await;
        let request = oauth2::http::Request::builder()
            .method("POST")
            .uri(format!("{base}/token"))
            .body(b"grant_type=authorization_code".to_vec())
            .unwrap();
        let response = any_address(1024).call(request.clone()).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        assert!(response.body().starts_with(br#"{"access_token""#));
        let err = any_address(16).call(request).await.unwrap_err();
        assert!(
            matches!(err, OutboundError::AnswerTooLarge { limit: 16, .. }),
            "{err}"
        );
        let local = oauth2::http::Request::builder()
            .uri(format!("{base}/token"))
            .body(Vec::new())
            .unwrap();
        let public_only =
            OutboundClient::new(Destinations::PublicOnly, limits(1024), "test").unwrap();
        let err = public_only.call(local).await.unwrap_err();
        assert!(matches!(err, OutboundError::Destination(_)), "{err}");
    }
}
