//! Sweeps: the product of the `--sweep` axes times each `--zip` group times the seeds; cell
//! names that do not depend on flag order; a sweep killed mid-cell and run again (finished
//! cells skipped, the partial one resumed to the uninterrupted numbers); an added value runs
//! only the new cells; every problem of a bad sweep in one message, exit 2, nothing written;
//! a Slurm dry run gives one task per cell × seed.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::common::{assert_success, bin, tiny_yaml};

use ddpm_exp::ablate::grid::{GridRequest, expand};
use ddpm_exp::record::RunFolder;
use ddpm_exp::record::metrics::read_metrics;
use ddpm_exp::spec::Overrides;
use ddpm_exp::spec::sweep::Sweep;

fn spec(dir: &Path) -> PathBuf {
    let path = dir.join("tiny.yaml");
    fs::write(&path, tiny_yaml()).unwrap();
    path
}

fn strings(flags: &[&str]) -> Vec<String> {
    flags.iter().map(|s| s.to_string()).collect()
}

/// The cells' (name, seed) of `spec` under the flags, as `ablate` would plan them.
fn cells(spec: &Path, sweeps: &[&str], zips: &[&str], seeds: &[u64]) -> Vec<(String, u64)> {
    let sweep = Sweep::from_flags(&strings(sweeps), &strings(zips)).unwrap();
    let request = GridRequest {
        specs: &[spec.to_path_buf()],
        seeds: Some(seeds),
        profile: None,
        overrides: &Overrides::default(),
        sweep: &sweep,
    };
    let cells = expand(&request).unwrap();
    cells
        .into_iter()
        .map(|c| (c.experiment.name, c.experiment.seed))
        .collect()
}

#[test]
fn the_grid_is_the_product_of_the_axes_and_zip_groups_times_seeds() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(dir.path());
    let sweeps = ["diffusion.mean=eps,x0,v", "model.channel_mult=[1,2],[1,1]"];
    let zips = ["train.lr=1e-3,2e-3", "model.dropout=0.0,0.2"];
    let grid = cells(&spec, &sweeps, &zips, &[0, 1]);
    assert_eq!(grid.len(), 3 * 2 * 2 * 2);
    // Seeds innermost, and every (name, seed) once.
    assert_eq!(grid[0].0, grid[1].0);
    assert_eq!((grid[0].1, grid[1].1), (0, 1));
    let mut unique = grid.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), grid.len());
    // A zip group's keys go together: lr 2e-3 only ever with dropout 0.2.
    assert!(
        grid.iter()
            .all(|(n, _)| n.contains("train.lr=0.002") == n.contains("dropout=0.2"))
    );
    // A range expands; `range` is Python's (stop excluded).
    let ranged = cells(
        &spec,
        &["train.lr=geom(1e-4,1e-3,4)", "train.steps=range(2,8,2)"],
        &[],
        &[0],
    );
    assert_eq!(ranged.len(), 4 * 3);
    assert!(ranged[3].0.contains("train.lr=0.000215443"), "{ranged:?}");
    assert!(ranged[3].0.ends_with("train.steps=2"), "{ranged:?}");
}

#[test]
fn cell_names_are_stable_and_independent_of_flag_order() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(dir.path());
    let a = cells(
        &spec,
        &["diffusion.mean=eps,v", "model.channel_mult=[1,2],[1,1]"],
        &[],
        &[0],
    );
    let b = cells(
        &spec,
        &["model.channel_mult=[1, 2],[1, 1]", "diffusion.mean=eps,v"],
        &[],
        &[0],
    );
    let sorted = |mut v: Vec<(String, u64)>| {
        v.sort();
        v
    };
    assert_eq!(sorted(a.clone()), sorted(b));
    assert!(
        a.iter()
            .any(|(n, _)| n == "tiny__diffusion.mean=v__model.channel_mult=1_2"),
        "{a:?}"
    );
    // Past 120 characters a name is cut and ends in a digest.
    let many = [
        "diffusion.mean=v",
        "diffusion.weighting.kind=p2",
        "diffusion.weighting.k=1.5",
        "diffusion.weighting.gamma=0.5",
        "train.warmup_steps=3",
        "train.ema_decay=0.9",
    ];
    let named = cells(&spec, &many, &[], &[0]);
    let name = &named[0].0;
    assert_eq!(name.chars().count(), 113, "{name}");
    assert!(name.starts_with("tiny__diffusion.mean=v__diffusion.weighting.gamma=0.5"));
    assert_eq!(name.chars().nth(100), Some('~'), "{name}");
}

