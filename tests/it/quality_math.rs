//! The quality scores against facts known in closed form: FID of a set with itself, FID of
//! Gaussians (exact for 2×2 through tr √M = √(tr M + 2√det M)), IS of perfectly confident and
//! of constant predictions, and KID's unbiasedness.

use ddpm_exp::quality::{
    FeatureStats, Features, frechet_distance, inception_score, kernel_inception_distance,
};
use nalgebra::{DMatrix, DVector};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

fn normal_features(rng: &mut ChaCha8Rng, rows: usize, dim: usize) -> Features {
    Features::new(
        dim,
        (0..rows * dim)
            .map(|_| rng.sample::<f64, _>(StandardNormal))
            .collect(),
    )
}

/// Rows x ~ N(mean, L Lᵀ) as mean + L z.
fn gaussian(rng: &mut ChaCha8Rng, rows: usize, mean: &[f64], l: &DMatrix<f64>) -> Features {
    let d = mean.len();
    let mut values = Vec::with_capacity(rows * d);
    for _ in 0..rows {
        let z = DVector::from_fn(d, |_, _| rng.sample::<f64, _>(StandardNormal));
        let x = l * z + DVector::from_column_slice(mean);
        values.extend(x.iter());
    }
    Features::new(d, values)
}

fn stats(mean: &[f64], cov: DMatrix<f64>) -> FeatureStats {
    FeatureStats {
        mean: DVector::from_column_slice(mean),
        cov,
        count: 0,
    }
}

#[test]
fn fid_of_a_feature_set_with_itself_is_zero() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let features = normal_features(&mut rng, 400, 32);
    let s = FeatureStats::of(&features).unwrap();
    let fid = frechet_distance(&s, &s);
    assert!(fid.abs() < 1e-9, "FID(x, x) = {fid}");
}

#[test]
fn fid_of_nan_features_is_nan_not_a_perfect_zero() {
    // Samples that ran off to NaN give NaN features; the score must say so (it read 0.000).
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let real = FeatureStats::of(&normal_features(&mut rng, 50, 4)).unwrap();
    let broken = FeatureStats::of(&Features::new(4, vec![f64::NAN; 200])).unwrap();
    assert!(frechet_distance(&real, &broken).is_nan());
}

#[test]
fn fid_of_a_shifted_copy_is_the_squared_shift() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let a = normal_features(&mut rng, 300, 8);
    let shift = [0.5, -1.0, 0.0, 2.0, 0.0, 0.0, 0.25, 0.0];
    let b = Features::new(
        8,
        a.values
            .iter()
            .enumerate()
            .map(|(i, v)| v + shift[i % 8])
            .collect(),
    );
    let fid = frechet_distance(
        &FeatureStats::of(&a).unwrap(),
        &FeatureStats::of(&b).unwrap(),
    );
    let want: f64 = shift.iter().map(|s| s * s).sum();
    assert!((fid - want).abs() < 1e-9, "{fid} vs {want}");
}

#[test]
fn fid_of_two_gaussians_matches_the_closed_form_also_when_covariances_do_not_commute() {
    // 2×2: tr √(Σ₁Σ₂) = √(tr Σ₁Σ₂ + 2 √det Σ₁Σ₂), independent of any eigendecomposition.
    let s1: DMatrix<f64> = DMatrix::from_row_slice(2, 2, &[2.0, 0.8, 0.8, 1.0]);
    let s2: DMatrix<f64> = DMatrix::from_row_slice(2, 2, &[0.5, -0.3, -0.3, 3.0]);
    let product: DMatrix<f64> = &s1 * &s2;
    let trace_root = (product.trace() + 2.0 * product.determinant().sqrt()).sqrt();
    let (m1, m2) = ([1.0, -2.0], [0.0, 0.5]);
    let mean_term: f64 = (1.0f64).powi(2) + (2.5f64).powi(2);
    let want = mean_term + s1.trace() + s2.trace() - 2.0 * trace_root;
    let fid = frechet_distance(&stats(&m1, s1.clone()), &stats(&m2, s2.clone()));
    assert!((fid - want).abs() < 1e-10, "{fid} vs {want}");

    // Estimated from samples, it converges to the same value.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let a = gaussian(&mut rng, 40_000, &m1, &s1.clone().cholesky().unwrap().l());
    let b = gaussian(&mut rng, 40_000, &m2, &s2.clone().cholesky().unwrap().l());
    let estimated = frechet_distance(
        &FeatureStats::of(&a).unwrap(),
        &FeatureStats::of(&b).unwrap(),
    );
    assert!(
        (estimated - want).abs() < 0.02 * want,
        "{estimated} vs {want}"
    );
}

