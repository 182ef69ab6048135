//! The three ablation axes of the paper's Table 2 — what the network predicts (mean), how Σ is
//! chosen (variance) and what is minimised (loss) — and the training loss they imply.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::forward::StepCoefficients;
use super::gaussian::{discretized_gaussian_log_likelihood, mean_bits_per_dim, normal_kl};
use super::schedule::DiffusionSchedule;
use super::weighting::Weighting;

/// What the network's (first C) output channels predict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeanKind {
    /// ε, the noise added by q(x_t|x_0); μ_θ follows from eq. 11.
    Eps,
    /// μ̃_t itself (the official code's `xprev`).
    Mu,
    /// x_0; μ_θ is the posterior mean of eq. 7 with x̂_0 in place of x_0.
    X0,
    /// v = √ᾱ_t ε − √(1−ᾱ_t) x_0 (Salimans & Ho 2022); x̂_0 = √ᾱ_t x_t − √(1−ᾱ_t) v̂ and
    /// ε̂ = √(1−ᾱ_t) x_t + √ᾱ_t v̂, then as for x_0.
    V,
}

impl MeanKind {
    /// The spec's name.
    pub fn name(self) -> &'static str {
        match self {
            MeanKind::Eps => "eps",
            MeanKind::Mu => "mu",
            MeanKind::X0 => "x0",
            MeanKind::V => "v",
        }
    }
}

/// How the reverse-process covariance Σ_θ(x_t, t) = σ_t² I is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VarianceKind {
    /// σ_t² = β_t (its first entry β̃_2, as in the official code).
    FixedLarge,
    /// σ_t² = β̃_t, the posterior variance.
    FixedSmall,
    /// The network outputs log σ² per pixel (the paper's learned diagonal Σ).
    Learned,
    /// The network interpolates between log β̃_t and log β_t (Nichol & Dhariwal).
    LearnedRange,
}

impl VarianceKind {
    pub fn is_learned(self) -> bool {
        matches!(self, VarianceKind::Learned | VarianceKind::LearnedRange)
    }
}

/// The training objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossKind {
    /// Unweighted MSE between the network output and its own target (eq. 14 for ε).
    Simple,
    /// The true variational bound L_{t−1} / L_0 (eq. 5).
    Vlb,
    /// L_simple + λ·L_vlb with the VLB's gradient stopped through the mean.
    Hybrid,
}

/// One cell of the ablation grid, with the loss's two numeric knobs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Objective {
    pub mean: MeanKind,
    pub variance: VarianceKind,
    pub loss: LossKind,
    /// λ of `hybrid`: L_simple + λ·L_vlb.
    pub vlb_weight: f64,
    /// Multiply the sampled VLB term by T (improved-diffusion's RESCALED_KL); the official
    /// DDPM code does not.
    pub rescale_vlb: bool,
    /// The per-t weight of the MSE term, in the prediction's space (`uniform`: L_simple).
    pub weighting: Weighting,
}

/// The per-example pieces of one batch's loss, each [batch].
pub struct LossTerms {
    /// What is minimised, per example; the batch loss is its mean.
    pub loss: Tensor<1>,
    /// The unweighted MSE on the mean's own target, where the loss has it.
    pub mse: Option<Tensor<1>>,
    /// The sampled bound term L_{t−1} (L_0 at t = 1) in bits/dim, where the loss has it.
    pub vb: Option<Tensor<1>>,
}

impl Objective {
    /// Channels the network must output for images of `data_channels` channels.
    pub fn output_channels(&self, data_channels: usize) -> usize {
        if self.variance.is_learned() {
            2 * data_channels
        } else {
            data_channels
        }
    }

    /// Why this combination cannot train, if it cannot: (the spec key at fault, why).
    pub fn unsupported_reason(&self) -> Option<(&'static str, String)> {
        if let Some(why) = self.weighting_problem() {
            return Some(("diffusion.weighting", why));
        }
        let loss = |why: String| Some(("diffusion.loss", why));
        match (self.variance.is_learned(), self.loss) {
            (true, LossKind::Simple) => loss(format!(
                "variance `{}` needs a loss that trains it: `simple` has no term for Σ (use `vlb` or `hybrid`)",
                self.variance_name()
            )),
            (false, LossKind::Hybrid) => loss(
                "`hybrid` stops the VLB's gradient through the mean, so with a fixed variance it is just `simple`: \
                 use `simple`, or learn the variance"
                    .to_string(),
            ),
            _ => None,
        }
    }

    /// Why the weighting does not fit this objective, if it does not: the bound has no MSE
    /// term to weight, and μ̃ has no space a weighting is defined in.
    fn weighting_problem(&self) -> Option<String> {
        if self.weighting.is_uniform() {
            return None;
        }
        let kind = self.weighting.kind().name();
        if self.loss == LossKind::Vlb {
            return Some(format!(
                "`{kind}` weights the MSE term, and `loss: vlb` has none: use `simple` or \
                 `hybrid`, or weighting `uniform`"
            ));
        }
        if self.weighting.weight(self.mean, 1.0).is_none() {
            return Some(format!(
                "`{kind}` is defined for predicting eps, x0 or v; `mean: {}` takes only \
                 `uniform`",
                self.mean.name()
            ));
        }
        None
    }

