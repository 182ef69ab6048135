//! Training runs: one optimisation step, the loop around it, starting and resuming a run, and
//! the evaluations of a run's checkpoints (test NLL, sample quality), samples for other tools.

pub mod data_check;
pub mod data_export;
pub mod data_places;
pub mod data_throughput;
pub mod eval_nll;
pub mod eval_quality;
pub mod export_target;
pub mod live_view;
pub mod noise_ahead;
pub mod sample_export;
pub mod sampling;
pub mod schedule_lr;
pub mod session;
pub mod train_step;
pub mod trainer;

pub use session::{RunReport, resume_run, start_run};
pub use trainer::Outcome;
