//! The report layer's error: nothing to report on (the user's input), a figure that cannot be
//! drawn, or the records below it.

use crate::device::DeviceError;
use crate::error::Cause;
use crate::record::RecordError;
use crate::spec::SpecError;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// An input that is not a results or run folder, or holds no readable run. Bad input.
    #[error("{0}")]
    NoRuns(String),
    /// A run without a checkpoint has no model to draw from. Bad input.
    #[error("{}: no checkpoint to draw samples from", .0.display())]
    NoCheckpoint(std::path::PathBuf),
    /// A figure could not be drawn (plotters, the PNG encoder, no finite values). A failure;
    /// the report notes it and goes on.
    #[error("{0}")]
    Figure(String),
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    Device(#[from] DeviceError),
}

impl Cause for ReportError {
    fn is_bad_input(&self) -> bool {
        match self {
            Self::NoRuns(_) | Self::NoCheckpoint(_) | Self::Spec(_) | Self::Device(_) => true,
            Self::Figure(_) => false,
            Self::Record(e) => e.is_bad_input(),
        }
    }
}
