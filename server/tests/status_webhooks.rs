//! Status-page webhooks against hostile and honest subscribers: answers that never end are
//! cut off at the cap, slow ones at the deadline.

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::PgPool;
use support::{Client, TestApp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use warroom::config::Config;

/// Tries `attempt` every 50 ms until it gives `Ok`; after `timeout`, fails naming `what`
/// and showing the last `Err` (what it saw instead).
async fn eventually<T>(
    what: &str,
    timeout: Duration,
    mut attempt: impl AsyncFnMut() -> Result<T, String>,
) -> T {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match attempt().await {
            Ok(done) => return done,
            Err(seen) => assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}:\n{seen}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

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
    app.stop().await;
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
    app.stop().await;
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
    app.stop().await;
}
