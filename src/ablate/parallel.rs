//! `ablate --jobs N` / `--devices cuda:0,cuda:1,…`: the grid's cells run concurrently on one
//! machine, one process per slot, each running `ablate --plan P --task I` as a Slurm task
//! does. A GPU slot sees only its GPU (`CUDA_VISIBLE_DEVICES`, as Slurm's `--gpus-per-task`
//! sets it), so every cell's spec names the same device and its run equals the sequential one.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::plan::WrittenPlan;
use crate::device::DeviceName;
use crate::error::Failure;
use crate::record::RecordError;

/// Where one process of the pool runs: a name for the log, and its environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    pub label: String,
    pub env: Vec<(String, String)>,
}

/// `jobs` CPU slots.
pub fn cpu_slots(jobs: usize) -> Vec<Slot> {
    (0..jobs)
        .map(|k| Slot {
            label: format!("job {k}"),
            env: Vec::new(),
        })
        .collect()
}

/// One slot per CUDA device named (`cuda:N`, each once).
pub fn device_slots(devices: &[String]) -> Result<Vec<Slot>, Failure> {
    let mut slots: Vec<Slot> = Vec::new();
    for name in devices {
        let index = match name.parse::<DeviceName>() {
            Ok(DeviceName::Cuda(index)) => index,
            _ => {
                return Err(Failure::BadInput(format!(
                    "--devices {name}: expected CUDA devices as cuda:N (for CPU cells, --jobs N)"
                )));
            }
        };
        let label = format!("cuda:{index}");
        if slots.iter().any(|s| s.label == label) {
            return Err(Failure::BadInput(format!("--devices names {label} twice")));
        }
        let env = vec![("CUDA_VISIBLE_DEVICES".to_string(), index.to_string())];
        slots.push(Slot { label, env });
    }
    Ok(slots)
}

/// How one cell's process ended.
pub struct TaskEnd {
    pub index: usize,
    pub code: Option<i32>,
    pub log: PathBuf,
}

/// Runs every cell of `plan` with `program` (this binary), at most one per slot at a time,
/// each writing its output to `OUT/logs/cell_I.log`. On Ctrl-C / SIGTERM no new cell starts
/// and the running ones are told to stop (each checkpoints, as a lone run does).
pub fn run_pool(
    plan: &WrittenPlan,
    program: &Path,
    slots: &[Slot],
) -> Result<Vec<TaskEnd>, Failure> {
    let logs = plan.plan.out.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| RecordError::unwritable(&logs, e))?;
    let count = plan.plan.cells.len();
    let mut next = 0;
    let mut running: Vec<Option<(usize, Child, PathBuf)>> = slots.iter().map(|_| None).collect();
    let mut ended = Vec::new();
    let mut told_to_stop = false;
    loop {
        let stopping = crate::interrupt::requested();
        for (slot, place) in slots.iter().zip(running.iter_mut()) {
            if let Some((index, child, log)) = place {
                if let Some(status) = child
                    .try_wait()
                    .map_err(|e| Failure::Failed(e.to_string()))?
                {
                    eprintln!(
                        "[{}/{count}] cell {index} on {}: exit {status}",
                        *index + 1,
                        slot.label
                    );
                    ended.push(TaskEnd {
                        index: *index,
                        code: status.code(),
                        log: log.clone(),
                    });
                    *place = None;
                } else if stopping && !told_to_stop {
                    terminate(child);
                }
            }
            if place.is_none() && next < count && !stopping {
                *place = Some(spawn(plan, program, slot, next, &logs)?);
                eprintln!(
                    "[{}/{count}] cell {next} started on {}",
                    next + 1,
                    slot.label
                );
                next += 1;
            }
        }
        told_to_stop |= stopping;
        if running.iter().all(Option::is_none) && (next == count || stopping) {
            return Ok(ended);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn spawn(
    plan: &WrittenPlan,
    program: &Path,
    slot: &Slot,
    index: usize,
    logs: &Path,
) -> Result<(usize, Child, PathBuf), Failure> {
    let log = logs.join(format!("cell_{index:04}.log"));
    let file = std::fs::File::create(&log).map_err(|e| RecordError::unwritable(&log, e))?;
    let err = file
        .try_clone()
        .map_err(|e| RecordError::unwritable(&log, e))?;
    let child = Command::new(program)
        .args(["ablate", "--plan"])
        .arg(plan.path())
        .args(["--task", &index.to_string()])
        .envs(slot.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        // Its own process group: a Ctrl-C at the terminal reaches only this process, which
        // passes one SIGTERM on (two signals would make the child stop without a checkpoint).
        .process_group(0)
        .stdout(file)
        .stderr(err)
        .spawn()
        .map_err(|e| Failure::Failed(format!("cannot start {}: {e}", program.display())))?;
    Ok((index, child, log))
}

/// SIGTERM: the child finishes its step, checkpoints and stops.
fn terminate(child: &Child) {
    #[cfg(unix)]
    // SAFETY: kill(2) on our own child's pid touches no memory.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
}
