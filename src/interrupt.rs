//! Ctrl-C (SIGINT), SIGTERM and SIGUSR2 while training. The first asks the training loop to finish its step, write a
//! checkpoint and stop (the run is marked `interrupted`; `--resume` or `ablate` continues it).
//! A second ends the process at once: checkpoints are written to a temporary folder and renamed,
//! so the newest complete one is still there to resume from. Also: SIGXFSZ is ignored.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// SIGUSR2: Slurm's warning that the job's time is running out or that it is preempted
/// (`#SBATCH --signal=B:USR2@N`). Training stops as for SIGTERM; a cluster task then asks to
/// be requeued (ablate/slurm.rs).
static PREEMPTED: AtomicBool = AtomicBool::new(false);

/// Installs the handler (once per process; the binary calls it before training). Commands that
/// do not train leave the signals alone: their writes are atomic, and a Ctrl-C that only
/// printed a promise of a checkpoint would not stop them.
pub fn install() -> Result<(), ctrlc::Error> {
    #[cfg(unix)]
    if let Err(e) = signal_hook::flag::register(signal_hook::consts::SIGUSR2, &PREEMPTED) {
        eprintln!("warning: cannot handle SIGUSR2 (Slurm's preemption warning): {e}");
    }
    ctrlc::set_handler(|| {
        if REQUESTED.swap(true, Ordering::SeqCst) {
            eprintln!("second interrupt: stopping now (the newest checkpoint is intact)");
            std::process::exit(130);
        }
        eprintln!(
            "interrupt: finishing this step, writing a checkpoint, then stopping (again to stop now)"
        );
    })
}

/// Whether a stop has been asked for (Ctrl-C, SIGTERM or SIGUSR2).
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst) || preempted()
}

/// Whether the stop was SIGUSR2: the scheduler's warning, after which a task is requeued.
pub fn preempted() -> bool {
    PREEMPTED.load(Ordering::SeqCst)
}

/// A write past the file-size limit (`ulimit -f`) sends SIGXFSZ, whose default action kills the
/// process before it can record anything. Ignored, the write fails with EFBIG instead, and the
/// run ends as `failed` with the error, its earlier checkpoints and metrics intact.
pub fn ignore_file_size_signal() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_IGN touches no memory of ours.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}
