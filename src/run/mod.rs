//! Training runs: the loop, its pieces, checkpoints, and the run folder's lifecycle.

pub mod checkpoint;
pub mod data_check;
pub mod ema;
pub mod evaluate;
pub mod grad_clip;
pub mod interrupt;
pub mod progress;
pub mod quality;
pub mod run_dir;
pub mod sampling;
pub mod schedule_lr;
pub mod session;
pub mod trainer;

pub use session::{RunReport, resume_run, start_run};
pub use trainer::Outcome;
