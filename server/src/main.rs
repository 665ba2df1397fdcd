//! `warroom`: configuration → logs → database (external or embedded) → migrations →
//! serve until SIGTERM or Ctrl-C → drain → stop the embedded database.

use std::process::ExitCode;

use anyhow::Context;
use secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;
use warroom::config::Config;
use warroom::db::{self, embedded::EmbeddedPostgres};

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("db") {
        return database_command(&args[1..]).await;
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("warroom: configuration error: {err:#}");
            return ExitCode::FAILURE;
        }
    };
    warroom::telemetry::init(config.log_json);
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "warroom stopped on an error");
            ExitCode::FAILURE
        }
    }
}

/// `warroom db start|stop --data-dir DIR`: runs the embedded Postgres on its own (the
/// test suite's database). `start` prints the database URL.
async fn database_command(args: &[String]) -> ExitCode {
    let data_dir = match args {
        [_, flag, dir] if flag == "--data-dir" => std::path::PathBuf::from(dir),
        _ => {
            eprintln!("usage: warroom db start|stop --data-dir DIR");
            return ExitCode::from(2);
        }
    };
    let result = match args[0].as_str() {
        "start" => EmbeddedPostgres::start(&data_dir, None)
            .await
            .map(|pg| println!("{}", pg.database_url())),
        "stop" => match EmbeddedPostgres::at(&data_dir, None) {
            Ok(pg) => pg.stop().await,
            Err(err) => Err(err),
        },
        other => Err(anyhow::anyhow!(
            "unknown db command {other}: use start or stop"
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("warroom db: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    raise_open_file_limit();
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));

    let embedded = match &config.database_url {
        Some(_) => None,
        None => {
            Some(EmbeddedPostgres::start(&config.data_dir, config.pg_bin_dir.as_deref()).await?)
        }
    };
    let result = serve(&config, embedded.as_ref(), shutdown).await;
    if let Some(pg) = embedded {
        if let Err(err) = pg.stop().await {
            tracing::warn!(
                error = format!("{err:#}"),
                "could not stop the embedded Postgres"
            );
        }
    }
    result
}

async fn serve(
    config: &Config,
    embedded: Option<&EmbeddedPostgres>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let (serving_url, owner_url) = match (embedded, &config.database_url) {
        (Some(pg), _) => (pg.serving_url(), Some(pg.owner_url())),
        (None, Some(url)) => (
            url.expose_secret().to_string(),
            config
                .migration_database_url
                .as_ref()
                .map(|url| url.expose_secret().to_string()),
        ),
        (None, None) => unreachable!("either embedded or external"),
    };
    // Migrations run inside `serve_database`, once Postgres answers.
    let database = db::Database {
        serving: db::connect(&serving_url, config.db_pool_size)?,
        owner: owner_url
            .map(|url| url.parse())
            .transpose()
            .context("WARROOM_MIGRATION_DATABASE_URL is not a valid Postgres URL")?,
    };
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("listening on {}", config.addr))?;
    warroom::serve_database(config, database.clone(), listener, shutdown).await?;
    database.serving.close().await;
    Ok(())
}

async fn cancel_on_signal(shutdown: CancellationToken) {
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                return;
            }
        };
    tokio::select! {
        _ = terminate.recv() => tracing::info!("SIGTERM: shutting down"),
        _ = tokio::signal::ctrl_c() => tracing::info!("interrupted: shutting down"),
    }
    shutdown.cancel();
}

/// Each live viewer holds a socket: allow as many as the hard limit permits.
fn raise_open_file_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::debug!(limit, "open file limit"),
        Err(err) => tracing::warn!(error = %err, "could not raise the open file limit"),
    }
}
