//! The run folder on disk, and the only place that knows its layout: `out/<name>_seed<seed>_<UTC
//! time>/` with `spec.yaml`, `meta.json`, `metrics.parquet`, `eval.parquet`, `samples.png`,
//! `checkpoints/` and the `.lock` a running process holds. Training, evaluation, the report and
//! the ablation all reach a run's files through [`RunFolder`].

pub mod adam_state;
pub mod checkpoint;
mod train_clock;

use std::path::{Path, PathBuf};

use burn::module::Module;

use super::atomic::write_atomic;
use super::error::RecordError;
use super::eval_table::{EvalRow, merge_eval, read_eval};
use super::meta::{Meta, Status};
use super::metrics::{MetricRow, read_metrics, write_metrics};
use checkpoint::CheckpointState;

const SPEC_FILE: &str = "spec.yaml";
const META_FILE: &str = "meta.json";
const METRICS_FILE: &str = "metrics.parquet";
const EVAL_FILE: &str = "eval.parquet";
const SAMPLES_FILE: &str = "samples.png";
const LOCK_FILE: &str = ".lock";
const CHECKPOINTS_DIR: &str = "checkpoints";
/// Any one of these marks a folder as a run folder (a half-made one may lack the others).
const MARKERS: [&str; 4] = [META_FILE, SPEC_FILE, METRICS_FILE, CHECKPOINTS_DIR];

/// One run's folder. Cheap to clone: it is only the path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RunFolder {
    dir: PathBuf,
}

/// The exclusive hold on a run folder, released when dropped or when the process ends (also by
/// SIGKILL), so two processes never interleave one run's checkpoints.
pub struct RunLock {
    _file: std::fs::File,
}

impl RunFolder {
    /// The folder at `dir`, whatever it holds (nothing is read).
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The run folder at `dir`, which must hold a `meta.json`.
    pub fn open(dir: &Path) -> Result<Self, RecordError> {
        let folder = Self::at(dir);
        if !folder.meta_path().is_file() {
            return Err(RecordError::NotARun {
                dir: dir.to_path_buf(),
                marker: META_FILE,
            });
        }
        Ok(folder)
    }

    /// Creates `out/<name>_seed<seed>_<UTC time>` (with `_2`, `_3`… if taken). `create_dir`
    /// fails on an existing folder, so two runs started at once never share one.
    pub fn create(out: &Path, name: &str, seed: u64) -> Result<Self, RecordError> {
        std::fs::create_dir_all(out).map_err(|e| {
            RecordError::unwritable(out, format!("cannot create results folder: {e}"))
        })?;
        let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
        let base = format!("{}{stamp}", name_prefix(name, seed));
        for attempt in 1..1000 {
            let dir = match attempt {
                1 => out.join(&base),
                n => out.join(format!("{base}_{n}")),
            };
            match std::fs::create_dir(&dir) {
                Ok(()) => return Ok(Self { dir }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(RecordError::unwritable(
                        &dir,
                        format!("cannot create run folder: {e}"),
                    ));
                }
            }
        }
        Err(RecordError::unwritable(
            out,
            format!("too many runs named {base}"),
        ))
    }

    /// Whether `dir` looks like a run folder (holds any of its records).
    pub fn looks_like_run(dir: &Path) -> bool {
        MARKERS.iter().any(|m| dir.join(m).exists())
    }

