//! The terminal as a front end of a run: Ctrl-C and Locust's keys turned into calls on the
//! session's [`Control`] handle, and the small things the commands print with (colours,
//! diagnostics).
//!
//! Ctrl-C once asks for a graceful stop (in-flight requests get the stop timeout); twice
//! stops at once. When stdin is a terminal, keys steer a running test as in Locust's
//! headless mode: `w`/`W` add 1/10 users, `s`/`S` remove 1/10; for an open model the same
//! keys change the rate by 1/10 iterations/s. The terminal is put in cbreak mode (keys
//! arrive without Enter and are not echoed; Ctrl-C still sends its signal) and restored
//! when the run ends.
//! A run whose load is steered by something else (a capacity search) takes Ctrl-C only.

use std::io::{IsTerminal, Read};

use barrage_scenario::{render, Diagnostic, SourceFile};
use barrage_session::Control;

/// Whether color and escape codes may be used on stderr.
pub fn stderr_color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

/// Prints diagnostics with the text they point into; `true` when one is an error.
pub fn print_diagnostics(reports: &[(SourceFile, Vec<Diagnostic>)]) -> bool {
    let color = stderr_color();
    for (file, diags) in reports {
        eprint!("{}", render(file, diags, color));
    }
    reports
        .iter()
        .any(|(_, d)| d.iter().any(Diagnostic::is_error))
}

/// Turns Ctrl-C (and, on a terminal, keys) into calls on `control` until the run ends.
/// Runs on the control thread's runtime; dropping the returned guard restores the terminal.
pub fn steer(control: Control) -> Steering {
    let keys = Keys::start(control.clone());
    interrupts(control, keys)
}

/// Ctrl-C only, no keys: for a run whose load something else steers (`barrage capacity`,
/// where a key would change the load in the middle of a step being judged). The terminal
/// is left as it is.
pub fn steer_interrupts_only(control: Control) -> Steering {
    interrupts(control, None)
}

fn interrupts(control: Control, keys: Option<Keys>) -> Steering {
    let signals = tokio::task::spawn_local(async move {
        let mut interrupts = Interrupts::new();
        interrupts.recv().await;
        eprintln!("\nStopping: letting in-flight requests finish (Ctrl-C again to stop now)...");
        let _ = control.stop("Ctrl-C");
        interrupts.recv().await;
        eprintln!("\nStopping now.");
        let _ = control.hard_stop("Ctrl-C");
    });
    Steering {
        _keys: keys,
        signals,
    }
}

/// Ends the steering when dropped.
pub struct Steering {
    _keys: Option<Keys>,
    signals: tokio::task::JoinHandle<()>,
}

impl Drop for Steering {
    fn drop(&mut self) {
        self.signals.abort();
    }
}

/// Ctrl-C as a stream: one listener for the whole run, so a second press that arrives
/// while the loop is busy is not lost between two `ctrl_c()` futures.
pub(crate) struct Interrupts {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Interrupts {
    pub(crate) fn new() -> Interrupts {
        Interrupts {
            #[cfg(unix)]
            signal: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok(),
        }
    }

    pub(crate) async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(s) = &mut self.signal {
            s.recv().await;
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// What a key does: (change in users or iterations/s).
fn key_change(key: u8) -> Option<f64> {
    match key {
        b'w' => Some(1.0),
        b'W' => Some(10.0),
        b's' => Some(-1.0),
        b'S' => Some(-10.0),
        _ => None,
    }
}

/// The keyboard while a run goes on: a thread reading stdin byte by byte (a blocking read
/// cannot be cancelled, so the thread simply ends with the process), and the terminal's
/// settings to restore.
struct Keys {
    #[cfg(unix)]
    saved: Option<nix::sys::termios::Termios>,
}

impl Keys {
    fn start(control: Control) -> Option<Keys> {
        if !std::io::stdin().is_terminal() {
            return None;
        }
        #[cfg(unix)]
        let saved = cbreak();
        let spawned = std::thread::Builder::new()
            .name("barrage-keys".into())
            .spawn(move || {
                let mut byte = [0u8; 1];
                let mut stdin = std::io::stdin().lock();
                while let Ok(1) = stdin.read(&mut byte) {
                    let Some(by) = key_change(byte[0]) else {
                        continue;
                    };
                    // Several scenarios: the keys steer the first, as Locust steers its one.
                    let first = control.scenarios().first().map(|s| s.name.clone());
                    if let Err(e) = control.adjust(first.as_deref(), by, "terminal") {
                        eprintln!("{e}");
                        return;
                    }
                }
            });
        if spawned.is_err() {
            return None;
        }
        Some(Keys {
            #[cfg(unix)]
            saved,
        })
    }
}

impl Drop for Keys {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(saved) = &self.saved {
            use nix::sys::termios::{tcsetattr, SetArg};
            let _ = tcsetattr(std::io::stdin(), SetArg::TCSANOW, saved);
        }
    }
}

/// Keys without Enter and without echo, signals kept; returns the settings to restore.
#[cfg(unix)]
fn cbreak() -> Option<nix::sys::termios::Termios> {
    use nix::sys::termios::{tcgetattr, tcsetattr, LocalFlags, SetArg};
    let stdin = std::io::stdin();
    let saved = tcgetattr(&stdin).ok()?;
    let mut raw = saved.clone();
    raw.local_flags
        .remove(LocalFlags::ICANON | LocalFlags::ECHO);
    tcsetattr(&stdin, SetArg::TCSANOW, &raw).ok()?;
    Some(saved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locusts_keys_add_and_remove_one_or_ten() {
        assert_eq!(key_change(b'w'), Some(1.0));
        assert_eq!(key_change(b'W'), Some(10.0));
        assert_eq!(key_change(b's'), Some(-1.0));
        assert_eq!(key_change(b'S'), Some(-10.0));
        assert_eq!(key_change(b'q'), None);
    }
}
