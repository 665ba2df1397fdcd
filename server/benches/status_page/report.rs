//! The printed result: one table row per case with both servers' figures, their
//! ratios against the targets, errors and response sizes, then Warroom's memory.

use crate::pages::Encoding;
use crate::wrk::Run;

/// Warroom's throughput must be at least this share of nginx's.
const THROUGHPUT_TARGET: f64 = 0.8;
/// Warroom's p99 may be at most this multiple of nginx's.
const P99_TARGET: f64 = 1.5;

/// Both servers' figures for one path, encoding and connection count.
pub struct Case {
    pub path: String,
    pub encoding: Encoding,
    pub connections: u32,
    pub warroom: Run,
    pub nginx: Run,
}

impl Case {
    fn label(&self) -> String {
        format!(
            "{} {} ×{}",
            self.path,
            self.encoding.label(),
            self.connections
        )
    }

    fn throughput_ratio(&self) -> f64 {
        self.warroom.requests_per_second / self.nginx.requests_per_second
    }

    fn p99_ratio(&self) -> f64 {
        self.warroom.p99_ms / self.nginx.p99_ms
    }

    /// Errors on either side make the comparison meaningless, so they fail it too.
    fn clean(&self) -> bool {
        self.warroom.errors() == 0 && self.nginx.errors() == 0
    }

    fn throughput_met(&self) -> bool {
        self.clean() && self.throughput_ratio() >= THROUGHPUT_TARGET
    }

    fn p99_met(&self) -> bool {
        self.clean() && self.p99_ratio() <= P99_TARGET
    }
}

/// Everything measured in one bench run.
pub struct Report {
    setup: String,
    load_before: String,
    cases: Vec<Case>,
    skipped: Vec<String>,
    pub rss_before_kib: Option<u64>,
    pub rss_after_kib: Option<u64>,
    pub rss_peak_kib: Option<u64>,
}

impl Report {
    pub fn new(
        wrk_version: &str,
        nginx_version: &str,
        threads: u32,
        seconds: u32,
        warm_up_seconds: u32,
    ) -> Self {
        Self {
            setup: format!(
                "{wrk_version}, {threads} threads, {seconds} s measured after a {warm_up_seconds} s warm-up per run; {nginx_version}"
            ),
            load_before: load_average(),
            cases: Vec::new(),
            skipped: Vec::new(),
            rss_before_kib: None,
            rss_after_kib: None,
            rss_peak_kib: None,
        }
    }

    pub fn add(&mut self, case: Case) {
        self.cases.push(case);
    }

    /// Notes a page × encoding that was not measured (once, for all connection counts).
    pub fn skip(&mut self, path: &str, encoding: Encoding, why: &str) {
        let line = format!("{path} {}: skipped ({why})", encoding.label());
        if !self.skipped.contains(&line) {
            self.skipped.push(line);
        }
    }

    pub fn print(&self) {
        let cores = std::thread::available_parallelism().map_or(0, usize::from);
        println!();
        println!("status page: Warroom vs nginx serving the same bytes");
        println!("  load: {}", self.setup);
        println!(
            "  machine: {cores} cores shared by wrk, the server measured, the idle other server and Warroom's Postgres; \
             load average {} before, {} after",
            self.load_before,
            load_average()
        );
        println!(
            "  targets: Warroom req/s >= {THROUGHPUT_TARGET:.2} × nginx's, Warroom p99 <= {P99_TARGET:.2} × nginx's \
             (reported, not asserted; errors on either side fail both)"
        );
        println!();
        self.print_table();
        for line in &self.skipped {
            println!("  {line}");
        }
        for case in &self.cases {
            for (name, run) in [("Warroom", &case.warroom), ("nginx", &case.nginx)] {
                if run.errors() > 0 {
                    println!("  {}: {name} errors: {}", case.label(), run.error_details());
                }
            }
        }
        let throughput = self.cases.iter().filter(|c| c.throughput_met()).count();
        let p99 = self.cases.iter().filter(|c| c.p99_met()).count();
        let total = self.cases.len();
        println!();
        println!(
            "status page: throughput target met in {throughput}/{total} cases, p99 target met in {p99}/{total}"
        );
        println!("status page: Warroom RSS {}", self.memory());
    }

    fn print_table(&self) {
        let width = self
            .cases
            .iter()
            .map(|c| c.label().chars().count())
            .max()
            .unwrap_or(0)
            .max("case".len());
        println!(
            "{:<width$} | {:>13} | {:>11} | {:<16} | {:>11} | {:>10} | {:<16} | {:>12} | {:>17} | {:>17}",
            "case",
            "Warroom req/s",
            "nginx req/s",
            "req/s ratio",
            "Warroom p99",
            "nginx p99",
            "p99 ratio",
            "errors W / n",
            "bytes/resp W / n",
            "CPU µs/resp W / n",
        );
        println!(
            "{}",
            "-".repeat(width + 13 + 11 + 16 + 11 + 10 + 16 + 12 + 17 + 17 + 9 * 3)
        );
        for case in &self.cases {
            println!(
                "{:<width$} | {:>13} | {:>11} | {:<16} | {:>8.2} ms | {:>7.2} ms | {:<16} | {:>12} | {:>17} | {:>17}",
                case.label(),
                thousands(case.warroom.requests_per_second),
                thousands(case.nginx.requests_per_second),
                format!(
                    "{:.2} {}",
                    case.throughput_ratio(),
                    verdict(case.throughput_met())
                ),
                case.warroom.p99_ms,
                case.nginx.p99_ms,
                format!("{:.2} {}", case.p99_ratio(), verdict(case.p99_met())),
                format!("{} / {}", case.warroom.errors(), case.nginx.errors()),
                format!(
                    "{} / {}",
                    thousands(case.warroom.bytes_per_response),
                    thousands(case.nginx.bytes_per_response)
                ),
                format!(
                    "{:.1} / {:.1}",
                    case.warroom.cpu_us_per_request(),
                    case.nginx.cpu_us_per_request()
                ),
            );
        }
    }

    fn memory(&self) -> String {
        let mib = |kib: Option<u64>| {
            kib.map_or("?".to_owned(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
        };
        format!(
            "{} before the runs, {} after (peak since start {})",
            mib(self.rss_before_kib),
            mib(self.rss_after_kib),
            mib(self.rss_peak_kib)
        )
    }
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT met"
    }
}

/// `12345.6` → `12,346`.
fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// The 1-minute load average, to show how busy the shared machine was.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}
