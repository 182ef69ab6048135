//! The rate–distortion curve of progressive lossy compression (the paper's §4.3, Fig 5):
//! after the receiver has x_T … x_t, the rate is the bits sent so far,
//! L_T + Σ_{s=t+1}^{T} L_{s−1}, and the distortion is the RMSE of x̂_0 predicted from x_t,
//! on the 0–255 scale.

use std::collections::BTreeMap;

/// One point of the curve, after `reverse_steps` = T − t steps of the reverse process.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatePoint {
    pub reverse_steps: u64,
    /// Bits/dim received so far.
    pub rate: f64,
    /// RMSE of x̂_0 on [0, 255].
    pub distortion: f64,
}

/// Half the width of [−1, 1] in 8-bit levels: RMSE in data units × this = RMSE on 0–255.
const TO_BYTE_SCALE: f64 = 127.5;

/// The curve from per-t bound terms `vb` (t → L_{t−1} in bits/dim, L_0 at t = 1), per-t
/// mean squared errors of x̂_0 in data units, and L_T. Empty unless every t = 1 … T is there.
pub fn rate_distortion(
    vb: &BTreeMap<u64, f64>,
    x0_mse: &BTreeMap<u64, f64>,
    prior_bits_per_dim: f64,
) -> Vec<RatePoint> {
    let t_max = vb.len() as u64;
    let complete = (1..=t_max).all(|t| vb.contains_key(&t) && x0_mse.contains_key(&t));
    if t_max == 0 || !complete {
        return Vec::new();
    }
    let mut rate = prior_bits_per_dim;
    let mut points = Vec::with_capacity(t_max as usize);
    for t in (1..=t_max).rev() {
        if t < t_max {
            rate += vb[&(t + 1)];
        }
        points.push(RatePoint {
            reverse_steps: t_max - t,
            rate,
            distortion: x0_mse[&t].max(0.0).sqrt() * TO_BYTE_SCALE,
        });
    }
    points
}
