//! Per-t weights of the MSE term (the axis later papers ablate beside the paper's L_simple).
//! Each weighting is defined once, in the space its paper states it in, and moved into the
//! space of what the network predicts, so a weighting means the same loss whatever is
//! predicted. With SNR = ᾱ/(1 − ᾱ) and x_t fixed, the three regressions' errors are related by
//!   ε-MSE = SNR · x₀-MSE,   v-MSE = (SNR + 1) · x₀-MSE,
//! (from x_t = √ᾱ x₀ + √(1−ᾱ) ε and v = √ᾱ ε − √(1−ᾱ) x₀), so a weight w_x₀ on the x₀-MSE is
//! w_x₀ / SNR on the ε-MSE and w_x₀ / (SNR + 1) on the v-MSE.

use serde::{Deserialize, Serialize};

use super::objective::MeanKind;

/// Which weighting, by the spec's name for it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightingKind {
    /// Every t alike: L_simple (Ho et al. eq. 14) in the prediction's own space.
    #[default]
    Uniform,
    /// Min-SNR-γ (Hang et al. 2023): x₀-weight min(SNR, γ).
    MinSnr,
    /// P2 (Choi et al. 2022): ε-weight 1 / (k + SNR)^γ.
    P2,
}

impl WeightingKind {
    /// The spec's name.
    pub fn name(self) -> &'static str {
        match self {
            WeightingKind::Uniform => "uniform",
            WeightingKind::MinSnr => "min_snr",
            WeightingKind::P2 => "p2",
        }
    }
}

/// γ of `min_snr` when the spec gives none (Hang et al.'s choice).
pub const MIN_SNR_GAMMA: f64 = 5.0;
/// k and γ of `p2` when the spec gives none (Choi et al.'s k = 1, γ = 1).
pub const P2_K: f64 = 1.0;
pub const P2_GAMMA: f64 = 1.0;

/// A weighting with its numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub enum Weighting {
    #[default]
    Uniform,
    MinSnr {
        gamma: f64,
    },
    P2 {
        k: f64,
        gamma: f64,
    },
}

/// The regression spaces a weighting can be stated in or moved into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Space {
    X0,
    Eps,
    V,
}

impl Space {
    /// What multiplies the x₀-MSE to give this space's MSE (see the module comment).
    fn per_x0_mse(self, snr: f64) -> f64 {
        match self {
            Space::X0 => 1.0,
            Space::Eps => snr,
            Space::V => snr + 1.0,
        }
    }

    /// The space of a prediction target; μ̃ has none a weighting is defined in.
    fn of(mean: MeanKind) -> Option<Space> {
        match mean {
            MeanKind::X0 => Some(Space::X0),
            MeanKind::Eps => Some(Space::Eps),
            MeanKind::V => Some(Space::V),
            MeanKind::Mu => None,
        }
    }
}

/// SNR kept inside the positive normal floats: at SNR = 0 (ᾱ_T = 0 on a cosine schedule) or
/// ∞ (ᾱ = 1), a ratio of two spaces' factors would be 0/0 or ∞/∞; at the clamped ends it is
/// the limit the formula tends to.
fn clamped(snr: f64) -> f64 {
    if snr.is_nan() {
        return f64::MIN_POSITIVE;
    }
    snr.clamp(f64::MIN_POSITIVE, f64::MAX)
}

impl Weighting {
    pub fn is_uniform(&self) -> bool {
        matches!(self, Weighting::Uniform)
    }

    /// The spec's name of this weighting.
    pub fn kind(&self) -> WeightingKind {
        match self {
            Weighting::Uniform => WeightingKind::Uniform,
            Weighting::MinSnr { .. } => WeightingKind::MinSnr,
            Weighting::P2 { .. } => WeightingKind::P2,
        }
    }

    /// A short label with the numbers, as figures and tables show it: `min_snr γ=5`.
    pub fn label(&self) -> String {
        match *self {
            Weighting::Uniform => "uniform".into(),
            Weighting::MinSnr { gamma } => format!("min_snr γ={gamma}"),
            Weighting::P2 { k, gamma } => format!("p2 k={k} γ={gamma}"),
        }
    }

    /// The weight in the space the weighting is defined in, and that space.
    fn native(&self, snr: f64) -> (f64, Space) {
        match *self {
            Weighting::Uniform => (1.0, Space::X0),
            Weighting::MinSnr { gamma } => (snr.min(gamma), Space::X0),
            Weighting::P2 { k, gamma } => (1.0 / (k + snr).powf(gamma), Space::Eps),
        }
    }

    /// The weight on the MSE of a network predicting `mean` at signal-to-noise ratio `snr`;
    /// `None` where the weighting is not defined for that prediction (μ̃: only `uniform`).
    /// `uniform` is 1 in every space: L_simple is each parameterisation's own plain MSE.
    pub fn weight(&self, mean: MeanKind, snr: f64) -> Option<f64> {
        if self.is_uniform() {
            return Some(1.0);
        }
        let target = Space::of(mean)?;
        let snr = clamped(snr);
        let (w, space) = self.native(snr);
        // w · space-MSE = w · per(space) · x₀-MSE = w · per(space) / per(target) · target-MSE.
        let moved = match (space, target) {
            (a, b) if a == b => w,
            _ => w * (space.per_x0_mse(snr) / target.per_x0_mse(snr)),
        };
        Some(if moved.is_finite() { moved } else { f64::MAX })
    }
}
