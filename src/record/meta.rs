//! A run's metadata (`meta.json`, read and written by `RunFolder`): what ran, where, from which
//! code, and how it ended.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Running,
    Ok,
    Diverged,
    Interrupted,
    Failed,
}

impl Status {
    /// How a run with this status reads in every table: "ok", "diverged at step N",
    /// "running", "interrupted", "failed".
    pub fn describe(self, diverged_at_step: Option<u64>) -> String {
        match self {
            Status::Diverged => format!("diverged at step {}", diverged_at_step.unwrap_or(0)),
            other => format!("{other:?}").to_lowercase(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    pub run_id: String,
    pub name: String,
    /// The spec file the run was started from (its resolved copy is `spec.yaml`).
    pub spec_file: String,
    pub status: Status,
    pub seed: u64,
    pub backend: String,
    pub device: String,
    pub crate_version: String,
    pub burn_version: String,
    /// Commit of the working tree the run was started in, if it is a git checkout.
    pub git_sha: Option<String>,
    /// Whether that working tree had uncommitted changes.
    pub git_dirty: Option<bool>,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub steps_total: u64,
    pub steps_done: u64,
    /// Step whose loss was not finite, for a diverged run.
    pub diverged_at_step: Option<u64>,
    pub last_finite_loss: Option<f64>,
    pub error: Option<String>,
    /// Wall-clock seconds spent in training steps (all sessions of a resumed run).
    pub train_seconds: f64,
    pub steps_per_second: Option<f64>,
    /// Steps at which the run was resumed.
    pub resumed_at_steps: Vec<u64>,
    /// SHA-256 of the data the run was started on; absent in runs made before it was recorded.
    #[serde(default)]
    pub data_sha256: Option<DataDigest>,
    /// Times a cluster task asked Slurm to requeue it after a preemption warning (SIGUSR2),
    /// at most `ablate --slurm --max-requeues`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub requeues: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// `ImageSet::sha256` of each split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataDigest {
    pub train: String,
    pub test: String,
    /// An image folder's files: how many, and the SHA-256 of their sorted relative paths.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<FileListDigest>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileListDigest {
    pub count: usize,
    pub sha256: String,
}

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// (commit, dirty) of the git checkout around the current folder, if any.
pub fn git_state() -> (Option<String>, Option<bool>) {
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let sha = run(&["rev-parse", "HEAD"]);
    let dirty = sha
        .as_ref()
        .and_then(|_| run(&["status", "--porcelain"]))
        .map(|s| !s.is_empty());
    (sha, dirty)
}
