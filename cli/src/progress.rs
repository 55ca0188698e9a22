//! Progress on standard error (`indicatif`): a byte bar for large `dfs -put`
//! and `-get`, a spinner with the elapsed time for a statement that runs
//! longer than a moment (with its stages' tasks done when it runs on a
//! cluster), in the REPL and scripts, but not with `--silent`.
//!
//! Bars are drawn only on a terminal. `HIVEQL_PROGRESS=1` asks for them
//! anyway, drawn as plain lines twice a second (for logs and tests).

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};

/// Transfers smaller than this get no bar.
pub const TRANSFER_FROM: u64 = 16 << 20;

fn forced() -> bool {
    std::env::var("HIVEQL_PROGRESS").is_ok_and(|v| v == "1")
}

/// Where bars go: the terminal, plain lines when forced, else nowhere.
fn target() -> ProgressDrawTarget {
    if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else if forced() {
        ProgressDrawTarget::term_like_with_hz(Box::new(Lines), 2)
    } else {
        ProgressDrawTarget::hidden()
    }
}

/// A bar for moving `total` bytes, labelled `what`.
pub fn transfer(what: &str, total: u64) -> ProgressBar {
    if total < TRANSFER_FROM {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), target());
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {percent:>3}% {bytes}/{total_bytes} {binary_bytes_per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("#>-"),
    );
    bar.set_message(what.to_string());
    bar
}

/// A spinner for a running statement, shown only on a terminal (or when
/// forced) and only after the statement has run for a second.
pub fn statement() -> ProgressBar {
    if !std::io::stderr().is_terminal() && !forced() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template("{spinner} running {elapsed} {msg} (Ctrl-C cancels)")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar
}

/// Make a [`statement`] spinner visible and keep it turning (as plain
/// lines twice a second when forced off a terminal).
pub fn show(bar: &ProgressBar) {
    if !bar.is_hidden() {
        return;
    }
    if std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::stderr());
        bar.enable_steady_tick(Duration::from_millis(120));
    } else if forced() {
        bar.set_draw_target(target());
        bar.enable_steady_tick(Duration::from_millis(500));
    }
}

/// The next progress line of a session's cluster job (`stage 1: 4/4
/// tasks, stage 2: 1/2 tasks`; empty between jobs). Never resolves
/// without a feed, or once the feed is gone.
pub async fn next_stages(
    feed: &mut Option<tokio::sync::watch::Receiver<Option<hiveql_engine::dist::progress::JobStages>>>,
) -> String {
    if let Some(rx) = feed.as_mut() {
        if rx.changed().await.is_ok() {
            return rx.borrow_and_update().as_ref().map(ToString::to_string).unwrap_or_default();
        }
        *feed = None;
    }
    std::future::pending().await
}

/// A draw target without cursor movement: each redraw is a new line.
#[derive(Debug)]
struct Lines;

impl TermLike for Lines {
    fn width(&self) -> u16 {
        100
    }
    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.write_str(s)
    }
    // indicatif leaves the cursor on the bar's line and pads it to the
    // width; here every drawing is a line of its own, without the padding
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        let s = s.trim_end();
        if s.is_empty() { Ok(()) } else { writeln!(std::io::stderr(), "{s}") }
    }
    fn clear_line(&self) -> std::io::Result<()> {
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
