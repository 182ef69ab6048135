//! `meta.json`: what ran, where, from which code, and how it ended.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::atomic::write_atomic;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Running,
    Ok,
    Diverged,
    Interrupted,
    Failed,
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
}

/// `ImageSet::sha256` of each split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataDigest {
    pub train: String,
    pub test: String,
}

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Meta {
    pub fn write(&self, run_dir: &Path) -> std::io::Result<()> {
        let json = serde_json::to_string_pretty(self).expect("meta serialises");
        write_atomic(&run_dir.join("meta.json"), json.as_bytes())
    }

    pub fn read(run_dir: &Path) -> Result<Self, String> {
        let path = run_dir.join("meta.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a valid run record: {e}", path.display()))
    }
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
