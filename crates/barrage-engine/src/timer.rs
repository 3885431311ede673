//! Waiting until an instant with sub-millisecond precision, and the other few things the
//! engine asks of the operating system (thread CPU time, the open-file limit).
//!
//! tokio's timer wheel has 1 ms granularity: `sleep_until(t)` wakes up to a millisecond
//! late, which at 1,000 iterations/s is the whole gap between two starts. An arrival-rate
//! schedule needs better, so on Linux each scheduler owns a `timerfd` (nanosecond
//! resolution, CLOCK_MONOTONIC, the clock `Instant` reads) registered with the runtime's
//! reactor: the wait costs one `timerfd_settime` and the wake-up, and no spinning. Elsewhere
//! it falls back to tokio's timer.
//!
//! The timerfd is never read. Its expiry count is reset by the next `timerfd_settime`, and
//! the reactor's edge-triggered registration reports each expiry once, so whether the wait
//! is over is a clock reading (vDSO, no system call) once the reactor says the descriptor
//! became readable. Reading it cost two system calls per scheduled start (the expiry, and an
//! `EAGAIN` for the readiness the previous read left behind): measured with `strace -c -f`
//! on `barrage hit --rate 2000 -n 20000 --workers 1` against nginx, 35,949 `read` calls
//! (17,792 failing) of about 120,000 system calls in all, 2026-12-05.

use std::time::Instant;

/// A reusable precise timer for one task on a current-thread runtime.
pub struct PreciseTimer {
    #[cfg(target_os = "linux")]
    fd: Option<tokio::io::unix::AsyncFd<Tfd>>,
}

/// `TimerFd` owns its descriptor but offers only `AsFd`; the reactor wants `AsRawFd`.
#[cfg(target_os = "linux")]
struct Tfd(nix::sys::timerfd::TimerFd);

#[cfg(target_os = "linux")]
impl std::os::fd::AsRawFd for Tfd {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsFd;
        self.0.as_fd().as_raw_fd()
    }
}

impl PreciseTimer {
    /// Must be called inside a tokio runtime. Falls back to tokio's timer if no timerfd can
    /// be made.
    pub fn new() -> PreciseTimer {
        #[cfg(target_os = "linux")]
        {
            use nix::sys::timerfd::{ClockId, TimerFd, TimerFlags};
            let fd = TimerFd::new(
                ClockId::CLOCK_MONOTONIC,
                TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
            )
            .ok()
            // SAFETY: the descriptor is owned by the `TimerFd` inside the `AsyncFd`, so it
            // stays open, and the same, for exactly as long as the registration.
            .and_then(|t| unsafe { tokio::io::unix::AsyncFd::register(Tfd(t)) }.ok());
            PreciseTimer { fd }
        }
        #[cfg(not(target_os = "linux"))]
        PreciseTimer {}
    }

    /// Returns at `t` (or at once if `t` has passed).
    pub async fn sleep_until(&mut self, t: Instant) {
        let now = Instant::now();
        if t <= now {
            return;
        }
        #[cfg(target_os = "linux")]
        if let Some(fd) = &self.fd {
            use nix::sys::time::TimeSpec;
            use nix::sys::timerfd::{Expiration, TimerSetTimeFlags};
            let wait = TimeSpec::from_duration(t - now);
            if fd
                .get_ref()
                .0
                .set(Expiration::OneShot(wait), TimerSetTimeFlags::empty())
                .is_ok()
            {
                loop {
                    let Ok(mut guard) = fd.readable().await else {
                        break;
                    };
                    // Readiness from an earlier arming (one that a load change or a stop
                    // abandoned) can still be pending: only the clock says this one expired.
                    // Cleared either way, so the next arming waits for its own expiry.
                    guard.clear_ready();
                    if Instant::now() >= t {
                        return;
                    }
                }
            }
        }
        tokio::time::sleep_until(t.into()).await;
    }
}

impl Default for PreciseTimer {
    fn default() -> Self {
        PreciseTimer::new()
    }
}

