//! The three ablation axes of the paper's Table 2 — what the network predicts (mean), how Σ is
//! chosen (variance) and what is minimised (loss) — and the training loss they imply.

use burn::Tensor;
use serde::{Deserialize, Serialize};

use super::forward::StepCoefficients;

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

/// One cell of the ablation grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Objective {
    pub mean: MeanKind,
    pub variance: VarianceKind,
    pub loss: LossKind,
}

impl Objective {
    /// Channels the network must output for images of `data_channels` channels.
    pub fn output_channels(&self, data_channels: usize) -> usize {
        if self.variance.is_learned() { 2 * data_channels } else { data_channels }
    }

    /// Why this combination cannot train here, if it cannot.
    pub fn unsupported_reason(&self) -> Option<String> {
        if self.variance.is_learned() && self.loss == LossKind::Simple {
            return Some(format!(
                "variance `{}` needs a loss that trains it: `simple` has no term for Σ (use `vlb` or `hybrid`)",
                self.variance_name()
            ));
        }
        if self.loss != LossKind::Simple || self.variance.is_learned() {
            return Some(format!(
                "mean/variance/loss = {:?}/{:?}/{:?} is not implemented yet: the true bound and learned Σ \
                 arrive with the ablation grid; this build trains `loss: simple` with a fixed variance",
                self.mean, self.variance, self.loss
            ));
        }
        None
    }

    fn variance_name(&self) -> &'static str {
        match self.variance {
            VarianceKind::FixedLarge => "fixed_large",
            VarianceKind::FixedSmall => "fixed_small",
            VarianceKind::Learned => "learned",
            VarianceKind::LearnedRange => "learned_range",
        }
    }

    /// The regression target of `loss: simple` for this mean parameterisation.
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
        }
    }

    /// The training loss of each example, [batch]; the batch loss is its mean.
    /// `model_out` is [batch, out_ch, h, w].
    pub fn per_example_loss(
        &self,
        model_out: Tensor<4>,
        x0: Tensor<4>,
        x_t: Tensor<4>,
        noise: Tensor<4>,
        coef: &StepCoefficients,
    ) -> Tensor<1> {
        let target = self.simple_target(x0, x_t, noise, coef);
        let [batch, ..] = target.dims();
        // L_simple (eq. 14): the squared error averaged over every pixel, no weighting by t.
        (model_out - target).square().flatten::<2>(1, 3).mean_dim(1).reshape([batch])
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
            MeanKind::Eps if !clip_x0 => coef.mean_from_eps(x_t, mean_out),
            MeanKind::Eps => {
                let x0 = coef.x0_from_eps(x_t.clone(), mean_out).clamp(-1.0, 1.0);
                coef.posterior_mean(x0, x_t)
            }
            MeanKind::X0 => {
                let x0 = if clip_x0 { mean_out.clamp(-1.0, 1.0) } else { mean_out };
                coef.posterior_mean(x0, x_t)
            }
        }
    }
}
