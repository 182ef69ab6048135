//! The per-t schedule table of `ddpm-exp schedule`, as Parquet or CSV.

use std::path::Path;

use polars::prelude::*;

use super::error::RecordError;
use crate::diffusion::DiffusionSchedule;

pub fn schedule_frame(s: &DiffusionSchedule) -> PolarsResult<DataFrame> {
    let ts: Vec<u64> = (1..=s.timesteps() as u64).collect();
    df!(
        "t" => ts.clone(),
        "beta" => s.beta.clone(),
        "alpha" => s.alpha.clone(),
        "alpha_bar" => s.alpha_bar.clone(),
        "alpha_bar_prev" => s.alpha_bar_prev.clone(),
        "posterior_variance" => s.posterior_variance.clone(),
        "posterior_log_variance_clipped" => s.posterior_log_variance_clipped.clone(),
        "posterior_mean_coef1" => s.posterior_mean_coef1.clone(),
        "posterior_mean_coef2" => s.posterior_mean_coef2.clone(),
        "snr" => ts.iter().map(|&t| s.snr(t as usize)).collect::<Vec<f64>>(),
    )
}

/// Writes the table; `.csv` gives CSV, anything else Parquet.
pub fn write_schedule(path: &Path, s: &DiffusionSchedule) -> Result<(), RecordError> {
    let err = |e: &dyn std::fmt::Display| {
        RecordError::unwritable(path, format!("cannot write schedule table: {e}"))
    };
    let mut frame = schedule_frame(s).map_err(|e| err(&e))?;
    let mut file = std::fs::File::create(path).map_err(|e| err(&e))?;
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv {
        CsvWriter::new(&mut file)
            .finish(&mut frame)
            .map_err(|e| err(&e))
    } else {
        ParquetWriter::new(&mut file)
            .finish(&mut frame)
            .map(|_| ())
            .map_err(|e| err(&e))
    }
}
