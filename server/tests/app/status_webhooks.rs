//! Status-page webhooks against hostile and honest subscribers: answers that never end are
//! cut off at the cap, slow ones at the deadline.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::{eventually, Client, TestApp};
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use warroom::config::Config;

/// Subscribes `url` to the status page as an anonymous visitor.
async fn subscribe(app: &TestApp, url: &str) -> reqwest::Response {
    Client::new(&app.base)
        .http
        .post(format!("{}/status/subscribe", app.base))
        .form(&[("url", url)])
        .send()
        .await
        .unwrap()
}

/// The error the subscription's challenge failed with, once it failed.
async fn challenge_error(pool: &PgPool) -> String {
    eventually(
        "the challenge to fail",
        Duration::from_secs(30),
        async || {
            sqlx::query_scalar::<_, Option<String>>("SELECT last_error FROM status_subscribers")
                .fetch_one(pool)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| "no error yet".to_string())
        },
    )
    .await
}

/// How a hostile subscriber answers every request.
#[derive(Clone, Copy)]
enum Answer {
    /// `200` announcing 512 MiB (`Content-Length: 536870912`), then zeros as fast as the
    /// connection takes them.
    HalfAGigabyte,
    /// `200` with a chunked body of zeros that never announces its size or ends.
    Endless,
    /// `200` announcing 1,000 bytes, then one byte a second.
    Drip,
}

/// What a hostile subscriber managed: per finished connection, the bytes of answer body
/// it could write before the connection ended.
#[derive(Default)]
struct Hostile {
    finished: Mutex<Vec<u64>>,
    writing: AtomicU64,
}

/// A subscriber on a local port answering every request as `answer`, until the
/// connection fails (Warroom hung up) or 512 MiB are written.
async fn start_hostile(answer: Answer) -> (String, Arc<Hostile>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let hostile = Arc::new(Hostile::default());
    let state = hostile.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let state = state.clone();
            tokio::spawn(async move {
                let written = answer_hostile(stream, answer, &state).await;
                state.finished.lock().unwrap().push(written);
            });
        }
    });
    (url, hostile)
}

/// Reads one request (head and `Content-Length` body) and answers it; returns the body
/// bytes written before the peer went away.
async fn answer_hostile(mut stream: TcpStream, answer: Answer, state: &Hostile) -> u64 {
    let mut request = Vec::new();
    let mut buffer = [0u8; 8192];
    let head_end = loop {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return 0,
            Ok(n) => request.extend_from_slice(&buffer[..n]),
        }
        if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let head = String::from_utf8_lossy(&request[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while request.len() < head_end + length {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return 0,
            Ok(n) => request.extend_from_slice(&buffer[..n]),
        }
    }
    let head: &[u8] = match answer {
        Answer::HalfAGigabyte => {
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 536870912\r\n\r\n"
        }
        Answer::Endless => {
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
        }
        Answer::Drip => {
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n"
        }
    };
    if stream.write_all(head).await.is_err() {
        return 0;
    }
    let zeros = vec![0u8; 64 * 1024];
    let mut chunk = format!("{:x}\r\n", zeros.len()).into_bytes();
    chunk.extend_from_slice(&zeros);
    chunk.extend_from_slice(b"\r\n");
    let mut written = 0u64;
    while written < 512 * 1024 * 1024 {
        let step = match answer {
            Answer::HalfAGigabyte => {
                let left = (512 * 1024 * 1024 - written) as usize;
                stream.write(&zeros[..left.min(zeros.len())]).await
            }
            Answer::Endless => stream.write_all(&chunk).await.map(|()| zeros.len()),
            Answer::Drip => {
                tokio::time::sleep(Duration::from_secs(1)).await;
                stream.write(b"0").await
            }
        };
        match step {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                written += n as u64;
                state.writing.store(written, Ordering::Relaxed);
            }
        }
        if matches!(answer, Answer::Drip) && written >= 1000 {
            break;
        }
    }
    written
}

/// The body bytes the first connection to `hostile` wrote, once it ended.
async fn first_connection_wrote(hostile: &Hostile) -> u64 {
    eventually(
        "the subscriber's first connection to end",
        Duration::from_secs(60),
        async || {
            hostile
                .finished
                .lock()
                .unwrap()
                .first()
                .copied()
                .ok_or_else(|| {
                    format!(
                        "still open, {} bytes written",
                        hostile.writing.load(Ordering::Relaxed)
                    )
                })
        },
    )
    .await
}

