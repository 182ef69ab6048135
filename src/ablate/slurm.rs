//! The grid as a Slurm job array: one task per cell, a throttle (`%N`), and a job that writes
//! the summary and the report once every task has ended (`--dependency=afterany`). Every node
//! must see the ablation folder and the binary at the same paths (a shared filesystem), as
//! Slurm's own examples assume.
//!
//! Preemption follows submitit's convention: Slurm sends SIGUSR2 some seconds before the time
//! limit (`--signal=B:USR2@N`, to the batch shell, which is ddpm-exp itself through `exec`),
//! the task checkpoints and asks to be requeued (`--requeue`); the requeued task resumes.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::plan::WrittenPlan;
use crate::error::Failure;
use crate::record::RunFolder;

/// What `ablate --slurm` asks of the scheduler.
#[derive(Debug, Clone, Default)]
pub struct SlurmOptions {
    pub partition: Option<String>,
    /// `--time`, e.g. `2-00:00:00`.
    pub time: Option<String>,
    pub gpus_per_task: Option<u32>,
    pub cpus_per_task: Option<u32>,
    pub mem: Option<String>,
    pub account: Option<String>,
    pub qos: Option<String>,
    /// At most this many tasks at once (`--array=…%N`).
    pub array_parallelism: Option<usize>,
    /// More `#SBATCH` lines, passed as given (`--constraint=a100`).
    pub sbatch_args: Vec<String>,
    /// Seconds before the time limit that Slurm warns the task.
    pub signal_seconds: u64,
}

/// The two scripts of a grid, in its plan folder.
pub struct GridScripts {
    pub array: PathBuf,
    pub summary: PathBuf,
}

/// What was submitted.
pub struct Submitted {
    pub array_job: String,
    pub summary_job: String,
}

/// `value` as one word of a `#SBATCH` line or a shell command: Slurm splits those lines at
/// whitespace, so a value with any is refused rather than silently cut.
fn one_word<'a>(what: &str, value: &'a str) -> Result<&'a str, Failure> {
    if value.is_empty() || value.chars().any(|c| c.is_whitespace() || c == '\'') {
        return Err(Failure::BadInput(format!(
            "{what} `{value}`: Slurm reads #SBATCH lines word by word; give it without spaces \
             or quotes"
        )));
    }
    Ok(value)
}

impl SlurmOptions {
    /// Refuses what the scripts could not carry, before anything is written.
    pub fn check(&self, binary: &Path, workdir: &Path, out: &Path) -> Result<(), Failure> {
        resource_lines(self, workdir)?;
        one_word("ddpm-exp binary", &binary.to_string_lossy())?;
        one_word("ablation folder", &out.to_string_lossy())?;
        for arg in &self.sbatch_args {
            one_word("--sbatch-arg", arg)?;
        }
        Ok(())
    }
}

/// The `#SBATCH` lines both scripts share: resources and where they run.
fn resource_lines(options: &SlurmOptions, workdir: &Path) -> Result<Vec<String>, Failure> {
    let mut lines = vec![format!(
        "--chdir={}",
        one_word("working folder", &workdir.to_string_lossy())?
    )];
    let strings = [
        ("partition", &options.partition),
        ("account", &options.account),
        ("qos", &options.qos),
        ("time", &options.time),
        ("mem", &options.mem),
    ];
    for (key, value) in strings {
        if let Some(v) = value {
            lines.push(format!("--{key}={}", one_word(&format!("--{key}"), v)?));
        }
    }
    lines.extend(
        options
            .cpus_per_task
            .map(|n| format!("--cpus-per-task={n}")),
    );
    Ok(lines)
}

fn script(job_name: &str, lines: &[String], command: &str) -> String {
    let mut text = String::from(
        "#!/bin/bash\n# Written by `ddpm-exp ablate --slurm`; submit again with sbatch.\n",
    );
    text += &format!("#SBATCH --job-name={job_name}\n");
    for line in lines {
        text += &format!("#SBATCH {line}\n");
    }
    text + "set -eu\n" + command + "\n"
}

