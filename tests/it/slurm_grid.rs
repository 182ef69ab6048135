//! `ablate --slurm` against a real one-node Slurm (slurm_cluster.rs): the six cells at a tiny
//! scale as an array two at a time, every task ok, the dependent job's summary, and the same
//! numbers as a sequential `ablate`; a task warned with SIGUSR2 requeued and resumed to the
//! uninterrupted result, and one killed without warning resumed when the grid is submitted
//! again; a bad spec or partition refused before anything is queued; `--dry-run`'s script
//! accepted by `sbatch --test-only`; no sbatch on PATH. And `--jobs 2` on one machine.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ddpm_exp::record::RunFolder;
use ddpm_exp::record::metrics::read_metrics;

use super::common::{assert_success, bin};
use super::slurm_cluster::TestCluster;

const BASE: &str = "\
seed: 0
data: {dataset: digits}
diffusion: {timesteps: 20}
model: {channels: 8, channel_mult: [1, 2], num_res_blocks: 1, attention_resolutions: [4], dropout: 0.0, norm_groups: 4}
train: {steps: 6, batch_size: 8, lr: 1.0e-3, warmup_steps: 2, log_every: 1, checkpoint_every: 3, ema_decay: 0.9}
sample: {count: 4}
eval: {nll_at_end: true, nll_images: 8, batch_size: 8}
";

/// The paper's six Table 2 cells (mean × variance × loss) on the tiny base.
fn six_cells(dir: &Path) -> Vec<PathBuf> {
    fs::write(dir.join("base.yaml"), BASE).unwrap();
    let cells = [
        ("mu_vlb_learned", "mu", "learned", "vlb"),
        ("mu_vlb_fixed", "mu", "fixed_large", "vlb"),
        ("mu_mse", "mu", "fixed_large", "simple"),
        ("eps_vlb_learned", "eps", "learned", "vlb"),
        ("eps_vlb_fixed", "eps", "fixed_large", "vlb"),
        ("eps_simple", "eps", "fixed_large", "simple"),
    ];
    cells
        .iter()
        .map(|(name, mean, variance, loss)| {
            let path = dir.join(format!("{name}.yaml"));
            let yaml = format!(
                "extends: base.yaml\nname: {name}\ndiffusion: {{mean: {mean}, variance: {variance}, loss: {loss}}}\n"
            );
            fs::write(&path, yaml).unwrap();
            path
        })
        .collect()
}

