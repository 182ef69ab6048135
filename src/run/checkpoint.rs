//! Checkpoints: `checkpoints/step_NNNNNNNN/` holding the model, its EMA, the optimiser and a
//! `state.json`. Each is written into a hidden partial folder, synced, then renamed into
//! place, so a crash mid-write leaves the previous checkpoint as the newest complete one. Its
//! `checksums.json` (SHA-256 of every file) is checked before anything is loaded.

use std::fs;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use serde::{Deserialize, Serialize};

use crate::record::atomic::{sync_dir, sync_file, write_atomic};
use crate::record::checksum::{verify_manifest, write_manifest};

pub const DIR: &str = "checkpoints";
const PREFIX: &str = "step_";
/// A checkpoint's files, all listed with their SHA-256 in its `checksums.json`.
const FILES: [&str; 4] = ["model.bpk", "ema.bpk", "optimizer.bpk", "state.json"];

/// Everything besides tensors that a resumed run needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointState {
    /// Optimisation steps completed.
    pub step: u64,
    pub seed: u64,
    /// How the random streams continue: every stream is addressed by (seed, purpose, step),
    /// so (seed, step) is their whole state.
    pub rng: String,
    pub last_loss: Option<f64>,
}

fn folder_name(step: u64) -> String {
    format!("{PREFIX}{step:08}")
}

/// Completed checkpoints of a run, newest first.
pub fn list(run_dir: &Path) -> Vec<(u64, PathBuf)> {
    let mut found: Vec<(u64, PathBuf)> = fs::read_dir(run_dir.join(DIR))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let step = name.strip_prefix(PREFIX)?.parse().ok()?;
            Some((step, entry.path()))
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0));
    found
}

/// Writes a checkpoint and keeps only the newest `keep`, and those of the `protected` steps.
pub fn save<M: Module + Clone>(
    run_dir: &Path,
    model: &M,
    ema: &M,
    optimizer: &ModuleOptimizer,
    state: &CheckpointState,
    keep: usize,
    protected: &[u64],
) -> Result<PathBuf, String> {
    let root = run_dir.join(DIR);
    fs::create_dir_all(&root).map_err(|e| format!("{}: cannot create: {e}", root.display()))?;
    let final_dir = root.join(folder_name(state.step));
    let err = |e: &dyn std::fmt::Display| {
        format!("{}: cannot write checkpoint: {e}", final_dir.display())
    };
    // The partial folder is deleted on any early return (TempDir's drop).
    let partial = tempfile::Builder::new()
        .prefix(".partial-")
        .tempdir_in(&root)
        .map_err(|e| err(&e))?;
    let model_path = partial.path().join("model.bpk");
    let ema_path = partial.path().join("ema.bpk");
    let optim_path = partial.path().join("optimizer.bpk");
    model.clone().save_file(&model_path).map_err(|e| err(&e))?;
    ema.clone().save_file(&ema_path).map_err(|e| err(&e))?;
    optimizer.save(&optim_path).map_err(|e| err(&e))?;
    for p in [&model_path, &ema_path, &optim_path] {
        sync_file(p).map_err(|e| err(&e))?;
    }
    let json = serde_json::to_string_pretty(state).expect("state serialises");
    write_atomic(&partial.path().join("state.json"), json.as_bytes()).map_err(|e| err(&e))?;
    write_manifest(partial.path(), &FILES).map_err(|e| err(&e))?;
    if final_dir.exists() {
        fs::remove_dir_all(&final_dir).map_err(|e| err(&e))?;
    }
    fs::rename(partial.path(), &final_dir).map_err(|e| err(&e))?;
    let _ = partial.keep(); // renamed away: nothing left to delete
    sync_dir(&root).map_err(|e| err(&e))?;
    for (step, old) in list(run_dir).into_iter().skip(keep) {
        if !protected.contains(&step) {
            let _ = fs::remove_dir_all(old);
        }
    }
    Ok(final_dir)
}

/// Removes the partial folders a killed process left behind (call only while holding the run's
/// lock: another process's partial folder is its checkpoint being written).
pub fn remove_partials(run_dir: &Path) {
    let entries = fs::read_dir(run_dir.join(DIR))
        .into_iter()
        .flatten()
        .flatten();
    for entry in entries {
        if entry.file_name().to_string_lossy().starts_with(".partial-") {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// A checkpoint read back onto fresh modules built by the caller.
pub struct Loaded<M> {
    pub model: M,
    pub ema: M,
    pub optimizer: ModuleOptimizer,
    pub state: CheckpointState,
}

/// Loads the checkpoint in `dir` into `model`, `ema` and `optimizer`.
pub fn load<M: Module>(
    dir: &Path,
    model: M,
    ema: M,
    optimizer: ModuleOptimizer,
) -> Result<Loaded<M>, String> {
    let at = |file: &str| dir.join(file);
    let err =
        |file: &str, e: &dyn std::fmt::Display| format!("{}: cannot load: {e}", at(file).display());
    verify_manifest(dir)?;
    let state = read_state(dir)?;
    let model = model
        .try_load_file(at("model.bpk"))
        .map_err(|e| err("model.bpk", &e))?;
    let ema = ema
        .try_load_file(at("ema.bpk"))
        .map_err(|e| err("ema.bpk", &e))?;
    let optimizer = optimizer
        .load(at("optimizer.bpk"))
        .map_err(|e| err("optimizer.bpk", &e))?;
    Ok(Loaded {
        model,
        ema,
        optimizer,
        state,
    })
}

/// The `state.json` of the checkpoint in `dir`.
pub fn read_state(dir: &Path) -> Result<CheckpointState, String> {
    let path = dir.join("state.json");
    let err = |e: &dyn std::fmt::Display| format!("{}: cannot load: {e}", path.display());
    let text = fs::read_to_string(&path).map_err(|e| err(&e))?;
    serde_json::from_str(&text).map_err(|e| err(&e))
}

/// Loads only the EMA weights of the checkpoint in `dir` into `model`, and its step.
pub fn load_ema<M: Module>(dir: &Path, model: M) -> Result<(M, CheckpointState), String> {
    verify_manifest(dir)?;
    let state = read_state(dir)?;
    let path = dir.join("ema.bpk");
    let model = model
        .try_load_file(&path)
        .map_err(|e| format!("{}: cannot load: {e}", path.display()))?;
    Ok((model, state))
}

#[cfg(test)]
mod tests {
    use burn::nn::LinearConfig;
    use burn::optim::AdamConfig;
    use burn::prelude::Device;

    use super::*;

    #[test]
    fn pruning_keeps_the_newest_and_the_protected() {
        let dir = tempfile::tempdir().unwrap();
        let device = Device::flex();
        let model = LinearConfig::new(2, 2).init(&device);
        let optimizer: ModuleOptimizer = AdamConfig::new().init();
        for step in 1..=5 {
            let state = CheckpointState {
                step,
                seed: 0,
                rng: String::new(),
                last_loss: None,
            };
            save(dir.path(), &model, &model, &optimizer, &state, 2, &[2]).unwrap();
        }
        let steps: Vec<u64> = list(dir.path()).into_iter().map(|(s, _)| s).collect();
        assert_eq!(steps, [5, 4, 2]);
    }
}
