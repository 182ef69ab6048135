//! `ddpm-exp ablate`: every spec × seed as one cell, run in order, past failures, skipping
//! cells already complete and resuming unfinished ones, then a summary table.

pub mod summary;

use std::path::{Path, PathBuf};

use crate::error::Failure;
use crate::record::atomic::write_atomic;
use crate::record::meta::{Meta, Status};
use crate::run::{resume_run, start_run};
use crate::spec::{Experiment, find_profile, load_spec_with_profile};

/// One spec at one seed.
#[derive(Debug, Clone)]
pub struct Cell {
    pub spec_file: PathBuf,
    pub experiment: Experiment,
}

/// What happened to a cell in this invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum CellAction {
    /// Already complete (ok or diverged) in an earlier invocation.
    Skipped,
    Started,
    Resumed,
    /// Could not run; the reason.
    Failed(String),
}

/// Resolves every spec × seed, so a bad spec stops the ablation before anything runs.
pub fn plan(
    specs: &[PathBuf],
    seeds: &[u64],
    profile: Option<&str>,
    overrides: &[String],
) -> Result<Vec<Cell>, Failure> {
    let mut cells = Vec::new();
    for spec in specs {
        let profile_path = profile.map(|p| find_profile(spec, p)).transpose()?;
        for &seed in seeds {
            let mut set = overrides.to_vec();
            set.push(format!("seed={seed}"));
            let resolved = load_spec_with_profile(spec, profile_path.as_deref(), &set)?;
            cells.push(Cell {
                spec_file: spec.clone(),
                experiment: resolved.experiment,
            });
        }
    }
    Ok(cells)
}

/// The run folder of an earlier attempt at exactly this cell (same resolved spec), if any.
pub fn existing_run(out: &Path, cell: &Experiment) -> Option<PathBuf> {
    let prefix = format!("{}_seed{}_", cell.name, cell.seed);
    let wanted = serde_yaml_ng::to_string(cell).ok()?;
    let mut found: Vec<PathBuf> = std::fs::read_dir(out)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
        })
        .filter(|p| std::fs::read_to_string(p.join("spec.yaml")).is_ok_and(|s| s == wanted))
        .collect();
    found.sort();
    found.pop()
}

/// What an ablation did, for the caller to print.
pub struct AblationReport {
    /// The summary as a Markdown table.
    pub table: String,
    pub summary_path: PathBuf,
    pub any_failed: bool,
}

/// Runs every spec × seed into `out` (default `results/ablate[-PROFILE]`) and writes
/// `summary.md` there. `specs` empty means every experiments/*.yaml but base.yaml.
pub fn run_ablation(
    specs: Vec<PathBuf>,
    seeds: &[u64],
    profile: Option<&str>,
    out: Option<PathBuf>,
    overrides: &[String],
) -> Result<AblationReport, Failure> {
    let specs = if specs.is_empty() {
        default_cells(Path::new("experiments"))?
    } else {
        specs
    };
    let cells = plan(&specs, seeds, profile, overrides)?;
    let out = out.unwrap_or_else(|| match profile {
        Some(p) => PathBuf::from(format!("results/ablate-{p}")),
        None => PathBuf::from("results/ablate"),
    });
    let started = std::time::Instant::now();
    let mut rows = Vec::new();
    for (k, cell) in cells.iter().enumerate() {
        let e = &cell.experiment;
        eprintln!("[{}/{}] {} seed {}", k + 1, cells.len(), e.name, e.seed);
        let (action, run_dir) = run_cell(&out, cell);
        eprintln!(
            "[{}/{}] {} seed {}: {action:?}",
            k + 1,
            cells.len(),
            e.name,
            e.seed
        );
        rows.push(summary::summarise(
            &e.name,
            e.seed,
            &action,
            run_dir.as_deref(),
        ));
        if crate::run::interrupt::requested() {
            eprintln!(
                "interrupted: {} cell(s) not run; `ablate` again resumes where this stopped",
                cells.len() - k - 1
            );
            break;
        }
    }
    let table = summary::markdown(&rows);
    let minutes = started.elapsed().as_secs_f64() / 60.0;
    let text = format!(
        "# Ablation summary\n\nprofile: {}, seeds: {seeds:?}, wall time of this invocation: {minutes:.1} min\n\n{table}",
        profile.unwrap_or("default")
    );
    std::fs::create_dir_all(&out)
        .map_err(|e| Failure::Failed(format!("{}: {e}", out.display())))?;
    let summary_path = out.join("summary.md");
    write_atomic(&summary_path, text.as_bytes())
        .map_err(|e| Failure::Failed(format!("{}: cannot write: {e}", summary_path.display())))?;
    let any_failed = rows.iter().any(|r| r.status.starts_with("failed"));
    Ok(AblationReport {
        table,
        summary_path,
        any_failed,
    })
}

/// Every spec in `dir` but the shared base, in name order.
pub fn default_cells(dir: &Path) -> Result<Vec<PathBuf>, Failure> {
    let mut specs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Failure::BadInput(format!("{}: cannot list specs: {e}", dir.display())))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "yaml") && p.file_stem().is_some_and(|s| s != "base")
        })
        .collect();
    specs.sort();
    Ok(specs)
}

/// Runs one cell: skip when complete, resume when unfinished, start otherwise.
pub fn run_cell(out: &Path, cell: &Cell) -> (CellAction, Option<PathBuf>) {
    if let Some(dir) = existing_run(out, &cell.experiment) {
        match Meta::read(&dir).map(|m| m.status) {
            Ok(Status::Ok | Status::Diverged) => return (CellAction::Skipped, Some(dir)),
            Ok(_) => {
                return match resume_run(&dir) {
                    Ok(_) => (CellAction::Resumed, Some(dir)),
                    Err(e) => (CellAction::Failed(e.to_string()), Some(dir)),
                };
            }
            Err(_) => {} // unreadable: start afresh beside it
        }
    }
    match start_run(&cell.experiment, &cell.spec_file, out) {
        Ok(report) => (CellAction::Started, Some(report.run_dir)),
        Err(e) => (CellAction::Failed(e.to_string()), None),
    }
}
