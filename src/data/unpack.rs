//! A `.tar.gz` archive's folder unpacked whole: into a temporary folder first, checked for
//! every file the loader needs, its files' digests written into its manifest, then renamed
//! into place, so a half-unpacked or unrecorded folder is never taken for the dataset.

use std::path::Path;

use super::DataError;
use super::manifest::{Manifest, ManifestEntry, now_rfc3339};
use super::verify::sha256_of;

/// Unpacks `folder/` of `archive` into `dir/folder` (moving aside, then removing, what was
/// there); `origin` says in each manifest entry where the archive came from.
pub fn unpack_tar_gz(
    archive: &Path,
    dir: &Path,
    folder: &str,
    members: &[String],
    manifest: Manifest,
    origin: &str,
) -> Result<(), DataError> {
    let staging = tempfile::Builder::new()
        .prefix(".unpacking-")
        .tempdir_in(dir)
        .map_err(|e| DataError::new(dir, format!("cannot write: {e}")))?;
    eprintln!("unpacking {}", archive.display());
    unpack_all(archive, staging.path())?;
    let unpacked = staging.path().join(folder);
    if let Some(missing) = members.iter().find(|m| !unpacked.join(m).is_file()) {
        return Err(DataError::new(
            archive,
            format!("the archive holds no {folder}/{missing}"),
        ));
    }
    record_members(manifest, &unpacked, members, origin)?;
    replace_folder(&unpacked, &dir.join(folder), staging.path())
}

fn unpack_all(archive: &Path, into: &Path) -> Result<(), DataError> {
    let bad = |e: std::io::Error| DataError::new(archive, format!("cannot unpack: {e}"));
    let file = std::fs::File::open(archive).map_err(bad)?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)));
    // unpack_in refuses entries that would land outside `into`.
    for entry in tar.entries().map_err(bad)? {
        entry.map_err(bad)?.unpack_in(into).map_err(bad)?;
    }
    Ok(())
}

/// The unpacked files' digests: they have no published ones, so later checks compare
/// against these.
fn record_members(
    mut manifest: Manifest,
    unpacked: &Path,
    members: &[String],
    origin: &str,
) -> Result<(), DataError> {
    for member in members {
        let path = unpacked.join(member);
        manifest.record(ManifestEntry {
            name: member.clone(),
            size: std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0),
            sha256: sha256_of(&path, false)?,
            source: origin.to_string(),
            written: now_rfc3339(),
        });
    }
    manifest.write(unpacked)
}

/// Puts `new` at `target`; an old folder there is first moved into `aside` (removed with it),
/// so a failed rename never leaves the dataset with neither.
fn replace_folder(new: &Path, target: &Path, aside: &Path) -> Result<(), DataError> {
    let cannot = |e: std::io::Error| DataError::new(target, format!("cannot move into place: {e}"));
    if target.exists() {
        std::fs::rename(target, aside.join("replaced")).map_err(cannot)?;
    }
    if let Err(e) = std::fs::rename(new, target) {
        let _ = std::fs::rename(aside.join("replaced"), target);
        return Err(cannot(e));
    }
    Ok(())
}
