//! Ctrl-C (SIGINT) and SIGTERM while training. The first asks the training loop to finish its step, write a
//! checkpoint and stop (the run is marked `interrupted`; `--resume` or `ablate` continues it).
//! A second ends the process at once: checkpoints are written to a temporary folder and renamed,
//! so the newest complete one is still there to resume from. Also: SIGXFSZ is ignored.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Installs the handler (once per process; the binary calls it before training). Commands that
/// do not train leave the signals alone: their writes are atomic, and a Ctrl-C that only
/// printed a promise of a checkpoint would not stop them.
pub fn install() -> Result<(), ctrlc::Error> {
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

/// Whether a stop has been asked for.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
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
