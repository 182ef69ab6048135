//! `metrics.parquet`: every recorded number in long form (run_id, step, split, name, value),
//! Parquet cannot be appended to, so the whole table is rewritten atomically whenever a
//! checkpoint is written.

use std::path::Path;

use super::error::RecordError;
use super::parquet::{Column, read_table, write_table};

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

/// Replaces `path` with the rows, atomically.
pub fn write_metrics(path: &Path, run_id: &str, rows: &[MetricRow]) -> Result<(), RecordError> {
    let strings = |f: fn(&MetricRow) -> &str| rows.iter().map(|r| f(r).to_string()).collect();
    let columns = [
        ("run_id", Column::Str(vec![run_id.to_string(); rows.len()])),
        ("step", Column::U64(rows.iter().map(|r| r.step).collect())),
        ("split", Column::Str(strings(|r| &r.split))),
        ("name", Column::Str(strings(|r| &r.name))),
        ("value", Column::F64(rows.iter().map(|r| r.value).collect())),
    ];
    write_table(path, "metrics", &columns)
}

/// Reads the rows back (the run_id column is dropped).
pub fn read_metrics(path: &Path) -> Result<Vec<MetricRow>, RecordError> {
    let table = read_table(path, "metrics table")?;
    let (step, split) = (table.u64s("step")?, table.strings("split")?);
    let (name, value) = (table.strings("name")?, table.f64s("value")?);
    Ok((0..table.rows())
        .map(|i| MetricRow {
            step: step[i],
            split: split[i].clone(),
            name: name[i].clone(),
            value: value[i],
        })
        .collect())
}
