//! The binary end to end on a tiny spec: run folders, records, determinism, divergence,
//! resume, validate and schedule.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{assert_success, backend_name, bin, last_line, tiny_yaml};

use ddpm_exp::record::RunFolder;
use ddpm_exp::record::meta::Status;
use ddpm_exp::record::metrics::{MetricRow, read_metrics};

fn tiny_spec(dir: &Path) -> PathBuf {
    let path = dir.join("tiny.yaml");
    fs::write(&path, tiny_yaml()).unwrap();
    path
}

/// Runs `ddpm-exp run` and returns (output, run folder from the last stdout line).
fn run(spec: &Path, out: &Path, extra: &[&str]) -> (Output, PathBuf) {
    let output = bin()
        .arg("run")
        .arg(spec)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    let folder = last_line(&output);
    (output, folder)
}

fn values(rows: &[MetricRow], name: &str) -> Vec<(u64, f64)> {
    rows.iter()
        .filter(|r| r.name == name)
        .map(|r| (r.step, r.value))
        .collect()
}

#[test]
fn same_seed_same_metrics_other_seed_other_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let spec = tiny_spec(dir.path());
    let results = dir.path().join("results");
    let (out_a, run_a) = run(&spec, &results, &[]);
    assert_success(&out_a);
    let (_, run_b) = run(&spec, &results, &[]);
    let (_, run_c) = run(&spec, &results, &["--seed", "1"]);
    assert_ne!(run_a, run_b, "a run folder is never reused");

    for file in [
        "spec.yaml",
        "meta.json",
        "metrics.parquet",
        "samples.png",
        "checkpoints/step_00000012/model.bpk",
    ] {
        assert!(run_a.join(file).is_file(), "{file} missing");
    }
    assert!(
        !run_a.join("checkpoints/step_00000004").exists(),
        "only the newest two are kept"
    );
    let meta = RunFolder::at(&run_a).read_meta().unwrap();
    assert_eq!(
        (meta.status, meta.seed, meta.steps_done),
        (Status::Ok, 0, 12)
    );
    assert_eq!(meta.backend, backend_name());

    let a = read_metrics(&run_a.join("metrics.parquet")).unwrap();
    let b = read_metrics(&run_b.join("metrics.parquet")).unwrap();
    let c = read_metrics(&run_c.join("metrics.parquet")).unwrap();
    let loss = values(&a, "loss");
    assert_eq!(
        loss.iter().map(|p| p.0).collect::<Vec<_>>(),
        vec![2, 4, 6, 8, 10, 12]
    );
    assert!(loss.iter().all(|p| p.1.is_finite() && p.1 > 0.0));
    assert_eq!(a, b, "same spec and seed on the CPU: identical metrics");
    assert_ne!(
        values(&a, "loss"),
        values(&c, "loss"),
        "another seed: other numbers"
    );
    assert_eq!(
        fs::read(run_a.join("samples.png")).unwrap(),
        fs::read(run_b.join("samples.png")).unwrap()
    );
    // Same spec and seed: the same checkpoint files, byte for byte (their SHA-256s), so a
    // reproduction can be proven by comparing checksums.json; another seed, other files.
    let checksums = |run: &Path, step: u64| {
        fs::read_to_string(run.join(format!("checkpoints/step_{step:08}/checksums.json"))).unwrap()
    };
    for step in [8, 12] {
        assert_eq!(
            checksums(&run_a, step),
            checksums(&run_b, step),
            "step {step}"
        );
        assert_ne!(
            checksums(&run_a, step),
            checksums(&run_c, step),
            "step {step}"
        );
    }

    // Loss per quarter of t, logged with the loss; on a logging step their batch-weighted
    // mean is the loss itself, so at least one quarter is present and all are finite.
    let quarters: Vec<&MetricRow> = a.iter().filter(|r| r.name.starts_with("loss_q")).collect();
    assert!(
        !quarters.is_empty()
            && quarters
                .iter()
                .all(|r| r.value.is_finite() && r.step % 2 == 0)
    );

    // The warm-up reaches the base rate at step 3 and holds it.
    let lr = values(&a, "lr");
    assert!(
        (lr[0].1 - 2.0 / 3.0 * 1e-3).abs() < 1e-12 && lr[1].1 == 1e-3,
        "{lr:?}"
    );
}

