//! Choosing the device: what a run records, a device this build or machine cannot give, and
//! the throughput benchmark's own bookkeeping. Backend-generic: DDPM_TEST_DEVICE picks the
//! device (CI runs this on `cpu` and `libtorch-cpu`).

use std::fs;

use crate::common::{assert_success, backend_name, bin, device_name, last_line, tiny_yaml};

use burn::module::Module;
use ddpm_exp::record::RunFolder;
use ddpm_exp::record::meta::Status;
use ddpm_exp::spec::{Overrides, load};

#[test]
fn a_run_records_its_device_and_backend() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("tiny.yaml");
    fs::write(&spec, tiny_yaml()).unwrap();
    let output = bin()
        .args(["run", spec.to_str().unwrap(), "--out"])
        .arg(dir.path().join("results"))
        .args(["--set", "train.steps=2", "--set", "sample.count=1"])
        .output()
        .unwrap();
    assert_success(&output);
    let meta = RunFolder::at(&last_line(&output)).read_meta().unwrap();
    assert_eq!(meta.status, Status::Ok);
    // Recorded in its canonical spelling (`cuda` is written `cuda:0`).
    let canonical = device_name()
        .parse::<ddpm_exp::device::DeviceName>()
        .unwrap();
    assert_eq!(meta.device, canonical.to_string());
    assert_eq!(meta.backend, backend_name());
    assert_ne!(meta.backend, "unknown");
}

#[test]
fn a_device_that_is_not_there_is_bad_input_and_makes_no_run_folder() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("tiny.yaml");
    fs::write(&spec, tiny_yaml()).unwrap();
    let results = dir.path().join("results");
    // No machine here has eight GPUs; without the tch feature no CUDA device exists at all.
    let output = bin()
        .args(["run", spec.to_str().unwrap(), "--device", "cuda:7", "--out"])
        .arg(&results)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line, got: {stderr}");
    assert!(
        lines[0].starts_with("error: ") && lines[0].contains("\"cuda:7\""),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let made = fs::read_dir(&results).map(|d| d.count()).unwrap_or(0);
    assert_eq!(made, 0, "no run folder for a run that cannot start");
}

#[test]
fn bench_counts_the_specs_parameters_and_extrapolates_sampling_to_t() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("tiny.yaml");
    fs::write(&spec, tiny_yaml()).unwrap();
    let json = dir.path().join("bench.json");
    let output = bin()
        .args(["bench", spec.to_str().unwrap()])
        .args(["--warmup", "1", "--train-steps", "3", "--batch", "4"])
        .args([
            "--sample-images",
            "2",
            "--sample-steps",
            "5",
            "--phases",
            "2",
            "--json",
        ])
        .arg(&json)
        .output()
        .unwrap();
    assert_success(&output);
    let result: serde_json::Value = serde_json::from_slice(&fs::read(&json).unwrap()).unwrap();
    let experiment = load(&spec, None, &Overrides::default()).unwrap().experiment;
    let expected = experiment
        .unet_config()
        .init(&crate::common::device())
        .num_params();
    assert_eq!(result["params"].as_u64(), Some(expected as u64));
    assert_eq!(result["batch"].as_u64(), Some(4));
    assert_eq!(result["device"].as_str(), Some(device_name().as_str()));
    assert_eq!(result["train_steps"].as_u64(), Some(3));
    let steps_per_s = result["train_steps_per_s"].as_f64().unwrap();
    let seconds = result["train_seconds"].as_f64().unwrap();
    assert!(steps_per_s > 0.0 && (steps_per_s * seconds - 3.0).abs() < 1e-9);
    assert!(result["final_loss"].as_f64().unwrap().is_finite());
    // The tiny spec has T = 20: 5 timed reverse steps are a quarter of the chain.
    assert_eq!(result["timesteps"].as_u64(), Some(20));
    let part = result["sample_seconds"].as_f64().unwrap();
    let full = result["sample_seconds_full"].as_f64().unwrap();
    assert!(part > 0.0 && (full - 4.0 * part).abs() < 1e-9 * full.max(1.0));
    let per_s = result["sample_images_per_s"].as_f64().unwrap();
    assert!((per_s - 2.0 / full).abs() < 1e-9 * per_s.max(1.0));
    // Phase by phase: the six parts of a step, in order, each with time spent.
    let phases: Vec<(String, f64)> = serde_json::from_value(result["phase_ms"].clone()).unwrap();
    let names: Vec<&str> = phases.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        names,
        [
            "batch, t, noise, q_sample",
            "forward, loss read back",
            "backward",
            "clipping (norm read back)",
            "adam",
            "ema"
        ]
    );
    assert!(phases.iter().all(|(_, ms)| *ms > 0.0), "{phases:?}");
    // stdout is the same JSON.
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(printed, result);
}

#[test]
fn bf16_mixed_precision_follows_the_fp32_run_closely_but_not_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("tiny.yaml");
    fs::write(&spec, tiny_yaml()).unwrap();
    let losses = |precision: &str| {
        let output = bin()
            .args(["run", spec.to_str().unwrap(), "--out"])
            .arg(dir.path().join(precision))
            .args(["--set", &format!("train.precision={precision}")])
            .args(["--set", "sample.count=1", "--set", "train.log_every=1"])
            .output()
            .unwrap();
        assert_success(&output);
        let rows =
            ddpm_exp::record::metrics::read_metrics(&last_line(&output).join("metrics.parquet"))
                .unwrap();
        rows.into_iter()
            .filter(|r| r.name == "loss")
            .map(|r| r.value)
            .collect::<Vec<f64>>()
    };
    let fp32 = losses("fp32");
    let bf16 = losses("bf16");
    assert_eq!(fp32.len(), 12);
    assert_eq!(bf16.len(), 12);
    // Same seed, same batches: bf16 rounding moves every loss a little and no more.
    assert_ne!(fp32, bf16, "bf16 must really compute in bf16");
    for (step, (a, b)) in fp32.iter().zip(&bf16).enumerate() {
        assert!(
            (a - b).abs() <= 0.05 * a.abs(),
            "step {}: fp32 {a} vs bf16 {b}",
            step + 1
        );
    }
}