/// Writes the array's and the summary job's scripts beside the plan.
pub fn write_scripts(
    plan: &WrittenPlan,
    options: &SlurmOptions,
    binary: &Path,
    workdir: &Path,
) -> Result<GridScripts, Failure> {
    let bin = one_word("ddpm-exp binary", &binary.to_string_lossy())?.to_string();
    let plan_path = one_word("ablation folder", &plan.path().to_string_lossy())?.to_string();
    let logs = plan.plan.out.join("slurm");
    std::fs::create_dir_all(&logs).map_err(|e| crate::record::RecordError::unwritable(&logs, e))?;
    let logs = logs.to_string_lossy().to_string();
    let count = plan.plan.cells.len();
    let throttle = options
        .array_parallelism
        .map_or(String::new(), |n| format!("%{n}"));
    let mut lines = resource_lines(options, workdir)?;
    lines.push(format!("--array=0-{}{throttle}", count.saturating_sub(1)));
    lines.push(format!("--output={logs}/%A_%a.out"));
    lines.extend(
        options
            .gpus_per_task
            .map(|n| format!("--gpus-per-task={n}")),
    );
    lines.push(format!("--signal=B:USR2@{}", options.signal_seconds));
    lines.extend(["--requeue".to_string(), "--open-mode=append".to_string()]);
    for arg in &options.sbatch_args {
        lines.push(one_word("--sbatch-arg", arg)?.to_string());
    }
    let id = plan
        .dir
        .file_name()
        .map_or("grid".into(), |n| n.to_string_lossy().to_string());
    let array = script(
        &format!("ddpm-exp-{id}"),
        &lines,
        &format!("exec {bin} ablate --plan {plan_path} --task \"$SLURM_ARRAY_TASK_ID\""),
    );
    let mut summary_lines = resource_lines(options, workdir)?;
    summary_lines.push(format!("--output={logs}/summary_%j.out"));
    let out = plan.plan.out.to_string_lossy();
    let summary = script(
        &format!("ddpm-exp-{id}-summary"),
        &summary_lines,
        &format!("{bin} ablate --plan {plan_path} --summary\nexec {bin} report {out} --no-samples"),
    );
    let scripts = GridScripts {
        array: plan.dir.join("array.sbatch"),
        summary: plan.dir.join("summary.sbatch"),
    };
    for (path, text) in [(&scripts.array, array), (&scripts.summary, summary)] {
        super::write_file(path, text.as_bytes())?;
    }
    Ok(scripts)
}

/// Whether `program` can be run from PATH: checked before anything is written.
pub fn require(program: &str) -> Result<(), Failure> {
    match Command::new(program).arg("--version").output() {
        Ok(_) => Ok(()),
        Err(e) => Err(Failure::BadInput(format!(
            "`{program}` cannot be run ({e}): --slurm needs Slurm's client commands on PATH \
             (use --dry-run to write the scripts only)"
        ))),
    }
}

/// Submits the array, then the summary job after it. If the second is refused the first is
/// cancelled, so a grid is submitted whole or not at all.
pub fn submit(scripts: &GridScripts) -> Result<Submitted, Failure> {
    let array_job = sbatch(&[], &scripts.array)?;
    let after = format!("--dependency=afterany:{array_job}");
    match sbatch(&[&after], &scripts.summary) {
        Ok(summary_job) => Ok(Submitted {
            array_job,
            summary_job,
        }),
        Err(e) => {
            let _ = Command::new("scancel").arg(&array_job).output();
            Err(e)
        }
    }
}

/// `sbatch --parsable ARGS SCRIPT`, returning the job id.
fn sbatch(args: &[&str], script: &Path) -> Result<String, Failure> {
    let output = Command::new("sbatch")
        .arg("--parsable")
        .args(args)
        .arg(script)
        .output()
        .map_err(|e| Failure::BadInput(format!("sbatch cannot be run: {e}")))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let id = stdout.trim().split(';').next().unwrap_or("").to_string();
    if !output.status.success() || id.is_empty() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let why = stderr
            .lines()
            .last()
            .unwrap_or("no message")
            .trim()
            .to_string();
        return Err(Failure::BadInput(format!(
            "sbatch refused {}: {why}",
            script.display()
        )));
    }
    Ok(id)
}

/// After a task's run stopped on SIGUSR2 (checkpoint written, status interrupted): records the
/// requeue in the run's meta.json and asks Slurm to put this task back in the queue, unless it
/// has restarted `max` times already (`SLURM_RESTART_COUNT`). Returns the restart count asked
/// for, or None when the cap is reached or this is not a Slurm job.
pub fn requeue_self(run_dir: &Path, max: u32) -> Result<Option<u32>, Failure> {
    let Ok(job) = std::env::var("SLURM_JOB_ID") else {
        return Ok(None);
    };
    let restarts: u32 = std::env::var("SLURM_RESTART_COUNT")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    if restarts >= max {
        eprintln!("not requeued: job {job} has restarted {restarts} times (--max-requeues {max})");
        return Ok(None);
    }
    // Recorded first: Slurm ends this process as it requeues the job.
    let folder = RunFolder::at(run_dir);
    {
        let _lock = folder.lock()?;
        let mut meta = folder.read_meta()?;
        meta.requeues += 1;
        folder.write_meta(&meta)?;
    }
    // Said first as well: Slurm stops this task (and may stop scontrol with it, by a signal)
    // as soon as the requeue is accepted.
    eprintln!(
        "requeueing job {job}: restart {} of at most {max}",
        restarts + 1
    );
    let output = Command::new("scontrol")
        .args(["requeue", &job])
        .output()
        .map_err(|e| {
            Failure::Failed(format!("scontrol cannot be run to requeue job {job}: {e}"))
        })?;
    let stopped_by_slurm = {
        use std::os::unix::process::ExitStatusExt;
        output.status.signal().is_some()
    };
    if !output.status.success() && !stopped_by_slurm {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(Failure::Failed(format!(
            "scontrol requeue {job} failed: {}",
            stderr.trim()
        )));
    }
    Ok(Some(restarts + 1))
}
