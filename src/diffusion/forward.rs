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

/// Each function's value at each of `ts`, all in one upload ([functions, batch] f32): one
/// host → device copy per step instead of one per coefficient (each a stream sync on a GPU).
struct Columns {
    all: Tensor<2>,
}

impl Columns {
    fn upload(functions: &[&dyn Fn(usize) -> f64], ts: &[usize], device: &Device) -> Self {
        let mut data = Vec::with_capacity(functions.len() * ts.len());
        for f in functions {
            data.extend(ts.iter().map(|&t| f(t) as f32));
        }
        let shape = [functions.len(), ts.len()];
        Self {
            all: Tensor::from_data(TensorData::new(data, shape), device),
        }
    }

    /// The `i`-th function's values as a [batch, 1, 1, 1] column.
    fn column(&self, i: usize) -> Tensor<4> {
        let n = self.all.dims()[1];
        self.all.clone().slice(i..i + 1).reshape([n, 1, 1, 1])
    }
}

impl StepCoefficients {
    /// Gathers the coefficients for the paper's timesteps `ts` (each in 1..=T).
    pub fn gather(schedule: &DiffusionSchedule, ts: &[usize], device: &Device) -> Self {
        let s = schedule;
        let fixed_large = |t| match t {
            1 => s.posterior_log_variance_clipped(1),
            _ => s.beta(t).ln(),
        };
        let columns = Columns::upload(
            &[
                &|t| s.sqrt_alpha_bar(t),
                &|t| s.sqrt_one_minus_alpha_bar(t),
                &|t| s.posterior_mean_coef1(t),
                &|t| s.posterior_mean_coef2(t),
                &|t| s.beta(t) / s.sqrt_one_minus_alpha_bar(t),
                &|t| 1.0 / s.alpha(t).sqrt(),
                &|t| 1.0 / s.sqrt_alpha_bar(t),
                &|t| (1.0 / s.alpha_bar(t) - 1.0).sqrt(),
                &|t| s.posterior_log_variance_clipped(t),
                &|t| s.beta(t).ln(),
                &fixed_large,
            ],
            ts,
            device,
        );
        let c = |i| columns.column(i);
        Self {
            sqrt_alpha_bar: c(0),
            sqrt_one_minus_alpha_bar: c(1),
            posterior_mean_coef1: c(2),
            posterior_mean_coef2: c(3),
            eps_coef: c(4),
            recip_sqrt_alpha: c(5),
            recip_sqrt_alpha_bar: c(6),
            sqrt_recip_alpha_bar_minus_one: c(7),
            posterior_log_variance_clipped: c(8),
            log_beta: c(9),
            fixed_large_log_variance: c(10),
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
