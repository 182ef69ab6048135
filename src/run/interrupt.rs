//! Ctrl-C (SIGINT) and SIGTERM. The first asks the training loop to finish its step, write a
//! checkpoint and stop (the run is marked `interrupted`; `--resume` or `ablate` continues it).
//! A second ends the process at once: checkpoints are written to a temporary folder and renamed,
//! so the newest complete one is still there to resume from.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Installs the handler (once per process; the binary calls it at start).
pub fn install() -> Result<(), String> {
    ctrlc::set_handler(|| {
        if REQUESTED.swap(true, Ordering::SeqCst) {
            eprintln!("second interrupt: stopping now (the newest checkpoint is intact)");
            std::process::exit(130);
        }
        eprintln!("interrupt: finishing this step, writing a checkpoint, then stopping (again to stop now)");
    })
    .map_err(|e| format!("cannot install the Ctrl-C handler: {e}"))
}

/// Whether a stop has been asked for.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}
