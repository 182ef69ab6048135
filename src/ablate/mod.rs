//! `ddpm-exp ablate`: every spec × seed as one cell, run in order, past failures, skipping
//! cells already complete and resuming unfinished ones, then a summary table. How one cell is
//! trained is the caller's [`CellTrainer`] (the binary passes the in-process trainer), so the
//! grid's bookkeeping stays apart from training.

pub mod grid;
pub mod parallel;
pub mod plan;
pub mod slurm;
pub mod status;
pub mod summary;
pub mod sweep_table;

use std::path::{Path, PathBuf};

use crate::error::Failure;
use crate::record::atomic::write_atomic;
use crate::record::meta::Status;
use crate::record::{RecordError, RunFolder};
use crate::spec::sweep::Sweep;
use crate::spec::{Experiment, Overrides, load_resolved};
use crate::tracking::hparams::{Session, write_hparams};
pub use grid::GridRequest;

/// Trains one cell: a new run under a results folder, or the continuation of an unfinished one.
pub trait CellTrainer {
    /// Starts `cell` in a new run folder under `out` and returns that folder.
    fn start(&self, cell: &Cell, out: &Path) -> Result<PathBuf, Failure>;
    /// Continues the run in `run_dir` from its newest checkpoint.
    fn resume(&self, run_dir: &Path) -> Result<(), Failure>;
}

/// One spec at one seed.
#[derive(Debug, Clone)]
pub struct Cell {
    pub spec_file: PathBuf,
    pub experiment: Experiment,
    /// (key, value as given) of each swept key, sorted by key; empty outside a sweep.
    pub swept: Vec<(String, String)>,
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

/// Resolves every spec × sweep point × seed, so a bad spec or value stops the ablation
/// before anything runs, with every problem in one message.
pub fn plan(request: &GridRequest<'_>) -> Result<Vec<Cell>, Failure> {
    Ok(grid::expand(request)?)
}

/// The run folder of the newest earlier attempt at exactly this cell (same resolved spec).
/// Specs are compared as read, not as text: a run recorded by an earlier version may spell a
/// value differently (`device: cuda` where this version writes `cuda:0`).
pub fn existing_run(out: &Path, cell: &Experiment) -> Option<RunFolder> {
    RunFolder::attempts(out, &cell.name, cell.seed)
        .into_iter()
        .rfind(|folder| load_resolved(&folder.spec_path()).is_ok_and(|spec| &spec == cell))
}

/// What an ablation did, for the caller to print.
pub struct AblationReport {
    /// The summary as a Markdown table.
    pub table: String,
    pub summary_path: PathBuf,
    pub any_failed: bool,
    /// Ctrl-C / SIGTERM stopped the grid before every cell ran.
    pub interrupted: bool,
}

/// What `ablate` was asked to run.
pub struct AblationRequest<'a> {
    /// Spec or sweep files; empty means every experiments/*.yaml but base.yaml.
    pub specs: Vec<PathBuf>,
    /// None: each sweep file's `seeds:`, else seed 0.
    pub seeds: Option<&'a [u64]>,
    pub profile: Option<&'a str>,
    /// Default `results/ablate[-PROFILE]`; for one sweep file NAME.yaml,
    /// `results/sweep-NAME[-PROFILE]`.
    pub out: Option<PathBuf>,
    pub overrides: &'a Overrides,
    /// The command line's `--sweep` / `--zip` axes, over every spec.
    pub sweep: &'a Sweep,
}

/// Every cell of `request`, resolved (a bad spec stops here), and the ablation folder.
pub fn resolve(request: AblationRequest<'_>) -> Result<(Vec<Cell>, PathBuf), Failure> {
    let AblationRequest {
        specs,
        seeds,
        profile,
        out,
        overrides,
        sweep,
    } = request;
    let specs = match specs.is_empty() {
        true => default_cells(Path::new("experiments"))?,
        false => specs,
    };
    let cells = plan(&GridRequest {
        specs: &specs,
        seeds,
        profile,
        overrides,
        sweep,
    })?;
    let out = out.unwrap_or_else(|| default_out(&specs, profile));
    Ok((cells, out))
}

/// `results/ablate[-PROFILE]`, or `results/sweep-NAME[-PROFILE]` for one sweep file NAME.yaml.
fn default_out(specs: &[PathBuf], profile: Option<&str>) -> PathBuf {
    let stem = match specs {
        [one] if crate::spec::sweep_file::is_sweep_file(one) => one
            .file_stem()
            .map(|s| format!("sweep-{}", s.to_string_lossy())),
        _ => None,
    };
    let stem = stem.unwrap_or_else(|| "ablate".into());
    match profile {
        Some(p) => PathBuf::from(format!("results/{stem}-{p}")),
        None => PathBuf::from(format!("results/{stem}")),
    }
}

/// Writes the summary of a planned grid from its run folders as they are (the job that runs
/// after a Slurm array; any time, to see where a grid stands).
pub fn summarise_plan(plan: &plan::WrittenPlan) -> Result<AblationReport, Failure> {
    let mut rows = Vec::new();
    for planned in &plan.plan.cells {
        let cell = plan.cell(planned.index)?;
        let e = &cell.experiment;
        let folder = existing_run(&plan.plan.out, e);
        let dir = folder.as_ref().map(|f| f.dir().to_path_buf());
        rows.push(summary::summarise(
            &cell,
            &CellAction::Skipped,
            dir.as_deref(),
        ));
    }
    let profile = plan.plan.profile.as_deref();
    let id = plan.dir.file_name().unwrap_or_default().to_string_lossy();
    let provenance = format!(
        "read from the run folders of grid {id} at {}",
        crate::record::meta::now()
    );
    let (table, summary_path) = write_summary(
        &plan.plan.out,
        profile,
        &plan.plan.seeds,
        &rows,
        &provenance,
    )?;
    Ok(AblationReport {
        table,
        summary_path,
        any_failed: rows.iter().any(|r| r.status.starts_with("failed")),
        interrupted: false,
    })
}

