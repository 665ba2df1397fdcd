//! The command line: `warroom` serves (the default); the other commands set up what
//! serving needs (the embedded database, migrations, API tokens) and check the settings.
//! Settings come from the environment and `WARROOM_CONFIG` (see `config`), not from flags.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;
use warroom::config::settings::{self, Lookup, Origin};
use warroom::config::Config;
use warroom::db::{self, embedded::EmbeddedPostgres};
use warroom_app::audit::model::AuditAction;
use warroom_app::audit::store::{record, AuditEvent};
use warroom_app::auth::request::Source;
use warroom_app::tokens::model::{expiry, Scope, TokenName};
use warroom_app::tokens::store as tokens;

/// Self-hosted incident management. Without a command, serves Warroom.
///
/// Settings are read from the environment and from the TOML file named by WARROOM_CONFIG
/// (`warroom check-config` prints them). Commands that need the database use DATABASE_URL,
/// or Warroom's own Postgres under WARROOM_DATA_DIR (started for the command if it is not
/// running, and stopped again afterwards only then).
#[derive(Debug, Parser)]
#[command(name = "warroom", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve Warroom until SIGTERM or Ctrl-C (the default).
    Serve,
    /// Run Warroom's own Postgres on its own (e.g. for the test suite).
    Db {
        #[command(subcommand)]
        action: DbAction,
    },
    /// Apply the database migrations, then exit (serving also applies them at start).
    Migrate,
    /// API tokens for automation.
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Print the effective settings (secrets redacted); exit non-zero if they are wrong.
    CheckConfig,
}

