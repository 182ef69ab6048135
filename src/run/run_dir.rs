//! Run directories: one per run, never reused.

use std::path::{Path, PathBuf};

use crate::record::meta::{Meta, Status};

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

/// Holds the run folder for this process: an exclusive lock on `RUN_DIR/.lock`, released when
/// the returned file is dropped or the process ends (also by SIGKILL), so a second `run
/// --resume` (or `ablate`) of the same folder is refused instead of interleaving checkpoints.
pub fn lock_run_dir(run_dir: &Path) -> Result<std::fs::File, String> {
    let path = run_dir.join(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("{}: cannot open the run's lock file: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "{}: another ddpm-exp process is running this run (it holds {})",
            run_dir.display(),
            path.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(format!("{}: cannot lock: {e}", path.display()))
        }
    }
}

/// Whether some process holds the run folder now (see `lock_run_dir`).
pub fn is_held(run_dir: &Path) -> bool {
    let Ok(file) = std::fs::File::open(run_dir.join(".lock")) else {
        return false;
    };
    matches!(
        file.try_lock_shared(),
        Err(std::fs::TryLockError::WouldBlock)
    )
}

/// The run's `meta.json` as it is true now: a run recorded as `running` whose process no longer
/// holds the folder was killed (SIGKILL, power loss) before it could record that, so it reads
/// as `interrupted`, which is what `--resume` and `ablate` continue.
pub fn current_meta(run_dir: &Path) -> Result<Meta, String> {
    let mut meta = Meta::read(run_dir)?;
    if meta.status == Status::Running && !is_held(run_dir) {
        meta.status = Status::Interrupted;
        meta.error = Some(
            "the process stopped without recording its end (killed, or the machine went down)"
                .to_string(),
        );
    }
    Ok(meta)
}
