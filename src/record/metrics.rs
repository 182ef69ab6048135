//! `metrics.parquet`: every recorded number in long form (run_id, step, split, name, value),
//! written through polars. Parquet cannot be appended to, so the whole table is rewritten
//! atomically whenever a checkpoint is written.

use std::path::Path;

use polars::prelude::*;

use super::error::RecordError;

#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    pub step: u64,
    pub split: String,
    pub name: String,
    pub value: f64,
}

impl MetricRow {
    pub fn train(step: u64, name: &str, value: f64) -> Self {
        Self {
            step,
            split: "train".into(),
            name: name.into(),
            value,
        }
    }
}

pub fn to_frame(run_id: &str, rows: &[MetricRow]) -> PolarsResult<DataFrame> {
    df!(
        "run_id" => vec![run_id; rows.len()],
        "step" => rows.iter().map(|r| r.step).collect::<Vec<u64>>(),
        "split" => rows.iter().map(|r| r.split.as_str()).collect::<Vec<&str>>(),
        "name" => rows.iter().map(|r| r.name.as_str()).collect::<Vec<&str>>(),
        "value" => rows.iter().map(|r| r.value).collect::<Vec<f64>>(),
    )
}

/// Replaces `path` with the rows, atomically.
pub fn write_metrics(path: &Path, run_id: &str, rows: &[MetricRow]) -> Result<(), RecordError> {
    super::parquet::write_frame(path, "metrics", || to_frame(run_id, rows))
}

/// Reads the rows back (the run_id column is dropped).
pub fn read_metrics(path: &Path) -> Result<Vec<MetricRow>, RecordError> {
    let frame = super::parquet::read_frame(path, "metrics table")?;
    rows_of_frame(&frame)
        .map_err(|e| RecordError::unreadable(path, format!("not a readable metrics table: {e}")))
}

fn rows_of_frame(frame: &DataFrame) -> PolarsResult<Vec<MetricRow>> {
    let step = frame.column("step")?.u64()?.clone();
    let split = frame.column("split")?.str()?.clone();
    let name = frame.column("name")?.str()?.clone();
    let value = frame.column("value")?.f64()?.clone();
    Ok((0..frame.height())
        .map(|i| MetricRow {
            step: step.get(i).unwrap_or(0),
            split: split.get(i).unwrap_or("").to_string(),
            name: name.get(i).unwrap_or("").to_string(),
            value: value.get(i).unwrap_or(f64::NAN),
        })
        .collect())
}
