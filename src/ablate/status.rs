//! `ablate --plan PLAN --status`: every cell's state, read from the run folders alone (no
//! scheduler is asked), so it works the same for a grid on Slurm, on one node, or in progress.

use std::path::PathBuf;

use super::existing_run;
use super::plan::WrittenPlan;
use crate::error::Failure;

/// One cell's line of the status table.
#[derive(Debug, Clone, PartialEq)]
pub struct CellStatus {
    pub index: usize,
    pub name: String,
    pub seed: u64,
    /// `pending` (no run folder yet), `running`, `interrupted`, `ok`, `diverged at step N`,
    /// `failed`.
    pub state: String,
    pub steps_done: u64,
    pub steps_total: u64,
    pub run_dir: Option<PathBuf>,
}

pub fn grid_status(plan: &WrittenPlan) -> Result<Vec<CellStatus>, Failure> {
    let mut out = Vec::new();
    for planned in &plan.plan.cells {
        let cell = plan.cell(planned.index)?;
        let e = &cell.experiment;
        let mut status = CellStatus {
            index: planned.index,
            name: e.name.clone(),
            seed: e.seed,
            state: "pending".into(),
            steps_done: 0,
            steps_total: e.train.steps,
            run_dir: None,
        };
        if let Some(folder) = existing_run(&plan.plan.out, e) {
            status.state = match folder.current_meta() {
                Ok(meta) => {
                    status.steps_done = meta.steps_done;
                    meta.status.describe(meta.diverged_at_step)
                }
                Err(e) => format!("unreadable: {e}"),
            };
            status.run_dir = Some(folder.dir().to_path_buf());
        }
        out.push(status);
    }
    Ok(out)
}

/// The table `--status` prints, with a count of each state under it.
pub fn status_table(rows: &[CellStatus]) -> String {
    let mut text =
        String::from("| # | cell | seed | state | steps | run |\n|---:|---|---:|---|---:|---|\n");
    for r in rows {
        let run = r
            .run_dir
            .as_ref()
            .map_or("–".into(), |d| d.display().to_string());
        text += &format!(
            "| {} | {} | {} | {} | {}/{} | {run} |\n",
            r.index, r.name, r.seed, r.state, r.steps_done, r.steps_total
        );
    }
    let mut counts: Vec<(String, usize)> = Vec::new();
    for r in rows {
        let state = r.state.split(" at step").next().unwrap_or("").to_string();
        match counts.iter_mut().find(|(s, _)| *s == state) {
            Some((_, n)) => *n += 1,
            None => counts.push((state, 1)),
        }
    }
    let counts: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
    text + &format!("\n{} cells: {}\n", rows.len(), counts.join(", "))
}