#[derive(Debug, Subcommand)]
enum DbAction {
    /// Start it (creating it on first use) and print its superuser's database URL.
    Start {
        /// Where it lives [default: WARROOM_DATA_DIR]
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
    },
    /// Stop it, if it runs.
    Stop {
        /// Where it lives [default: WARROOM_DATA_DIR]
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum TokenAction {
    /// Issue a token and print its secret, once (audited as made from the command line).
    Create {
        /// What will use it, e.g. "Alertmanager".
        #[arg(long, value_name = "N")]
        name: String,
        /// What it may do (repeat for several): incidents:read, incidents:write.
        #[arg(long = "scope", value_name = "S", required = true)]
        scopes: Vec<String>,
        /// It stops working after this many days [default: never].
        #[arg(long, value_name = "D")]
        expires_in_days: Option<u32>,
    },
}

/// Runs the command line's command.
pub async fn run(cli: Cli) -> ExitCode {
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::CheckConfig = command {
        return check_config();
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("warroom: configuration error: {err:#}");
            return ExitCode::FAILURE;
        }
    };
    let (what, result) = match command {
        Command::Serve | Command::CheckConfig => {
            warroom::telemetry::init(config.log_json, &config.log_filter);
            return match serve(config).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    tracing::error!(error = format!("{err:#}"), "warroom stopped on an error");
                    ExitCode::FAILURE
                }
            };
        }
        Command::Db { action } => ("db", database_command(&config, action).await),
        Command::Migrate => ("migrate", migrate(&config).await),
        Command::Token {
            action:
                TokenAction::Create {
                    name,
                    scopes,
                    expires_in_days,
                },
        } => (
            "token create",
            create_token(&config, &name, &scopes, expires_in_days.unwrap_or(0)).await,
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("warroom {what}: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Writes a line to standard output (a closed pipe is not an error worth a panic).
fn say(line: impl std::fmt::Display) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// `warroom db start|stop [--data-dir DIR]`.
async fn database_command(config: &Config, action: DbAction) -> anyhow::Result<()> {
    let (start, data_dir) = match action {
        DbAction::Start { data_dir } => (true, data_dir),
        DbAction::Stop { data_dir } => (false, data_dir),
    };
    let data_dir = data_dir.unwrap_or_else(|| config.data_dir.clone());
    let bin_dir = config.pg_bin_dir.as_deref();
    if start {
        let pg = EmbeddedPostgres::start(&data_dir, bin_dir).await?;
        say(pg.database_url());
        Ok(())
    } else {
        EmbeddedPostgres::at(&data_dir, bin_dir)?.stop().await
    }
}

/// The database for a command: the external one, or the embedded one, started for the
/// command if it was not running.
struct CommandDatabase {
    database: db::Database,
    embedded: Option<EmbeddedPostgres>,
}

impl CommandDatabase {
    async fn open(config: &Config) -> anyhow::Result<Self> {
        let (serving, owner, embedded) = match &config.database_url {
            Some(url) => (
                url.expose_secret().to_string(),
                config
                    .migration_database_url
                    .as_ref()
                    .map(|url| url.expose_secret().to_string()),
                None,
            ),
            None => {
                let pg =
                    EmbeddedPostgres::start(&config.data_dir, config.pg_bin_dir.as_deref()).await?;
                (pg.serving_url(), Some(pg.owner_url()), Some(pg))
            }
        };
        let database = db::Database {
            serving: db::connect(&serving, 2)?,
            owner: owner
                .map(|url| url.parse())
                .transpose()
                .context("WARROOM_MIGRATION_DATABASE_URL is not a valid Postgres URL")?,
        };
        Ok(CommandDatabase { database, embedded })
    }

    /// Closes the pool, and stops the embedded Postgres if this command started it.
    async fn close(self) -> anyhow::Result<()> {
        self.database.serving.close().await;
        match self.embedded {
            Some(pg) if pg.started_here() => pg.stop().await,
            _ => Ok(()),
        }
    }
}

/// Runs `work` on the command's database, then leaves the database as it found it.
async fn with_database<T>(
    config: &Config,
    work: impl AsyncFnOnce(&db::Database) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let database = CommandDatabase::open(config).await?;
    let result = work(&database.database).await;
    let closed = database.close().await;
    let value = result?;
    closed?;
    Ok(value)
}

async fn migrate(config: &Config) -> anyhow::Result<()> {
    with_database(config, async |database| database.migrate().await).await?;
    say("migrated: the database schema is current");
    Ok(())
}

/// Issues a token as the admin page does, with the same checks and store functions,
/// and audits it as made from the command line.
async fn create_token(
    config: &Config,
    name: &str,
    scopes: &[String],
    expires_in_days: u32,
) -> anyhow::Result<()> {
    let name = TokenName::parse(name).map_err(|err| anyhow::anyhow!("--name: {err}"))?;
    let scopes = Scope::parse_list(scopes).map_err(|err| anyhow::anyhow!("--scope: {err}"))?;
    let expires_at = expiry(expires_in_days, chrono::Utc::now())
        .map_err(|err| anyhow::anyhow!("--expires-in-days: {err}"))?;
    let token = with_database(config, async |database| {
        // A fresh install has never served yet: its schema comes first.
        database.migrate().await?;
        let mut tx = database.serving.begin().await?;
        let token = tokens::create(&mut tx, &name, &scopes, expires_at, None).await?;
        let event = AuditEvent::new(AuditAction::TokenCreated, &Source::default())
            .target(format!("token {}", token.id))
            .details(serde_json::json!({
                "name": token.name,
                "scopes": scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                "expires_at": expires_at,
                "via": "command line",
            }));
        record(&mut tx, &event).await?;
        tx.commit().await?;
        Ok(token)
    })
    .await?;
    eprintln!(
        "token {} \"{}\" created ({}{}); its secret is shown once:",
        token.id,
        token.name,
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        match expires_at {
            Some(at) => format!(", expires {}", at.format("%Y-%m-%d %H:%M UTC")),
            None => ", never expires".into(),
        }
    );
    say(&token.secret);
    Ok(())
}

/// Prints every setting with its value and where it came from, secrets redacted; any
/// error in them (as serving would find it) is printed and makes the exit code non-zero.
fn check_config() -> ExitCode {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let checked = Lookup::new(&var).and_then(|lookup| {
        let config = Config::from_lookup(&lookup)?;
        Ok((lookup, config))
    });
    let (lookup, config) = match checked {
        Ok(checked) => checked,
        Err(err) => {
            eprintln!("warroom: configuration error: {err:#}");
            return ExitCode::FAILURE;
        }
    };
    for line in effective_settings(&lookup, &config) {
        say(line);
    }
    ExitCode::SUCCESS
}

/// One line per setting: `NAME = value  (environment|file|default)`.
fn effective_settings(lookup: &Lookup, config: &Config) -> Vec<String> {
    let mut lines = Vec::new();
    for setting in settings::all() {
        if setting.var.contains('<') {
            continue;
        }
        let given = match lookup.given(setting) {
            Ok(given) => given,
            Err(err) => Some((format!("{err:#}"), Origin::File)),
        };
        let (value, origin) = match given {
            Some((_, origin)) if setting.secret => ("[redacted]".to_string(), origin_name(origin)),
            Some((value, origin)) => (value, origin_name(origin)),
            None if setting.default.is_empty() => ("(not set)".to_string(), "default"),
            None => (setting.default.to_string(), "default"),
        };
        lines.push(format!("{} = {value}  ({origin})", setting.var));
    }
    for provider in &config.auth.providers {
        lines.push(format!(
            "identity provider {} = {} (client id {}, client secret [redacted], trusted for addresses: {})",
            provider.key, provider.name, provider.client_id, provider.trust_email
        ));
    }
    lines
}

fn origin_name(origin: Origin) -> &'static str {
    match origin {
        Origin::Environment => "environment",
        Origin::File => "file",
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    raise_open_file_limit();
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));

    let embedded = match &config.database_url {
        Some(_) => None,
        None => {
            Some(EmbeddedPostgres::start(&config.data_dir, config.pg_bin_dir.as_deref()).await?)
        }
    };
    let result = serve_on(&config, embedded.as_ref(), shutdown).await;
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

async fn serve_on(
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
    // Migrations run inside `serve_listeners`, once Postgres answers.
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
    let metrics = match config.metrics.addr {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("listening for metrics on {addr}"))?,
        ),
        None => None,
    };
    warroom::serve_listeners(config, database.clone(), listener, metrics, shutdown).await?;
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
