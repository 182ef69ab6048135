//! How a command fails, and the exit code each failure gives.

use std::fmt;

/// Exit codes: 0 success, 1 a failure while running, 2 bad input (spec, flags, data files),
/// 3 a run that diverged.
pub const EXIT_FAILED: i32 = 1;
pub const EXIT_BAD_INPUT: i32 = 2;
pub const EXIT_DIVERGED: i32 = 3;
/// Stopped by Ctrl-C / SIGTERM after writing a checkpoint (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: i32 = 130;

#[derive(Debug)]
pub enum Failure {
    /// The user's input is wrong: nothing was run.
    BadInput(String),
    /// Something went wrong while running.
    Failed(String),
}

impl Failure {
    pub fn exit_code(&self) -> i32 {
        match self {
            Failure::BadInput(_) => EXIT_BAD_INPUT,
            Failure::Failed(_) => EXIT_FAILED,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::BadInput(m) | Failure::Failed(m) => write!(f, "{m}"),
        }
    }
}

impl From<crate::spec::SpecError> for Failure {
    fn from(e: crate::spec::SpecError) -> Self {
        Failure::BadInput(e.to_string())
    }
}

impl From<crate::data::DataError> for Failure {
    fn from(e: crate::data::DataError) -> Self {
        Failure::BadInput(e.to_string())
    }
}
