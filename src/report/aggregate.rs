//! Numbers the report shows, computed from the runs' Parquet tables with polars: per-run
//! values (final loss, test NLL, sample-quality scores), their mean ± std per ablation cell,
//! per-step traces of a metric across a cell's seeds, and per-t eval terms.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::collect::RunRecord;
use crate::record::best_fid::best_fids;
use crate::record::eval_table::{YARDSTICK_SPLIT, rows_of_frame};
use crate::record::meta::Status;

/// The fraction of a run's last steps whose logged loss is averaged into "final loss"
/// (one batch's loss is too noisy to compare cells by).
pub const FINAL_LOSS_FRACTION: f64 = 0.1;

/// Column keys of the comparison table, in order; sample-quality keys follow these.
pub const FINAL_LOSS: &str = "final_loss";
pub const TEST_NLL: &str = "nll_bpd";
/// Prefixes of the columns of the lowest FID seen in training and its checkpoint's step
/// (followed by the network: "best_fid (digits-classifier)").
pub const BEST_FID: &str = "best_fid";
pub const BEST_FID_STEP: &str = "best_fid_step";

/// Eval totals that are not scores to compare (they describe the evaluation itself).
const NOT_A_SCORE: [&str; 3] = ["prior_bpd", "nll_images", "quality_images"];
/// Eval rows that describe a score rather than being one: its spread over IS splits and KID
/// subsets, and the feature network's accuracy (names carry the network: "kid_std (…)").
const DESCRIBES_A_SCORE: [&str; 3] = ["is_std (", "kid_std (", "accuracy ("];

fn is_score(name: &str) -> bool {
    !NOT_A_SCORE.contains(&name) && !DESCRIBES_A_SCORE.iter().any(|p| name.starts_with(p))
}

/// What one run contributes to the table.
#[derive(Debug, Clone, PartialEq)]
pub struct RunValues {
    pub cell: String,
    pub run_id: String,
    pub seed: u64,
    pub status: Status,
    pub diverged_at_step: Option<u64>,
    pub steps_done: u64,
    /// Keyed by column: final_loss, nll_bpd, then any sample-quality score.
    pub values: BTreeMap<String, f64>,
}

/// Mean ± sample std (n − 1) of one column over a cell's finished runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stat {
    pub mean: f64,
    /// None with a single run.
    pub std: Option<f64>,
    pub n: usize,
}

/// One row of the comparison table.
#[derive(Debug, Clone, PartialEq)]
pub struct CellRow {
    pub cell: String,
    pub runs: Vec<RunValues>,
    pub stats: BTreeMap<String, Stat>,
}

