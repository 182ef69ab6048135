//! `manifest.json` in a folder ddpm-exp downloaded or unpacked a dataset into: every file with
//! its size, SHA-256 and where it came from. Unpacked files (CIFAR-10's batches) have no
//! published digest, so this record is what later checks compare them against.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::DataError;

pub const MANIFEST_FILE: &str = "manifest.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub dataset: String,
    pub files: Vec<ManifestEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub name: String,
    pub size: u64,
    pub sha256: String,
    /// The address it was downloaded from, or the archive it was unpacked from.
    pub source: String,
    /// When (RFC 3339, UTC).
    pub written: String,
}

impl Manifest {
    /// The manifest in `dir`, if there is a readable one (a damaged one counts as none: its
    /// files then read as unverified rather than as corrupt).
    pub fn read(dir: &Path) -> Option<Manifest> {
        let text = std::fs::read_to_string(dir.join(MANIFEST_FILE)).ok()?;
        serde_json::from_str(&text).ok()
    }

    pub fn entry(&self, name: &str) -> Option<&ManifestEntry> {
        self.files.iter().find(|e| e.name == name)
    }

    /// Writes the manifest whole (record::atomic: a temporary file renamed over the old one).
    pub fn write(&self, dir: &Path) -> Result<(), DataError> {
        let path = dir.join(MANIFEST_FILE);
        let text = serde_json::to_string_pretty(self).expect("a manifest serialises");
        crate::record::atomic::write_atomic(&path, text.as_bytes())
            .map_err(|e| DataError::new(&path, format!("cannot write: {e}")))
    }

    /// Adds or replaces the entry named like `entry`.
    pub fn record(&mut self, entry: ManifestEntry) {
        self.files.retain(|e| e.name != entry.name);
        self.files.push(entry);
    }
}

/// Now, as the manifest writes it.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
