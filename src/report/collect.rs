//! Finding run folders under the report's inputs and reading their records. A folder whose
//! records cannot be read is kept aside as broken, with the reason, so the report can name it
//! and go on with the others.

use std::path::{Path, PathBuf};

use super::ReportError;
use crate::record::eval_table::EvalRow;
use crate::record::meta::Meta;
use crate::record::{MetricRow, RunFolder};
use crate::spec::{Experiment, load_resolved};

/// How deep below an input folder run folders are looked for (results/ablate-x/run = 2).
const MAX_DEPTH: usize = 3;

/// One run's records, as read from its folder.
pub struct RunRecord {
    pub dir: PathBuf,
    pub run_id: String,
    pub meta: Meta,
    pub spec: Experiment,
    /// The metric rows; none when the run wrote no table yet.
    pub metrics: Vec<MetricRow>,
    /// The eval table's rows, if the run was evaluated.
    pub eval: Option<Vec<EvalRow>>,
}

impl RunRecord {
    /// The ablation cell the run belongs to: its experiment name.
    pub fn cell(&self) -> &str {
        &self.spec.name
    }
}

/// A folder that looked like a run but whose records could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokenRun {
    pub dir: PathBuf,
    pub reason: String,
}

/// Every run folder under `inputs` (each a run folder or a folder of them), read; sorted by
/// cell, then seed, then run id. An input that does not exist is bad input.
pub fn collect_runs(inputs: &[PathBuf]) -> Result<(Vec<RunRecord>, Vec<BrokenRun>), ReportError> {
    let mut dirs = Vec::new();
    for input in inputs {
        if !input.is_dir() {
            return Err(ReportError::NoRuns(format!(
                "{}: no such results or run folder",
                input.display()
            )));
        }
        find_run_dirs(input, 0, &mut dirs);
    }
    dirs.sort();
    dirs.dedup();
    let mut runs = Vec::new();
    let mut broken = Vec::new();
    for dir in dirs {
        match read_run(&dir) {
            Ok(run) => runs.push(run),
            Err(e) => broken.push(BrokenRun {
                dir,
                reason: e.to_string(),
            }),
        }
    }
    runs.sort_by(|a, b| {
        (a.cell(), a.meta.seed, &a.run_id).cmp(&(b.cell(), b.meta.seed, &b.run_id))
    });
    Ok((runs, broken))
}

fn find_run_dirs(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) {
    if RunFolder::looks_like_run(dir) {
        found.push(dir.to_path_buf());
        return;
    }
    if depth >= MAX_DEPTH {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            find_run_dirs(&path, depth + 1, found);
        }
    }
}

/// Reads one run folder; the error names the file that is missing or unreadable.
pub fn read_run(dir: &Path) -> Result<RunRecord, ReportError> {
    let folder = RunFolder::at(dir);
    let meta = folder.current_meta()?;
    let spec = load_resolved(&folder.spec_path())?;
    let metrics = if folder.metrics_path().exists() {
        folder.read_metrics()?
    } else {
        Vec::new()
    };
    let eval = folder.read_eval()?;
    Ok(RunRecord {
        dir: dir.to_path_buf(),
        run_id: meta.run_id.clone(),
        meta,
        spec,
        metrics,
        eval,
    })
}
