//! β schedules and every per-t coefficient derived from them, computed once in f64.
//!
//! Index convention: the paper's t runs 1..=T; `Vec` index `t - 1` holds the value for t.
//! Accessors take the paper's t so call sites read like the equations.

use serde::{Deserialize, Serialize};

/// The named β schedules. A released name never changes its numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleKind {
    /// β_t linearly from `beta_start` to `beta_end` (the paper: 1e-4 → 0.02, §4).
    Linear,
    /// Nichol & Dhariwal (2021): ᾱ(t) = f(t)/f(0), f(t) = cos²(((t/T)+s)/(1+s)·π/2), β capped.
    Cosine,
    /// √β_t linearly from √beta_start to √beta_end (the official code's "quad").
    Quadratic,
    /// β_t = beta_end for every t (the official code's "const").
    Constant,
}

/// Parameters of a β schedule; which fields matter depends on `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScheduleParams {
    pub kind: ScheduleKind,
    pub beta_start: f64,
    pub beta_end: f64,
    /// Cosine offset s (0.008 in Nichol & Dhariwal).
    pub cosine_s: f64,
    /// Cap on β for the cosine schedule (0.999 in Nichol & Dhariwal).
    pub max_beta: f64,
}

impl ScheduleParams {
    /// β_1..β_T for `timesteps` = T.
    pub fn betas(&self, timesteps: usize) -> Vec<f64> {
        let t_max = timesteps as f64;
        // Fraction along the schedule for t = 1..=T, matching numpy's linspace(start, end, T).
        let frac = |t: usize| {
            if timesteps == 1 {
                0.0
            } else {
                (t - 1) as f64 / (t_max - 1.0)
            }
        };
        (1..=timesteps)
            .map(|t| match self.kind {
                ScheduleKind::Linear => {
                    self.beta_start + (self.beta_end - self.beta_start) * frac(t)
                }
                ScheduleKind::Quadratic => {
                    let (a, b) = (self.beta_start.sqrt(), self.beta_end.sqrt());
                    (a + (b - a) * frac(t)).powi(2)
                }
                ScheduleKind::Constant => self.beta_end,
                ScheduleKind::Cosine => {
                    let f = |u: f64| {
                        ((u / t_max + self.cosine_s) / (1.0 + self.cosine_s)
                            * std::f64::consts::FRAC_PI_2)
                            .cos()
                            .powi(2)
                    };
                    // β_t = 1 − ᾱ_t/ᾱ_{t−1}; the f(0) normalisation cancels in the ratio.
                    (1.0 - f(t as f64) / f((t - 1) as f64)).min(self.max_beta)
                }
            })
            .collect()
    }
}

/// Every coefficient the forward process, the posterior and the sampler need, per t.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffusionSchedule {
    /// β_t.
    pub beta: Vec<f64>,
    /// α_t = 1 − β_t.
    pub alpha: Vec<f64>,
    /// ᾱ_t = Π_{s≤t} α_s.
    pub alpha_bar: Vec<f64>,
    /// ᾱ_{t−1}, with ᾱ_0 = 1.
    pub alpha_bar_prev: Vec<f64>,
    /// β̃_t = β_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t), the posterior variance (eq. 7); β̃_1 = 0.
    pub posterior_variance: Vec<f64>,
    /// log β̃_t with β̃_1 replaced by β̃_2, so the log stays finite.
    pub posterior_log_variance_clipped: Vec<f64>,
    /// Coefficient of x_0 in μ̃_t (eq. 7): β_t √ᾱ_{t−1} / (1 − ᾱ_t).
    pub posterior_mean_coef1: Vec<f64>,
    /// Coefficient of x_t in μ̃_t (eq. 7): (1 − ᾱ_{t−1}) √α_t / (1 − ᾱ_t).
    pub posterior_mean_coef2: Vec<f64>,
}

