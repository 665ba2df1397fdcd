//! Running wrk and reading its report: requests per second, the latency
//! distribution's p50 and p99, bytes per response and every kind of error.

use std::process::Stdio;

use anyhow::{bail, ensure, Context, Result};
use tokio::process::Command;

use crate::warroom::TICKS_PER_SECOND;

/// wrk's version line, for the report (`wrk -v` prints it, then exits with 1).
pub async fn version() -> Result<String> {
    let output = Command::new("wrk")
        .arg("-v")
        .stdin(Stdio::null())
        .output()
        .await
        .context("wrk not found: run `scripts/prerequisites.sh bench` (or `make bench`)")?;
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().next().unwrap_or_default();
    Ok(line.split(" Copyright").next().unwrap_or(line).to_owned())
}

/// Reads a server's CPU time so far, in clock ticks.
pub type CpuTicks<'a> = &'a dyn Fn() -> Result<u64>;

/// One load: the same for both servers of a case.
pub struct Load {
    pub threads: u32,
    pub connections: u32,
    pub warm_up_seconds: u32,
    pub seconds: u32,
    pub accept_gzip: bool,
}

impl Load {
    /// A discarded warm-up run (connections opened, caches and pools warm), then
    /// the measured run; `cpu_ticks` reads the server's CPU time, which is taken
    /// around the measured run.
    pub async fn run(&self, url: &str, cpu_ticks: CpuTicks<'_>) -> Result<Run> {
        if self.warm_up_seconds > 0 {
            self.wrk(url, self.warm_up_seconds).await?;
        }
        let cpu_before = cpu_ticks()?;
        let output = self.wrk(url, self.seconds).await?;
        let cpu_after = cpu_ticks()?;
        let mut run = parse(&output).with_context(|| format!("reading wrk's report:\n{output}"))?;
        run.server_cpu_ticks = cpu_after.saturating_sub(cpu_before);
        Ok(run)
    }

