//! SHA-256 manifests: a folder's files with their digests in `checksums.json`, so a file that
//! was changed or damaged after it was written is refused instead of read as if it were good.
//! (Burn's record files carry no checksum: flipped bytes in a weight tensor load silently.)

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::atomic::write_atomic;
use super::error::RecordError;

pub const MANIFEST: &str = "checksums.json";

/// The SHA-256 of a file's content, as lowercase hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    std::io::copy(&mut File::open(path)?, &mut hasher)?;
    Ok(hex(&hasher.finalize()))
}

/// Bytes as lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `dir/checksums.json` listing `files` (names inside `dir`) with their digests.
pub fn write_manifest(dir: &Path, files: &[&str]) -> std::io::Result<()> {
    let mut digests = BTreeMap::new();
    for &name in files {
        digests.insert(name.to_string(), sha256_file(&dir.join(name))?);
    }
    let json = serde_json::to_string_pretty(&digests).expect("digests serialise");
    write_atomic(&dir.join(MANIFEST), json.as_bytes())
}

/// Checks every file `dir/checksums.json` lists; the error names the first that does not match.
/// A folder without a manifest (written before manifests existed) passes.
pub fn verify_manifest(dir: &Path) -> Result<(), RecordError> {
    let path = dir.join(MANIFEST);
    if !path.exists() {
        return Ok(());
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| RecordError::unreadable(&path, format!("cannot read: {e}")))?;
    let digests: BTreeMap<String, String> = serde_json::from_str(&text)
        .map_err(|e| RecordError::unreadable(&path, format!("not a checksum manifest: {e}")))?;
    for (name, expected) in digests {
        let file = dir.join(&name);
        let actual = sha256_file(&file)
            .map_err(|e| RecordError::unreadable(&file, format!("cannot read: {e}")))?;
        if actual != expected {
            return Err(RecordError::unreadable(
                &file,
                "content does not match the SHA-256 recorded when it was written (changed or damaged since)",
            ));
        }
    }
    Ok(())
}