fn ablate(args: &[&str], dir: &Path) -> Output {
    bin()
        .current_dir(dir)
        .arg("ablate")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn an_added_value_runs_only_the_new_cells() {
    let dir = tempfile::tempdir().unwrap();
    spec(dir.path());
    let first = ablate(
        &["tiny.yaml", "--sweep", "train.lr=1e-3", "--out", "out"],
        dir.path(),
    );
    assert_success(&first);
    let again = ablate(
        &["tiny.yaml", "--sweep", "train.lr=1e-3,2e-3", "--out", "out"],
        dir.path(),
    );
    assert_success(&again);
    let log = String::from_utf8_lossy(&again.stderr);
    assert!(
        log.contains("tiny__train.lr=0.001 seed 0: Skipped"),
        "{log}"
    );
    assert!(
        log.contains("tiny__train.lr=0.002 seed 0: Started"),
        "{log}"
    );
    let summary = fs::read_to_string(dir.path().join("out/summary.md")).unwrap();
    assert!(summary.contains("| train.lr |"), "{summary}");
    let csv = fs::read_to_string(dir.path().join("out/sweep.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(dir.path().join("out/sweep.parquet").is_file());
    assert!(dir.path().join("out/sweep.tex").is_file());
}

/// The run folder of `name` (seed 0) under `out` once its first checkpoint is written.
fn wait_for_checkpoint(out: &Path, name: &str) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(run) = RunFolder::attempts(out, name, 0).pop() {
            let checkpoints = fs::read_dir(run.dir().join("checkpoints"));
            if checkpoints.into_iter().flatten().flatten().next().is_some() {
                return run.dir().to_path_buf();
            }
        }
        assert!(Instant::now() < deadline, "{name}: no checkpoint appeared");
        sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_sweep_killed_mid_cell_skips_finished_cells_and_resumes_the_partial_one() {
    let dir = tempfile::tempdir().unwrap();
    spec(dir.path());
    let args = |out: &'static str, values: &'static str| {
        vec![
            "tiny.yaml",
            "--sweep",
            values,
            "--set",
            "train.steps=80",
            "--set",
            "train.checkpoint_every=5",
            "--set",
            "train.log_every=1",
            "--out",
            out,
        ]
    };
    let mut child = bin()
        .current_dir(dir.path())
        .arg("ablate")
        .args(args("out", "train.lr=1e-3,2e-3"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let partial = wait_for_checkpoint(&dir.path().join("out"), "tiny__train.lr=0.002");
    child.kill().unwrap();
    child.wait().unwrap();
    let again = ablate(&args("out", "train.lr=1e-3,2e-3"), dir.path());
    assert_success(&again);
    let log = String::from_utf8_lossy(&again.stderr);
    assert!(
        log.contains("tiny__train.lr=0.001 seed 0: Skipped"),
        "{log}"
    );
    assert!(
        log.contains("tiny__train.lr=0.002 seed 0: Resumed"),
        "{log}"
    );
    // The resumed cell ends where the uninterrupted one does.
    let whole = ablate(&args("whole", "train.lr=2e-3"), dir.path());
    assert_success(&whole);
    let uninterrupted = RunFolder::attempts(&dir.path().join("whole"), "tiny__train.lr=0.002", 0);
    let metrics = |run: &Path| read_metrics(&run.join("metrics.parquet")).unwrap();
    assert_eq!(metrics(&partial), metrics(uninterrupted[0].dir()));
}

/// `ablate` with `args` must fail with exit 2 listing every `expected` line, writing nothing.
fn assert_refused(dir: &Path, args: &[&str], expected: &[&str]) {
    let output = ablate(&[args, &["--out", "refused"]].concat(), dir);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    for line in expected {
        assert!(stderr.contains(line), "lacks {line:?}: {stderr}");
    }
    assert!(!dir.join("refused").exists(), "wrote something: {stderr}");
}

#[test]
fn every_problem_of_a_bad_sweep_is_reported_at_once_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    spec(dir.path());
    // Unknown key, wrong type, unequal zip: three problems, one message.
    assert_refused(
        dir.path(),
        &[
            "tiny.yaml",
            "--sweep",
            "train.lrr=1,2",
            "--sweep",
            "train.steps=3,many",
            "--zip",
            "train.lr=1e-3,2e-3",
            "--zip",
            "model.dropout=0.1",
        ],
        &[
            "3 problems:",
            "--sweep train.lrr=1,2 (value 1): key `train.lrr`: unknown key `lrr`, did you mean `lr`?",
            "--sweep train.steps=3,many (value many): key `train.steps`: invalid type",
            "zipped keys need equally many values: train.lr has 2, model.dropout has 1",
        ],
    );
    // A cell whose combination is refused names its cell's settings.
    assert_refused(
        dir.path(),
        &[
            "tiny.yaml",
            "--sweep",
            "diffusion.mean=eps,mu",
            "--sweep",
            "diffusion.weighting.kind=min_snr",
        ],
        &["cell diffusion.mean=mu, diffusion.weighting.kind=min_snr: --sweep"],
    );
    // A sweep file: its problems with file:line:col, a spec with two errors both named.
    fs::write(
        dir.path().join("two_errors.yaml"),
        "extends: tiny.yaml\ntrain: {lr: fast, stepz: 3}\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("sweep.yaml"),
        "extends: two_errors.yaml\nsweep:\n  diffusion.mean: [eps, banana]\nseedz: [0]\n",
    )
    .unwrap();
    assert_refused(
        dir.path(),
        &["sweep.yaml"],
        &[
            "sweep.yaml:4:1: key `seedz`: unknown key `seedz`, did you mean `seeds`?",
            "sweep.yaml:3:3 (value banana): key `diffusion.mean`: unknown value `banana`",
            "two_errors.yaml:2:",
            "stepz",
            "invalid type: string \"fast\"",
        ],
    );
    // `validate` reports both errors of one spec too.
    let validate = bin()
        .current_dir(dir.path())
        .args(["validate", "two_errors.yaml"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&validate.stderr);
    assert_eq!(validate.status.code(), Some(2));
    assert!(stderr.contains("2 problems:") && stderr.contains("stepz") && stderr.contains("fast"));
}

#[test]
fn a_slurm_dry_run_of_a_sweep_has_one_task_per_cell_and_seed() {
    let dir = tempfile::tempdir().unwrap();
    spec(dir.path());
    fs::write(
        dir.path().join("sweep.yaml"),
        "extends: tiny.yaml\nsweep:\n  diffusion.mean: [eps, x0, v]\nseeds: [0, 1]\n",
    )
    .unwrap();
    let dry = ablate(
        &[
            "sweep.yaml",
            "--sweep",
            "train.lr=1e-3,2e-3",
            "--out",
            "out",
            "--slurm",
            "--dry-run",
        ],
        dir.path(),
    );
    assert_success(&dry);
    let stdout = String::from_utf8_lossy(&dry.stdout).to_string();
    let array = dir.path().join(stdout.lines().next().unwrap());
    let script = fs::read_to_string(&array).unwrap();
    assert!(script.contains("#SBATCH --array=0-11\n"), "{script}");
    let plan: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(array.parent().unwrap().join("plan.json")).unwrap(),
    )
    .unwrap();
    let planned = plan["cells"].as_array().unwrap();
    assert_eq!(planned.len(), 3 * 2 * 2);
    assert_eq!(planned[0]["swept"][0][0], "diffusion.mean");
    // The plan's status lists every cell as pending.
    let status = bin()
        .args(["ablate", "--status", "--plan"])
        .arg(array.parent().unwrap())
        .output()
        .unwrap();
    assert_success(&status);
    assert!(String::from_utf8_lossy(&status.stdout).contains("12 cells: 12 pending"));
}
