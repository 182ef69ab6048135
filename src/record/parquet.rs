//! Reading and writing a whole Parquet table, with errors that name the file and what it is.

use std::path::Path;

use polars::prelude::{DataFrame, ParquetReader, ParquetWriter, PolarsResult, SerReader};

use super::atomic::replace_with;
use super::error::RecordError;

/// The table in `path`; `what` names it in errors ("metrics table").
pub fn read_frame(path: &Path, what: &str) -> Result<DataFrame, RecordError> {
    let file = std::fs::File::open(path)
        .map_err(|e| RecordError::unreadable(path, format!("cannot open: {e}")))?;
    ParquetReader::new(file)
        .finish()
        .map_err(|e| RecordError::unreadable(path, format!("not a readable {what}: {e}")))
}

/// Replaces `path` with the table `frame` builds, atomically; `what` names it in errors
/// ("cannot write metrics: …").
pub fn write_frame(
    path: &Path,
    what: &str,
    frame: impl FnOnce() -> PolarsResult<DataFrame>,
) -> Result<(), RecordError> {
    let err = |e: &dyn std::fmt::Display| {
        RecordError::unwritable(path, format!("cannot write {what}: {e}"))
    };
    let mut frame = frame().map_err(|e| err(&e))?;
    replace_with(path, |file| {
        ParquetWriter::new(file)
            .finish(&mut frame)
            .map(|_| ())
            .map_err(std::io::Error::other)
    })
    .map_err(|e| err(&e))
}
