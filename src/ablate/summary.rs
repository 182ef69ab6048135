//! The ablation's summary: one row per cell, read back from the run folders' records.

use std::path::{Path, PathBuf};

use super::{Cell, CellAction};
use crate::record::RunFolder;
use crate::report::aggregate::{cell_rows, run_values};
use crate::report::collect::collect_runs;
use crate::report::table2;

#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    pub cell: String,
    pub seed: u64,
    /// (key, value as given) of each swept key; empty outside a sweep.
    pub swept: Vec<(String, String)>,
    /// `ok`, `diverged at step N`, `failed: …`, `running`, `interrupted` or `pending`.
    pub status: String,
    pub final_loss: Option<f64>,
    pub test_nll_bpd: Option<f64>,
    pub steps_per_second: Option<f64>,
    pub run_dir: Option<PathBuf>,
}

/// Reads a cell's row from its run folder.
pub fn summarise(cell: &Cell, action: &CellAction, run_dir: Option<&Path>) -> SummaryRow {
    let mut row = SummaryRow {
        cell: cell.experiment.name.clone(),
        seed: cell.experiment.seed,
        swept: cell.swept.clone(),
        status: String::new(),
        final_loss: None,
        test_nll_bpd: None,
        steps_per_second: None,
        run_dir: run_dir.map(Path::to_path_buf),
    };
    let folder = run_dir.map(RunFolder::at);
    let meta = folder.as_ref().and_then(|f| f.current_meta().ok());
    row.status = match (&meta, action) {
        (_, CellAction::Failed(why)) => format!("failed: {why}"),
        (Some(m), _) => m.status.describe(m.diverged_at_step),
        // A planned cell no task has started yet (ablate --plan … --summary).
        (None, _) if run_dir.is_none() => "pending".into(),
        (None, _) => "no record".into(),
    };
    let Some(folder) = folder else { return row };
    if let Some(m) = &meta {
        row.steps_per_second = m.steps_per_second;
        // The last step's loss (always logged), or a diverged run's last finite one, as the
        // paper's "–" cells keep theirs.
        row.final_loss = m.last_finite_loss;
    }
    if let Ok(Some(evals)) = folder.read_eval() {
        row.test_nll_bpd = evals
            .iter()
            .filter(|r| r.name == "nll_bpd")
            .max_by_key(|r| r.step)
            .map(|r| r.value);
    }
    row
}

/// The cells' runs as the paper's Table 2 (report::table2), read from their folders; a
/// folder that cannot be read is left out of it (the runs table below names its status).
pub fn paper_table(rows: &[SummaryRow]) -> String {
    let dirs: Vec<PathBuf> = rows.iter().filter_map(|r| r.run_dir.clone()).collect();
    let runs = match collect_runs(&dirs) {
        Ok((runs, _broken)) => runs,
        Err(e) => return format!("(no table: {e})\n"),
    };
    let values: Vec<_> = runs.iter().map(run_values).collect();
    table2::markdown(&cell_rows(&values))
}

fn number(v: Option<f64>, digits: usize) -> String {
    v.map_or("–".to_string(), |x| format!("{x:.digits$}"))
}

/// The rows as a Markdown table; a cell that did not finish shows "–" for its numbers.
pub fn markdown(rows: &[SummaryRow]) -> String {
    let mut out = String::from(
        "| cell | seed | status | final train loss | test NLL (bits/dim) | steps/s | run |\n|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let finished = r.status == "ok";
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            r.cell,
            r.seed,
            r.status.replace('|', "/"),
            number(r.final_loss, 4),
            if finished {
                number(r.test_nll_bpd, 3)
            } else {
                "–".into()
            },
            number(r.steps_per_second, 2),
            r.run_dir.as_ref().map_or(String::new(), |d| d
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()),
        ));
    }
    out
}
