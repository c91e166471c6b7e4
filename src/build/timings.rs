//! How long each stage of a build took (wall-clock and CPU time of all threads), and the
//! memory in use after it (`sitrep build --timings`).

use std::time::{Duration, Instant};

/// How long each stage took (`sitrep build --timings`).
#[derive(Debug, Clone)]
pub struct Timings {
    last: Instant,
    last_cpu: Duration,
    /// Each stage's name, duration and the process's resident memory after it (MiB, 0
    /// where unknown).
    pub laps: Vec<(&'static str, Duration, u64)>,
    /// Each stage's CPU time (user and system, all threads), in the order of `laps`.
    pub cpu: Vec<Duration>,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            last: Instant::now(),
            last_cpu: process_cpu(),
            laps: Vec::new(),
            cpu: Vec::new(),
        }
    }
}

impl Timings {
    /// Records the time since the previous lap under `name`.
    pub fn lap(&mut self, name: &'static str) {
        let now = Instant::now();
        let cpu = process_cpu();
        self.laps.push((name, now - self.last, resident_mib()));
        self.cpu.push(cpu.saturating_sub(self.last_cpu));
        self.last = now;
        self.last_cpu = cpu;
    }

    /// One line per stage: wall-clock time, CPU time, resident memory, name.
    pub fn report(&self) -> String {
        self.laps
            .iter()
            .enumerate()
            .map(|(i, (n, d, rss))| {
                let cpu = self.cpu.get(i).copied().unwrap_or_default();
                format!(
                    "{:>10.1} ms {:>8.1} ms cpu {rss:>6} MiB  {n}",
                    d.as_secs_f64() * 1000.0,
                    cpu.as_secs_f64() * 1000.0
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The CPU time the process has used so far, all threads, user and system (Linux), or 0.
fn process_cpu() -> Duration {
    // Fields 14 and 15 of /proc/self/stat (after the parenthesised command name), in
    // clock ticks of 1/100 s.
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = &s[s.rfind(')')? + 2..];
            let mut f = rest.split_whitespace().skip(11);
            let user: u64 = f.next()?.parse().ok()?;
            let system: u64 = f.next()?.parse().ok()?;
            Some(Duration::from_millis((user + system) * 10))
        })
        .unwrap_or_default()
}

/// The process's resident memory in MiB (Linux), or 0.
fn resident_mib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096 / (1024 * 1024))
}
