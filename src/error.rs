//! How a command fails, and the exit code each failure gives.
//!
//! Each layer has one error type (`SpecError`, `DataError`, `DeviceError`, `RecordError`,
//! `QualityError`, `ReportError`), and each says for its own variants whether the cause is the
//! user's input ([`Cause::is_bad_input`]): that is decided where the error is made, and a
//! command's [`Failure`] only carries the answer to the exit code.

/// Exit codes: 0 success, 1 a failure while running, 2 bad input (spec, flags, data files),
/// 3 a run that diverged.
pub const EXIT_FAILED: i32 = 1;
pub const EXIT_BAD_INPUT: i32 = 2;
pub const EXIT_DIVERGED: i32 = 3;
/// Stopped by Ctrl-C / SIGTERM after writing a checkpoint (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: i32 = 130;

/// A layer's error that knows whether the user's input caused it.
pub trait Cause: std::fmt::Display {
    /// True when the input (a spec, a flag, a data file, a run folder) is wrong and nothing was
    /// run; false for a failure while running (a full disk, a numerical failure).
    fn is_bad_input(&self) -> bool;
}

/// Why a command stopped, as one line for the user.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The user's input is wrong: nothing was run.
    #[error("{0}")]
    BadInput(String),
    /// Something went wrong while running.
    #[error("{0}")]
    Failed(String),
}

impl Failure {
    /// The same failure, counted as one while running: once a run folder holds a run, nothing
    /// that goes wrong is "bad input, nothing was created" (exit 2) any more.
    pub fn while_running(self) -> Self {
        match self {
            Failure::BadInput(m) | Failure::Failed(m) => Failure::Failed(m),
        }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Failure::BadInput(_) => EXIT_BAD_INPUT,
            Failure::Failed(_) => EXIT_FAILED,
        }
    }
}

impl<E: Cause> From<E> for Failure {
    fn from(e: E) -> Self {
        if e.is_bad_input() {
            Failure::BadInput(e.to_string())
        } else {
            Failure::Failed(e.to_string())
        }
    }
}
