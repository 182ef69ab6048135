//! The Kernel Inception Distance (Bińkowski et al. 2018): the unbiased estimate of MMD² with the
//! cubic polynomial kernel k(x, y) = (xᵀy / d + 1)³, averaged over random subsets of both sets
//! (mean ± standard deviation over the subsets). Unbiased: its expectation is 0 when both sets
//! come from one distribution, so small negative values are normal.

use rand::seq::index::sample;
use rand_chacha::ChaCha8Rng;

use super::{Features, QualityError};

fn kernel(x: &[f64], y: &[f64]) -> f64 {
    let dot: f64 = x.iter().zip(y).map(|(a, b)| a * b).sum();
    (dot / x.len() as f64 + 1.0).powi(3)
}

/// Unbiased MMD² between the rows `xi` of `x` and `yi` of `y` (equal counts m ≥ 2):
/// [Σ_{i≠j} k(xᵢ,xⱼ) + Σ_{i≠j} k(yᵢ,yⱼ)] / (m(m−1)) − 2 Σ_{i,j} k(xᵢ,yⱼ) / m².
fn mmd2_unbiased(x: &Features, xi: &[usize], y: &Features, yi: &[usize]) -> f64 {
    let m = xi.len() as f64;
    let within = |f: &Features, idx: &[usize]| {
        let mut sum = 0.0;
        for (a, &i) in idx.iter().enumerate() {
            for &j in &idx[a + 1..] {
                sum += kernel(f.row(i), f.row(j));
            }
        }
        2.0 * sum
    };
    let mut across = 0.0;
    for &i in xi {
        for &j in yi {
            across += kernel(x.row(i), y.row(j));
        }
    }
    (within(x, xi) + within(y, yi)) / (m * (m - 1.0)) - 2.0 * across / (m * m)
}

/// KID over `subsets` subsets of `subset_size` rows of each set (capped at the smaller set),
/// drawn without replacement from `rng`.
pub fn kernel_inception_distance(
    x: &Features,
    y: &Features,
    subsets: usize,
    subset_size: usize,
    rng: &mut ChaCha8Rng,
) -> Result<(f64, f64), QualityError> {
    if x.dim != y.dim {
        return Err(QualityError::Statistics(format!(
            "feature sizes differ: {} and {}",
            x.dim, y.dim
        )));
    }
    let m = subset_size.min(x.rows()).min(y.rows());
    if m < 2 || subsets == 0 {
        return Err(QualityError::Statistics(format!(
            "KID needs subsets of at least 2 rows (sets of {} and {})",
            x.rows(),
            y.rows()
        )));
    }
    let values: Vec<f64> = (0..subsets)
        .map(|_| {
            let xi = sample(rng, x.rows(), m).into_vec();
            let yi = sample(rng, y.rows(), m).into_vec();
            mmd2_unbiased(x, &xi, y, &yi)
        })
        .collect();
    let mean = values.iter().sum::<f64>() / subsets as f64;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / subsets as f64;
    Ok((mean, var.sqrt()))
}