/// How far a hostile answer may get before Warroom hangs up: what fits into the socket
/// buffers of both ends (Linux lets a loopback send buffer grow to 4 MiB by default, and
/// the receive buffer grows too; about 3.8 MiB were measured here) and Warroom's 64 KiB.
/// Reading the whole answer, as Warroom once did, lets it write all 512 MiB.
const AT_MOST_WRITTEN: u64 = 8 * 1024 * 1024;

#[sqlx::test(migrations = "../migrations")]
async fn a_subscriber_announcing_half_a_gigabyte_is_refused_unread(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let (url, hostile) = start_hostile(Answer::HalfAGigabyte).await;
    assert_eq!(subscribe(&app, &url).await.status(), 202);
    let written = first_connection_wrote(&hostile).await;
    let error = challenge_error(&pool).await;
    assert!(
        written < AT_MOST_WRITTEN,
        "the subscriber wrote {written} bytes before Warroom hung up ({error})"
    );
    assert!(
        error.contains("larger than 65536 bytes") && error.contains("536870912"),
        "{error}"
    );
    // The hostile subscriber never confirms: its challenge failed or still retries.
    app.stop_leaving_jobs().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_subscriber_streaming_an_endless_answer_is_cut_off_at_the_cap(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let (url, hostile) = start_hostile(Answer::Endless).await;
    assert_eq!(subscribe(&app, &url).await.status(), 202);
    let written = first_connection_wrote(&hostile).await;
    let error = challenge_error(&pool).await;
    assert!(
        written < AT_MOST_WRITTEN,
        "the subscriber wrote {written} bytes before Warroom hung up ({error})"
    );
    assert!(error.contains("larger than 65536 bytes"), "{error}");
    // The hostile subscriber never confirms: its challenge failed or still retries.
    app.stop_leaving_jobs().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_subscriber_dripping_its_answer_times_out_at_the_deadline(pool: PgPool) {
    let mut config = Config::for_tests();
    config.webhook_deadline = Duration::from_secs(2);
    let app = TestApp::spawn_with(pool.clone(), config).await;
    let (url, hostile) = start_hostile(Answer::Drip).await;
    assert_eq!(subscribe(&app, &url).await.status(), 202);
    let error = challenge_error(&pool).await;
    assert!(error.contains("timed out"), "{error}");
    // Warroom hung up: the drip ends long before its 1,000 bytes.
    let written = first_connection_wrote(&hostile).await;
    assert!(written < 1000, "{written} bytes dripped");
    // The hostile subscriber never confirms: its challenge failed or still retries.
    app.stop_leaving_jobs().await;
}
/// One request as a receiver got it: its `X-Warroom-Signature` and its raw body.
type Signed = (Option<String>, bytes::Bytes);

/// What an honest receiver got.
#[derive(Clone, Default)]
struct Receiver {
    requests: Arc<Mutex<Vec<Signed>>>,
}

/// A receiver on a local port that keeps every request and echoes challenges.
async fn start_receiver() -> (String, Receiver) {
    let receiver = Receiver::default();
    let state = receiver.clone();
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: bytes::Bytes| {
            let state = state.clone();
            async move {
                let signature = headers
                    .get("x-warroom-signature")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                state
                    .requests
                    .lock()
                    .unwrap()
                    .push((signature, body.clone()));
                let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                json["challenge"].as_str().unwrap_or("ok").to_string()
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, receiver)
}

/// How a receiver checks a delivery, as the README tells it to: `t` within five minutes
/// of its clock, and `v1` the hex HMAC-SHA256 of "<t>.<raw body>" keyed with the secret,
/// compared in constant time.
fn verify(secret: &str, header: &str, body: &[u8], now: i64) -> Result<(), String> {
    use hmac::Mac as _;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => signatures.push(v.to_string()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or("no timestamp")?;
    if (now - timestamp).abs() > 300 {
        return Err(format!("stale timestamp {timestamp}"));
    }
    for signature in signatures {
        let Some(expected) = (0..signature.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(signature.get(i..i + 2)?, 16).ok())
            .collect::<Option<Vec<u8>>>()
        else {
            continue;
        };
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{timestamp}.").as_bytes());
        mac.update(body);
        if mac.verify_slice(&expected).is_ok() {
            return Ok(());
        }
    }
    Err("no matching signature".into())
}

/// The signing secret the "Almost there" page shows.
fn secret_on(page: &str) -> String {
    let start = page
        .find("whsec_")
        .unwrap_or_else(|| panic!("no signing secret on the page:\n{page}"));
    page[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn subscribers_can_verify_every_request_with_the_secret_shown_once(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let admin = app.signed_in_as("Grace Admin", "admin").await;
    let component = admin
        .ok("create_status_component", &[("name", "Checkout")])
        .await["id"]
        .as_i64()
        .unwrap();
    let (url, receiver) = start_receiver().await;
    let answer = subscribe(&app, &url).await;
    assert_eq!(answer.status(), 202);
    let page = answer.text().await.unwrap();
    let secret = secret_on(&page);
    assert!(secret.len() >= 40, "{secret}");
    assert!(page.contains("X-Warroom-Signature"), "{page}");
    eventually(
        "the subscription's confirmation",
        Duration::from_secs(10),
        async || {
            sqlx::query_scalar::<_, bool>("SELECT confirmed_at IS NOT NULL FROM status_subscribers")
                .fetch_one(&pool)
                .await
                .unwrap()
                .then_some(())
                .ok_or_else(|| "not confirmed".to_string())
        },
    )
    .await;
    let starts = chrono::Utc::now() + chrono::Duration::days(1);
    admin
        .ok(
            "schedule_maintenance",
            &[
                ("title", "Database upgrade"),
                ("message", "Checkout may be slow."),
                ("starts_at", &starts.format("%Y-%m-%dT%H:%M").to_string()),
                (
                    "ends_at",
                    &(starts + chrono::Duration::hours(1))
                        .format("%Y-%m-%dT%H:%M")
                        .to_string(),
                ),
                ("component_ids[0]", &component.to_string()),
            ],
        )
        .await;
    let requests = eventually("the delivery", Duration::from_secs(15), async || {
        let requests = receiver.requests.lock().unwrap().clone();
        if requests.len() >= 2 {
            Ok(requests)
        } else {
            Err(format!("{} requests", requests.len()))
        }
    })
    .await;

    let now = chrono::Utc::now().timestamp();
    for (signature, body) in &requests {
        let text = String::from_utf8_lossy(body);
        let signature = signature
            .as_deref()
            .unwrap_or_else(|| panic!("no X-Warroom-Signature on {text}"));
        verify(&secret, signature, body, now).unwrap_or_else(|e| panic!("{e}: {text}"));
        // Tampered bodies, another secret and replays much later fail.
        let tampered = text.replacen("Database upgrade", "Database upgrades", 1);
        let tampered = if tampered == text {
            text.replacen('}', ",\"x\":1}", 1)
        } else {
            tampered
        };
        assert!(verify(&secret, signature, tampered.as_bytes(), now).is_err());
        assert!(verify(&format!("{secret}x"), signature, body, now).is_err());
        assert!(verify(&secret, signature, body, now + 3600).is_err());
        // The secret travels in no request.
        assert!(!text.contains(&secret), "{text}");
    }
    let kinds: Vec<String> = requests
        .iter()
        .map(|(_, body)| {
            let json: serde_json::Value = serde_json::from_slice(body).unwrap();
            json["type"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| "delivery".into())
        })
        .collect();
    assert_eq!(kinds[0], "subscription_confirmation", "{kinds:?}");
    assert!(kinds[1..].iter().all(|k| k == "delivery"), "{kinds:?}");
    // Never shown again: not to admins, not on the status page.
    let list = admin.ok("get_status_subscribers", &[]).await;
    assert!(!list.to_string().contains(&secret), "{list}");
    let status = admin.get("/status").await.text().await.unwrap();
    assert!(!status.contains(&secret));
    // Another subscription gets another secret.
    let (other_url, _other) = start_receiver().await;
    let other = subscribe(&app, &other_url).await.text().await.unwrap();
    assert_ne!(secret_on(&other), secret);
    app.stop().await;
}
#[sqlx::test(migrations = "../migrations")]
async fn unconfirmed_subscriptions_are_purged_a_week_after_their_last_challenge(pool: PgPool) {
    use warroom_app::status::store::subscribers::{self, SigningSecret};
    let mut conn = pool.acquire().await.unwrap();
    let mut subscribe = async |url: &str| {
        subscribers::subscribe(
            &mut conn,
            url,
            &warroom_app::random::token::<24>(),
            &warroom_app::random::token::<24>(),
            &SigningSecret::generate(),
        )
        .await
        .unwrap()
    };
    let failing = subscribe("https://failing.example/hook").await;
    let confirmed = subscribe("https://confirmed.example/hook").await;
    let withdrawn = subscribe("https://withdrawn.example/hook").await;
    let renewed = subscribe("https://renewed.example/hook").await;
    let stale = subscribe("https://stale.example/hook").await;
    subscribers::record_error(&mut pool.acquire().await.unwrap(), failing.id, "timed out")
        .await
        .unwrap();
    assert!(subscribers::confirm(
        &mut pool.acquire().await.unwrap(),
        confirmed.id,
        &confirmed.challenge
    )
    .await
    .unwrap());
    assert!(
        subscribers::unsubscribe(&pool, &withdrawn.unsubscribe_token)
            .await
            .unwrap()
    );
    // Two whose last challenge was ten days ago; one of them is subscribed again now.
    sqlx::query(
        "UPDATE status_subscribers SET last_challenge_at = now() - interval '10 days'
         WHERE id = ANY($1)",
    )
    .bind(vec![renewed.id, stale.id])
    .execute(&pool)
    .await
    .unwrap();
    subscribe("https://renewed.example/hook").await;

    let remaining = async || -> Vec<String> {
        sqlx::query_scalar("SELECT url FROM status_subscribers ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap()
    };
    let now = chrono::Utc::now();
    let mut conn = pool.acquire().await.unwrap();
    let purged = subscribers::purge_unconfirmed(&mut conn, now)
        .await
        .unwrap();
    assert_eq!(purged, 1, "only the stale one");
    assert_eq!(
        remaining().await,
        [
            "https://failing.example/hook",
            "https://confirmed.example/hook",
            "https://withdrawn.example/hook",
            "https://renewed.example/hook",
        ]
    );
    let almost_a_week = now + chrono::Duration::days(7) - chrono::Duration::minutes(5);
    assert_eq!(
        subscribers::purge_unconfirmed(&mut conn, almost_a_week)
            .await
            .unwrap(),
        0
    );
    let after_a_week = now + chrono::Duration::days(7) + chrono::Duration::minutes(5);
    assert_eq!(
        subscribers::purge_unconfirmed(&mut conn, after_a_week)
            .await
            .unwrap(),
        3
    );
    assert_eq!(remaining().await, ["https://confirmed.example/hook"]);
    // Much later, a confirmed subscriber is still there.
    let next_year = now + chrono::Duration::days(365);
    assert_eq!(
        subscribers::purge_unconfirmed(&mut conn, next_year)
            .await
            .unwrap(),
        0
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn every_replica_purges_stale_unconfirmed_subscriptions_by_itself(pool: PgPool) {
    use warroom_app::status::store::subscribers::{self, SigningSecret};
    let mut conn = pool.acquire().await.unwrap();
    let stale = subscribers::subscribe(
        &mut conn,
        "https://stale.example/hook",
        "challenge",
        "unsubscribe-token",
        &SigningSecret::generate(),
    )
    .await
    .unwrap();
    sqlx::query(
        "UPDATE status_subscribers SET last_challenge_at = now() - interval '8 days'
         WHERE id = $1",
    )
    .bind(stale.id)
    .execute(&pool)
    .await
    .unwrap();
    let app = TestApp::spawn(pool.clone()).await;
    eventually("the purge", Duration::from_secs(15), async || {
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM status_subscribers")
            .fetch_one(&pool)
            .await
            .unwrap();
        (left == 0).then_some(()).ok_or(format!("{left} left"))
    })
    .await;
    app.stop().await;
}
