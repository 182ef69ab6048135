//! Gaussian pieces of the variational bound, computed exactly as the reference implementations
//! do: the KL of two diagonal Gaussians and the discretized Gaussian decoder L_0 (paper §3.3).

use burn::prelude::*;

/// KL(N(m1, e^{lv1}) ‖ N(m2, e^{lv2})) per element:
/// ½ (−1 + lv2 − lv1 + e^{lv1−lv2} + (m1 − m2)² e^{−lv2}).
pub fn normal_kl<const D: usize>(
    m1: Tensor<D>,
    lv1: Tensor<D>,
    m2: Tensor<D>,
    lv2: Tensor<D>,
) -> Tensor<D> {
    let diff = lv1.clone() - lv2.clone();
    let spread = (m1 - m2).square() * lv2.clone().neg().exp();
    (lv2 - lv1 + diff.exp() + spread)
        .sub_scalar(1.0)
        .mul_scalar(0.5)
}

/// Φ(x) ≈ ½ (1 + tanh(√(2/π) (x + 0.044715 x³))), the approximation the official code uses.
pub fn approx_standard_normal_cdf<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let cubic = x.clone().powi_scalar(3).mul_scalar(0.044715);
    (x + cubic)
        .mul_scalar((2.0 / std::f64::consts::PI).sqrt())
        .tanh()
        .add_scalar(1.0)
        .mul_scalar(0.5)
}

/// Same approximation on one f64, for closed-form checks and scalar code.
pub fn approx_standard_normal_cdf_f64(x: f64) -> f64 {
    0.5 * (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x.powi(3))).tanh())
}

/// Half the width of one of the 256 bins that [−1, 1] is cut into.
pub const HALF_BIN: f64 = 1.0 / 255.0;
/// Pixels below −EDGE (above EDGE) are the lowest (highest) bin, integrated from −∞ (to +∞).
pub const EDGE: f64 = 0.999;
/// Probabilities are clamped here before the log.
pub const MIN_PROB: f64 = 1e-12;

/// log p(x) per element under the discretized Gaussian decoder N(mean, e^{log_var}) on 256
/// bins of [−1, 1] (paper eq. 13). `x` holds data in [−1, 1] on the 8-bit grid.
pub fn discretized_gaussian_log_likelihood<const D: usize>(
    x: Tensor<D>,
    mean: Tensor<D>,
    log_var: Tensor<D>,
) -> Tensor<D> {
    let centered = x.clone() - mean;
    let inv_std = log_var.mul_scalar(-0.5).exp();
    let cdf_plus =
        approx_standard_normal_cdf(centered.clone().add_scalar(HALF_BIN) * inv_std.clone());
    let cdf_min = approx_standard_normal_cdf(centered.sub_scalar(HALF_BIN) * inv_std);
    let log_cdf_plus = cdf_plus.clone().clamp_min(MIN_PROB).log();
    let log_one_minus_cdf_min = cdf_min
        .clone()
        .neg()
        .add_scalar(1.0)
        .clamp_min(MIN_PROB)
        .log();
    let log_delta = (cdf_plus - cdf_min).clamp_min(MIN_PROB).log();
    let low = x.clone().lower_elem(-EDGE);
    let high = x.greater_elem(EDGE);
    log_delta
        .mask_where(high, log_one_minus_cdf_min)
        .mask_where(low, log_cdf_plus)
}

/// Mean over every dimension but the first (the batch), turning nats into bits: [batch].
pub fn mean_bits_per_dim(t: Tensor<4>) -> Tensor<1> {
    let [batch, ..] = t.dims();
    t.flatten::<2>(1, 3)
        .mean_dim(1)
        .reshape([batch])
        .div_scalar(std::f64::consts::LN_2)
}
