//! Feedback for long runs: a spinner with the elapsed time on stderr once a scan has taken more
//! than a second, only when stderr is a terminal (never in CI logs, pipes or files), and never
//! with `--quiet`. It is cleared when the scan ends, before any report is printed.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a run may take before the spinner appears.
pub const DELAY: Duration = Duration::from_secs(1);

/// Whether to show progress: not quiet, stderr a terminal, and a terminal that can redraw.
pub fn wanted(quiet: bool, stderr_is_terminal: bool, term: Option<&str>) -> bool {
    !quiet && stderr_is_terminal && term != Some("dumb")
}

/// A running spinner (or nothing, when not wanted); stop it with [`Progress::finish`].
pub struct Progress {
    done: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts the delayed spinner with `message` when `enabled`.
    pub fn start(enabled: bool, message: &'static str) -> Progress {
        let done = Arc::new((Mutex::new(false), Condvar::new()));
        let started = std::time::Instant::now();
        let thread = enabled.then(|| {
            let done = Arc::clone(&done);
            std::thread::spawn(move || spin(&done, message, started))
        });
        Progress { done, thread }
    }

    /// Stops and clears the spinner; returns once it is gone from the terminal.
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let (lock, cvar) = &*self.done;
        if let Ok(mut d) = lock.lock() {
            *d = true;
        }
        cvar.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Waits for the delay; if the run is still going, spins until it ends.
fn spin(done: &(Mutex<bool>, Condvar), message: &'static str, started: std::time::Instant) {
    let (lock, cvar) = done;
    let Ok(guard) = lock.lock() else { return };
    let Ok((guard, _)) = cvar.wait_timeout_while(guard, DELAY, |d| !*d) else {
        return;
    };
    if *guard {
        return;
    }
    // the elapsed time counts from the start of the run, not from the spinner's
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr())
            .with_elapsed(started.elapsed());
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}") {
        bar.set_style(style);
    }
    bar.set_message(message);
    bar.enable_steady_tick(Duration::from_millis(120));
    let finished = cvar.wait_while(guard, |d| !*d);
    drop(finished);
    bar.finish_and_clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_on_a_terminal_and_never_quiet() {
        assert!(wanted(false, true, Some("xterm-256color")));
        assert!(wanted(false, true, None));
        assert!(!wanted(true, true, Some("xterm")), "--quiet");
        assert!(
            !wanted(false, false, Some("xterm")),
            "stderr is a pipe or file"
        );
        assert!(
            !wanted(false, true, Some("dumb")),
            "a terminal that cannot redraw"
        );
    }

    #[test]
    fn a_disabled_or_quick_run_shows_nothing_and_ends_at_once() {
        let started = std::time::Instant::now();
        Progress::start(false, "scanning").finish();
        Progress::start(true, "scanning").finish();
        assert!(
            started.elapsed() < DELAY,
            "finish() does not wait for the delay"
        );
    }
}
