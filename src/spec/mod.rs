//! Experiment specs: YAML with `extends` and `--set`, resolved into one checked [`Experiment`].

pub mod error;
pub mod load;
pub mod locate;
pub mod overrides;
pub mod schema;
pub mod suggest;
pub mod validate;

pub use error::SpecError;
pub use load::{ResolvedSpec, load, load_resolved};
pub use overrides::Overrides;
pub use schema::Experiment;

use crate::diffusion::{
    AncestralSampler, ChainSampler, DiffusionSchedule, Objective, Respaced, ScheduleParams,
};
use crate::model::UNetConfig;

impl Experiment {
    /// The ablation cell this spec trains.
    pub fn objective(&self) -> Objective {
        let d = &self.diffusion;
        Objective {
            mean: d.mean,
            variance: d.variance,
            loss: d.loss,
            vlb_weight: d.vlb_weight,
            rescale_vlb: d.rescale_vlb,
        }
    }

    pub fn schedule_params(&self) -> ScheduleParams {
        let d = &self.diffusion;
        ScheduleParams {
            kind: d.schedule,
            beta_start: d.beta_start,
            beta_end: d.beta_end,
            cosine_s: d.cosine_s,
            max_beta: d.max_beta,
        }
    }

    pub fn schedule(&self) -> DiffusionSchedule {
        DiffusionSchedule::new(&self.schedule_params(), self.diffusion.timesteps)
    }

    /// The reverse process this spec samples with, on `schedule` (its own `schedule()`).
    pub fn sampler<'a>(&self, schedule: &'a DiffusionSchedule) -> AncestralSampler<'a> {
        AncestralSampler {
            schedule,
            objective: self.objective(),
            clip_x0: self.sample.clip_x0,
        }
    }

    /// The whole chain `sample` asks for (sampler, steps, η) on `schedule` (its own
    /// `schedule()`): the end-of-run grid, quality samples and `ddpm-exp sample` use it.
    pub fn chain_sampler(&self, schedule: &DiffusionSchedule) -> ChainSampler {
        ChainSampler {
            respaced: Respaced::evenly(schedule, self.sample_steps()),
            objective: self.objective(),
            clip_x0: self.sample.clip_x0,
            kind: self.sample.sampler,
            eta: self.sample.eta,
        }
    }

    /// The reverse steps `sample` asks for: `sample.steps`, or every one of the T.
    pub fn sample_steps(&self) -> usize {
        self.sample.steps.unwrap_or(self.diffusion.timesteps)
    }

    /// The UNet this spec builds, sized for its dataset and objective.
    pub fn unet_config(&self) -> UNetConfig {
        let (channels, size) = self.data.dataset.image_shape();
        UNetConfig {
            in_channels: channels,
            out_channels: self.objective().output_channels(channels),
            image_size: size,
            shape: self.model.clone(),
        }
    }
}