impl CellRow {
    /// "ok", "diverged at step N", or a count of each ending when the seeds differ.
    pub fn status(&self) -> String {
        let describe = |r: &RunValues| r.status.describe(r.diverged_at_step);
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for r in &self.runs {
            *counts.entry(describe(r)).or_default() += 1;
        }
        if counts.len() == 1 {
            return counts.into_keys().next().unwrap_or_default();
        }
        counts
            .iter()
            .map(|(what, n)| format!("{n}× {what}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn polars_err(e: PolarsError) -> String {
    format!("aggregating the records: {e}")
}

/// Mean of the logged training loss over the last `FINAL_LOSS_FRACTION` of the steps done.
fn final_loss(run: &RunRecord) -> Result<Option<f64>, PolarsError> {
    let first_step = (run.meta.steps_done as f64 * (1.0 - FINAL_LOSS_FRACTION)).floor() as u64;
    let out = run
        .metrics
        .clone()
        .lazy()
        .filter(
            col("split")
                .eq(lit("train"))
                .and(col("name").eq(lit("loss")))
                .and(col("step").gt(lit(first_step))),
        )
        .select([col("value").mean()])
        .collect()?;
    Ok(out.column("value")?.f64()?.get(0).filter(|v| v.is_finite()))
}

/// Totals of the newest evaluated checkpoint (rows with no t), by name: scores, and what
/// describes the evaluation (prior_bpd, nll_images).
pub fn newest_totals(eval: &DataFrame) -> Result<BTreeMap<String, f64>, String> {
    newest_totals_polars(eval).map_err(polars_err)
}

fn newest_totals_polars(eval: &DataFrame) -> Result<BTreeMap<String, f64>, PolarsError> {
    let out = eval
        .clone()
        .lazy()
        .filter(
            col("t")
                .is_null()
                .and(col("split").neq(lit(YARDSTICK_SPLIT))),
        )
        .sort(["step"], SortMultipleOptions::default())
        .group_by([col("name")])
        .agg([col("value").last()])
        .collect()?;
    let names = out.column("name")?.str()?.clone();
    let values = out.column("value")?.f64()?.clone();
    Ok(names
        .iter()
        .zip(values.iter())
        .filter_map(|(n, v)| Some((n?.to_string(), v?)))
        .collect())
}

/// The table's numbers for one run. Only a run that ended ok has them: a diverged or
/// unfinished run's numbers would compare unlike with like.
pub fn run_values(run: &RunRecord) -> Result<RunValues, String> {
    let mut values = BTreeMap::new();
    if run.meta.status == Status::Ok {
        if let Some(loss) = final_loss(run).map_err(polars_err)? {
            values.insert(FINAL_LOSS.to_string(), loss);
        }
        if let Some(eval) = &run.eval {
            let scores = newest_totals(eval)?
                .into_iter()
                .filter(|(name, _)| is_score(name));
            values.extend(scores);
            // The paper's way: the lowest FID of the evaluations made during training.
            let rows = rows_of_frame(eval).map_err(polars_err)?;
            for best in best_fids(&rows, run.spec.eval.quality_samples) {
                let net = &best.network;
                values.insert(format!("{BEST_FID} ({net})"), best.fid);
                values.insert(format!("{BEST_FID_STEP} ({net})"), best.step as f64);
            }
        }
    }
    Ok(RunValues {
        cell: run.cell().to_string(),
        run_id: run.run_id.clone(),
        seed: run.meta.seed,
        status: run.meta.status,
        diverged_at_step: run.meta.diverged_at_step,
        steps_done: run.meta.steps_done,
        values,
    })
}

/// Groups runs by cell and aggregates each column over the cell's runs with polars.
pub fn cell_rows(runs: &[RunValues]) -> Result<Vec<CellRow>, String> {
    let (mut cells, mut keys, mut values) = (Vec::new(), Vec::new(), Vec::new());
    for run in runs {
        for (key, value) in &run.values {
            cells.push(run.cell.as_str());
            keys.push(key.as_str());
            values.push(*value);
        }
    }
    let long = df!("cell" => cells, "key" => keys, "value" => values).map_err(polars_err)?;
    let stats = long
        .lazy()
        .group_by([col("cell"), col("key")])
        .agg([
            col("value").mean().alias("mean"),
            col("value").std(1).alias("std"),
            col("value").count().alias("n"),
        ])
        .collect()
        .map_err(polars_err)?;
    let column = |name: &str| stats.column(name).map_err(polars_err);
    let cell_col = column("cell")?.str().map_err(polars_err)?.clone();
    let key_col = column("key")?.str().map_err(polars_err)?.clone();
    let mean_col = column("mean")?.f64().map_err(polars_err)?.clone();
    let std_col = column("std")?.f64().map_err(polars_err)?.clone();
    let n_col = column("n")?
        .cast(&DataType::UInt64)
        .map_err(polars_err)?
        .u64()
        .map_err(polars_err)?
        .clone();

    let mut rows: BTreeMap<String, CellRow> = BTreeMap::new();
    for run in runs {
        rows.entry(run.cell.clone())
            .or_insert_with(|| CellRow {
                cell: run.cell.clone(),
                runs: Vec::new(),
                stats: BTreeMap::new(),
            })
            .runs
            .push(run.clone());
    }
    for i in 0..stats.height() {
        let (Some(cell), Some(key), Some(mean)) =
            (cell_col.get(i), key_col.get(i), mean_col.get(i))
        else {
            continue;
        };
        let n = n_col.get(i).unwrap_or(0) as usize;
        let std = std_col.get(i).filter(|s| n > 1 && s.is_finite());
        if let Some(row) = rows.get_mut(cell) {
            row.stats.insert(key.to_string(), Stat { mean, std, n });
        }
    }
    Ok(rows.into_values().collect())
}

/// A metric's per-step mean, min and max across runs (seeds) of one cell.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Band {
    pub steps: Vec<f64>,
    pub mean: Vec<f64>,
    pub min: Vec<f64>,
    pub max: Vec<f64>,
}

/// `name` (split train) across `runs`, aggregated per step with polars; non-finite
/// values (a diverging run's last steps) are left out.
pub fn metric_band(runs: &[&RunRecord], name: &str) -> Result<Band, String> {
    let frames: Vec<LazyFrame> = runs
        .iter()
        .map(|r| {
            r.metrics
                .clone()
                .lazy()
                .select([col("step"), col("split"), col("name"), col("value")])
        })
        .collect();
    if frames.is_empty() {
        return Ok(Band::default());
    }
    let out = concat(frames, UnionArgs::default())
        .and_then(|all| {
            all.filter(
                col("split")
                    .eq(lit("train"))
                    .and(col("name").eq(lit(name)))
                    .and(col("value").is_finite()),
            )
            .group_by([col("step")])
            .agg([
                col("value").mean().alias("mean"),
                col("value").min().alias("min"),
                col("value").max().alias("max"),
            ])
            .sort(["step"], SortMultipleOptions::default())
            .collect()
        })
        .map_err(polars_err)?;
    let get = |c: &str| -> Result<Vec<f64>, String> {
        let column = out
            .column(c)
            .and_then(|s| s.cast(&DataType::Float64))
            .map_err(polars_err)?;
        Ok(column
            .f64()
            .map_err(polars_err)?
            .iter()
            .map(|v| v.unwrap_or(f64::NAN))
            .collect())
    };
    Ok(Band {
        steps: get("step")?,
        mean: get("mean")?,
        min: get("min")?,
        max: get("max")?,
    })
}

/// Per-t eval terms of a run's newest evaluated checkpoint: t → value, for `name`.
pub fn per_t_terms(eval: &DataFrame, name: &str) -> Result<BTreeMap<u64, f64>, String> {
    let newest = eval
        .clone()
        .lazy()
        .filter(col("name").eq(lit(name)).and(col("t").is_not_null()))
        .select([col("step").max()])
        .collect()
        .map_err(polars_err)?;
    let Some(step) = newest
        .column("step")
        .and_then(|c| c.u64().cloned())
        .map_err(polars_err)?
        .get(0)
    else {
        return Ok(BTreeMap::new());
    };
    let rows = eval
        .clone()
        .lazy()
        .filter(
            col("name")
                .eq(lit(name))
                .and(col("step").eq(lit(step)))
                .and(col("t").is_not_null()),
        )
        .select([col("t"), col("value")])
        .collect()
        .map_err(polars_err)?;
    let t = rows
        .column("t")
        .and_then(|c| c.u64().cloned())
        .map_err(polars_err)?;
    let v = rows
        .column("value")
        .and_then(|c| c.f64().cloned())
        .map_err(polars_err)?;
    Ok(t.iter()
        .zip(v.iter())
        .filter_map(|(t, v)| Some((t?, v?)))
        .collect())
}
