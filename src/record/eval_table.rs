//! A run's eval table (`eval.parquet`): evaluation results in long form (run_id, step, split, name, t, value), where
//! `step` is the checkpoint evaluated and `t` is set for per-timestep terms and null for totals.
//! A new evaluation of the same checkpoint, kind, sampler and sample count replaces the old
//! rows; one of another sampler or count is kept beside them.

use std::collections::BTreeMap;
use std::path::Path;

use super::error::RecordError;
use super::parquet::{Column, read_table, write_table};

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

/// The sampler label of a split written (spec::Experiment::samples_split) with another
/// sampler than the run's own: `samples vs train [ddim, 50 steps, η 0]` → `ddim, 50 steps, η 0`.
pub fn other_sampler(split: &str) -> Option<&str> {
    split
        .strip_prefix(SAMPLES_SPLIT)?
        .strip_prefix(" [")?
        .strip_suffix(']')
}

pub fn read_eval(path: &Path) -> Result<Vec<EvalRow>, RecordError> {
    let table = read_table(path, "eval table")?;
    let (step, split, name) = (
        table.u64s("step")?,
        table.strings("split")?,
        table.strings("name")?,
    );
    let (t, value) = (table.opt_u64s("t")?, table.f64s("value")?);
    Ok((0..table.rows())
        .map(|i| EvalRow {
            step: step[i],
            split: split[i].clone(),
            name: name[i].clone(),
            t: t[i],
            value: value[i],
        })
        .collect())
}

/// Each row's sample count, where its evaluation has one (an NLL has none): the value of the
/// `quality_images` row of the same step and split that came last at or before it (a quality
/// evaluation writes it first, run/eval_quality.rs), else the first after it (as files before
/// that order have it). Two evaluations of one checkpoint with one sampler but other counts
/// are different evaluations (FID is biased by the count), and both are kept.
pub fn sample_counts(rows: &[EvalRow]) -> Vec<Option<u64>> {
    let is_count = |r: &EvalRow| r.name == "quality_images";
    let mut last: BTreeMap<(u64, &str), u64> = BTreeMap::new();
    let mut counts = Vec::with_capacity(rows.len());
    for row in rows {
        if is_count(row) {
            last.insert((row.step, row.split.as_str()), row.value as u64);
        }
        counts.push(last.get(&(row.step, row.split.as_str())).copied());
    }
    for (i, row) in rows.iter().enumerate() {
        if counts[i].is_none() {
            let same = |r: &&EvalRow| r.step == row.step && r.split == row.split && is_count(r);
            counts[i] = rows[i..].iter().find(same).map(|r| r.value as u64);
        }
    }
    counts
}

/// Adds `rows` to the eval table at `path`, dropping older rows of the same step, split and
/// name from an evaluation of the same sample count (an NLL has none): a repeat of the same
/// evaluation replaces it; another sampler or count is kept beside it.
pub fn merge_eval(path: &Path, run_id: &str, rows: &[EvalRow]) -> Result<(), RecordError> {
    let mut all = if path.exists() {
        read_eval(path)?
    } else {
        Vec::new()
    };
    let (old_counts, new_counts) = (sample_counts(&all), sample_counts(rows));
    let replaced: Vec<bool> = all
        .iter()
        .zip(&old_counts)
        .map(|(old, old_count)| {
            rows.iter().zip(&new_counts).any(|(new, new_count)| {
                new.step == old.step
                    && new.name == old.name
                    && new.split == old.split
                    && old_count == new_count
            })
        })
        .collect();
    let mut kept = replaced.iter().map(|r| !r);
    all.retain(|_| kept.next().unwrap_or(true));
    all.extend_from_slice(rows);
    let strings = |f: fn(&EvalRow) -> &str| all.iter().map(|r| f(r).to_string()).collect();
    let columns = [
        ("run_id", Column::Str(vec![run_id.to_string(); all.len()])),
        ("step", Column::U64(all.iter().map(|r| r.step).collect())),
        ("split", Column::Str(strings(|r| &r.split))),
        ("name", Column::Str(strings(|r| &r.name))),
        ("t", Column::OptU64(all.iter().map(|r| r.t).collect())),
        ("value", Column::F64(all.iter().map(|r| r.value).collect())),
    ];
    write_table(path, "eval table", &columns)
}
