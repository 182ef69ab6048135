//! The full variational bound L = L_T + Σ_{t≥2} L_{t−1} + L_0 (paper eq. 5) of held-out data,
//! term by term, in bits/dim: the NLL column of Tables 1–2 and the rate–distortion data of
//! Fig. 5.

use burn::prelude::*;
use rand_chacha::ChaCha8Rng;

use super::forward::StepCoefficients;
use super::gaussian::{mean_bits_per_dim, normal_kl};
use super::objective::Objective;
use super::schedule::DiffusionSchedule;
use crate::rng::normal_tensor;

/// Sums over the images of one or more batches; divide by `images` for means.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundSums {
    pub images: usize,
    /// Σ over images of L_{t−1} (L_0 at t = 1) in bits/dim; index t − 1.
    pub vb: Vec<f64>,
    /// Σ over images of the per-pixel MSE of x̂_0 at each t, x̂_0 clipped to the data range
    /// [−1, 1] as a decoder would (the distortion of the paper's Fig 5; the official
    /// calc_bpd_loop clips it too). Unclipped, x̂_0 from x_T is ~1/√ᾱ_T ≈ 150× the noise.
    pub x0_mse: Vec<f64>,
    /// Σ over images of the per-pixel MSE of ε̂ at each t.
    pub eps_mse: Vec<f64>,
    /// Σ over images of L_T = KL(q(x_T|x_0) ‖ N(0, I)) in bits/dim.
    pub prior: f64,
}

impl BoundSums {
    pub fn new(timesteps: usize) -> Self {
        Self {
            images: 0,
            vb: vec![0.0; timesteps],
            x0_mse: vec![0.0; timesteps],
            eps_mse: vec![0.0; timesteps],
            prior: 0.0,
        }
    }

    pub fn add(&mut self, other: &BoundSums) {
        self.images += other.images;
        self.prior += other.prior;
        for (a, b) in [
            (&mut self.vb, &other.vb),
            (&mut self.x0_mse, &other.x0_mse),
            (&mut self.eps_mse, &other.eps_mse),
        ] {
            a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        }
    }

    /// Mean bits/dim of the whole bound: L_T + Σ_t L_{t−1}.
    pub fn total_bits_per_dim(&self) -> f64 {
        (self.prior + self.vb.iter().sum::<f64>()) / self.images as f64
    }

    pub fn prior_bits_per_dim(&self) -> f64 {
        self.prior / self.images as f64
    }
}

fn sum(t: Tensor<1>) -> f64 {
    t.sum().into_scalar::<f64>()
}

/// L_T per image in bits/dim: KL(N(√ᾱ_T x_0, 1 − ᾱ_T) ‖ N(0, I)).
pub fn prior_bits_per_dim(schedule: &DiffusionSchedule, x0: Tensor<4>) -> Tensor<1> {
    let t_max = schedule.timesteps();
    let mean = x0.clone().mul_scalar(schedule.sqrt_alpha_bar(t_max));
    let log_var = x0
        .zeros_like()
        .add_scalar((1.0 - schedule.alpha_bar(t_max)).ln());
    mean_bits_per_dim(normal_kl(mean, log_var, x0.zeros_like(), x0.zeros_like()))
}

/// Evaluates every term of the bound on the batch `x0` ([batch, c, h, w]), looping t = T … 1;
/// `model(x_t, ts)` is the network, `rng` draws the q(x_t|x_0) noise, `on_t` sees each t.
pub fn evaluate_bound(
    schedule: &DiffusionSchedule,
    objective: &Objective,
    x0: Tensor<4>,
    rng: &mut ChaCha8Rng,
    mut model: impl FnMut(Tensor<4>, &[usize]) -> Tensor<4>,
    mut on_t: impl FnMut(usize),
) -> BoundSums {
    let [batch, channels, ..] = x0.dims();
    let device = x0.device();
    let t_max = schedule.timesteps();
    let mut sums = BoundSums::new(t_max);
    sums.images = batch;
    sums.prior = sum(prior_bits_per_dim(schedule, x0.clone()));
    for t in (1..=t_max).rev() {
        let ts = vec![t; batch];
        let coef = StepCoefficients::shared(schedule, t);
        let noise = normal_tensor(rng, x0.dims(), &device);
        let x_t = coef.q_sample(x0.clone(), noise.clone());
        let out = model(x_t.clone(), &ts);
        let (mean_out, var_out) = objective.split_output(out, channels);
        let mean = objective.model_mean(mean_out.clone(), x_t.clone(), &coef, false);
        let log_var = objective.model_log_variance(var_out, &coef, &mean);
        let first =
            Tensor::<1, Bool>::from_data(TensorData::new(vec![t == 1; batch], [batch]), &device);
        let vb = objective.vb_term(mean, log_var, x0.clone(), x_t.clone(), &coef, first);
        let x0_hat = objective.predicted_x0(mean_out.clone(), x_t.clone(), &coef);
        let eps_hat = objective.predicted_eps(mean_out, x_t, &coef);
        let per_image_mse = |a: Tensor<4>, b: Tensor<4>| {
            (a - b)
                .square()
                .flatten::<2>(1, 3)
                .mean_dim(1)
                .reshape([batch])
        };
        sums.vb[t - 1] = sum(vb);
        sums.x0_mse[t - 1] = sum(per_image_mse(x0_hat.clamp(-1.0, 1.0), x0.clone()));
        sums.eps_mse[t - 1] = sum(per_image_mse(eps_hat, noise));
        on_t(t);
    }
    sums
}
