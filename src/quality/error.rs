//! The quality layer's error: the user's Inception weights, the data the reference is taken
//! from, a cache record, or features that cannot give a score.

use std::path::PathBuf;

use crate::data::DataError;
use crate::error::Cause;
use crate::record::RecordError;

#[derive(Debug, thiserror::Error)]
pub enum QualityError {
    /// The weights file the user named is missing or not pytorch-fid's Inception-v3. Bad input.
    #[error("{}: {message}", path.display())]
    Weights { path: PathBuf, message: String },
    /// The features cannot give the score (too few rows, ragged, mismatched widths); the sample
    /// counts were checked with the spec, so this is a failure of the computation.
    #[error("{0}")]
    Statistics(String),
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Record(#[from] RecordError),
}

impl Cause for QualityError {
    fn is_bad_input(&self) -> bool {
        match self {
            Self::Weights { .. } | Self::Data(_) => true,
            Self::Statistics(_) => false,
            Self::Record(e) => e.is_bad_input(),
        }
    }
}
