//! Ancestral sampling, Algorithm 2 of the paper, and the whole chain with any of the samplers
//! researchers compare (respaced ancestral, DDIM).

use burn::prelude::*;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::ddim::DdimSampler;
use super::forward::StepCoefficients;
use super::objective::{MeanKind, Objective, VarianceKind};
use super::respace::Respaced;
use super::schedule::DiffusionSchedule;
use crate::rng::normal_tensor;

/// Draws samples by running the reverse chain from x_T ~ N(0, I) down to x_0.
pub struct AncestralSampler<'a> {
    pub schedule: &'a DiffusionSchedule,
    pub objective: Objective,
    /// Clip x̂_0 to [−1, 1] before forming μ_θ (the official code does; Algorithm 2 does not).
    pub clip_x0: bool,
}

impl AncestralSampler<'_> {
    /// x_{t−1} = μ_θ(x_t, t) + σ_t z for t > 1 and μ_θ at t = 1; z comes from `noise`
    /// (called only for t > 1), so callers can share one z across a batch (interpolations
    /// decode every λ with the same noise).
    pub fn step(
        &self,
        model_out: Tensor<4>,
        x_t: Tensor<4>,
        t: usize,
        noise: impl FnOnce() -> Tensor<4>,
    ) -> Tensor<4> {
        let coef = StepCoefficients::shared(self.schedule, t);
        let (mean, log_var) =
            self.objective
                .p_mean_log_variance(model_out, x_t, &coef, self.clip_x0);
        if t == 1 {
            return mean;
        }
        mean + noise() * log_var.mul_scalar(0.5).exp()
    }

    /// x̂_0 predicted from x_t by the network output (Eq. 15 for ε; clipped as sampling clips
    /// it), what progressive generation shows along the chain.
    pub fn predicted_x0(&self, model_out: Tensor<4>, x_t: Tensor<4>, t: usize) -> Tensor<4> {
        let channels = x_t.dims()[1];
        let coef = StepCoefficients::shared(self.schedule, t);
        let (mean_out, _) = self.objective.split_output(model_out, channels);
        let x0 = self.objective.predicted_x0(mean_out, x_t, &coef);
        if self.clip_x0 {
            x0.clamp(-1.0, 1.0)
        } else {
            x0
        }
    }

    /// Runs the whole chain; `model(x_t, t)` returns the network output for timestep t and
    /// `on_step` is told each t as it is finished (for progress bars).
    pub fn sample(
        &self,
        shape: [usize; 4],
        device: &Device,
        rng: &mut ChaCha8Rng,
        model: impl FnMut(Tensor<4>, usize) -> Tensor<4>,
        on_step: impl FnMut(usize),
    ) -> Tensor<4> {
        let x_t = normal_tensor(rng, shape, device);
        let t_max = self.schedule.timesteps();
        self.sample_from(
            x_t,
            t_max,
            model,
            |shape| normal_tensor(rng, shape, device),
            on_step,
        )
    }

    /// Runs the chain from a given x_t at `t_start` down to x_0 (reconstructions and
    /// interpolations start from diffused data); `noise(shape)` gives each step's z.
    pub fn sample_from(
        &self,
        mut x: Tensor<4>,
        t_start: usize,
        mut model: impl FnMut(Tensor<4>, usize) -> Tensor<4>,
        mut noise: impl FnMut([usize; 4]) -> Tensor<4>,
        mut on_step: impl FnMut(usize),
    ) -> Tensor<4> {
        let shape = x.dims();
        for t in (1..=t_start).rev() {
            let out = model(x.clone(), t);
            x = self.step(out, x, t, || noise(shape));
            on_step(t);
        }
        x
    }
}

/// Which reverse step a sampler takes (`sample.sampler` in a spec).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SamplerKind {
    /// Algorithm 2 (on a respaced schedule when fewer steps than T).
    #[default]
    Ancestral,
    /// DDIM's Eq. 12 with its η.
    Ddim,
}

impl SamplerKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Ancestral => "ancestral",
            Self::Ddim => "ddim",
        }
    }
}

