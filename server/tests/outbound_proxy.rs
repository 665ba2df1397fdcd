//! Proxies set in the environment are not used by Warroom's outbound client: a proxy
//! resolves host names itself, past the check that keeps webhooks out of the internal
//! network. A test binary of its own, as environment variables are process-wide.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use tokio::net::TcpListener;

#[tokio::test]
async fn webhooks_ignore_proxies_set_in_the_environment() {
    // The "proxy" counts the connections it gets and answers none of them.
    let proxy = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    let proxied = Arc::new(AtomicU32::new(0));
    tokio::spawn({
        let proxied = proxied.clone();
        async move {
            while let Ok((stream, _)) = proxy.accept().await {
                proxied.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            }
        }
    });
    // The subscriber counts the requests that reach it.
    let received = Arc::new(AtomicU32::new(0));
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post({
            let received = received.clone();
            move || async move {
                received.fetch_add(1, Ordering::SeqCst);
                "ok"
            }
        }),
    );
    let target = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target_url = format!("http://{}/hook", target.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(target, router).await });

    for name in ["NO_PROXY", "no_proxy", "REQUEST_METHOD"] {
        std::env::remove_var(name);
    }
    for name in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        std::env::set_var(name, &proxy_url);
    }
    let client = warroom::jobs::webhooks::WebhookClient::new(true).unwrap();
    let answer = client
        .post(
            &target_url,
            "delivery-1",
            &warroom_app::status::store::subscribers::SigningSecret::generate(),
            &serde_json::json!({"type": "test"}),
        )
        .await;

    assert_eq!(proxied.load(Ordering::SeqCst), 0, "the proxy was used");
    assert_eq!(
        received.load(Ordering::SeqCst),
        1,
        "the subscriber got no request: {answer:?}"
    );
    assert_eq!(answer.unwrap(), "ok");
}