#[test]
fn resume_from_an_earlier_checkpoint_reproduces_the_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let spec = tiny_spec(dir.path());
    let results = dir.path().join("results");
    let (_, whole) = run(&spec, &results, &[]);
    let (_, cut) = run(&spec, &results, &[]);
    // Pretend the run died after its step-8 checkpoint: drop the newer one and the samples.
    fs::remove_dir_all(cut.join("checkpoints/step_00000012")).unwrap();
    fs::remove_file(cut.join("samples.png")).unwrap();
    let mut meta = RunFolder::at(&cut).read_meta().unwrap();
    meta.status = Status::Running;
    RunFolder::at(&cut).write_meta(&meta).unwrap();

    let output = bin().arg("run").arg("--resume").arg(&cut).output().unwrap();
    assert_success(&output);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .last()
            .unwrap(),
        cut.display().to_string()
    );

    let a = read_metrics(&whole.join("metrics.parquet")).unwrap();
    let b = read_metrics(&cut.join("metrics.parquet")).unwrap();
    assert_eq!(a, b, "no row lost or duplicated, same numbers");
    assert_eq!(
        fs::read(whole.join("samples.png")).unwrap(),
        fs::read(cut.join("samples.png")).unwrap()
    );
    let meta = RunFolder::at(&cut).read_meta().unwrap();
    assert_eq!(
        (meta.status, meta.resumed_at_steps.clone()),
        (Status::Ok, vec![8])
    );
}

#[test]
fn a_diverging_run_is_recorded_and_exits_with_its_own_code() {
    let dir = tempfile::tempdir().unwrap();
    let spec = tiny_spec(dir.path());
    let (output, run_dir) = run(
        &spec,
        &dir.path().join("results"),
        &[
            "--set",
            "train.lr=1e38",
            "--set",
            "train.warmup_steps=0",
            "--set",
            "train.grad_clip=null",
        ],
    );
    assert_eq!(
        output.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("diverged at step"));
    let meta = RunFolder::at(&run_dir).read_meta().unwrap();
    assert_eq!(meta.status, Status::Diverged);
    let step = meta.diverged_at_step.unwrap();
    assert!(step >= 2 && step <= 12, "step {step}");
    let rows = read_metrics(&run_dir.join("metrics.parquet")).unwrap();
    assert!(
        rows.iter()
            .any(|r| r.step == step && r.name == "loss" && !r.value.is_finite())
    );
}

#[test]
fn bad_specs_exit_2_with_one_line_and_leave_no_run_folder() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    fs::write(&bad, "train:\n  stepz: 3\n").unwrap();
    let results = dir.path().join("results");
    let output = bin()
        .arg("run")
        .arg(&bad)
        .arg("--out")
        .arg(&results)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("bad.yaml:2:3") && stderr.contains("did you mean `steps`"),
        "{stderr}"
    );
    assert!(!results.exists(), "nothing was created");

    let good = tiny_spec(dir.path());
    let output = bin().arg("validate").arg(&good).arg(&bad).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stdout).contains("ok:"));

    // A missing dataset folder is bad input too, caught before a run folder is made.
    let output = bin()
        .arg("run")
        .arg(&good)
        .arg("--out")
        .arg(&results)
        .args([
            "--set",
            "data.dataset=mnist",
            "--set",
            "data.dir=/nonexistent/mnist",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/mnist"));
    assert!(!results.exists());
}

#[test]
fn schedule_command_writes_every_column_for_every_t() {
    let dir = tempfile::tempdir().unwrap();
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/eps_simple.yaml");
    let csv = dir.path().join("schedule.csv");
    let output = bin()
        .arg("schedule")
        .arg(&spec)
        .arg("--out")
        .arg(&csv)
        .output()
        .unwrap();
    assert_success(&output);
    let text = fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "t,beta,alpha,alpha_bar,alpha_bar_prev,posterior_variance,posterior_log_variance_clipped,posterior_mean_coef1,posterior_mean_coef2,snr,loss_weight"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 1000);
    let first: Vec<f64> = rows[0].split(',').map(|v| v.parse().unwrap()).collect();
    assert_eq!(first[0], 1.0);
    assert!((first[1] - 1e-4).abs() < 1e-15 && (first[4] - 1.0).abs() < 1e-15);

    let parquet = dir.path().join("schedule.parquet");
    let output = bin()
        .arg("schedule")
        .arg(&spec)
        .arg("--out")
        .arg(&parquet)
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(&fs::read(&parquet).unwrap()[..4], b"PAR1");
}
