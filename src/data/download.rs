//! One file over HTTP(S) into a dataset folder: streamed into a partial name while its SHA-256
//! is computed, checked, and only then renamed into place. A download cut short or with other
//! bytes is never left where a loader would read it.

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::catalog::RemoteFile;
use super::verify::{FileState, check_bytes};
use crate::progress::Progress;

/// A file that arrived and verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    pub url: String,
    pub size: u64,
    pub sha256: String,
}

/// The HTTP client: rustls, the `*_proxy` variables, and time-outs so a dead or stalled
/// server ends in an error rather than a hang.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .timeout_per_read(Some(Duration::from_secs(60)))
        .user_agent(concat!("ddpm-exp/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// Downloads `file` into `dir/<name>` from the first of `bases` that delivers the right bytes.
/// Err holds one "address: what went wrong" per base tried.
pub fn download(
    file: &RemoteFile,
    bases: &[String],
    dir: &Path,
) -> Result<Downloaded, Vec<String>> {
    let agent = agent();
    let mut failures = Vec::new();
    for base in bases {
        let url = format!("{}/{}", base.trim_end_matches('/'), file.name);
        match download_from(&agent, &url, file, dir) {
            Ok(done) => return Ok(done),
            Err(why) => failures.push(format!("{url}: {why}")),
        }
    }
    Err(failures)
}

fn download_from(
    agent: &ureq::Agent,
    url: &str,
    file: &RemoteFile,
    dir: &Path,
) -> Result<Downloaded, String> {
    let mut response = agent.get(url).call().map_err(|e| e.to_string())?;
    let total = response.body().content_length().unwrap_or(file.size);
    let mut partial = tempfile::Builder::new()
        .prefix(&format!(".partial-{}-", file.name))
        .tempfile_in(dir)
        .map_err(|e| format!("cannot write into {}: {e}", dir.display()))?;
    let mut progress = Progress::bytes(&format!("download {}", file.name), total);
    let mut reader = response.body_mut().as_reader();
    let (size, sha256) = copy_hashing(&mut reader, partial.as_file_mut(), &mut progress)?;
    progress.finish();
    // Verified by the published digest, or (a recompressed copy) by its content's.
    let verified = sha256 == file.sha256
        || check_bytes(file, partial.path()).map_err(|e| e.to_string())? == FileState::Verified;
    if !verified {
        return Err(format!(
            "received {size} bytes with SHA-256 {sha256}, expected {} bytes with SHA-256 {}; \
             not kept",
            file.size, file.sha256
        ));
    }
    partial
        .as_file()
        .sync_all()
        .map_err(|e| format!("cannot write: {e}"))?;
    partial
        .persist(dir.join(&file.name))
        .map_err(|e| format!("cannot rename into place: {}", e.error))?;
    Ok(Downloaded {
        url: url.to_string(),
        size,
        sha256,
    })
}

/// Copies `reader` to `out`; returns the byte count and the SHA-256 of what was copied. A read
/// error (connection dropped, fewer bytes than Content-Length, a stall) is an error.
fn copy_hashing(
    reader: &mut impl Read,
    out: &mut std::fs::File,
    progress: &mut Progress,
) -> Result<(u64, String), String> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        // Ctrl-C: stop here (the partial file is removed) rather than finish the download.
        if crate::interrupt::requested() {
            return Err(format!("interrupted after {size} bytes"));
        }
        let n = reader
            .read(&mut buf)
            .map_err(|e| format!("download cut short after {size} bytes: {e}"))?;
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n])
            .map_err(|e| format!("cannot write: {e}"))?;
        hasher.update(&buf[..n]);
        size += n as u64;
        progress.update(size, "");
    }
    Ok((size, crate::record::checksum::hex(&hasher.finalize())))
}
