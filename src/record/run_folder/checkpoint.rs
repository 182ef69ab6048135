//! One checkpoint's folder, `step_NNNNNNNN/` under the run folder's `checkpoints/`, holding the
//! model, its EMA, the optimiser and a `state.json`. Each is published whole (record::publish),
//! so a crash mid-write leaves the previous checkpoint as the newest complete one. Its
//! `checksums.json` (SHA-256 of every file) is checked before anything is loaded.

use std::fs;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::prelude::Device;
use serde::{Deserialize, Serialize};

use super::adam_state;
use crate::optim::{FlatLayout, Moments};

use crate::diffusion::timestep_sampler::LossHistory;
use crate::record::atomic::{sync_file, write_atomic};
use crate::record::checksum::verify_manifest;
use crate::record::error::RecordError;
use crate::record::publish::{IfPresent, publish_dir};

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
    /// The `loss_aware` t sampler's per-t losses (absent for `uniform`, and in checkpoints
    /// written before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestep_history: Option<LossHistory>,
}

fn folder_name(step: u64) -> String {
    format!("{PREFIX}{step:08}")
}

/// What a checkpoint holds besides its state.
pub struct Weights<'a, M> {
    pub model: &'a M,
    pub ema: &'a M,
    /// Adam's moments (none before the first step), laid out as the model's parameters.
    pub adam: Option<&'a Moments>,
    pub layout: &'a FlatLayout,
}

/// Completed checkpoints under `root` (a run's `checkpoints/`), newest first.
pub fn list(root: &Path) -> Vec<(u64, PathBuf)> {
    let mut found: Vec<(u64, PathBuf)> = fs::read_dir(root)
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

/// Writes a checkpoint under `root` and keeps only the newest `keep`, and those of the
/// `protected` steps.
pub fn save<M: Module + Clone>(
    root: &Path,
    weights: Weights<'_, M>,
    state: &CheckpointState,
    keep: usize,
    protected: &[u64],
) -> Result<PathBuf, RecordError> {
    let final_dir = root.join(folder_name(state.step));
    let what = "cannot write checkpoint";
    let err =
        |e: &dyn std::fmt::Display| RecordError::unwritable(&final_dir, format!("{what}: {e}"));
    publish_dir(&final_dir, &FILES, IfPresent::Replace, what, |partial| {
        let Weights {
            model,
            ema,
            adam,
            layout,
        } = weights;
        let [model_path, ema_path, optim_path, state_path] = FILES.map(|name| partial.join(name));
        model.clone().save_file(&model_path).map_err(|e| err(&e))?;
        ema.clone().save_file(&ema_path).map_err(|e| err(&e))?;
        adam_state::save(layout, adam, &optim_path).map_err(|e| err(&e))?;
        for p in [&model_path, &ema_path, &optim_path] {
            sync_file(p).map_err(|e| err(&e))?;
        }
        let json = serde_json::to_string_pretty(state).expect("state serialises");
        write_atomic(&state_path, json.as_bytes()).map_err(|e| err(&e))
    })?;
    for (step, old) in list(root).into_iter().skip(keep) {
        if !protected.contains(&step) {
            let _ = fs::remove_dir_all(old);
        }
    }
    Ok(final_dir)
}

/// Removes the partial folders a killed process left behind under `root`.
pub fn remove_partials(root: &Path) {
    let entries = fs::read_dir(root).into_iter().flatten().flatten();
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
    pub adam: Option<Moments>,
    pub state: CheckpointState,
}

/// Loads the checkpoint in `dir` into `model` and `ema`, and Adam's moments onto `device`.
pub fn load<M: Module>(
    dir: &Path,
    model: M,
    ema: M,
    device: &Device,
) -> Result<Loaded<M>, RecordError> {
    let at = |file: &str| dir.join(file);
    let err = |file: &str, e: &dyn std::fmt::Display| {
        RecordError::unreadable(&at(file), format!("cannot load: {e}"))
    };
    verify_manifest(dir)?;
    let state = read_state(dir)?;
    let model = model
        .try_load_file(at("model.bpk"))
        .map_err(|e| err("model.bpk", &e))?;
    let ema = ema
        .try_load_file(at("ema.bpk"))
        .map_err(|e| err("ema.bpk", &e))?;
    let layout = FlatLayout::of(&model);
    let adam = adam_state::load(&layout, &at("optimizer.bpk"), device)
        .map_err(|e| err("optimizer.bpk", &e))?;
    Ok(Loaded {
        model,
        ema,
        adam,
        state,
    })
}

/// The `state.json` of the checkpoint in `dir`.
pub fn read_state(dir: &Path) -> Result<CheckpointState, RecordError> {
    let path = dir.join("state.json");
    let err =
        |e: &dyn std::fmt::Display| RecordError::unreadable(&path, format!("cannot load: {e}"));
    let text = fs::read_to_string(&path).map_err(|e| err(&e))?;
    serde_json::from_str(&text).map_err(|e| err(&e))
}

/// Loads only the EMA weights of the checkpoint in `dir` into `model`, and its step.
pub fn load_ema<M: Module>(dir: &Path, model: M) -> Result<(M, CheckpointState), RecordError> {
    verify_manifest(dir)?;
    let state = read_state(dir)?;
    let path = dir.join("ema.bpk");
    let model = model
        .try_load_file(&path)
        .map_err(|e| RecordError::unreadable(&path, format!("cannot load: {e}")))?;
    Ok((model, state))
}

#[cfg(test)]
mod tests {
    use burn::nn::LinearConfig;

    use super::*;

    #[test]
    fn pruning_keeps_the_newest_and_the_protected() {
        let dir = tempfile::tempdir().unwrap();
        let device = Device::flex();
        let model = LinearConfig::new(2, 2).init(&device);
        let layout = FlatLayout::of(&model);
        for step in 1..=5 {
            let state = CheckpointState {
                step,
                seed: 0,
                rng: String::new(),
                last_loss: None,
                timestep_history: None,
            };
            let weights = Weights {
                model: &model,
                ema: &model,
                adam: None,
                layout: &layout,
            };
            save(dir.path(), weights, &state, 2, &[2]).unwrap();
        }
        let steps: Vec<u64> = list(dir.path()).into_iter().map(|(s, _)| s).collect();
        assert_eq!(steps, [5, 4, 2]);
    }
}
