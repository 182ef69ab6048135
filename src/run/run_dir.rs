//! Run directories: one per run, never reused.

use std::path::{Path, PathBuf};

/// Creates `out/<name>_seed<seed>_<UTC timestamp>` (with `_2`, `_3`… if taken) and returns it.
/// `create_dir` fails on an existing folder, so two runs started at once never share one.
pub fn create_run_dir(out: &Path, name: &str, seed: u64) -> Result<PathBuf, String> {
    std::fs::create_dir_all(out)
        .map_err(|e| format!("{}: cannot create results folder: {e}", out.display()))?;
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    let base = format!("{name}_seed{seed}_{stamp}");
    for attempt in 1..1000 {
        let dir = if attempt == 1 {
            out.join(&base)
        } else {
            out.join(format!("{base}_{attempt}"))
        };
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("{}: cannot create run folder: {e}", dir.display())),
        }
    }
    Err(format!("{}: too many runs named {base}", out.display()))
}

/// The run id recorded in every table: the run folder's name.
pub fn run_id(run_dir: &Path) -> String {
    run_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