    /// The folders under `out` made for runs of `name` at `seed`, oldest first.
    pub fn attempts(out: &Path, name: &str, seed: u64) -> Vec<Self> {
        let prefix = name_prefix(name, seed);
        let mut found: Vec<Self> = std::fs::read_dir(out)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
            .map(|e| Self::at(e.path()))
            .collect();
        found.sort();
        found
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The run id recorded in every table: the folder's name.
    pub fn id(&self) -> String {
        self.dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// The fully resolved spec the run trains (read with `spec::load_resolved`).
    pub fn spec_path(&self) -> PathBuf {
        self.dir.join(SPEC_FILE)
    }

    pub fn meta_path(&self) -> PathBuf {
        self.dir.join(META_FILE)
    }

    pub fn metrics_path(&self) -> PathBuf {
        self.dir.join(METRICS_FILE)
    }

    pub fn eval_path(&self) -> PathBuf {
        self.dir.join(EVAL_FILE)
    }

    pub fn samples_path(&self) -> PathBuf {
        self.dir.join(SAMPLES_FILE)
    }

    pub fn checkpoints_dir(&self) -> PathBuf {
        self.dir.join(CHECKPOINTS_DIR)
    }

    /// Deletes a folder whose run recorded nothing yet (its start failed).
    pub fn remove(self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The folder-name prefix of every run of `name` at `seed`.
fn name_prefix(name: &str, seed: u64) -> String {
    format!("{name}_seed{seed}_")
}

/// Records: the spec, meta, metrics and eval tables, and the lock.
impl RunFolder {
    /// Writes the resolved spec the run trains.
    pub fn write_spec(&self, yaml: &str) -> Result<(), RecordError> {
        let path = self.spec_path();
        write_atomic(&path, yaml.as_bytes())
            .map_err(|e| RecordError::unwritable(&path, format!("cannot write: {e}")))
    }

    pub fn write_meta(&self, meta: &Meta) -> Result<(), RecordError> {
        let json = serde_json::to_string_pretty(meta).expect("meta serialises");
        write_atomic(&self.meta_path(), json.as_bytes()).map_err(|e| {
            RecordError::unwritable(&self.dir, format!("cannot write {META_FILE}: {e}"))
        })
    }

    /// `meta.json` as written.
    pub fn read_meta(&self) -> Result<Meta, RecordError> {
        let path = self.meta_path();
        let text = std::fs::read_to_string(&path)
            .map_err(|e| RecordError::unreadable(&path, format!("cannot read: {e}")))?;
        serde_json::from_str(&text)
            .map_err(|e| RecordError::unreadable(&path, format!("not a valid run record: {e}")))
    }

    /// `meta.json` as it is true now: a run recorded as `running` whose process no longer holds
    /// the folder was killed (SIGKILL, power loss) before it could record that, so it reads as
    /// `interrupted`, which is what `--resume` and `ablate` continue.
    pub fn current_meta(&self) -> Result<Meta, RecordError> {
        let mut meta = self.read_meta()?;
        if meta.status == Status::Running && !self.is_held() {
            meta.status = Status::Interrupted;
            meta.error = Some(
                "the process stopped without recording its end (killed, or the machine went down)"
                    .to_string(),
            );
        }
        Ok(meta)
    }

    /// Takes the folder for this process (see [`RunLock`]); refused while another holds it.
    pub fn lock(&self) -> Result<RunLock, RecordError> {
        let path = self.dir.join(LOCK_FILE);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| RecordError::Unlockable {
                lock_file: path.clone(),
                kind: e.kind(),
                message: format!("cannot open the run's lock file: {e}"),
            })?;
        match file.try_lock() {
            Ok(()) => Ok(RunLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(RecordError::Locked {
                dir: self.dir.clone(),
                lock_file: path,
            }),
            Err(std::fs::TryLockError::Error(e)) => Err(RecordError::Unlockable {
                lock_file: path,
                kind: e.kind(),
                message: format!("cannot lock: {e}"),
            }),
        }
    }

    /// Whether some process holds the folder now.
    pub fn is_held(&self) -> bool {
        let Ok(file) = std::fs::File::open(self.dir.join(LOCK_FILE)) else {
            return false;
        };
        matches!(
            file.try_lock_shared(),
            Err(std::fs::TryLockError::WouldBlock)
        )
    }

    /// Replaces the metrics table with `rows`.
    pub fn write_metrics(&self, rows: &[MetricRow]) -> Result<(), RecordError> {
        write_metrics(&self.metrics_path(), &self.id(), rows)
    }

    /// The metric rows recorded so far.
    pub fn read_metrics(&self) -> Result<Vec<MetricRow>, RecordError> {
        read_metrics(&self.metrics_path())
    }

    /// Adds `rows` to the eval table (replacing older rows of the same step, split and name).
    pub fn merge_eval(&self, rows: &[EvalRow]) -> Result<(), RecordError> {
        merge_eval(&self.eval_path(), &self.id(), rows)
    }

    /// The eval table's rows; `None` when the run was never evaluated.
    pub fn read_eval(&self) -> Result<Option<Vec<EvalRow>>, RecordError> {
        let path = self.eval_path();
        if !path.exists() {
            return Ok(None);
        }
        read_eval(&path).map(Some)
    }
}

/// Checkpoints: `checkpoints/step_NNNNNNNN/` (see [`checkpoint`] for what one holds).
impl RunFolder {
    /// Completed checkpoints, newest first.
    pub fn checkpoints(&self) -> Vec<(u64, PathBuf)> {
        checkpoint::list(&self.checkpoints_dir())
    }

    /// Writes a checkpoint and keeps only the newest `keep`, and those of the `protected` steps.
    pub fn save_checkpoint<M: Module + Clone>(
        &self,
        weights: checkpoint::Weights<'_, M>,
        state: &CheckpointState,
        keep: usize,
        protected: &[u64],
    ) -> Result<PathBuf, RecordError> {
        checkpoint::save(&self.checkpoints_dir(), weights, state, keep, protected)
    }

    /// Removes the partial checkpoints a killed process left behind (call only while holding
    /// the lock: another process's partial folder is its checkpoint being written).
    pub fn remove_partial_checkpoints(&self) {
        checkpoint::remove_partials(&self.checkpoints_dir());
    }

    /// The EMA weights of the newest checkpoint, loaded into the module `build` makes, with
    /// its state; `None` when the run has no checkpoint yet (then nothing is built: a 35.7M
    /// UNet takes seconds to make on a CPU). `build`'s own error is passed on.
    pub fn load_newest_ema<M: Module, E: From<RecordError>>(
        &self,
        build: impl FnOnce() -> Result<M, E>,
    ) -> Result<Option<(M, CheckpointState)>, E> {
        self.load_ema(None, build)
    }

    /// As [`Self::load_newest_ema`], from the checkpoint of `step` when one is given; `None`
    /// when the run has no such checkpoint.
    pub fn load_ema<M: Module, E: From<RecordError>>(
        &self,
        step: Option<u64>,
        build: impl FnOnce() -> Result<M, E>,
    ) -> Result<Option<(M, CheckpointState)>, E> {
        let checkpoints = self.checkpoints();
        let found = match step {
            None => checkpoints.first(),
            Some(step) => checkpoints.iter().find(|(s, _)| *s == step),
        };
        match found {
            Some((_, dir)) => Ok(Some(checkpoint::load_ema(dir, build()?)?)),
            None => Ok(None),
        }
    }

    /// The newest checkpoint loaded onto fresh modules; `None` without one. A damaged one's
    /// error says which folder to move aside to resume from the one before.
    pub fn load_newest<M: Module>(
        &self,
        model: M,
        ema: M,
        device: &burn::prelude::Device,
    ) -> Result<Option<checkpoint::Loaded<M>>, RecordError> {
        let checkpoints = self.checkpoints();
        let Some((_, dir)) = checkpoints.first() else {
            return Ok(None);
        };
        checkpoint::load(dir, model, ema, device)
            .map(Some)
            .map_err(|e| {
                let way_out = match checkpoints.get(1) {
                    Some((step, _)) => format!("to resume from step {step}, the one before"),
                    None => "to start the run again from step 0".to_string(),
                };
                e.with_hint(format!(
                    "the checkpoint is damaged: move {} out of {CHECKPOINTS_DIR}/ {way_out}",
                    dir.display()
                ))
            })
    }
}