/// Runs every cell of `request` with `trainer` and writes `summary.md` beside the run folders.
pub fn run_ablation(
    request: AblationRequest<'_>,
    trainer: &dyn CellTrainer,
) -> Result<AblationReport, Failure> {
    let profile = request.profile;
    let (cells, out) = resolve(request)?;
    let seeds = &seeds_of(&cells);
    let started = std::time::Instant::now();
    let mut rows = Vec::new();
    let mut interrupted = false;
    for (k, cell) in cells.iter().enumerate() {
        let e = &cell.experiment;
        eprintln!("[{}/{}] {} seed {}", k + 1, cells.len(), e.name, e.seed);
        let (action, run_dir) = run_cell(&out, cell, trainer);
        eprintln!(
            "[{}/{}] {} seed {}: {action:?}",
            k + 1,
            cells.len(),
            e.name,
            e.seed
        );
        rows.push(summary::summarise(cell, &action, run_dir.as_deref()));
        if crate::interrupt::requested() {
            interrupted = true;
            eprintln!(
                "interrupted: {} cell(s) not run; `ablate` again resumes where this stopped",
                cells.len() - k - 1
            );
            break;
        }
    }
    let minutes = started.elapsed().as_secs_f64() / 60.0;
    let provenance = format!("wall time of this invocation: {minutes:.1} min");
    let (table, summary_path) = write_summary(&out, profile, seeds, &rows, &provenance)?;
    let any_failed = rows.iter().any(|r| r.status.starts_with("failed"));
    Ok(AblationReport {
        table,
        summary_path,
        any_failed,
        // A Ctrl-C while the summary was written counts too.
        interrupted: interrupted || crate::interrupt::requested(),
    })
}

/// The seeds of `cells`, each once, in the order they first come.
pub fn seeds_of(cells: &[Cell]) -> Vec<u64> {
    let mut seeds = Vec::new();
    for cell in cells {
        if !seeds.contains(&cell.experiment.seed) {
            seeds.push(cell.experiment.seed);
        }
    }
    seeds
}

/// Writes `out/summary.md`: the rows as a Markdown table under a line saying what ran.
fn write_summary(
    out: &Path,
    profile: Option<&str>,
    seeds: &[u64],
    rows: &[summary::SummaryRow],
    provenance: &str,
) -> Result<(String, PathBuf), Failure> {
    let runs = summary::markdown(rows);
    std::fs::create_dir_all(out).map_err(|e| RecordError::unwritable(out, e))?;
    // A sweep's own table, else the paper's layout (each reads every run folder once).
    let table = match rows.iter().any(|r| !r.swept.is_empty()) {
        true => {
            let sweep = sweep_table::sweep_table(rows);
            sweep.write(out)?;
            format!("## Sweep\n\n{}\n## Runs\n\n{runs}", sweep.markdown())
        }
        false => format!(
            "## Table 2 (the paper's layout)\n\n{}\n## Runs\n\n{runs}",
            summary::paper_table(rows),
        ),
    };
    let text = format!(
        "# Ablation summary\n\nprofile: {}, seeds: {seeds:?}, {provenance}\n\n{table}",
        profile.unwrap_or("default")
    );
    let summary_path = out.join("summary.md");
    write_file(&summary_path, text.as_bytes())?;
    // TensorBoard's HParams table is a view: a failure to write it leaves the grid whole.
    if let Err(e) = write_hparams(out, &sessions(rows)) {
        eprintln!("warning: TensorBoard's HParams data not written: {e}");
    }
    Ok((table, summary_path))
}

/// The runs of `rows` as HParams sessions: each seed of a cell in its cell's group, with the
/// swept keys, the seed and the cell's name as its hyperparameters.
fn sessions(rows: &[summary::SummaryRow]) -> Vec<Session> {
    rows.iter()
        .filter_map(|r| {
            let mut hparams = r.swept.clone();
            hparams.push(("seed".into(), r.seed.to_string()));
            hparams.push(("cell".into(), r.cell.clone()));
            Some(Session {
                run_dir: r.run_dir.clone()?,
                group: r.cell.clone(),
                hparams,
                ok: r.status == "ok",
            })
        })
        .collect()
}

/// Writes `bytes` to `path` atomically; a failure names the file.
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    write_atomic(path, bytes)
        .map_err(|e| RecordError::unwritable(path, format!("cannot write: {e}")).into())
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
pub fn run_cell(
    out: &Path,
    cell: &Cell,
    trainer: &dyn CellTrainer,
) -> (CellAction, Option<PathBuf>) {
    if let Some(folder) = existing_run(out, &cell.experiment) {
        let dir = folder.dir().to_path_buf();
        match folder.read_meta().map(|m| m.status) {
            Ok(Status::Ok | Status::Diverged) => return (CellAction::Skipped, Some(dir)),
            Ok(_) => {
                return match trainer.resume(&dir) {
                    Ok(()) => (CellAction::Resumed, Some(dir)),
                    Err(e) => (CellAction::Failed(e.to_string()), Some(dir)),
                };
            }
            Err(_) => {} // unreadable: start afresh beside it
        }
    }
    match trainer.start(cell, out) {
        Ok(run_dir) => (CellAction::Started, Some(run_dir)),
        Err(e) => (CellAction::Failed(e.to_string()), None),
    }
}
