//! The grid written down before it runs anywhere else: every spec × sweep point × seed with its
//! resolved spec and swept values, addressed by index, in `OUT/grids/ID/`. A cluster task (`ablate --plan PLAN --task I`)
//! runs exactly the cell `ablate` resolved at submission, whatever changes in experiments/
//! afterwards. The ID is a digest of the resolved cells, so submitting the same grid again
//! finds the same plan (and the runs it started).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Cell, write_file};
use crate::error::Failure;
use crate::record::RecordError;
use crate::record::atomic::sync_dir;
use crate::record::checksum::hex;
use crate::spec::load_resolved;

pub const PLAN_FILE: &str = "plan.json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridPlan {
    /// The ablation folder, absolute: every cell's run folder goes there.
    pub out: PathBuf,
    pub profile: Option<String>,
    pub seeds: Vec<u64>,
    /// How often a cluster task may requeue itself after SIGUSR2 (ablate/slurm.rs).
    pub max_requeues: u32,
    pub cells: Vec<PlannedCell>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedCell {
    pub index: usize,
    pub name: String,
    pub seed: u64,
    /// The spec file the cell came from (recorded in its run's meta.json).
    pub spec_file: PathBuf,
    /// Its resolved spec, relative to the plan's folder.
    pub resolved: PathBuf,
    /// (key, value as given) of each swept key; empty outside a sweep (and in older plans).
    #[serde(default)]
    pub swept: Vec<(String, String)>,
}

/// A written plan: where it is, and what it says.
pub struct WrittenPlan {
    pub dir: PathBuf,
    pub plan: GridPlan,
}

/// The resolved cells as YAML, in order: what the grid's ID is a digest of.
fn resolved_texts(cells: &[Cell]) -> Vec<String> {
    cells
        .iter()
        .map(|c| serde_yaml_ng::to_string(&c.experiment).expect("spec serialises"))
        .collect()
}

/// Writes the plan of `cells` (run folders under `out`) into `out/grids/ID/`.
pub fn write_plan(
    cells: &[Cell],
    out: &Path,
    profile: Option<&str>,
    max_requeues: u32,
) -> Result<WrittenPlan, Failure> {
    let seeds = super::seeds_of(cells);
    let out = std::path::absolute(out).map_err(|e| RecordError::unwritable(out, e))?;
    let texts = resolved_texts(cells);
    let mut hasher = Sha256::new();
    for text in &texts {
        hasher.update(text.as_bytes());
        hasher.update([0]);
    }
    let id = hex(&hasher.finalize())[..12].to_string();
    let dir = out.join("grids").join(&id);
    let cells_dir = dir.join("cells");
    std::fs::create_dir_all(&cells_dir).map_err(|e| RecordError::unwritable(&cells_dir, e))?;
    let mut planned = Vec::new();
    for (index, (cell, text)) in cells.iter().zip(&texts).enumerate() {
        let resolved = PathBuf::from("cells").join(format!("{index:04}.yaml"));
        write_cell_spec(&dir.join(&resolved), text)?;
        planned.push(PlannedCell {
            index,
            name: cell.experiment.name.clone(),
            seed: cell.experiment.seed,
            spec_file: cell.spec_file.clone(),
            resolved,
            swept: cell.swept.clone(),
        });
    }
    // The cells' files reach the disk before plan.json names them.
    sync_dir(&cells_dir).map_err(|e| RecordError::unwritable(&cells_dir, e))?;
    let plan = GridPlan {
        out,
        profile: profile.map(str::to_string),
        seeds,
        max_requeues,
        cells: planned,
    };
    let json = serde_json::to_string_pretty(&plan).expect("plan serialises");
    write_file(&dir.join(PLAN_FILE), json.as_bytes())?;
    Ok(WrittenPlan { dir, plan })
}

/// One cell's resolved spec. The plan's folder is named by a digest of every cell, so a file
/// already there with this text is kept; a new one is written and synced in place (no
/// temporary and rename per file: plan.json, written atomically last, is what commits the
/// plan, and 1,000 cells are written in a fraction of a second).
fn write_cell_spec(path: &Path, text: &str) -> Result<(), Failure> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(path)?;
        std::io::Write::write_all(&mut file, text.as_bytes())?;
        file.sync_all()
    };
    write().map_err(|e| RecordError::unwritable(path, format!("cannot write: {e}")).into())
}

impl WrittenPlan {
    pub fn path(&self) -> PathBuf {
        self.dir.join(PLAN_FILE)
    }

    /// The plan in `path` (a plan.json, or the folder holding it).
    pub fn read(path: &Path) -> Result<WrittenPlan, Failure> {
        let file = match path.is_dir() {
            true => path.join(PLAN_FILE),
            false => path.to_path_buf(),
        };
        let bad = |why: String| Failure::BadInput(format!("{}: {why}", file.display()));
        let text = std::fs::read_to_string(&file).map_err(|e| bad(format!("cannot read: {e}")))?;
        let plan: GridPlan =
            serde_json::from_str(&text).map_err(|e| bad(format!("not a grid plan: {e}")))?;
        let dir = file.parent().unwrap_or(Path::new(".")).to_path_buf();
        Ok(WrittenPlan { dir, plan })
    }

    /// Cell `index` with its resolved spec, as `ablate` resolved it.
    pub fn cell(&self, index: usize) -> Result<Cell, Failure> {
        let count = self.plan.cells.len();
        let planned = self.plan.cells.get(index).ok_or_else(|| {
            Failure::BadInput(format!(
                "{}: no cell {index}; the plan has cells 0 to {}",
                self.path().display(),
                count.saturating_sub(1)
            ))
        })?;
        let experiment = load_resolved(&self.dir.join(&planned.resolved))?;
        Ok(Cell {
            spec_file: planned.spec_file.clone(),
            experiment,
            swept: planned.swept.clone(),
        })
    }
}
