//! Ancestral sampling, Algorithm 2 of the paper.

use burn::prelude::*;
use rand_chacha::ChaCha8Rng;

use super::forward::StepCoefficients;
use super::objective::Objective;
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
        let n = x_t.dims()[0];
        let coef = StepCoefficients::gather(self.schedule, &vec![t; n], &x_t.device());
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
        let [n, channels, ..] = x_t.dims();
        let coef = StepCoefficients::gather(self.schedule, &vec![t; n], &x_t.device());
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
