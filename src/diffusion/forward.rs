//! Per-example coefficients for a batch of timesteps, and the forward process q(x_t|x_0).

use burn::prelude::*;

use super::schedule::DiffusionSchedule;

/// Schedule values gathered for one batch of timesteps, shaped [batch, 1, 1, 1] so they
/// broadcast over images.
pub struct StepCoefficients {
    pub sqrt_alpha_bar: Tensor<4>,
    pub sqrt_one_minus_alpha_bar: Tensor<4>,
    pub posterior_mean_coef1: Tensor<4>,
    pub posterior_mean_coef2: Tensor<4>,
    /// β_t / √(1 − ᾱ_t), the ε coefficient of eq. 11.
    pub eps_coef: Tensor<4>,
    /// 1 / √α_t, the outer factor of eq. 11.
    pub recip_sqrt_alpha: Tensor<4>,
    /// 1 / √ᾱ_t and √(1/ᾱ_t − 1): x̂_0 from ε (inverse of eq. 4).
    pub recip_sqrt_alpha_bar: Tensor<4>,
    pub sqrt_recip_alpha_bar_minus_one: Tensor<4>,
    /// log β̃_t with β̃_1 replaced by β̃_2: q's log-variance in the bound, and `fixed_small`'s.
    pub posterior_log_variance_clipped: Tensor<4>,
    /// log β_t: `fixed_large`'s log-variance (except t = 1) and `learned_range`'s upper end.
    pub log_beta: Tensor<4>,
    /// `fixed_large`'s log-variance: log β_t, with log β̃_2 at t = 1 as in the official code.
    pub fixed_large_log_variance: Tensor<4>,
}

fn column(values: Vec<f64>, device: &Device) -> Tensor<4> {
    let n = values.len();
    let data: Vec<f32> = values.into_iter().map(|v| v as f32).collect();
    Tensor::<1>::from_data(TensorData::new(data, [n]), device).reshape([n, 1, 1, 1])
}

impl StepCoefficients {
    /// Gathers the coefficients for the paper's timesteps `ts` (each in 1..=T).
    pub fn gather(schedule: &DiffusionSchedule, ts: &[usize], device: &Device) -> Self {
        let pick = |f: &dyn Fn(usize) -> f64| column(ts.iter().map(|&t| f(t)).collect(), device);
        Self {
            sqrt_alpha_bar: pick(&|t| schedule.sqrt_alpha_bar(t)),
            sqrt_one_minus_alpha_bar: pick(&|t| schedule.sqrt_one_minus_alpha_bar(t)),
            posterior_mean_coef1: pick(&|t| schedule.posterior_mean_coef1(t)),
            posterior_mean_coef2: pick(&|t| schedule.posterior_mean_coef2(t)),
            eps_coef: pick(&|t| schedule.beta(t) / schedule.sqrt_one_minus_alpha_bar(t)),
            recip_sqrt_alpha: pick(&|t| 1.0 / schedule.alpha(t).sqrt()),
            recip_sqrt_alpha_bar: pick(&|t| 1.0 / schedule.sqrt_alpha_bar(t)),
            sqrt_recip_alpha_bar_minus_one: pick(&|t| (1.0 / schedule.alpha_bar(t) - 1.0).sqrt()),
            posterior_log_variance_clipped: pick(&|t| schedule.posterior_log_variance_clipped(t)),
            log_beta: pick(&|t| schedule.beta(t).ln()),
            fixed_large_log_variance: pick(&|t| {
                if t == 1 {
                    schedule.posterior_log_variance_clipped(1)
                } else {
                    schedule.beta(t).ln()
                }
            }),
        }
    }

    /// x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε (eq. 4, reparameterised).
    pub fn q_sample(&self, x0: Tensor<4>, noise: Tensor<4>) -> Tensor<4> {
        x0 * self.sqrt_alpha_bar.clone() + noise * self.sqrt_one_minus_alpha_bar.clone()
    }

    /// μ̃_t(x_t, x_0) of eq. 7.
    pub fn posterior_mean(&self, x0: Tensor<4>, x_t: Tensor<4>) -> Tensor<4> {
        x0 * self.posterior_mean_coef1.clone() + x_t * self.posterior_mean_coef2.clone()
    }

    /// μ_θ = (x_t − β_t/√(1−ᾱ_t) ε_θ) / √α_t (eq. 11).
    pub fn mean_from_eps(&self, x_t: Tensor<4>, eps: Tensor<4>) -> Tensor<4> {
        (x_t - eps * self.eps_coef.clone()) * self.recip_sqrt_alpha.clone()
    }

    /// ε implied by x̂_0: (x_t/√ᾱ_t − x̂_0) / √(1/ᾱ_t − 1) (eq. 4 solved for ε).
    pub fn eps_from_x0(&self, x_t: Tensor<4>, x0: Tensor<4>) -> Tensor<4> {
        (x_t * self.recip_sqrt_alpha_bar.clone() - x0) / self.sqrt_recip_alpha_bar_minus_one.clone()
    }

    /// x̂_0 implied by a predicted posterior mean μ: (μ − coef2 x_t) / coef1 (eq. 7 inverted).
    pub fn x0_from_posterior_mean(&self, x_t: Tensor<4>, mean: Tensor<4>) -> Tensor<4> {
        (mean - x_t * self.posterior_mean_coef2.clone()) / self.posterior_mean_coef1.clone()
    }

    /// x̂_0 = x_t/√ᾱ_t − √(1/ᾱ_t − 1) ε (eq. 4 solved for x_0).
    pub fn x0_from_eps(&self, x_t: Tensor<4>, eps: Tensor<4>) -> Tensor<4> {
        x_t * self.recip_sqrt_alpha_bar.clone() - eps * self.sqrt_recip_alpha_bar_minus_one.clone()
    }
}
