//! Per-example coefficients for a batch of timesteps, and the forward process q(x_t|x_0).

use burn::prelude::*;

use super::coefficient::Coefficient;
use super::schedule::DiffusionSchedule;

/// Schedule values for one batch of timesteps: [batch, 1, 1, 1] columns that broadcast over
/// images, or scalars when every image shares t.
pub struct StepCoefficients {
    pub sqrt_alpha_bar: Coefficient,
    pub sqrt_one_minus_alpha_bar: Coefficient,
    pub posterior_mean_coef1: Coefficient,
    pub posterior_mean_coef2: Coefficient,
    /// β_t / √(1 − ᾱ_t), the ε coefficient of eq. 11.
    pub eps_coef: Coefficient,
    /// 1 / √α_t, the outer factor of eq. 11.
    pub recip_sqrt_alpha: Coefficient,
    /// 1 / √ᾱ_t and √(1/ᾱ_t − 1): x̂_0 from ε (inverse of eq. 4).
    pub recip_sqrt_alpha_bar: Coefficient,
    pub sqrt_recip_alpha_bar_minus_one: Coefficient,
    /// log β̃_t with β̃_1 replaced by β̃_2: q's log-variance in the bound, and `fixed_small`'s.
    pub posterior_log_variance_clipped: Coefficient,
    /// log β_t: `fixed_large`'s log-variance (except t = 1) and `learned_range`'s upper end.
    pub log_beta: Coefficient,
    /// `fixed_large`'s log-variance: log β_t, with log β̃_2 at t = 1 as in the official code.
    pub fixed_large_log_variance: Coefficient,
}

/// How many functions of t StepCoefficients holds.
const FUNCTIONS: usize = 11;

/// The functions' values at t, in the fields' order.
fn values_at(s: &DiffusionSchedule, t: usize) -> [f64; FUNCTIONS] {
    let fixed_large = match t {
        1 => s.posterior_log_variance_clipped(1),
        _ => s.beta(t).ln(),
    };
    [
        s.sqrt_alpha_bar(t),
        s.sqrt_one_minus_alpha_bar(t),
        s.posterior_mean_coef1(t),
        s.posterior_mean_coef2(t),
        s.beta(t) / s.sqrt_one_minus_alpha_bar(t),
        1.0 / s.alpha(t).sqrt(),
        1.0 / s.sqrt_alpha_bar(t),
        (1.0 / s.alpha_bar(t) - 1.0).sqrt(),
        s.posterior_log_variance_clipped(t),
        s.beta(t).ln(),
        fixed_large,
    ]
}

impl StepCoefficients {
    /// Gathers the coefficients for the paper's timesteps `ts` (each in 1..=T), one per image.
    /// All of them go up as one [functions, batch] f32 upload: one host → device copy per step
    /// instead of one per coefficient (each a stream sync on a GPU).
    pub fn gather(schedule: &DiffusionSchedule, ts: &[usize], device: &Device) -> Self {
        let per_t: Vec<[f64; FUNCTIONS]> = ts.iter().map(|&t| values_at(schedule, t)).collect();
        let data: Vec<f32> = (0..FUNCTIONS)
            .flat_map(|i| per_t.iter().map(move |values| values[i] as f32))
            .collect();
        let n = ts.len();
        let all = Tensor::<2>::from_data(TensorData::new(data, [FUNCTIONS, n]), device);
        Self::from_functions(|i| {
            Coefficient::PerImage(all.clone().slice(i..i + 1).reshape([n, 1, 1, 1]))
        })
    }

    /// The coefficients for a batch whose images all stand at t, as scalars.
    pub fn shared(schedule: &DiffusionSchedule, t: usize) -> Self {
        let values = values_at(schedule, t);
        Self::from_functions(|i| Coefficient::Shared(values[i]))
    }

    fn from_functions(mut function: impl FnMut(usize) -> Coefficient) -> Self {
        Self {
            sqrt_alpha_bar: function(0),
            sqrt_one_minus_alpha_bar: function(1),
            posterior_mean_coef1: function(2),
            posterior_mean_coef2: function(3),
            eps_coef: function(4),
            recip_sqrt_alpha: function(5),
            recip_sqrt_alpha_bar: function(6),
            sqrt_recip_alpha_bar_minus_one: function(7),
            posterior_log_variance_clipped: function(8),
            log_beta: function(9),
            fixed_large_log_variance: function(10),
        }
    }

    /// x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε (eq. 4, reparameterised).
    pub fn q_sample(&self, x0: Tensor<4>, noise: Tensor<4>) -> Tensor<4> {
        self.sqrt_alpha_bar.times(x0) + self.sqrt_one_minus_alpha_bar.times(noise)
    }

    /// μ̃_t(x_t, x_0) of eq. 7.
    pub fn posterior_mean(&self, x0: Tensor<4>, x_t: Tensor<4>) -> Tensor<4> {
        self.posterior_mean_coef1.times(x0) + self.posterior_mean_coef2.times(x_t)
    }

    /// μ_θ = (x_t − β_t/√(1−ᾱ_t) ε_θ) / √α_t (eq. 11).
    pub fn mean_from_eps(&self, x_t: Tensor<4>, eps: Tensor<4>) -> Tensor<4> {
        self.recip_sqrt_alpha.times(x_t - self.eps_coef.times(eps))
    }

    /// ε implied by x̂_0: (x_t/√ᾱ_t − x̂_0) / √(1/ᾱ_t − 1) (eq. 4 solved for ε).
    pub fn eps_from_x0(&self, x_t: Tensor<4>, x0: Tensor<4>) -> Tensor<4> {
        self.sqrt_recip_alpha_bar_minus_one
            .divides(self.recip_sqrt_alpha_bar.times(x_t) - x0)
    }

    /// x̂_0 implied by a predicted posterior mean μ: (μ − coef2 x_t) / coef1 (eq. 7 inverted).
    pub fn x0_from_posterior_mean(&self, x_t: Tensor<4>, mean: Tensor<4>) -> Tensor<4> {
        self.posterior_mean_coef1
            .divides(mean - self.posterior_mean_coef2.times(x_t))
    }

    /// x̂_0 = x_t/√ᾱ_t − √(1/ᾱ_t − 1) ε (eq. 4 solved for x_0).
    pub fn x0_from_eps(&self, x_t: Tensor<4>, eps: Tensor<4>) -> Tensor<4> {
        self.recip_sqrt_alpha_bar.times(x_t) - self.sqrt_recip_alpha_bar_minus_one.times(eps)
    }

    /// v = √ᾱ_t ε − √(1−ᾱ_t) x_0, the v-prediction target (Salimans & Ho 2022, §4).
    pub fn v_target(&self, x0: Tensor<4>, noise: Tensor<4>) -> Tensor<4> {
        self.sqrt_alpha_bar.times(noise) - self.sqrt_one_minus_alpha_bar.times(x0)
    }

    /// x̂_0 = √ᾱ_t x_t − √(1−ᾱ_t) v̂ (eq. 4 and v's definition, with ᾱ + (1 − ᾱ) = 1).
    pub fn x0_from_v(&self, x_t: Tensor<4>, v: Tensor<4>) -> Tensor<4> {
        self.sqrt_alpha_bar.times(x_t) - self.sqrt_one_minus_alpha_bar.times(v)
    }

    /// ε̂ = √(1−ᾱ_t) x_t + √ᾱ_t v̂.
    pub fn eps_from_v(&self, x_t: Tensor<4>, v: Tensor<4>) -> Tensor<4> {
        self.sqrt_one_minus_alpha_bar.times(x_t) + self.sqrt_alpha_bar.times(v)
    }
}