/// `ablate --plan … --status` of the one grid under `out`.
fn grid_status(out: &Path) -> String {
    let plan = fs::read_dir(out.join("grids"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let status = bin()
        .args(["ablate", "--status", "--plan"])
        .arg(&plan)
        .output()
        .unwrap();
    assert_success(&status);
    String::from_utf8_lossy(&status.stdout).into_owned()
}

/// The Table 2 section of a summary.md.
fn table2(summary: &str) -> &str {
    let start = summary.find("## Table 2").unwrap();
    &summary[start..summary.find("## Runs").unwrap()]
}

/// The one run folder of `name` (seed 0) under `out`.
fn run_of(out: &Path, name: &str) -> PathBuf {
    let attempts = RunFolder::attempts(out, name, 0);
    assert_eq!(attempts.len(), 1, "{name} under {}", out.display());
    attempts[0].dir().to_path_buf()
}

#[test]
fn a_grid_on_slurm_runs_every_cell_and_equals_the_sequential_run() {
    let Some(cluster) = TestCluster::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let specs = six_cells(dir.path());
    let timer = std::time::Instant::now();
    let sequential = dir.path().join("sequential");
    let local = bin()
        .arg("ablate")
        .args(&specs)
        .arg("--out")
        .arg(&sequential)
        .output()
        .unwrap();
    assert_success(&local);
    let sequential_time = timer.elapsed();

    let grid = dir.path().join("grid");
    let submitted = cluster
        .command(env!("CARGO_BIN_EXE_ddpm-exp"))
        .arg("ablate")
        .args(&specs)
        .arg("--out")
        .arg(&grid)
        .args([
            "--slurm",
            "--array-parallelism",
            "2",
            "--cpus-per-task",
            "1",
        ])
        .output()
        .unwrap();
    assert_success(&submitted);
    let ids = String::from_utf8_lossy(&submitted.stdout).to_string();
    assert_eq!(
        ids.split_whitespace().count(),
        2,
        "array and summary job ids: {ids}"
    );
    cluster.wait_for_empty_queue(Duration::from_secs(300));
    eprintln!(
        "sequential {sequential_time:?}; on Slurm, all {:?}",
        timer.elapsed()
    );

    // Every task's log is in the ablation folder; every cell ended ok.
    let logs = fs::read_dir(grid.join("slurm")).unwrap().count();
    assert_eq!(logs, 7, "six task logs and the summary job's");
    let table = grid_status(&grid);
    assert!(table.contains("6 cells: 6 ok"), "{table}");
    // The dependent job's summary: six rows ok, and Table 2 as the sequential run's.
    let summary = fs::read_to_string(grid.join("summary.md")).unwrap();
    assert_eq!(summary.matches("| 0 | ok |").count(), 6, "{summary}");
    assert!(
        summary.contains("read from the run folders of grid "),
        "{summary}"
    );
    let local_summary = fs::read_to_string(sequential.join("summary.md")).unwrap();
    assert_eq!(table2(&summary), table2(&local_summary));
    assert!(grid.join("report").is_dir(), "the summary job's report");
    for spec in &specs {
        let name = spec.file_stem().unwrap().to_string_lossy();
        let (a, b) = (run_of(&sequential, &name), run_of(&grid, &name));
        assert_eq!(
            read_metrics(&a.join("metrics.parquet")).unwrap(),
            read_metrics(&b.join("metrics.parquet")).unwrap(),
            "{name}: the array task's numbers differ from the sequential run's"
        );
        assert_eq!(
            fs::read(a.join("samples.png")).unwrap(),
            fs::read(b.join("samples.png")).unwrap()
        );
    }

    // A bad spec in the grid: exit 2, one line, nothing written, nothing submitted.
    let bad = dir.path().join("bad.yaml");
    fs::write(&bad, "extends: base.yaml\nname: bad\ntrain: {steps: -1}\n").unwrap();
    let refused_out = dir.path().join("refused");
    let refused = cluster
        .command(env!("CARGO_BIN_EXE_ddpm-exp"))
        .arg("ablate")
        .args([&specs[0], &bad])
        .arg("--out")
        .arg(&refused_out)
        .arg("--slurm")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("bad.yaml"), "{stderr}");
    assert!(!refused_out.exists(), "nothing written for a refused grid");

    // A submission Slurm refuses (no such partition): one line, exit 2, nothing queued.
    let refused = cluster
        .command(env!("CARGO_BIN_EXE_ddpm-exp"))
        .arg("ablate")
        .args(&specs)
        .arg("--out")
        .arg(dir.path().join("nowhere"))
        .args(["--slurm", "--partition", "nosuch"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    let last = stderr.lines().last().unwrap_or("");
    assert!(
        last.starts_with("error: sbatch refused") && last.contains("array.sbatch"),
        "{stderr}"
    );
    cluster.wait_for_empty_queue(Duration::from_secs(5));

    // --dry-run writes a script that sbatch accepts, and submits nothing.
    let dry = cluster
        .command(env!("CARGO_BIN_EXE_ddpm-exp"))
        .arg("ablate")
        .args(&specs)
        .arg("--out")
        .arg(dir.path().join("dry"))
        .args([
            "--slurm",
            "--dry-run",
            "--time",
            "00:10:00",
            "--sbatch-arg=--comment=ddpm",
        ])
        .output()
        .unwrap();
    assert_success(&dry);
    let stdout = String::from_utf8_lossy(&dry.stdout).to_string();
    let array_script = PathBuf::from(stdout.lines().next().unwrap());
    let script = fs::read_to_string(&array_script).unwrap();
    for line in [
        "#SBATCH --array=0-5\n",
        "#SBATCH --time=00:10:00\n",
        "#SBATCH --comment=ddpm\n",
        "#SBATCH --signal=B:USR2@300\n",
        "#SBATCH --requeue\n",
    ] {
        assert!(script.contains(line), "{line}: {script}");
    }
    let test_only = cluster
        .command("sbatch")
        .arg("--test-only")
        .arg(&array_script)
        .output()
        .unwrap();
    assert!(
        test_only.status.success(),
        "{}",
        String::from_utf8_lossy(&test_only.stderr)
    );
    // Nothing ran: the plan's summary says so, cell by cell.
    let plan = array_script.parent().unwrap().join("plan.json");
    let pending = bin()
        .args(["ablate", "--summary", "--plan"])
        .arg(&plan)
        .output()
        .unwrap();
    assert_success(&pending);
    let table = String::from_utf8_lossy(&pending.stdout);
    assert_eq!(table.matches("| 0 | pending |").count(), 6, "{table}");
    cluster.wait_for_empty_queue(Duration::from_secs(5));
}

#[test]
fn without_sbatch_on_path_the_grid_is_refused_in_one_line_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let specs = six_cells(dir.path());
    let out = dir.path().join("grid");
    let refused = bin()
        .env("PATH", dir.path())
        .arg("ablate")
        .args(&specs)
        .arg("--out")
        .arg(&out)
        .arg("--slurm")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("`sbatch` cannot be run"), "{stderr}");
    assert!(!out.exists());
}

/// One longer cell on the test cluster, beside its uninterrupted sequential run.
struct OneCell {
    cluster: TestCluster,
    dir: tempfile::TempDir,
    spec: PathBuf,
}

const LONGER: [&str; 4] = [
    "--set",
    "train.steps=200",
    "--set",
    "train.checkpoint_every=10",
];

impl OneCell {
    fn start() -> Option<OneCell> {
        let cluster = TestCluster::start()?;
        let dir = tempfile::tempdir().unwrap();
        let spec = six_cells(dir.path()).pop().unwrap(); // eps_simple
        let local = bin()
            .arg("ablate")
            .arg(&spec)
            .arg("--out")
            .arg(dir.path().join("whole"))
            .args(LONGER)
            .output()
            .unwrap();
        assert_success(&local);
        Some(OneCell { cluster, dir, spec })
    }

    fn grid(&self) -> PathBuf {
        self.dir.path().join("grid")
    }

    /// Submits the one-cell grid; returns its task's job id (`ARRAY_0`).
    fn submit(&self) -> String {
        let submitted = self
            .cluster
            .command(env!("CARGO_BIN_EXE_ddpm-exp"))
            .arg("ablate")
            .arg(&self.spec)
            .arg("--out")
            .arg(self.grid())
            .args(LONGER)
            .args(["--slurm", "--cpus-per-task", "1"])
            .output()
            .unwrap();
        assert_success(&submitted);
        let stdout = String::from_utf8_lossy(&submitted.stdout);
        format!("{}_0", stdout.split_whitespace().next().unwrap())
    }

    /// Waits until the task's run has its first checkpoint: mid-training.
    fn wait_for_first_checkpoint(&self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        let grid = self.grid();
        let first_checkpoint = || {
            RunFolder::attempts(&grid, "eps_simple", 0)
                .first()
                .is_some_and(|f| !f.checkpoints().is_empty())
        };
        while !first_checkpoint() {
            let late = std::time::Instant::now() > deadline;
            assert!(!late, "no checkpoint in 2 minutes");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The task's run ended ok with the uninterrupted run's rows, final state and samples,
    /// resumed once; its meta.json.
    fn assert_like_the_uninterrupted_run(&self) -> ddpm_exp::record::meta::Meta {
        let whole = run_of(&self.dir.path().join("whole"), "eps_simple");
        let run = run_of(&self.grid(), "eps_simple");
        let meta = RunFolder::at(&run).read_meta().unwrap();
        assert_eq!(meta.status, ddpm_exp::record::meta::Status::Ok);
        assert_eq!(meta.resumed_at_steps.len(), 1, "{meta:?}");
        assert!(meta.resumed_at_steps[0] < 200);
        assert_eq!(
            read_metrics(&whole.join("metrics.parquet")).unwrap(),
            read_metrics(&run.join("metrics.parquet")).unwrap(),
        );
        for file in ["checkpoints/step_00000200/state.json", "samples.png"] {
            assert_eq!(
                fs::read(whole.join(file)).unwrap(),
                fs::read(run.join(file)).unwrap()
            );
        }
        meta
    }
}

#[test]
fn a_task_warned_with_usr2_requeues_itself_and_ends_like_the_uninterrupted_run() {
    let Some(one) = OneCell::start() else { return };
    let task = one.submit();
    one.wait_for_first_checkpoint();
    let cluster = &one.cluster;
    let signalled = cluster
        .command("scancel")
        .args(["--signal=USR2", "--batch", &task])
        .status()
        .unwrap();
    assert!(signalled.success());

    // Requeued, Slurm holds the task a while (BeginTime): release it at once.
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    let mut released = false;
    loop {
        let queue = cluster
            .command("squeue")
            .args(["-h", "-o", "%i %T %r"])
            .output()
            .unwrap();
        let queue = String::from_utf8_lossy(&queue.stdout).to_string();
        if queue.trim().is_empty() {
            break;
        }
        let held = queue
            .lines()
            .any(|l| l.contains("PENDING") && l.contains("BeginTime"));
        if !released && held {
            let job = format!("jobid={task}");
            let update = cluster
                .command("scontrol")
                .args(["update", &job, "starttime=now"])
                .status()
                .unwrap();
            released = update.success();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still queued:\n{queue}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(released, "the task was never seen requeued");
    let meta = one.assert_like_the_uninterrupted_run();
    assert_eq!(meta.requeues, 1, "{meta:?}");
    let array = task.trim_end_matches("_0");
    let log = fs::read_to_string(one.grid().join(format!("slurm/{array}_0.out"))).unwrap();
    assert!(log.contains("requeueing job"), "{log}");
}

#[test]
fn a_task_killed_without_warning_resumes_when_the_grid_is_submitted_again() {
    let Some(one) = OneCell::start() else { return };
    let task = one.submit();
    one.wait_for_first_checkpoint();
    // As a node failure would: SIGKILL, no checkpoint of its own, no requeue.
    let killed = one
        .cluster
        .command("scancel")
        .args(["--signal=KILL", "--full", &task])
        .status()
        .unwrap();
    assert!(killed.success());
    one.cluster.wait_for_empty_queue(Duration::from_secs(120));
    let table = grid_status(&one.grid());
    assert!(table.contains("| interrupted |"), "{table}");

    // The same command again: the same plan, and the task resumes from the newest checkpoint.
    one.submit();
    one.cluster.wait_for_empty_queue(Duration::from_secs(300));
    let meta = one.assert_like_the_uninterrupted_run();
    assert_eq!(meta.requeues, 0);
}

#[test]
fn two_jobs_on_one_machine_give_the_sequential_summary() {
    let dir = tempfile::tempdir().unwrap();
    let specs = six_cells(dir.path());
    let ablate = |out: &str, extra: &[&str]| {
        let output = bin()
            .arg("ablate")
            .args(&specs)
            .arg("--out")
            .arg(dir.path().join(out))
            .args(extra)
            .output()
            .unwrap();
        assert_success(&output);
        fs::read_to_string(dir.path().join(out).join("summary.md")).unwrap()
    };
    let sequential = ablate("sequential", &[]);
    let timer = std::time::Instant::now();
    let pooled = ablate("pooled", &["--jobs", "2"]);
    eprintln!("--jobs 2: {:?}", timer.elapsed());
    assert_eq!(table2(&pooled), table2(&sequential));
    assert_eq!(pooled.matches("| 0 | ok |").count(), 6, "{pooled}");
    for spec in &specs {
        let name = spec.file_stem().unwrap().to_string_lossy();
        let (a, b) = (
            run_of(&dir.path().join("sequential"), &name),
            run_of(&dir.path().join("pooled"), &name),
        );
        assert_eq!(
            read_metrics(&a.join("metrics.parquet")).unwrap(),
            read_metrics(&b.join("metrics.parquet")).unwrap(),
            "{name}"
        );
    }
    let logs = fs::read_dir(dir.path().join("pooled/logs"))
        .unwrap()
        .count();
    assert_eq!(logs, 6, "one log per cell");

    // --devices takes CUDA devices only.
    let refused = bin()
        .arg("ablate")
        .args(&specs)
        .args(["--devices", "cuda:0,cpu"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--devices cpu: expected CUDA devices as cuda:N"),
        "{stderr}"
    );
}
