//! A whole dataset into a folder: each published file downloaded unless a verified copy is
//! already there, an archive unpacked, and the folder's manifest written. One process at a time
//! per folder (a lock file), so cells started together download once.

use std::path::{Path, PathBuf};

use super::DataError;
use super::catalog::{Layout, RemoteFile, Source};
use super::download::{Downloaded, download};
use super::manifest::{Manifest, ManifestEntry, now_rfc3339};
use super::unpack::unpack_tar_gz;
use super::verify::{FileState, check_folder, check_published, sha256_of};

const LOCK_FILE: &str = ".fetch.lock";

/// Fetches `source` into `dir` (from `mirrors` instead of its own addresses when given) and
/// returns the folder its loader reads.
pub fn fetch_source(
    source: &Source,
    dir: &Path,
    mirrors: Option<&[String]>,
) -> Result<PathBuf, DataError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| DataError::new(dir, format!("cannot create the dataset folder: {e}")))?;
    let lock = std::fs::File::create(dir.join(LOCK_FILE))
        .map_err(|e| DataError::new(dir, format!("cannot write into the dataset folder: {e}")))?;
    take_lock(&lock, dir)?;
    remove_leftovers(dir);
    match &source.layout {
        Layout::Files => {
            let mut manifest = Manifest::read(dir).unwrap_or_else(|| empty(source));
            for file in &source.files {
                if let Some(entry) = fetch_file(source, file, dir, mirrors)? {
                    manifest.record(entry);
                    manifest.write(dir)?;
                }
            }
            Ok(dir.to_path_buf())
        }
        Layout::TarGz { folder, members } => fetch_archive(source, dir, folder, members, mirrors),
    }
}

/// Waits for another process fetching into `dir`, saying so.
fn take_lock(lock: &std::fs::File, dir: &Path) -> Result<(), DataError> {
    if lock.try_lock().is_ok() {
        return Ok(());
    }
    eprintln!(
        "waiting for another process fetching into {}",
        dir.display()
    );
    lock.lock()
        .map_err(|e| DataError::new(dir, format!("cannot lock {LOCK_FILE}: {e}")))
}

/// Partial downloads and unpackings of a process that was killed (with the lock held now, no
/// other process is writing them).
fn remove_leftovers(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(".partial-") {
            let _ = std::fs::remove_file(entry.path());
        } else if name.starts_with(".unpacking-") {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn empty(source: &Source) -> Manifest {
    Manifest {
        dataset: source.name.clone(),
        files: Vec::new(),
    }
}

/// Downloads `file` unless `dir` holds a verified copy; the manifest entry of a new download.
fn fetch_file(
    source: &Source,
    file: &RemoteFile,
    dir: &Path,
    mirrors: Option<&[String]>,
) -> Result<Option<ManifestEntry>, DataError> {
    if check_published(file, dir)? == FileState::Verified {
        return Ok(None);
    }
    // A mirror holds each dataset in a folder of its name (MNIST and Fashion-MNIST share
    // file names).
    let bases: Vec<String> = match mirrors {
        Some(mirrors) => mirrors
            .iter()
            .map(|m| format!("{}/{}", m.trim_end_matches('/'), source.name))
            .collect(),
        None => file.bases.clone(),
    };
    let done = download(file, &bases, dir)
        .map_err(|failures| cannot_download(source, file, dir, &failures))?;
    Ok(Some(entry_of(&file.name, &done)))
}

fn entry_of(name: &str, done: &Downloaded) -> ManifestEntry {
    ManifestEntry {
        name: name.to_string(),
        size: done.size,
        sha256: done.sha256.clone(),
        source: done.url.clone(),
        written: now_rfc3339(),
    }
}

/// The one line for a file no address delivered: what was tried, and what to do.
fn cannot_download(
    source: &Source,
    file: &RemoteFile,
    dir: &Path,
    failures: &[String],
) -> DataError {
    let names: Vec<&str> = source.files.iter().map(|f| f.name.as_str()).collect();
    let unpacked = match source.loader_subfolder() {
        Some(folder) => format!("its unpacked {folder}"),
        None => "a folder holding them".to_string(),
    };
    DataError::new(
        &dir.join(&file.name),
        format!(
            "cannot download {} ({}); put {} into {} by hand (or point data.dir at {unpacked}), \
             or set DDPM_EXP_DATA_MIRRORS to a mirror's address",
            source.name,
            failures.join("; "),
            names.join(", "),
            dir.display()
        ),
    )
}

/// CIFAR-10's layout: the archive downloaded, its folder unpacked beside it (with the
/// unpacked files' digests in that folder's manifest), the archive removed.
fn fetch_archive(
    source: &Source,
    dir: &Path,
    folder: &str,
    members: &[String],
    mirrors: Option<&[String]>,
) -> Result<PathBuf, DataError> {
    let loader_dir = dir.join(folder);
    // A complete folder is kept, even one unpacked by hand (no manifest: unverified).
    if check_folder(source, &loader_dir)?.usable() {
        return Ok(loader_dir);
    }
    let archive = &source.files[0];
    let done = match fetch_file(source, archive, dir, mirrors)? {
        Some(entry) => entry,
        None => entry_of(&archive.name, &already_here(dir, archive)?),
    };
    let origin = format!(
        "{} (SHA-256 {}, from {})",
        archive.name, done.sha256, done.source
    );
    let archive_path = dir.join(&archive.name);
    unpack_tar_gz(&archive_path, dir, folder, members, empty(source), &origin)?;
    let _ = std::fs::remove_file(archive_path);
    Ok(loader_dir)
}

/// A verified archive found in the folder (a fetch that stopped before unpacking).
fn already_here(dir: &Path, file: &RemoteFile) -> Result<Downloaded, DataError> {
    let path = dir.join(&file.name);
    Ok(Downloaded {
        url: path.display().to_string(),
        size: std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0),
        sha256: sha256_of(&path, false)?,
    })
}
