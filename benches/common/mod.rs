//! Shared by the criterion benches: a short configuration (so `cargo bench`
//! finishes in a few minutes on two cores) and a summary that reads back the
//! estimates criterion wrote *in this run* to print the ratios of issue 5.

#![allow(dead_code, reason = "each bench uses part of this module")]

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use criterion::Criterion;

/// Short warm-up and measurement: two seconds per benchmark, 30 samples.
pub fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
        .noise_threshold(0.03)
}

/// A bench binary's `main`: runs `groups` with [`config`] (and the command
/// line's filters), then prints `summary` from this run's estimates.
pub fn run(groups: &[fn(&mut Criterion)], summary: fn(&Results)) {
    let results = Results::start();
    let mut c = config().configure_from_args();
    for group in groups {
        group(&mut c);
    }
    c.final_summary();
    summary(&results);
}

/// Where criterion keeps its estimates (the same rules criterion applies:
/// `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`, else the target
/// directory the bench executable was built in).
fn criterion_home() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return Some(PathBuf::from(home));
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return Some(PathBuf::from(target).join("criterion"));
    }
    // <target>/<profile>/deps/<bench>-<hash>
    let exe = std::env::current_exe().ok()?;
    Some(exe.ancestors().nth(3)?.join("criterion"))
}

/// Reads results back after the benchmarks ran.
pub struct Results {
    home: Option<PathBuf>,
    started: SystemTime,
}

impl Results {
    /// Call before running the benchmark groups: only estimates written
    /// after this instant (by this run) are reported.
    pub fn start() -> Self {
        Results {
            home: criterion_home(),
            started: SystemTime::now(),
        }
    }

    /// Whether any benchmark wrote estimates in this process (not in
    /// criterion's `--test` or `--list` modes, nor when filtered out).
    pub fn any(&self) -> bool {
        fn walk(dir: &std::path::Path, since: SystemTime, depth: u8) -> bool {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return false;
            };
            entries.flatten().any(|e| {
                let path = e.path();
                if path.file_name().is_some_and(|n| n == "estimates.json") {
                    e.metadata()
                        .and_then(|m| m.modified())
                        .is_ok_and(|m| m >= since)
                } else {
                    depth > 0 && path.is_dir() && walk(&path, since, depth - 1)
                }
            })
        }
        self.home.as_ref().is_some_and(|h| walk(h, self.started, 4))
    }

    /// The estimated time of one iteration of `group/id`, in nanoseconds
    /// (criterion's slope estimate when it has one, else the mean), if the
    /// benchmark ran in this process.
    pub fn ns(&self, group: &str, id: &str) -> Option<f64> {
        let path = self
            .home
            .as_ref()?
            .join(group)
            .join(id)
            .join("new")
            .join("estimates.json");
        let modified = std::fs::metadata(&path).ok()?.modified().ok()?;
        if modified < self.started {
            return None;
        }
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
        let pick = |k: &str| json.get(k)?.get("point_estimate")?.as_f64();
        pick("slope").or_else(|| pick("mean"))
    }
}

/// Formats a rate given the time per element in nanoseconds.
pub fn per_second(ns: f64) -> String {
    let rate = 1e9 / ns;
    if rate >= 1e6 {
        format!("{:.2} M/s", rate / 1e6)
    } else {
        format!("{:.1} k/s", rate / 1e3)
    }
}
