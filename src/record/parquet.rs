//! Reading a whole Parquet table, with errors that name the file and what it should be.

use std::path::Path;

use polars::prelude::{DataFrame, ParquetReader, SerReader};

/// The table in `path`; `what` names it in errors ("metrics table").
pub fn read_frame(path: &Path, what: &str) -> Result<DataFrame, String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("{}: cannot open: {e}", path.display()))?;
    ParquetReader::new(file)
        .finish()
        .map_err(|e| format!("{}: not a readable {what}: {e}", path.display()))
}
