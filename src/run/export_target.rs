//! Where exported images go (`ddpm-exp sample`, `ddpm-exp data export`): an `.npz` with a
//! JSON record beside it, or a folder of PNGs holding its record; checked before any work, and
//! never left half-written.

use std::path::{Path, PathBuf};

use crate::error::Failure;
use crate::record::RecordError;
use crate::record::atomic::write_atomic;
use crate::record::image_export::{write_npz, write_png_folder};

/// Where an export goes: `out.npz` with `out.npz.json` beside it, or a folder `out` of PNGs
/// with its record inside (`sampling.json`, `dataset.json`).
pub enum ExportTarget<'a> {
    Npz { file: &'a Path, sidecar: PathBuf },
    PngFolder { dir: &'a Path, record: &'static str },
}

impl<'a> ExportTarget<'a> {
    pub fn of(out: &'a Path, folder_record: &'static str) -> Self {
        let is_npz = out
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("npz"));
        if is_npz {
            let sidecar = PathBuf::from(format!("{}.json", out.display()));
            Self::Npz { file: out, sidecar }
        } else {
            Self::PngFolder {
                dir: out,
                record: folder_record,
            }
        }
    }

    /// Refuses, before anything is sampled, a target that exists (`sample` never overwrites)
    /// and makes the folder it goes in, so a bad `--out` costs no sampling.
    pub fn check_free(&self) -> Result<(), Failure> {
        let (out, taken) = match self {
            Self::Npz { file, sidecar } => (*file, [*file, sidecar.as_path()]),
            Self::PngFolder { dir, .. } => (*dir, [*dir, *dir]),
        };
        if let Some(path) = taken.iter().find(|p| p.exists()) {
            return Err(Failure::BadInput(format!(
                "{}: already exists; `sample` never overwrites (choose another --out)",
                path.display()
            )));
        }
        let parent = out.parent().filter(|p| !p.as_os_str().is_empty());
        if let Some(parent) = parent {
            std::fs::create_dir_all(parent).map_err(|e| {
                Failure::BadInput(format!(
                    "{}: cannot create the folder: {e}",
                    parent.display()
                ))
            })?;
        }
        Ok(())
    }

    /// Writes the samples and their record. Nothing half-written stays at the target: the npz
    /// is renamed into place whole (and removed again if its record cannot be written); the
    /// PNGs are written into `.partial-NAME` beside the target and renamed when all are there.
    /// `bytes` are uint8 N×H×W×C of `shape`; `json` says where they came from.
    pub fn write(&self, bytes: &[u8], shape: [usize; 4], json: &str) -> Result<(), RecordError> {
        match self {
            Self::Npz { file, sidecar } => {
                write_npz(file, bytes, shape)?;
                write_atomic(sidecar, json.as_bytes()).map_err(|e| {
                    let _ = std::fs::remove_file(file);
                    RecordError::unwritable(sidecar, format!("cannot write: {e}"))
                })
            }
            Self::PngFolder { dir, record } => {
                let partial = partial_sibling(dir);
                // What a killed export left there is not part of this one.
                let _ = std::fs::remove_dir_all(&partial);
                let written = write_png_folder(&partial, bytes, shape).and_then(|()| {
                    let sidecar = partial.join(record);
                    write_atomic(&sidecar, json.as_bytes())
                        .and_then(|()| std::fs::rename(&partial, dir))
                        .map_err(|e| RecordError::unwritable(dir, format!("cannot write: {e}")))
                });
                if written.is_err() {
                    let _ = std::fs::remove_dir_all(&partial);
                }
                written
            }
        }
    }
}

/// `.partial-NAME` in the same folder as `path`.
fn partial_sibling(path: &Path) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    path.with_file_name(format!(".partial-{name}"))
}
