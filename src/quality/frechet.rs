//! The Fréchet distance between Gaussians fitted to two feature sets (FID, Heusel et al. 2017):
//! d² = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁Σ₂)^½), in f64.
//!
//! Tr (Σ₁Σ₂)^½ is computed as Tr (A Σ₂ A)^½ with A = Σ₁^½: A Σ₂ A is symmetric positive
//! semi-definite and similar to Σ₁Σ₂ (same eigenvalues), so both square roots come from
//! symmetric eigendecompositions, with the tiny negative eigenvalues that rounding leaves
//! clamped to zero. No iterative square root that can fail to converge on a singular Σ.

use nalgebra::{DMatrix, DVector, SymmetricEigen};

use super::{Features, QualityError};

/// Mean and covariance (unbiased, divided by n − 1 as numpy's `cov`) of a feature set.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureStats {
    pub mean: DVector<f64>,
    pub cov: DMatrix<f64>,
    pub count: usize,
}

impl FeatureStats {
    /// Needs at least two rows.
    pub fn of(features: &Features) -> Result<Self, QualityError> {
        let (n, d) = (features.rows(), features.dim);
        if n < 2 {
            return Err(QualityError::Statistics(format!(
                "need at least 2 feature vectors, got {n}"
            )));
        }
        let x = DMatrix::from_row_slice(n, d, &features.values);
        let mean = x.row_mean().transpose();
        let mut centred = x;
        for mut row in centred.row_iter_mut() {
            row -= mean.transpose();
        }
        let cov = centred.transpose() * &centred / (n as f64 - 1.0);
        Ok(Self {
            mean,
            cov,
            count: n,
        })
    }
}

/// The symmetric PSD square root of `m` (symmetric), via its eigendecomposition.
fn sqrt_psd(m: DMatrix<f64>) -> DMatrix<f64> {
    let eigen = SymmetricEigen::new(m);
    let roots = eigen.eigenvalues.map(|l| l.max(0.0).sqrt());
    &eigen.eigenvectors * DMatrix::from_diagonal(&roots) * eigen.eigenvectors.transpose()
}

/// Tr (Σ₁Σ₂)^½ = Σᵢ √λᵢ(A Σ₂ A), with `root_a` = A = Σ₁^½.
fn trace_sqrt_product(root_a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    let middle = root_a * b * root_a;
    // Symmetrise: the product is symmetric up to rounding.
    let middle = (&middle + middle.transpose()) * 0.5;
    SymmetricEigen::new(middle)
        .eigenvalues
        .iter()
        .map(|l| l.max(0.0).sqrt())
        .sum()
}

/// A reference distribution with Σ^½ computed once, so that each FID against it takes one
/// eigendecomposition instead of two: for Inception's 2048-wide features each takes seconds
/// to tens of seconds on one core.
#[derive(Debug, Clone, PartialEq)]
pub struct FrechetReference {
    pub stats: FeatureStats,
    root_cov: DMatrix<f64>,
}

impl FrechetReference {
    pub fn new(stats: FeatureStats) -> Self {
        let root_cov = sqrt_psd(stats.cov.clone());
        Self { stats, root_cov }
    }

    /// The squared Fréchet distance between this reference and `other` (what FID reports).
    pub fn distance(&self, other: &FeatureStats) -> f64 {
        let a = &self.stats;
        let mean_term = (&a.mean - &other.mean).norm_squared();
        let trace = a.cov.trace() + other.cov.trace()
            - 2.0 * trace_sqrt_product(&self.root_cov, &other.cov);
        // Rounding can leave −1e−12 for identical sets: a distance is never negative. NaN
        // (features of NaN samples) stays NaN: f64::max would turn it into a perfect 0.
        let distance = mean_term + trace;
        if distance.is_nan() {
            distance
        } else {
            distance.max(0.0)
        }
    }
}

/// The squared Fréchet distance between N(μ₁, Σ₁) and N(μ₂, Σ₂) (what FID reports).
pub fn frechet_distance(a: &FeatureStats, b: &FeatureStats) -> f64 {
    FrechetReference::new(a.clone()).distance(b)
}
