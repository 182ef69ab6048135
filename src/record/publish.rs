//! Publishing a folder in one step: its files are written into a hidden partial sibling, listed
//! with their SHA-256s in its `checksums.json`, and the sibling is renamed into place. A crash
//! leaves either the whole folder or none of it (and a partial sibling the next writer removes
//! or ignores). Checkpoints and the quality scorers' caches are published this way.

use std::fs;
use std::path::Path;

use super::atomic::sync_dir;
use super::checksum::write_manifest;
use super::error::RecordError;

/// What to do when `dir` already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfPresent {
    /// Replace it (a checkpoint written again at the same step).
    Replace,
    /// Keep it: another process made it first, and it holds the same thing (a cache).
    Keep,
}

/// Makes `dir`: `fill` writes `files` into the partial folder it is given (its error is passed
/// on as it is). Errors of the publishing itself read "`dir`: `what`: …".
pub fn publish_dir<E: From<RecordError>>(
    dir: &Path,
    files: &[&str],
    if_present: IfPresent,
    what: &str,
    fill: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), E> {
    let root = dir.parent().expect("a published folder has a parent");
    let err = |e: std::io::Error| E::from(RecordError::unwritable(dir, format!("{what}: {e}")));
    fs::create_dir_all(root).map_err(err)?;
    // Deleted on any early return (TempDir's drop).
    let partial = tempfile::Builder::new()
        .prefix(".partial-")
        .tempdir_in(root)
        .map_err(err)?;
    fill(partial.path())?;
    write_manifest(partial.path(), files).map_err(err)?;
    if if_present == IfPresent::Replace && dir.exists() {
        fs::remove_dir_all(dir).map_err(err)?;
    }
    match fs::rename(partial.path(), dir) {
        Ok(()) => {
            let _ = partial.keep(); // renamed away: nothing left to delete
        }
        Err(_) if if_present == IfPresent::Keep && dir.exists() => return Ok(()),
        Err(e) => return Err(err(e)),
    }
    sync_dir(root).map_err(err)
}