    async fn wrk(&self, url: &str, seconds: u32) -> Result<String> {
        let mut command = Command::new("wrk");
        command
            .arg(format!("--threads={}", self.threads))
            .arg(format!("--connections={}", self.connections))
            .arg(format!("--duration={seconds}s"))
            // wrk leaves requests slower than the timeout (2 s by default) out of
            // its latency figures; a long timeout keeps slow answers in the p99.
            .arg("--timeout=30s")
            .arg("--latency");
        if self.accept_gzip {
            command.arg("--header=Accept-Encoding: gzip");
        }
        let output = command
            .arg(url)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output()
            .await
            .context("running wrk")?;
        if !output.status.success() {
            bail!(
                "wrk against {url} failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

/// The figures of one measured run.
#[derive(Clone, Debug, Default)]
pub struct Run {
    pub requests: u64,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Bytes read per response, headers included.
    pub bytes_per_response: f64,
    /// CPU time the server used during the run, in clock ticks.
    pub server_cpu_ticks: u64,
    pub non_2xx_3xx: u64,
    pub connect_errors: u64,
    pub read_errors: u64,
    pub write_errors: u64,
    pub timeouts: u64,
}

impl Run {
    /// The server's CPU time per response, in microseconds: unlike req/s, it
    /// hardly depends on how much CPU other programs left to the server.
    pub fn cpu_us_per_request(&self) -> f64 {
        let seconds = self.server_cpu_ticks as f64 / TICKS_PER_SECOND as f64;
        seconds * 1e6 / self.requests.max(1) as f64
    }

    pub fn errors(&self) -> u64 {
        self.non_2xx_3xx
            + self.connect_errors
            + self.read_errors
            + self.write_errors
            + self.timeouts
    }

    /// `connect 1, non-2xx 5`, or empty when there were none.
    pub fn error_details(&self) -> String {
        [
            ("connect", self.connect_errors),
            ("read", self.read_errors),
            ("write", self.write_errors),
            ("timeout", self.timeouts),
            ("non-2xx/3xx", self.non_2xx_3xx),
        ]
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(kind, n)| format!("{kind} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// Reads wrk 4's `--latency` report, e.g.
///
/// ```text
///   Latency Distribution
///      50%   10.07ms
///      99%   23.83ms
///   724 requests in 2.00s, 2.93MB read
///   Socket errors: connect 0, read 1, write 0, timeout 0
///   Non-2xx or 3xx responses: 12
/// Requests/sec:    361.71
/// ```
pub fn parse(report: &str) -> Result<Run> {
    let mut run = Run::default();
    let mut p50 = None;
    let mut p99 = None;
    let mut requests_per_second = None;
    let mut bytes_read = None;
    for line in report.lines().map(str::trim) {
        if let Some(value) = line.strip_prefix("50%") {
            p50 = Some(milliseconds(value.trim())?);
        } else if let Some(value) = line.strip_prefix("99%") {
            p99 = Some(milliseconds(value.trim())?);
        } else if let Some(value) = line.strip_prefix("Requests/sec:") {
            requests_per_second = Some(value.trim().parse::<f64>()?);
        } else if let Some(value) = line.strip_prefix("Non-2xx or 3xx responses:") {
            run.non_2xx_3xx = value.trim().parse()?;
        } else if let Some(value) = line.strip_prefix("Socket errors:") {
            for part in value.split(',') {
                let (kind, count) = part
                    .trim()
                    .split_once(' ')
                    .with_context(|| format!("socket errors `{part}`"))?;
                let count = count.trim().parse()?;
                match kind {
                    "connect" => run.connect_errors = count,
                    "read" => run.read_errors = count,
                    "write" => run.write_errors = count,
                    "timeout" => run.timeouts = count,
                    _ => {}
                }
            }
        } else if let Some((requests, rest)) = line.split_once(" requests in ") {
            run.requests = requests.trim().parse()?;
            // `2.00s, 2.93MB read`
            let read = rest
                .split(", ")
                .nth(1)
                .and_then(|part| part.strip_suffix(" read"))
                .with_context(|| format!("bytes read in `{line}`"))?;
            bytes_read = Some(bytes(read)?);
        }
    }
    let (Some(p50), Some(p99), Some(rps), Some(bytes_read)) =
        (p50, p99, requests_per_second, bytes_read)
    else {
        bail!("wrk's report lacks the latency distribution, Requests/sec or the totals");
    };
    run.p50_ms = p50;
    run.p99_ms = p99;
    run.requests_per_second = rps;
    ensure!(run.requests > 0, "wrk completed no requests");
    run.bytes_per_response = bytes_read / run.requests as f64;
    Ok(run)
}

/// `23.83ms` → (23.83, "ms").
fn number_and_unit(value: &str) -> Result<(f64, &str)> {
    let split = value
        .find(|c: char| c.is_ascii_alphabetic())
        .with_context(|| format!("no unit in `{value}`"))?;
    let (number, unit) = value.split_at(split);
    let number: f64 = number
        .parse()
        .with_context(|| format!("bad number in `{value}`"))?;
    Ok((number, unit))
}

/// `23.83ms`, `512.00us`, `1.20s`, `2.00m` → milliseconds.
fn milliseconds(value: &str) -> Result<f64> {
    let (number, unit) = number_and_unit(value)?;
    let factor = match unit {
        "us" => 0.001,
        "ms" => 1.0,
        "s" => 1_000.0,
        "m" => 60_000.0,
        "h" => 3_600_000.0,
        _ => bail!("unknown time unit in `{value}`"),
    };
    Ok(number * factor)
}

/// `2.93MB`, `812.00B` (binary units, as wrk prints them) → bytes.
fn bytes(value: &str) -> Result<f64> {
    let (number, unit) = number_and_unit(value)?;
    let power = match unit {
        "B" => 0,
        "KB" => 1,
        "MB" => 2,
        "GB" => 3,
        "TB" => 4,
        _ => bail!("unknown size unit in `{value}`"),
    };
    Ok(number * 1024f64.powi(power))
}
