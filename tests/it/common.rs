//! Shared by the integration tests that drive the binary.

use std::path::PathBuf;
use std::process::{Command, Output};

/// A spec small enough to train in a second: 12 steps, T = 20, an 8-channel UNet, on the
/// device the tests run on (`tiny_yaml()` adds it).
const TINY: &str = "\
name: tiny
seed: 0
data: {dataset: digits}
diffusion: {timesteps: 20}
model: {channels: 8, channel_mult: [1, 2], num_res_blocks: 1, attention_resolutions: [4], dropout: 0.1, norm_groups: 4}
train: {steps: 12, batch_size: 8, lr: 1.0e-3, warmup_steps: 3, log_every: 2, checkpoint_every: 4, keep_checkpoints: 2, ema_decay: 0.9}
sample: {count: 4}
";

/// The device of the backend-generic tests: `DDPM_TEST_DEVICE` (CI runs them once on the
/// default `cpu` and once on `libtorch-cpu`), else `cpu`.
pub fn device_name() -> String {
    std::env::var("DDPM_TEST_DEVICE").unwrap_or_else(|_| "cpu".to_string())
}

/// The backend `meta.json` records for `device_name()`.
pub fn backend_name() -> &'static str {
    device_name()
        .parse::<ddpm_exp::device::DeviceName>()
        .expect("DDPM_TEST_DEVICE names a device")
        .backend()
}

/// The Burn device named by `device_name()`.
pub fn device() -> burn::prelude::Device {
    let name: ddpm_exp::device::DeviceName = device_name()
        .parse()
        .expect("DDPM_TEST_DEVICE names a device");
    name.device()
        .expect("DDPM_TEST_DEVICE names a usable device")
}

/// The tiny spec's YAML, on the tests' device.
pub fn tiny_yaml() -> String {
    format!("{TINY}device: {}\n", device_name())
}

/// Trains the tiny spec under `dir/results` and returns its run folder.
pub fn train_tiny(dir: &std::path::Path) -> PathBuf {
    let spec = dir.join("tiny.yaml");
    std::fs::write(&spec, tiny_yaml()).unwrap();
    let output = bin()
        .arg("run")
        .arg(&spec)
        .arg("--out")
        .arg(dir.join("results"))
        .output()
        .unwrap();
    assert_success(&output);
    last_line(&output)
}

/// The tests' Python (.venv-tch, made by scripts/setup-tch.sh) if it can `import_line`'s
/// modules; CI must have them, elsewhere the caller skips what needs them.
pub fn venv_python(import_line: &str) -> Option<PathBuf> {
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-tch/bin/python");
    let ok = Command::new(&python)
        .args(["-c", import_line])
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Some(python);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must have `{import_line}` in .venv-tch (scripts/setup-tch.sh test installs it)"
    );
    eprintln!(
        "skipped: no .venv-tch that can `{import_line}` (scripts/setup-tch.sh test makes one)"
    );
    None
}

/// The ddpm-exp binary built for these tests.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ddpm-exp"))
}

/// The last line of stdout, where `run` and `report` print the folder or page they made.
pub fn last_line(output: &Output) -> PathBuf {
    let stdout = String::from_utf8_lossy(&output.stdout);
    PathBuf::from(stdout.lines().last().unwrap_or_default())
}

/// Panics with the command's stderr unless it exited 0.
pub fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// An IDX file of unsigned bytes: 0x0000, type 0x08, rank, big-endian u32 dims, data.
pub fn idx_bytes(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

/// `bytes` gzip-compressed.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}