impl DiffusionSchedule {
    /// Derives every table from β_1..β_T.
    pub fn from_betas(beta: Vec<f64>) -> Self {
        let alpha: Vec<f64> = beta.iter().map(|b| 1.0 - b).collect();
        let mut alpha_bar = Vec::with_capacity(beta.len());
        let mut running = 1.0;
        for a in &alpha {
            running *= a;
            alpha_bar.push(running);
        }
        let alpha_bar_prev: Vec<f64> = std::iter::once(1.0)
            .chain(alpha_bar.iter().copied().take(beta.len().saturating_sub(1)))
            .collect();
        let n = beta.len();
        let posterior_variance: Vec<f64> = (0..n)
            .map(|i| beta[i] * (1.0 - alpha_bar_prev[i]) / (1.0 - alpha_bar[i]))
            .collect();
        let posterior_log_variance_clipped: Vec<f64> = (0..n)
            .map(|i| {
                let v = if i == 0 && n > 1 {
                    posterior_variance[1]
                } else {
                    posterior_variance[i]
                };
                v.ln()
            })
            .collect();
        let posterior_mean_coef1 = (0..n)
            .map(|i| beta[i] * alpha_bar_prev[i].sqrt() / (1.0 - alpha_bar[i]))
            .collect();
        let posterior_mean_coef2 = (0..n)
            .map(|i| (1.0 - alpha_bar_prev[i]) * alpha[i].sqrt() / (1.0 - alpha_bar[i]))
            .collect();
        Self {
            beta,
            alpha,
            alpha_bar,
            alpha_bar_prev,
            posterior_variance,
            posterior_log_variance_clipped,
            posterior_mean_coef1,
            posterior_mean_coef2,
        }
    }

    pub fn new(params: &ScheduleParams, timesteps: usize) -> Self {
        Self::from_betas(params.betas(timesteps))
    }

    /// T, the number of diffusion steps.
    pub fn timesteps(&self) -> usize {
        self.beta.len()
    }

    /// Index into the tables for the paper's t (1-based).
    fn at(t: usize) -> usize {
        assert!(t >= 1, "t runs from 1 to T");
        t - 1
    }

    pub fn beta(&self, t: usize) -> f64 {
        self.beta[Self::at(t)]
    }
    pub fn alpha(&self, t: usize) -> f64 {
        self.alpha[Self::at(t)]
    }
    pub fn alpha_bar(&self, t: usize) -> f64 {
        self.alpha_bar[Self::at(t)]
    }
    pub fn alpha_bar_prev(&self, t: usize) -> f64 {
        self.alpha_bar_prev[Self::at(t)]
    }
    pub fn posterior_variance(&self, t: usize) -> f64 {
        self.posterior_variance[Self::at(t)]
    }
    pub fn posterior_log_variance_clipped(&self, t: usize) -> f64 {
        self.posterior_log_variance_clipped[Self::at(t)]
    }
    pub fn posterior_mean_coef1(&self, t: usize) -> f64 {
        self.posterior_mean_coef1[Self::at(t)]
    }
    pub fn posterior_mean_coef2(&self, t: usize) -> f64 {
        self.posterior_mean_coef2[Self::at(t)]
    }
    /// Signal-to-noise ratio ᾱ_t / (1 − ᾱ_t).
    pub fn snr(&self, t: usize) -> f64 {
        let ab = self.alpha_bar(t);
        ab / (1.0 - ab)
    }
    /// √ᾱ_t, the x_0 coefficient of q(x_t|x_0) (eq. 4).
    pub fn sqrt_alpha_bar(&self, t: usize) -> f64 {
        self.alpha_bar(t).sqrt()
    }
    /// √(1 − ᾱ_t), the noise coefficient of q(x_t|x_0) (eq. 4).
    pub fn sqrt_one_minus_alpha_bar(&self, t: usize) -> f64 {
        (1.0 - self.alpha_bar(t)).sqrt()
    }
}
