//! How long each stage of a build took, and the memory in use after it
//! (`sitrep build --timings`).

use std::time::{Duration, Instant};

/// How long each stage took (`sitrep build --timings`).
#[derive(Debug, Clone)]
pub struct Timings {
    last: Instant,
    /// Each stage's name, duration and the process's resident memory after it (MiB, 0
    /// where unknown).
    pub laps: Vec<(&'static str, Duration, u64)>,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            last: Instant::now(),
            laps: Vec::new(),
        }
    }
}

impl Timings {
    /// Records the time since the previous lap under `name`.
    pub fn lap(&mut self, name: &'static str) {
        let now = Instant::now();
        self.laps.push((name, now - self.last, resident_mib()));
        self.last = now;
    }

    /// One line per stage.
    pub fn report(&self) -> String {
        self.laps
            .iter()
            .map(|(n, d, rss)| format!("{:>10.1} ms {rss:>6} MiB  {n}", d.as_secs_f64() * 1000.0))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The process's resident memory in MiB (Linux), or 0.
fn resident_mib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096 / (1024 * 1024))
}
