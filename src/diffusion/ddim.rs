//! DDIM (Song, Meng & Ermon 2021): the non-Markovian reverse step of their Eq. 12,
//! x_{t−1} = √ᾱ_{t−1} x̂_0 + √(1 − ᾱ_{t−1} − σ_t²) ε̂ + σ_t z, with
//! σ_t(η) = η √((1 − ᾱ_{t−1}) / (1 − ᾱ_t)) √(1 − ᾱ_t / ᾱ_{t−1}) (Eq. 16): η = 0 is
//! deterministic, η = 1 has the ancestral chain's variance β̃_t. On a respaced schedule, t − 1 is
//! the previous kept step. Any mean parameterisation gives x̂_0 and ε̂; a learned Σ is unused.

use burn::prelude::*;

use super::forward::StepCoefficients;
use super::objective::{MeanKind, Objective};
use super::schedule::DiffusionSchedule;

pub struct DdimSampler<'a> {
    pub schedule: &'a DiffusionSchedule,
    pub objective: Objective,
    /// Clip x̂_0 to [−1, 1] (then ε̂ is taken from the clipped x̂_0, as improved-diffusion does).
    pub clip_x0: bool,
    pub eta: f64,
}

impl DdimSampler<'_> {
    /// σ_t of Eq. 16.
    pub fn sigma(&self, t: usize) -> f64 {
        let (abar, abar_prev) = (self.schedule.alpha_bar(t), self.schedule.alpha_bar_prev(t));
        self.eta * ((1.0 - abar_prev) / (1.0 - abar)).sqrt() * (1.0 - abar / abar_prev).sqrt()
    }

    /// x_{t−1} from x_t and the network output at t; `noise` is called only when σ_t > 0.
    pub fn step(
        &self,
        model_out: Tensor<4>,
        x_t: Tensor<4>,
        t: usize,
        noise: impl FnOnce() -> Tensor<4>,
    ) -> Tensor<4> {
        let channels = x_t.dims()[1];
        let coef = StepCoefficients::shared(self.schedule, t);
        let (mean_out, _) = self.objective.split_output(model_out, channels);
        let (x0, eps) = self.x0_and_eps(mean_out, x_t, &coef);
        let abar_prev = self.schedule.alpha_bar_prev(t);
        let sigma = self.sigma(t);
        let direction = (1.0 - abar_prev - sigma * sigma).max(0.0).sqrt();
        let x = x0.mul_scalar(abar_prev.sqrt()) + eps.mul_scalar(direction);
        if sigma > 0.0 {
            x + noise().mul_scalar(sigma)
        } else {
            x
        }
    }

    /// (x̂_0, ε̂) from the network's mean output.
    fn x0_and_eps(
        &self,
        mean_out: Tensor<4>,
        x_t: Tensor<4>,
        coef: &StepCoefficients,
    ) -> (Tensor<4>, Tensor<4>) {
        if matches!(self.objective.mean, MeanKind::Eps | MeanKind::V) && !self.clip_x0 {
            let x0 = self
                .objective
                .predicted_x0(mean_out.clone(), x_t.clone(), coef);
            return (x0, self.objective.predicted_eps(mean_out, x_t, coef));
        }
        let x0 = self.objective.predicted_x0(mean_out, x_t.clone(), coef);
        let x0 = if self.clip_x0 {
            x0.clamp(-1.0, 1.0)
        } else {
            x0
        };
        let eps = coef.eps_from_x0(x_t, x0.clone());
        (x0, eps)
    }
}
