//! The variational bound's pieces against values worked out independently: numeric integration
//! of Gaussian densities, and the closed form of a model that knows the true posterior.

use burn::prelude::*;
use ddpm_exp::diffusion::bound::{evaluate_bound, prior_bits_per_dim};
use ddpm_exp::diffusion::gaussian::{
    approx_standard_normal_cdf_f64, discretized_gaussian_log_likelihood, normal_kl,
};
use ddpm_exp::diffusion::{
    DiffusionSchedule, LossKind, MeanKind, Objective, ScheduleKind, ScheduleParams,
    StepCoefficients, VarianceKind,
};
use ddpm_exp::rng::{Stream, stream};

fn device() -> Device {
    crate::common::device()
}

fn vec1(values: &[f64]) -> Tensor<1> {
    Tensor::from_data(
        TensorData::new(
            values.iter().map(|&v| v as f32).collect::<Vec<f32>>(),
            [values.len()],
        ),
        &device(),
    )
}

fn to_vec(t: Tensor<1>) -> Vec<f64> {
    t.into_data()
        .try_to_vec::<f32>()
        .unwrap()
        .into_iter()
        .map(f64::from)
        .collect()
}

fn pdf(x: f64, mean: f64, var: f64) -> f64 {
    (-(x - mean).powi(2) / (2.0 * var)).exp() / (2.0 * std::f64::consts::PI * var).sqrt()
}

/// Simpson's rule with `n` (even) intervals.
fn simpson(f: impl Fn(f64) -> f64, a: f64, b: f64, n: usize) -> f64 {
    let h = (b - a) / n as f64;
    let inner: f64 = (1..n)
        .map(|i| f(a + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 })
        .sum();
    (f(a) + f(b) + inner) * h / 3.0
}

#[test]
fn kl_of_two_gaussians_matches_numeric_integration() {
    let cases: [(f64, f64, f64, f64); 4] = [
        (0.0, 1.0, 0.0, 1.0),
        (0.3, 0.5, -0.2, 2.0),
        (1.0, 0.01, 0.9, 0.02),
        (-0.5, 3.0, 0.5, 0.7),
    ];
    let m1: Vec<f64> = cases.iter().map(|c| c.0).collect();
    let lv1: Vec<f64> = cases.iter().map(|c| c.1.ln()).collect();
    let m2: Vec<f64> = cases.iter().map(|c| c.2).collect();
    let lv2: Vec<f64> = cases.iter().map(|c| c.3.ln()).collect();
    let got = to_vec(normal_kl(vec1(&m1), vec1(&lv1), vec1(&m2), vec1(&lv2)));
    for (i, &(ma, va, mb, vb)) in cases.iter().enumerate() {
        // KL = ∫ p log(p/q), integrated over ±12 standard deviations of p.
        let s = va.sqrt();
        let expected = simpson(
            |x| pdf(x, ma, va) * (pdf(x, ma, va).ln() - pdf(x, mb, vb).ln()),
            ma - 12.0 * s,
            ma + 12.0 * s,
            20_000,
        );
        assert!(
            (got[i] - expected).abs() < 1e-4 + 1e-4 * expected,
            "case {i}: {} vs {expected}",
            got[i]
        );
    }
}

#[test]
fn discretized_decoder_matches_bin_integrals_of_the_density() {
    // Pixels on the 8-bit grid, including both edge bins, under several means and scales.
    let cases: [(f64, f64, f64); 5] = [
        (-1.0, -0.98, 0.05),
        (1.0, 0.97, 0.04),
        (0.0, 0.01, 0.02),
        (100.0 / 127.5 - 1.0, -0.2, 0.3),
        (0.5, 0.5, 0.003),
    ];
    let x: Vec<f64> = cases.iter().map(|c| c.0).collect();
    let mean: Vec<f64> = cases.iter().map(|c| c.1).collect();
    let log_var: Vec<f64> = cases.iter().map(|c| (c.2 * c.2).ln()).collect();
    let got = to_vec(discretized_gaussian_log_likelihood(
        vec1(&x),
        vec1(&mean),
        vec1(&log_var),
    ));
    let half_bin = 1.0 / 255.0;
    for (i, &(xi, m, s)) in cases.iter().enumerate() {
        // The bin's probability mass: the density integrated over [x − 1/255, x + 1/255], from
        // −∞ for the lowest bin and to +∞ for the highest (here: 30 σ away).
        let lo = if xi < -0.999 {
            m - 30.0 * s
        } else {
            xi - half_bin
        };
        let hi = if xi > 0.999 {
            m + 30.0 * s
        } else {
            xi + half_bin
        };
        let mass = simpson(|u| pdf(u, m, s * s), lo, hi, 20_000);
        // The decoder uses the tanh approximation of Φ (|error| < 2e-4 in probability).
        let p = got[i].exp();
        assert!(
            (p - mass).abs() < 4e-4,
            "case {i}: p = {p}, integral = {mass}"
        );
    }
}

