//! Experiment specs: YAML with `extends` and `--set`, resolved into one checked [`Experiment`].

pub mod error;
pub mod layer_check;
pub mod load;
pub mod locate;
pub mod overrides;
pub mod schema;
pub mod suggest;
pub mod sweep;
pub mod sweep_file;
pub mod sweep_values;
pub mod validate;

pub use error::SpecError;
pub use load::{OverrideLine, ResolvedSpec, SpecTemplate, check_override, load, load_resolved};
pub use overrides::Overrides;
pub use schema::{Experiment, SamplerChoice};
pub use validate::MAX_IMAGE_SIZE;

use crate::diffusion::{
    AncestralSampler, ChainSampler, DiffusionSchedule, Objective, Respaced, SamplerKind,
    ScheduleParams,
};
use crate::model::UNetConfig;
use crate::record::eval_table::SAMPLES_SPLIT;

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
            weighting: d.weighting.weighting(),
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

    /// This spec with `choice` laid over its `sample` settings, checked as a spec's own are;
    /// the `sample.*` key and why when the result is not a valid sampler.
    pub fn with_sampler(&self, choice: &SamplerChoice) -> Result<Self, (&'static str, String)> {
        let mut spec = self.clone();
        let s = &mut spec.sample;
        s.sampler = choice.sampler.unwrap_or(s.sampler);
        s.steps = choice.steps.or(s.steps);
        // η belongs to DDIM: switching a DDIM spec to ancestral leaves its η behind.
        let kept_eta = match s.sampler {
            SamplerKind::Ancestral => 0.0,
            SamplerKind::Ddim => s.eta,
        };
        s.eta = choice.eta.unwrap_or(kept_eta);
        s.clip_x0 = choice.clip_x0.unwrap_or(s.clip_x0);
        match validate::sampler_problem(s, self.diffusion.timesteps) {
            Some(problem) => Err(problem),
            None => Ok(spec),
        }
    }

    /// The spec the evaluations during training sample with (`eval.quality_sampler` over
    /// `sample`; checked when the spec was loaded).
    pub fn in_training_sampling(&self) -> Self {
        self.with_sampler(&self.eval.quality_sampler)
            .unwrap_or_else(|_| self.clone())
    }

    /// Whether `other` draws samples differently from this spec (sampler, steps, η or
    /// clipping).
    pub fn samples_unlike(&self, other: &Self) -> bool {
        let how = |e: &Self| {
            (
                e.sample.sampler,
                e.sample_steps(),
                e.sample.eta,
                e.sample.clip_x0,
            )
        };
        how(self) != how(other)
    }

    /// The eval table's split of the sample rows of a quality evaluation of a run of this spec
    /// whose samples were drawn as `sampling` says: `samples vs train` for the run's own
    /// sampler, with the sampler in brackets for another (`samples vs train [ddim, 50 steps,
    /// η 0]`).
    pub fn samples_split(&self, sampling: &Self) -> String {
        if self.samples_unlike(sampling) {
            format!("{SAMPLES_SPLIT} [{}]", sampling.sampler_label())
        } else {
            SAMPLES_SPLIT.to_string()
        }
    }

    /// The split of the sample rows of the evaluations made during training.
    pub fn in_training_split(&self) -> String {
        self.samples_split(&self.in_training_sampling())
    }

    /// How this spec samples, for labels: "ddim, 50 steps, η 0" or "ancestral, 1000 steps".
    pub fn sampler_label(&self) -> String {
        let (kind, steps) = (self.sample.sampler, self.sample_steps());
        let clipped = if self.sample.clip_x0 {
            ", x̂0 clipped"
        } else {
            ""
        };
        match kind {
            SamplerKind::Ddim => format!(
                "{}, {steps} steps, η {}{clipped}",
                kind.name(),
                self.sample.eta
            ),
            SamplerKind::Ancestral => format!("{}, {steps} steps{clipped}", kind.name()),
        }
    }

    /// The UNet this spec builds, sized for its dataset and objective.
    pub fn unet_config(&self) -> UNetConfig {
        let (channels, size) = self.data.image_shape();
        UNetConfig {
            in_channels: channels,
            out_channels: self.objective().output_channels(channels),
            image_size: size,
            shape: self.model.clone(),
        }
    }
}