/// A whole reverse chain from x_T ~ N(0, I): ancestral or DDIM, on every timestep or on a
/// respaced subsequence of them (the network is asked at the original timesteps).
pub struct ChainSampler {
    pub respaced: Respaced,
    pub objective: Objective,
    pub clip_x0: bool,
    pub kind: SamplerKind,
    /// DDIM's η (unused by the ancestral step).
    pub eta: f64,
}

impl ChainSampler {
    pub fn steps(&self) -> usize {
        self.respaced.steps()
    }

    /// Runs the chain; `model(x_t, t)` returns the network output at the original timestep t
    /// and `on_step` is told the number of steps done so far.
    pub fn sample(
        &self,
        shape: [usize; 4],
        device: &Device,
        rng: &mut ChaCha8Rng,
        mut model: impl FnMut(Tensor<4>, usize) -> Tensor<4>,
        mut on_step: impl FnMut(usize),
    ) -> Tensor<4> {
        let schedule = &self.respaced.schedule;
        let mut x = normal_tensor(rng, shape, device);
        let steps = self.steps();
        for k in (1..=steps).rev() {
            let t = self.respaced.original(k);
            let (out, objective) = self.step_output(model(x.clone(), t), &x, t);
            let noise = || normal_tensor(rng, shape, device);
            x = match self.kind {
                SamplerKind::Ancestral => AncestralSampler {
                    schedule,
                    objective,
                    clip_x0: self.clip_x0,
                }
                .step(out, x, k, noise),
                SamplerKind::Ddim => DdimSampler {
                    schedule,
                    objective,
                    clip_x0: self.clip_x0,
                    eta: self.eta,
                }
                .step(out, x, k, noise),
            };
            on_step(steps - k + 1);
        }
        x
    }

    /// What the network was trained to output refers to one step of the full chain at t; a
    /// respaced step jumps further, so two outputs are restated on the kept steps' terms:
    /// - a μ-predicting network gives the full chain's posterior mean μ̃(x_t, x_0): it is
    ///   turned into the x̂_0 it implies (Eq. 7 inverted), and the step is taken as for x_0;
    /// - the paper's learned log σ² is a one-step variance: it is restated as its place
    ///   between the full chain's log β̃_t and log β_t (clamped to them), and that fraction is
    ///   laid on the respaced step's own bounds, as Nichol & Dhariwal's `learned_range` output
    ///   is. (improved-diffusion uses a `learned` log σ² as is on respaced steps; this
    ///   restatement is ours.)
    fn step_output(&self, out: Tensor<4>, x_t: &Tensor<4>, t: usize) -> (Tensor<4>, Objective) {
        let restate_mean = self.objective.mean == MeanKind::Mu;
        let restate_variance = self.objective.variance == VarianceKind::Learned;
        if self.respaced.keeps_all() || !(restate_mean || restate_variance) {
            return (out, self.objective);
        }
        let channels = x_t.dims()[1];
        let (mean_out, var_out) = self.objective.split_output(out, channels);
        let coef = StepCoefficients::shared(&self.respaced.full, t);
        let mut objective = self.objective;
        let mean_out = if restate_mean {
            objective.mean = MeanKind::X0;
            coef.x0_from_posterior_mean(x_t.clone(), mean_out)
        } else {
            mean_out
        };
        let var_out = var_out.map(|v| {
            if !restate_variance {
                return v;
            }
            objective.variance = VarianceKind::LearnedRange;
            let low = &coef.posterior_log_variance_clipped;
            let range = coef.log_beta.minus(low);
            // v' = 2·frac − 1, frac = (log σ² − log β̃_t) / (log β_t − log β̃_t), clamped to
            // [0, 1]: late in the chain the two bounds lie a few float steps apart, and a
            // fraction far outside them would throw the wider respaced variance to 0 or ∞.
            let frac = range.divides(low.subtracted_from(v)).clamp(0.0, 1.0);
            frac.mul_scalar(2.0).sub_scalar(1.0)
        });
        let out = match var_out {
            Some(var_out) => Tensor::cat(vec![mean_out, var_out], 1),
            None => mean_out,
        };
        (out, objective)
    }
}
