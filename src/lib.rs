//! ddpm-exp: a reproducible experiment and ablation harness for Denoising Diffusion
//! Probabilistic Models (Ho et al. 2020) on Burn.
//!
//! Arrows point one way: `spec` → `run` (which uses `diffusion`, `model`, `data`) → `record`.
//! `diffusion` is math only and knows no files.

pub mod ablate;
pub mod bench;
pub mod data;
pub mod device;
pub mod diffusion;
pub mod error;
pub mod interrupt;
pub mod model;
pub mod progress;
pub mod quality;
pub mod record;
pub mod report;
pub mod rng;
pub mod run;
pub mod spec;