    /// The weight of the MSE term at t (1 for `uniform`).
    pub fn loss_weight(&self, schedule: &DiffusionSchedule, t: usize) -> f64 {
        self.weighting
            .weight(self.mean, schedule.snr(t))
            .unwrap_or(1.0)
    }

    fn variance_name(&self) -> &'static str {
        match self.variance {
            VarianceKind::FixedLarge => "fixed_large",
            VarianceKind::FixedSmall => "fixed_small",
            VarianceKind::Learned => "learned",
            VarianceKind::LearnedRange => "learned_range",
        }
    }

    /// The first C channels (the mean's parameterisation) and, with a learned Σ, the next C.
    pub fn split_output(
        &self,
        model_out: Tensor<4>,
        data_channels: usize,
    ) -> (Tensor<4>, Option<Tensor<4>>) {
        if self.variance.is_learned() {
            let var_out = model_out.clone().narrow(1, data_channels, data_channels);
            (model_out.narrow(1, 0, data_channels), Some(var_out))
        } else {
            (model_out, None)
        }
    }

    /// The regression target of the unweighted MSE for this mean parameterisation.
    pub fn simple_target(
        &self,
        x0: Tensor<4>,
        x_t: Tensor<4>,
        noise: Tensor<4>,
        coef: &StepCoefficients,
    ) -> Tensor<4> {
        match self.mean {
            MeanKind::Eps => noise,
            // μ̃_t(x_t, x_0) of eq. 7.
            MeanKind::Mu => coef.posterior_mean(x0, x_t),
            MeanKind::X0 => x0,
            MeanKind::V => coef.v_target(x0, noise),
        }
    }

    /// μ_θ(x_t, t) from the network's mean output (the first C channels).
    pub fn model_mean(
        &self,
        mean_out: Tensor<4>,
        x_t: Tensor<4>,
        coef: &StepCoefficients,
        clip_x0: bool,
    ) -> Tensor<4> {
        match self.mean {
            MeanKind::Mu => mean_out,
            // eq. 11
            MeanKind::Eps if !clip_x0 => coef.mean_from_eps(x_t, mean_out),
            MeanKind::Eps => {
                let x0 = coef.x0_from_eps(x_t.clone(), mean_out).clamp(-1.0, 1.0);
                coef.posterior_mean(x0, x_t)
            }
            MeanKind::X0 | MeanKind::V => {
                let x0 = self.predicted_x0(mean_out, x_t.clone(), coef);
                let x0 = if clip_x0 { x0.clamp(-1.0, 1.0) } else { x0 };
                coef.posterior_mean(x0, x_t)
            }
        }
    }

    /// x̂_0 implied by the network's mean output.
    pub fn predicted_x0(
        &self,
        mean_out: Tensor<4>,
        x_t: Tensor<4>,
        coef: &StepCoefficients,
    ) -> Tensor<4> {
        match self.mean {
            MeanKind::Eps => coef.x0_from_eps(x_t, mean_out),
            MeanKind::X0 => mean_out,
            MeanKind::Mu => coef.x0_from_posterior_mean(x_t, mean_out),
            MeanKind::V => coef.x0_from_v(x_t, mean_out),
        }
    }

    /// ε̂ implied by the network's mean output.
    pub fn predicted_eps(
        &self,
        mean_out: Tensor<4>,
        x_t: Tensor<4>,
        coef: &StepCoefficients,
    ) -> Tensor<4> {
        match self.mean {
            MeanKind::Eps => mean_out,
            MeanKind::V => coef.eps_from_v(x_t, mean_out),
            MeanKind::Mu | MeanKind::X0 => {
                let x0 = self.predicted_x0(mean_out, x_t.clone(), coef);
                coef.eps_from_x0(x_t, x0)
            }
        }
    }

    /// log σ_t² of p_θ(x_{t−1}|x_t), per pixel, shaped like `like`.
    pub fn model_log_variance(
        &self,
        var_out: Option<Tensor<4>>,
        coef: &StepCoefficients,
        like: &Tensor<4>,
    ) -> Tensor<4> {
        match (self.variance, var_out) {
            (VarianceKind::FixedLarge, _) => coef.fixed_large_log_variance.expanded(like),
            (VarianceKind::FixedSmall, _) => coef.posterior_log_variance_clipped.expanded(like),
            // The paper's learned diagonal Σ: the network outputs log σ² itself.
            (VarianceKind::Learned, Some(v)) => v,
            // Nichol & Dhariwal: v ∈ [−1, 1] interpolates between log β̃_t and log β_t.
            (VarianceKind::LearnedRange, Some(v)) => {
                let frac = v.add_scalar(1.0).mul_scalar(0.5);
                let low = &coef.posterior_log_variance_clipped;
                coef.log_beta.times(frac.clone()) + low.times(frac.neg().add_scalar(1.0))
            }
            (_, None) => unreachable!("a learned variance always has its output channels"),
        }
    }

    /// (μ_θ, log σ²_θ) of p_θ(x_{t−1}|x_t) from the full network output.
    pub fn p_mean_log_variance(
        &self,
        model_out: Tensor<4>,
        x_t: Tensor<4>,
        coef: &StepCoefficients,
        clip_x0: bool,
    ) -> (Tensor<4>, Tensor<4>) {
        let channels = x_t.dims()[1];
        let (mean_out, var_out) = self.split_output(model_out, channels);
        let mean = self.model_mean(mean_out, x_t, coef, clip_x0);
        let log_var = self.model_log_variance(var_out, coef, &mean);
        (mean, log_var)
    }

    /// The bound term per example in bits/dim: L_{t−1} = KL(q(x_{t−1}|x_t,x_0) ‖ p_θ) for
    /// t ≥ 2, and L_0 = −log p_θ(x_0|x_1) under the discretized decoder where `first` (t = 1).
    pub fn vb_term(
        &self,
        mean: Tensor<4>,
        log_var: Tensor<4>,
        x0: Tensor<4>,
        x_t: Tensor<4>,
        coef: &StepCoefficients,
        first: Tensor<1, Bool>,
    ) -> Tensor<1> {
        let true_mean = coef.posterior_mean(x0.clone(), x_t);
        let true_log_var = coef.posterior_log_variance_clipped.expanded(&mean);
        let kl = mean_bits_per_dim(normal_kl(
            true_mean,
            true_log_var,
            mean.clone(),
            log_var.clone(),
        ));
        let decoder_nll =
            mean_bits_per_dim(discretized_gaussian_log_likelihood(x0, mean, log_var).neg());
        kl.mask_where(first, decoder_nll)
    }

    /// The training loss of each example at its timestep `ts[i]` of `schedule`.
    #[allow(clippy::too_many_arguments)]
    pub fn loss_terms(
        &self,
        model_out: Tensor<4>,
        x0: Tensor<4>,
        x_t: Tensor<4>,
        noise: Tensor<4>,
        coef: &StepCoefficients,
        ts: &[usize],
        schedule: &DiffusionSchedule,
    ) -> LossTerms {
        let channels = x0.dims()[1];
        let device = x0.device();
        let (mean_out, var_out) = self.split_output(model_out, channels);
        let mse = (self.loss != LossKind::Vlb).then(|| {
            let target = self.simple_target(x0.clone(), x_t.clone(), noise, coef);
            // L_simple (eq. 14) and its μ̃ counterpart: squared error over every pixel, unweighted.
            (mean_out.clone() - target)
                .square()
                .flatten::<2>(1, 3)
                .mean_dim(1)
                .reshape([ts.len()])
        });
        let vb = (self.loss != LossKind::Simple).then(|| {
            // Hybrid trains Σ through the bound while the mean learns from L_simple alone.
            let mean_input = if self.loss == LossKind::Hybrid {
                mean_out.clone().detach()
            } else {
                mean_out.clone()
            };
            let mean = self.model_mean(mean_input, x_t.clone(), coef, false);
            let log_var = self.model_log_variance(var_out, coef, &mean);
            let first = Tensor::<1, Bool>::from_data(
                TensorData::new(ts.iter().map(|&t| t == 1).collect::<Vec<_>>(), [ts.len()]),
                &device,
            );
            let vb = self.vb_term(mean, log_var, x0, x_t, coef, first);
            if self.rescale_vlb {
                vb.mul_scalar(schedule.timesteps() as f64)
            } else {
                vb
            }
        });
        let weighted = mse.as_ref().map(|m| self.weighted_mse(m, ts, schedule));
        let loss = match (weighted, &vb) {
            (Some(m), None) => m,
            (None, Some(v)) => v.clone(),
            (Some(m), Some(v)) => m + v.clone().mul_scalar(self.vlb_weight),
            (None, None) => unreachable!("every loss has a term"),
        };
        LossTerms { loss, mse, vb }
    }

    /// Each example's MSE times its t's weight; `uniform` leaves it untouched (no upload).
    fn weighted_mse(
        &self,
        mse: &Tensor<1>,
        ts: &[usize],
        schedule: &DiffusionSchedule,
    ) -> Tensor<1> {
        if self.weighting.is_uniform() {
            return mse.clone();
        }
        // A weight past f32's range (p2 with γ < 1 at an extreme SNR) stays finite.
        let weights: Vec<f32> = ts
            .iter()
            .map(|&t| self.loss_weight(schedule, t).min(f32::MAX as f64) as f32)
            .collect();
        mse.clone() * Tensor::<1>::from_floats(weights.as_slice(), &mse.device())
    }
}
