//! The record layer's error: a folder that is not a run, a run another process holds (both the
//! user's input), or a record that cannot be read back or written (failures while running).

use std::fmt::Display;
use std::path::{Path, PathBuf};

use crate::error::Cause;

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The folder the user named holds no run. Bad input.
    #[error("{}: not a run folder (no {marker})", dir.display())]
    NotARun { dir: PathBuf, marker: &'static str },
    /// A record the harness wrote is missing, unreadable, not in its format or not what its
    /// checksum says (cut short, changed since): a failure, and the file is left as it is.
    #[error("{}: {message}", path.display())]
    Unreadable { path: PathBuf, message: String },
    /// Another process holds the run folder's lock. Bad input: nothing was run.
    #[error(
        "{}: another ddpm-exp process is running this run (it holds {})",
        dir.display(),
        lock_file.display()
    )]
    Locked { dir: PathBuf, lock_file: PathBuf },
    /// This process cannot take the run folder's lock: bad input when the folder is not the
    /// user's to write (read-only, another user's run), a failure otherwise (a full disk, NFS).
    #[error("{}: {message}", lock_file.display())]
    Unlockable {
        lock_file: PathBuf,
        kind: std::io::ErrorKind,
        message: String,
    },
    /// Writing failed (a full disk, permissions); what was there before is kept.
    #[error("{}: {message}", path.display())]
    Unwritable { path: PathBuf, message: String },
}

impl RecordError {
    pub fn unreadable(path: &Path, message: impl Display) -> Self {
        Self::Unreadable {
            path: path.to_path_buf(),
            message: message.to_string(),
        }
    }

    pub fn unwritable(path: &Path, message: impl Display) -> Self {
        Self::Unwritable {
            path: path.to_path_buf(),
            message: message.to_string(),
        }
    }
}

impl RecordError {
    /// The same error with `hint` (what the user can do) after its message.
    pub fn with_hint(self, hint: impl Display) -> Self {
        match self {
            Self::Unreadable { path, message } => Self::Unreadable {
                path,
                message: format!("{message}; {hint}"),
            },
            Self::Unwritable { path, message } => Self::Unwritable {
                path,
                message: format!("{message}; {hint}"),
            },
            other => other,
        }
    }
}

impl Cause for RecordError {
    fn is_bad_input(&self) -> bool {
        use std::io::ErrorKind::{PermissionDenied, ReadOnlyFilesystem};
        match self {
            Self::NotARun { .. } | Self::Locked { .. } => true,
            Self::Unlockable { kind, .. } => matches!(kind, PermissionDenied | ReadOnlyFilesystem),
            Self::Unreadable { .. } | Self::Unwritable { .. } => false,
        }
    }
}
