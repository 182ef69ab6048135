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
    /// x_{t−1} = μ_θ(x_t, t) + σ_t z, z ~ N(0, I) for t > 1 and z = 0 at t = 1.
    pub fn step(
        &self,
        model_out: Tensor<4>,
        x_t: Tensor<4>,
        t: usize,
        rng: &mut ChaCha8Rng,
    ) -> Tensor<4> {
        let [n, c, h, w] = x_t.dims();
        let device = x_t.device();
        let coef = StepCoefficients::gather(self.schedule, &vec![t; n], &device);
        let (mean, log_var) =
            self.objective
                .p_mean_log_variance(model_out, x_t, &coef, self.clip_x0);
        if t == 1 {
            return mean;
        }
        mean + normal_tensor(rng, [n, c, h, w], &device) * log_var.mul_scalar(0.5).exp()
    }

    /// Runs the whole chain; `model(x_t, t)` returns the network output for timestep t and
    /// `on_step` is told each t as it is finished (for progress bars).
    pub fn sample(
        &self,
        shape: [usize; 4],
        device: &Device,
        rng: &mut ChaCha8Rng,
        mut model: impl FnMut(Tensor<4>, usize) -> Tensor<4>,
        mut on_step: impl FnMut(usize),
    ) -> Tensor<4> {
        let mut x = normal_tensor(rng, shape, device);
        for t in (1..=self.schedule.timesteps()).rev() {
            let out = model(x.clone(), t);
            x = self.step(out, x, t, rng);
            on_step(t);
        }
        x
    }
}
