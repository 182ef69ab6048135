//! Whether a folder holds a dataset's files with the digests they should have.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::DataError;
use super::catalog::{Layout, RemoteFile, Source};
use super::manifest::Manifest;

/// What one of the loader's files turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    /// Its bytes (or its gunzipped content) have the known digest.
    Verified,
    /// Present, but no digest is known for this form of it (why).
    Unverified(String),
    /// Present with other bytes than the known ones.
    Mismatch {
        path: PathBuf,
        expected: String,
        found: String,
    },
    Missing(PathBuf),
}

/// Every file a dataset's loader reads in one folder, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderCheck {
    pub dir: PathBuf,
    pub files: Vec<(String, FileState)>,
}

impl FolderCheck {
    /// Every file is there (verified or not) and none has wrong bytes.
    pub fn usable(&self) -> bool {
        self.files
            .iter()
            .all(|(_, s)| matches!(s, FileState::Verified | FileState::Unverified(_)))
    }
    pub fn verified(&self) -> bool {
        self.files.iter().all(|(_, s)| *s == FileState::Verified)
    }
    /// No file of the dataset is there at all.
    pub fn absent(&self) -> bool {
        self.files
            .iter()
            .all(|(_, s)| matches!(s, FileState::Missing(_)))
    }
    /// The first file with wrong bytes, as one line naming it and both digests.
    pub fn first_mismatch(&self) -> Option<String> {
        self.files.iter().find_map(|(_, s)| match s {
            FileState::Mismatch {
                path,
                expected,
                found,
            } => Some(mismatch_line(path, expected, found)),
            _ => None,
        })
    }
    /// One word for `data list`: verified, unverified, corrupt, incomplete or absent.
    pub fn summary(&self) -> &'static str {
        if self.verified() {
            "verified"
        } else if self.usable() {
            "unverified"
        } else if self.first_mismatch().is_some() {
            "corrupt"
        } else if self.absent() {
            "absent"
        } else {
            "incomplete"
        }
    }
}

pub fn mismatch_line(path: &Path, expected: &str, found: &str) -> String {
    format!(
        "{}: SHA-256 is {found}, expected {expected}: the file is not the published one",
        path.display()
    )
}

/// Checks the files `source`'s loader reads in `dir` (the folder a spec's `data.dir` names).
pub fn check_folder(source: &Source, dir: &Path) -> Result<FolderCheck, DataError> {
    let manifest = Manifest::read(dir);
    let mut files = Vec::new();
    match &source.layout {
        Layout::Files => {
            for file in &source.files {
                files.push((file.name.clone(), check_published(file, dir)?));
            }
        }
        Layout::TarGz { members, .. } => {
            for member in members {
                let state = check_against_manifest(manifest.as_ref(), &dir.join(member))?;
                files.push((member.clone(), state));
            }
        }
    }
    Ok(FolderCheck {
        dir: dir.to_path_buf(),
        files,
    })
}

/// A published file as it is, or (for a `.gz`) its unpacked copy beside it.
pub fn check_published(file: &RemoteFile, dir: &Path) -> Result<FileState, DataError> {
    let path = dir.join(&file.name);
    if path.is_file() {
        return check_bytes(file, &path);
    }
    let Some(stem) = file.name.strip_suffix(".gz") else {
        return Ok(FileState::Missing(path));
    };
    let unpacked = dir.join(stem);
    if !unpacked.is_file() {
        return Ok(FileState::Missing(path));
    }
    let Some(content) = &file.content_sha256 else {
        return Ok(FileState::Unverified(format!(
            "{stem} is unpacked, and only the digest of {} is known",
            file.name
        )));
    };
    let found = sha256_of(&unpacked, false)?;
    Ok(verdict(&unpacked, content, found))
}

/// A file as published, or recompressed (its gunzipped content has the known digest).
pub fn check_bytes(file: &RemoteFile, path: &Path) -> Result<FileState, DataError> {
    let found = sha256_of(path, false)?;
    if found == file.sha256 {
        return Ok(FileState::Verified);
    }
    if let Some(content) = &file.content_sha256
        && sha256_of(path, true).ok().as_ref() == Some(content)
    {
        return Ok(FileState::Verified);
    }
    Ok(verdict(path, &file.sha256, found))
}

fn check_against_manifest(
    manifest: Option<&Manifest>,
    path: &Path,
) -> Result<FileState, DataError> {
    if !path.is_file() {
        return Ok(FileState::Missing(path.to_path_buf()));
    }
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let Some(entry) = manifest.and_then(|m| m.entry(&name)) else {
        return Ok(FileState::Unverified(
            "unpacked without ddpm-exp, so no digest of it was recorded".into(),
        ));
    };
    let found = sha256_of(path, false)?;
    Ok(verdict(path, &entry.sha256, found))
}

fn verdict(path: &Path, expected: &str, found: String) -> FileState {
    if found == expected {
        FileState::Verified
    } else {
        FileState::Mismatch {
            path: path.to_path_buf(),
            expected: expected.to_string(),
            found,
        }
    }
}

/// SHA-256 (hex) of a file's bytes (record::checksum's), or of its gunzipped content.
pub fn sha256_of(path: &Path, gunzip: bool) -> Result<String, DataError> {
    let cannot = |e: std::io::Error| DataError::new(path, format!("cannot read: {e}"));
    if !gunzip {
        return crate::record::checksum::sha256_file(path).map_err(cannot);
    }
    let file = std::fs::File::open(path).map_err(cannot)?;
    let mut hasher = Sha256::new();
    let mut content = flate2::read::GzDecoder::new(std::io::BufReader::new(file));
    std::io::copy(&mut content, &mut hasher).map_err(cannot)?;
    Ok(crate::record::checksum::hex(&hasher.finalize()))
}