/// CPU time this thread has used, in nanoseconds (0 where the platform can't say).
pub fn thread_cpu_ns() -> u64 {
    #[cfg(target_os = "linux")]
    {
        use nix::time::{clock_gettime, ClockId};
        clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID)
            .map(|t| t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64)
            .unwrap_or(0)
    }
    #[cfg(not(target_os = "linux"))]
    0
}

/// Raises this process's open-file soft limit to its hard limit (each user holds at least
/// one connection, and the default soft limit is often 1,024) and returns the limit now in
/// force, or `None` where it can't be known.
pub fn raise_open_files_limit() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        use nix::sys::resource::{getrlimit, setrlimit, Resource};
        let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
        if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
            return Some(hard);
        }
        Some(soft)
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// The CPUs this process may run on (Linux), in order; empty where the platform can't say.
pub fn allowed_cpus() -> Vec<usize> {
    #[cfg(target_os = "linux")]
    {
        use nix::sched::{sched_getaffinity, CpuSet};
        use nix::unistd::Pid;
        match sched_getaffinity(Pid::from_raw(0)) {
            Ok(set) => (0..CpuSet::count())
                .filter(|&c| set.is_set(c).unwrap_or(false))
                .collect(),
            Err(_) => Vec::new(),
        }
    }
    #[cfg(not(target_os = "linux"))]
    Vec::new()
}

/// Why the calling thread could not be pinned to `cpu`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    /// The CPU set or the system call refused it.
    #[cfg(target_os = "linux")]
    #[error("CPU {cpu}: {source}")]
    Os { cpu: usize, source: nix::Error },
    #[cfg(not(target_os = "linux"))]
    #[error("pinning to CPU {cpu} is supported on Linux only")]
    Unsupported { cpu: usize },
}

/// Pins the calling thread to `cpu` (Linux; elsewhere an error says it can't).
pub fn pin_current_thread(cpu: usize) -> Result<(), PinError> {
    #[cfg(target_os = "linux")]
    {
        use nix::sched::{sched_setaffinity, CpuSet};
        use nix::unistd::Pid;
        let os = |source| PinError::Os { cpu, source };
        let mut set = CpuSet::new();
        set.set(cpu).map_err(os)?;
        sched_setaffinity(Pid::from_raw(0), &set).map_err(os)
    }
    #[cfg(not(target_os = "linux"))]
    Err(PinError::Unsupported { cpu })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_pinned_thread_runs_on_its_cpu_only() {
        let cpus = allowed_cpus();
        assert!(!cpus.is_empty());
        let last = *cpus.last().unwrap();
        std::thread::spawn(move || {
            pin_current_thread(last).unwrap();
            assert_eq!(allowed_cpus(), vec![last]);
        })
        .join()
        .unwrap();
        let cpu = usize::MAX / 2;
        let message = pin_current_thread(cpu).unwrap_err().to_string();
        assert!(message.contains(&format!("CPU {cpu}")), "{message}");
    }

    #[test]
    fn wakes_within_a_fraction_of_a_millisecond() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut timer = PreciseTimer::new();
            let mut lags = Vec::new();
            for i in 1..=50u64 {
                let t = Instant::now() + Duration::from_micros(300 + i * 37);
                timer.sleep_until(t).await;
                let now = Instant::now();
                assert!(now >= t, "woke early");
                lags.push(now - t);
            }
            lags.sort();
            // tokio's timer alone would be late by up to a millisecond on most of these;
            // the median must be well under that (generous for a loaded CI machine).
            assert!(
                lags[25] < Duration::from_micros(500),
                "median lag {:?}",
                lags[25]
            );
        });
    }

    #[test]
    fn the_open_file_limit_is_raised_to_the_hard_limit() {
        let limit = raise_open_files_limit().expect("Linux reports its limits");
        let (soft, hard) =
            nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE).unwrap();
        assert_eq!((limit, soft), (hard, hard));
    }

    #[test]
    fn thread_cpu_time_advances_with_work() {
        let before = thread_cpu_ns();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(thread_cpu_ns() > before);
    }
}
