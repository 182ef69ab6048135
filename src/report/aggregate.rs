//! Numbers the report shows, computed from the runs' metric and eval rows: per-run values
//! (final loss, test NLL, sample-quality scores), their mean ± std per ablation cell, per-step
//! traces of a metric across a cell's seeds, and per-t eval terms.

use std::collections::BTreeMap;

use super::collect::RunRecord;
use super::paper_rows::PaperRow;
use crate::record::best_fid::best_fids;
use crate::record::eval_table::{EvalRow, YARDSTICK_SPLIT, other_sampler};
use crate::record::meta::Status;
use crate::spec::Experiment;

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
const NOT_A_SCORE: [&str; 4] = [
    "prior_bpd",
    "nll_images",
    "quality_images",
    "sampling_seconds",
];
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
    /// The row of the paper's Table 2 the run's objective fills, if any.
    pub paper_row: Option<PaperRow>,
    /// How its sample-quality scores were drawn, for the table's note: "256 samples, ancestral,
    /// 1000 steps; in training every 500 steps: ddim, 50 steps, η 0".
    pub scoring: String,
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

/// Mean of the logged training loss over the last `FINAL_LOSS_FRACTION` of the steps done.
fn final_loss(run: &RunRecord) -> Option<f64> {
    let first_step = (run.meta.steps_done as f64 * (1.0 - FINAL_LOSS_FRACTION)).floor() as u64;
    let losses = run
        .metrics
        .iter()
        .filter(|r| r.split == "train" && r.name == "loss" && r.step > first_step)
        .map(|r| r.value);
    mean(losses).filter(|v| v.is_finite())
}

/// The mean of `values`, or `None` for none.
fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(sum, n), v| (sum + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// Totals of the newest evaluated checkpoint (rows with no t), by name: scores, and what
/// describes the evaluation (prior_bpd, nll_images). The held-out yardstick's rows are left
/// out, and so are samples drawn with another sampler than the run's own (in training, or
/// by `eval --quality --sampler`); of equal steps, the row written last wins.
pub fn newest_totals(eval: &[EvalRow]) -> BTreeMap<String, f64> {
    let mut newest: BTreeMap<String, (u64, f64)> = BTreeMap::new();
    let counted = |r: &&EvalRow| {
        r.t.is_none() && r.split != YARDSTICK_SPLIT && other_sampler(&r.split).is_none()
    };
    for row in eval.iter().filter(counted) {
        let entry = newest
            .entry(row.name.clone())
            .or_insert((row.step, row.value));
        if row.step >= entry.0 {
            *entry = (row.step, row.value);
        }
    }
    newest.into_iter().map(|(name, (_, v))| (name, v)).collect()
}

/// The table's numbers for one run. Only a run that ended ok has them: a diverged or
/// unfinished run's numbers would compare unlike with like.
pub fn run_values(run: &RunRecord) -> RunValues {
    let mut values = BTreeMap::new();
    let mut scored_images = None;
    if run.meta.status == Status::Ok {
        if let Some(loss) = final_loss(run) {
            values.insert(FINAL_LOSS.to_string(), loss);
        }
        if let Some(eval) = &run.eval {
            let totals = newest_totals(eval);
            scored_images = totals.get("quality_images").map(|&n| n as usize);
            values.extend(totals.into_iter().filter(|(name, _)| is_score(name)));
            // The paper's way: the lowest FID of the evaluations made during training.
            let split = run.spec.in_training_split();
            for best in best_fids(eval, run.spec.eval.quality_samples, &split) {
                let net = &best.network;
                values.insert(format!("{BEST_FID} ({net})"), best.fid);
                values.insert(format!("{BEST_FID_STEP} ({net})"), best.step as f64);
            }
        }
    }
    let d = &run.spec.diffusion;
    RunValues {
        // A weighted MSE is none of the paper's rows (its L_simple is unweighted).
        paper_row: PaperRow::of(d.mean, d.variance, d.loss)
            .filter(|_| d.weighting.weighting().is_uniform()),
        scoring: scoring(&run.spec, scored_images),
        cell: run.cell().to_string(),
        run_id: run.run_id.clone(),
        seed: run.meta.seed,
        status: run.meta.status,
        diverged_at_step: run.meta.diverged_at_step,
        steps_done: run.meta.steps_done,
        values,
    }
}

/// How a run of `spec` drew the `images` samples its newest scores come from (see
/// [`RunValues::scoring`]).
fn scoring(spec: &Experiment, images: Option<usize>) -> String {
    let e = &spec.eval;
    let images = images.unwrap_or(e.quality_samples);
    let mut text = format!("{images} samples, {}", spec.sampler_label());
    if e.quality_every > 0 {
        let during = spec.in_training_sampling().sampler_label();
        text += &format!("; in training every {} steps: {during}", e.quality_every);
    }
    text
}

/// Mean ± sample std of `values` (std only for two or more).
pub fn stat(values: &[f64]) -> Stat {
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n as f64;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0);
    let std = Some(var.sqrt()).filter(|s| n > 1 && s.is_finite());
    Stat { mean, std, n }
}

/// Groups runs by cell (in name order) and aggregates each column over the cell's runs.
pub fn cell_rows(runs: &[RunValues]) -> Vec<CellRow> {
    let mut rows: BTreeMap<String, (CellRow, BTreeMap<String, Vec<f64>>)> = BTreeMap::new();
    for run in runs {
        let (row, columns) = rows.entry(run.cell.clone()).or_insert_with(|| {
            let row = CellRow {
                cell: run.cell.clone(),
                runs: Vec::new(),
                stats: BTreeMap::new(),
            };
            (row, BTreeMap::new())
        });
        row.runs.push(run.clone());
        for (key, value) in &run.values {
            columns.entry(key.clone()).or_default().push(*value);
        }
    }
    rows.into_values()
        .map(|(mut row, columns)| {
            row.stats = columns.iter().map(|(k, v)| (k.clone(), stat(v))).collect();
            row
        })
        .collect()
}

/// A metric's per-step mean, min and max across runs (seeds) of one cell.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Band {
    pub steps: Vec<f64>,
    pub mean: Vec<f64>,
    pub min: Vec<f64>,
    pub max: Vec<f64>,
}

/// `name` (split train) across `runs`, aggregated per step; non-finite values (a diverging
/// run's last steps) are left out.
pub fn metric_band(runs: &[&RunRecord], name: &str) -> Band {
    let mut by_step: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
    let rows = runs.iter().flat_map(|r| r.metrics.iter());
    for row in rows.filter(|r| r.split == "train" && r.name == name && r.value.is_finite()) {
        by_step.entry(row.step).or_default().push(row.value);
    }
    let mut band = Band::default();
    for (step, values) in by_step {
        band.steps.push(step as f64);
        band.mean
            .push(values.iter().sum::<f64>() / values.len() as f64);
        band.min
            .push(values.iter().copied().fold(f64::INFINITY, f64::min));
        band.max
            .push(values.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    }
    band
}

/// Per-t eval terms of a run's newest evaluated checkpoint: t → value, for `name`.
pub fn per_t_terms(eval: &[EvalRow], name: &str) -> BTreeMap<u64, f64> {
    let terms = || eval.iter().filter(|r| r.name == name && r.t.is_some());
    let Some(newest) = terms().map(|r| r.step).max() else {
        return BTreeMap::new();
    };
    terms()
        .filter(|r| r.step == newest)
        .filter_map(|r| Some((r.t?, r.value)))
        .collect()
}
