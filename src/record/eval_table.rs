//! A run's eval table (`eval.parquet`): evaluation results in long form (run_id, step, split, name, t, value), where
//! `step` is the checkpoint evaluated and `t` is set for per-timestep terms and null for totals.
//! A new evaluation of the same checkpoint and kind replaces the old rows.

use std::path::Path;

use polars::prelude::*;

use super::error::RecordError;

#[derive(Debug, Clone, PartialEq)]
pub struct EvalRow {
    pub step: u64,
    pub split: String,
    pub name: String,
    pub t: Option<u64>,
    pub value: f64,
}

/// `split` of sample-quality rows scoring the model's samples against the training split.
pub const SAMPLES_SPLIT: &str = "samples vs train";
/// `split` of sample-quality rows scoring held-out real images the same way: the yardstick.
pub const YARDSTICK_SPLIT: &str = "test vs train";

pub fn read_eval(path: &Path) -> Result<Vec<EvalRow>, RecordError> {
    let frame = super::parquet::read_frame(path, "eval table")?;
    rows_of_frame(&frame)
        .map_err(|e| RecordError::unreadable(path, format!("not a readable eval table: {e}")))
}

/// The rows of an eval table already read into a frame.
pub fn rows_of_frame(frame: &DataFrame) -> Result<Vec<EvalRow>, PolarsError> {
    let step = frame.column("step")?.u64()?.clone();
    let split = frame.column("split")?.str()?.clone();
    let name = frame.column("name")?.str()?.clone();
    let t = frame.column("t")?.u64()?.clone();
    let value = frame.column("value")?.f64()?.clone();
    Ok((0..frame.height())
        .map(|i| EvalRow {
            step: step.get(i).unwrap_or(0),
            split: split.get(i).unwrap_or("").to_string(),
            name: name.get(i).unwrap_or("").to_string(),
            t: t.get(i),
            value: value.get(i).unwrap_or(f64::NAN),
        })
        .collect())
}

/// Adds `rows` to the eval table at `path`, dropping older rows of the same step and names.
pub fn merge_eval(path: &Path, run_id: &str, rows: &[EvalRow]) -> Result<(), RecordError> {
    let mut all = if path.exists() {
        read_eval(path)?
    } else {
        Vec::new()
    };
    all.retain(|old| {
        !rows
            .iter()
            .any(|new| new.step == old.step && new.name == old.name && new.split == old.split)
    });
    all.extend_from_slice(rows);
    super::parquet::write_frame(path, "eval table", || {
        df!(
            "run_id" => vec![run_id; all.len()],
            "step" => all.iter().map(|r| r.step).collect::<Vec<u64>>(),
            "split" => all.iter().map(|r| r.split.as_str()).collect::<Vec<&str>>(),
            "name" => all.iter().map(|r| r.name.as_str()).collect::<Vec<&str>>(),
            "t" => all.iter().map(|r| r.t).collect::<Vec<Option<u64>>>(),
            "value" => all.iter().map(|r| r.value).collect::<Vec<f64>>(),
        )
    })
}
