//! ddpm-exp: a reproducible experiment and ablation harness for Denoising Diffusion
//! Probabilistic Models (Ho et al. 2020) on Burn.
//!
//! Floors, bottom up; a module imports only from floors below it (README, "Layout and
//! architecture"):
//! 0. `rng`, `progress`, `interrupt`: seeded streams, progress bars, Ctrl-C / SIGTERM;
//!    `error`: each layer's error says whether the user's input caused it (`Cause`), and a
//!    command's `Failure` carries that to the exit code.
//! 1. `model` (the UNet), `diffusion` (math only, knows no files), `device`, `optim` (the
//!    flat clip + Adam + EMA update), `libtorch` (LibTorch's own kernels; the `tch` feature).
//! 2. `record` (everything on disk; `record::RunFolder` owns a run folder's layout), `data`,
//!    `tracking` (TensorBoard event files).
//! 3. `quality`: FID, IS, KID and their feature networks.
//! 4. `spec`: YAML → a resolved, checked `Experiment`.
//! 5. `run`: one training step, the loop around it, a run's start and resume, its evaluations.
//! 6. `ablate`, `report`, `bench`: the grid, the paper's figures and tables, throughput.
//!    `ablate` and `report` never import `run` (run folders are read through `record`).

pub mod ablate;
pub mod bench;
pub mod data;
pub mod device;
pub mod diffusion;
pub mod error;
pub mod interrupt;
#[cfg(feature = "tch")]
pub mod libtorch;
pub mod malloc_tuning;
pub mod model;
pub mod optim;
pub mod progress;
pub mod quality;
pub mod record;
pub mod report;
pub mod rng;
pub mod run;
pub mod spec;
pub mod tracking;