fn linear(timesteps: usize) -> DiffusionSchedule {
    DiffusionSchedule::new(
        &ScheduleParams {
            kind: ScheduleKind::Linear,
            beta_start: 1e-4,
            beta_end: 0.02,
            cosine_s: 0.008,
            max_beta: 0.999,
        },
        timesteps,
    )
}

#[test]
fn prior_term_of_the_paper_schedule_is_about_1e_minus_5_bits_per_dim() {
    // Paper §4: L_T ≈ 1e-5 bits/dim. For x_0 spread evenly over [−1, 1] (mean x_0² = 1/3) the
    // closed form ½(−1 − ln(1−ᾱ) + (1−ᾱ) + ᾱ x_0²)/ln 2 ≈ ½ ᾱ_T/3/ln 2 ≈ 9.7e-6.
    let s = linear(1000);
    let pixels: Vec<f32> = (0..256).map(|k| k as f32 / 127.5 - 1.0).collect();
    let x0 = Tensor::<4>::from_data(TensorData::new(pixels.clone(), [1, 1, 16, 16]), &device());
    let got = to_vec(prior_bits_per_dim(&s, x0))[0];
    let a = s.alpha_bar(1000);
    let closed: f64 = pixels
        .iter()
        .map(|&x| 0.5 * (-1.0 - (1.0 - a).ln() + (1.0 - a) + a * (x as f64).powi(2)))
        .sum::<f64>()
        / 256.0
        / std::f64::consts::LN_2;
    assert!((got - closed).abs() < 1e-6, "{got} vs {closed}");
    assert!(got > 5e-6 && got < 2e-5, "L_T = {got} bits/dim");
}

#[test]
fn bound_of_a_model_that_knows_the_posterior_equals_the_closed_form() {
    // Data: one known image x_0. The "model" outputs the true posterior mean μ̃_t(x_t, x_0) and
    // Σ = β̃_t (fixed_small), so every L_{t−1}, t ≥ 2, is a KL between equal Gaussians (0), and
    // L_0 is the decoder's mass of x_0's own bin around mean x_0 (μ̃_1 = x_0 since
    // coef2(1) = 0, coef1(1) = 1) with σ² = β̃_2 (the clipped first variance):
    // interior pixel: −log₂(2Φ(δ/σ) − 1), lowest pixel: −log₂ Φ(δ/σ), δ = 1/255.
    let t_max = 50;
    let s = linear(t_max);
    let objective = Objective {
        mean: MeanKind::Mu,
        variance: VarianceKind::FixedSmall,
        loss: LossKind::Vlb,
        vlb_weight: 0.0,
        rescale_vlb: false,
        weighting: ddpm_exp::diffusion::Weighting::Uniform,
    };
    let pixels: Vec<f32> = vec![-1.0, 0.0, 128.0 / 127.5 - 1.0, 40.0 / 127.5 - 1.0];
    let x0 = Tensor::<4>::from_data(TensorData::new(pixels.clone(), [1, 1, 2, 2]), &device());
    let mut rng = stream(7, Stream::Evaluation);
    let x0_model = x0.clone();
    let sums = evaluate_bound(
        &s,
        &objective,
        x0.clone(),
        &mut rng,
        |x_t, ts| StepCoefficients::gather(&s, ts, &device()).posterior_mean(x0_model.clone(), x_t),
        |_| {},
    );

    let sigma = s.posterior_variance(2).sqrt();
    let delta = 1.0 / 255.0;
    let interior = -(2.0 * approx_standard_normal_cdf_f64(delta / sigma) - 1.0).log2();
    let lowest = -approx_standard_normal_cdf_f64(delta / sigma).log2();
    let l0 = (lowest + 3.0 * interior) / 4.0;
    let a = s.alpha_bar(t_max);
    let lt: f64 = pixels
        .iter()
        .map(|&x| 0.5 * (-1.0 - (1.0 - a).ln() + (1.0 - a) + a * (x as f64).powi(2)))
        .sum::<f64>()
        / 4.0
        / std::f64::consts::LN_2;

    assert!(
        (sums.vb[0] - l0).abs() < 1e-3 * l0,
        "L_0 = {} vs {l0}",
        sums.vb[0]
    );
    for t in 2..=t_max {
        assert!(
            sums.vb[t - 1].abs() < 1e-4,
            "L_{} = {}",
            t - 1,
            sums.vb[t - 1]
        );
    }
    assert!(
        (sums.prior - lt).abs() < 1e-4 * lt.max(1e-3),
        "L_T = {} vs {lt}",
        sums.prior
    );
    assert!(
        (sums.total_bits_per_dim() - (l0 + lt)).abs() < 2e-3 * (l0 + lt),
        "{} vs {}",
        sums.total_bits_per_dim(),
        l0 + lt
    );
    // x̂_0 recovered from the true posterior mean is x_0 itself at every t.
    assert!(
        sums.x0_mse.iter().all(|&m| m < 1e-3),
        "{:?}",
        &sums.x0_mse[..5]
    );
}
