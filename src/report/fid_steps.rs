//! FID against the number of sampling steps, per cell and sampler, from the evaluations in the
//! runs' eval tables at their final checkpoint: the run's own sampler, the in-training one,
//! and any `eval --quality --sampler … --steps …`. Of a run's evaluations, only those with the
//! sample count most of them used (FID is biased by the count); a cell's seeds are averaged.

use std::collections::BTreeMap;

use super::collect::RunRecord;
use crate::record::eval_table::{SAMPLES_SPLIT, other_sampler};

/// One (steps, FID) point, with the seconds drawing the samples took where recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct StepsPoint {
    pub steps: usize,
    pub fid: f64,
    pub seconds: Option<f64>,
}

/// A cell's FIDs with one sampler, steps increasing.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplerFids {
    pub cell: String,
    /// "ancestral" or "ddim, η 0".
    pub sampler: String,
    pub points: Vec<StepsPoint>,
}

/// "ddim, 50 steps, η 0" → ("ddim, η 0", 50); "ancestral, 10 steps" → ("ancestral", 10);
/// what follows the steps (η, clipping) stays in the sampler's name.
pub fn parse_label(label: &str) -> Option<(String, usize)> {
    let mut parts = label.split(", ");
    let kind = parts.next()?;
    let steps = parts.next()?.strip_suffix(" steps")?.parse().ok()?;
    let sampler = std::iter::once(kind)
        .chain(parts)
        .collect::<Vec<_>>()
        .join(", ");
    Some((sampler, steps))
}

/// The network FID is shown for: Inception-v3 where any run has it, else the first scored.
pub fn fid_network(runs: &[RunRecord]) -> Option<String> {
    let mut nets: Vec<String> = runs
        .iter()
        .flat_map(|r| r.eval.iter().flatten())
        .filter_map(|r| r.name.strip_prefix("fid (")?.strip_suffix(')'))
        .map(str::to_string)
        .collect();
    nets.sort();
    nets.dedup();
    let inception = nets.iter().find(|n| n.as_str() == "inception-v3").cloned();
    inception.or_else(|| nets.into_iter().next())
}

/// (sampler, steps) → (FID, seconds) of one run's final checkpoint through `net`.
fn run_points(run: &RunRecord, net: &str) -> BTreeMap<(String, usize), (f64, Option<f64>)> {
    let Some(eval) = &run.eval else {
        return BTreeMap::new();
    };
    let step = run.meta.steps_done;
    let at = |split: &str, name: &str| {
        let row = eval
            .iter()
            .rev()
            .find(|r| r.step == step && r.t.is_none() && r.split == split && r.name == name);
        row.map(|r| r.value)
    };
    let mut splits: Vec<&str> = eval.iter().map(|r| r.split.as_str()).collect();
    splits.sort();
    splits.dedup();
    let splits: Vec<&str> = splits
        .into_iter()
        .filter(|s| *s == SAMPLES_SPLIT || other_sampler(s).is_some())
        .collect();
    let Some(count) = most_common_count(&splits, |s| at(s, "quality_images")) else {
        return BTreeMap::new();
    };
    let own = run.spec.sampler_label();
    let mut points = BTreeMap::new();
    for split in splits {
        let label = match other_sampler(split) {
            Some(label) => label,
            None if split == SAMPLES_SPLIT => own.as_str(),
            None => continue,
        };
        let (Some(key), Some(fid)) = (parse_label(label), at(split, &format!("fid ({net})")))
        else {
            continue;
        };
        if at(split, "quality_images") == Some(count) && fid.is_finite() {
            points.insert(key, (fid, at(split, "sampling_seconds")));
        }
    }
    points
}

/// The sample count most of `splits` were scored with (the larger of a tie): a sweep's,
/// whichever count it used.
fn most_common_count(splits: &[&str], images: impl Fn(&str) -> Option<f64>) -> Option<f64> {
    let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
    for split in splits {
        if let Some(n) = images(split) {
            *counts.entry(n as u64).or_default() += 1;
        }
    }
    let best = counts.into_iter().max_by_key(|&(n, times)| (times, n))?;
    Some(best.0 as f64)
}

/// Every cell's FIDs by sampler and steps, averaged over its runs that ended ok.
pub fn fid_by_steps(runs: &[RunRecord], net: &str) -> Vec<SamplerFids> {
    type Sums = (f64, f64, usize, usize);
    let mut sums: BTreeMap<(String, String, usize), Sums> = BTreeMap::new();
    let finished = runs
        .iter()
        .filter(|r| r.meta.status == crate::record::meta::Status::Ok);
    for run in finished {
        for ((sampler, steps), (fid, seconds)) in run_points(run, net) {
            let key = (run.cell().to_string(), sampler, steps);
            let entry = sums.entry(key).or_insert((0.0, 0.0, 0, 0));
            entry.0 += fid;
            entry.2 += 1;
            if let Some(s) = seconds {
                entry.1 += s;
                entry.3 += 1;
            }
        }
    }
    let mut out: Vec<SamplerFids> = Vec::new();
    for ((cell, sampler, steps), (fid, secs, n, n_secs)) in sums {
        let point = StepsPoint {
            steps,
            fid: fid / n as f64,
            seconds: (n_secs > 0).then(|| secs / n_secs as f64),
        };
        match out.last_mut() {
            Some(s) if s.cell == cell && s.sampler == sampler => s.points.push(point),
            _ => out.push(SamplerFids {
                cell,
                sampler,
                points: vec![point],
            }),
        }
    }
    out
}

/// The FIDs as a Markdown table: one row per cell and sampler, one column per step count,
/// each "FID (seconds)".
pub fn markdown(series: &[SamplerFids]) -> String {
    let mut steps: Vec<usize> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.steps))
        .collect();
    steps.sort();
    steps.dedup();
    let mut out = String::from("| cell | sampler |");
    for k in &steps {
        out.push_str(&format!(" {k} steps |"));
    }
    out.push_str(&format!("\n|---|---|{}\n", "---|".repeat(steps.len())));
    for s in series {
        out.push_str(&format!("| {} | {} |", s.cell, s.sampler));
        for k in &steps {
            let entry = s
                .points
                .iter()
                .find(|p| p.steps == *k)
                .map_or("–".into(), |p| match p.seconds {
                    Some(secs) => format!("{:.2} ({secs:.0} s)", p.fid),
                    None => format!("{:.2}", p.fid),
                });
            out.push_str(&format!(" {entry} |"));
        }
        out.push('\n');
    }
    out
}
