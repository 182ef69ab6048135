//! Diffusion math only: schedules, the forward process, objectives and samplers. Knows no files.

pub mod bound;
pub mod coefficient;
pub mod ddim;
pub mod forward;
pub mod gaussian;
pub mod objective;
pub mod respace;
pub mod sampler;
pub mod schedule;
pub mod timestep_sampler;
pub mod weighting;

pub use coefficient::Coefficient;
pub use forward::StepCoefficients;
pub use objective::{LossKind, MeanKind, Objective, VarianceKind};
pub use respace::Respaced;
pub use sampler::{AncestralSampler, ChainSampler, SamplerKind};
pub use schedule::{DiffusionSchedule, ScheduleKind, ScheduleParams};
pub use timestep_sampler::{TimestepSampler, TimestepSamplerKind};
pub use weighting::{Weighting, WeightingKind};