#[test]
fn fid_stays_finite_and_non_negative_for_singular_covariances() {
    // Features with dead dimensions (a ReLU layer gives these): rank-deficient Σ.
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let dead = |f: Features| {
        Features::new(
            f.dim,
            f.values
                .iter()
                .enumerate()
                .map(|(i, v)| if i % f.dim < 3 { 0.0 } else { *v })
                .collect(),
        )
    };
    let a = dead(normal_features(&mut rng, 50, 16));
    let b = dead(normal_features(&mut rng, 50, 16));
    let fid = frechet_distance(
        &FeatureStats::of(&a).unwrap(),
        &FeatureStats::of(&b).unwrap(),
    );
    assert!(fid.is_finite() && fid > 0.0, "{fid}");
}

#[test]
fn inception_score_of_confident_uniformly_spread_predictions_is_the_class_count() {
    let classes = 10;
    let probs: Vec<f64> = (0..1000)
        .flat_map(|i| (0..classes).map(move |c| if c == i % classes { 1.0 } else { 0.0 }))
        .collect();
    let (mean, std) = inception_score(&probs, classes, 10).unwrap();
    assert!((mean - 10.0).abs() < 1e-9 && std < 1e-9, "{mean} ± {std}");
}

#[test]
fn inception_score_of_constant_predictions_is_one() {
    let row = [0.5, 0.2, 0.1, 0.1, 0.05, 0.05, 0.0, 0.0, 0.0, 0.0];
    let probs: Vec<f64> = (0..200).flat_map(|_| row).collect();
    let (mean, _) = inception_score(&probs, 10, 10).unwrap();
    assert!((mean - 1.0).abs() < 1e-12, "{mean}");
    // Confident but always the same class: no diversity, also 1.
    let one_class: Vec<f64> = (0..200)
        .flat_map(|_| (0..10).map(|c| if c == 3 { 1.0 } else { 0.0 }))
        .collect();
    let (mean, _) = inception_score(&one_class, 10, 10).unwrap();
    assert!((mean - 1.0).abs() < 1e-12, "{mean}");
}

#[test]
fn inception_score_refuses_fewer_images_than_splits() {
    assert!(inception_score(&[0.5, 0.5, 0.5, 0.5], 2, 10).is_err());
}

#[test]
fn kid_is_unbiased_for_two_samples_of_one_distribution_and_positive_for_two() {
    // Many independent pairs of small sets: the mean estimate is 0 within its standard error
    // (the biased V-statistic, with its i = j terms, sits ≈ 0.26 above 0 here).
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (pairs, m, d) = (300, 50, 8);
    let mut same = Vec::new();
    for _ in 0..pairs {
        let x = normal_features(&mut rng, m, d);
        let y = normal_features(&mut rng, m, d);
        same.push(kernel_inception_distance(&x, &y, 1, m, &mut rng).unwrap().0);
    }
    let mean = same.iter().sum::<f64>() / pairs as f64;
    let sd = (same.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (pairs - 1) as f64).sqrt();
    let stderr = sd / (pairs as f64).sqrt();
    assert!(
        mean.abs() < 4.0 * stderr,
        "mean {mean}, standard error {stderr}"
    );
    assert!(stderr < 0.05, "too noisy to tell bias from none: {stderr}");

    let x = normal_features(&mut rng, 500, d);
    let shifted = Features::new(
        d,
        normal_features(&mut rng, 500, d)
            .values
            .iter()
            .map(|v| v + 0.5)
            .collect(),
    );
    let (kid, kid_sd) = kernel_inception_distance(&x, &shifted, 20, 200, &mut rng).unwrap();
    assert!(kid > 3.0 * kid_sd && kid_sd > 0.0, "{kid} ± {kid_sd}");
}
