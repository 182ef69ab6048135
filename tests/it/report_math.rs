//! The report's small pieces of math: the rate–distortion curve and curve smoothing.

use std::collections::BTreeMap;

use ddpm_exp::report::plot::curves::smooth;
use ddpm_exp::report::rate_distortion::rate_distortion;

#[test]
fn rate_adds_each_term_as_its_step_is_received_and_ends_before_l0() {
    let t_max = 10u64;
    let vb: BTreeMap<u64, f64> = (1..=t_max).map(|t| (t, 0.1 * t as f64)).collect();
    let mse: BTreeMap<u64, f64> = (1..=t_max).map(|t| (t, 0.01 * t as f64)).collect();
    let prior = 0.002;
    let curve = rate_distortion(&vb, &mse, prior);
    assert_eq!(curve.len(), t_max as usize);
    // Before any reverse step only x_T is known: the rate is L_T.
    assert_eq!(curve[0].reverse_steps, 0);
    assert!((curve[0].rate - prior).abs() < 1e-12);
    // With x_1 known every L_{t−1}, t ≥ 2, has been sent; L_0 (vb at t = 1) is the distortion's.
    let last = curve.last().unwrap();
    let sent: f64 = (2..=t_max).map(|t| vb[&t]).sum();
    assert_eq!(last.reverse_steps, t_max - 1);
    assert!((last.rate - (prior + sent)).abs() < 1e-12);
    // RMSE on 0–255 of x̂_0 from x_1: √mse × 127.5.
    assert!((last.distortion - 0.01f64.sqrt() * 127.5).abs() < 1e-9);
    assert!(
        curve
            .windows(2)
            .all(|w| w[1].rate >= w[0].rate && w[1].distortion <= w[0].distortion)
    );
}

#[test]
fn rate_distortion_needs_every_t() {
    let mut vb: BTreeMap<u64, f64> = (1..=5).map(|t| (t, 0.1)).collect();
    let mse = vb.clone();
    vb.remove(&3);
    vb.insert(6, 0.1);
    assert!(rate_distortion(&vb, &mse, 0.0).is_empty());
}

#[test]
fn smoothing_keeps_a_constant_and_lags_a_step() {
    let flat = smooth(&[2.0; 20], 0.9);
    assert!(flat.iter().all(|v| (v - 2.0).abs() < 1e-12), "{flat:?}");
    let none = smooth(&[1.0, 5.0, 3.0], 0.0);
    assert_eq!(none, vec![1.0, 5.0, 3.0]);
    let mut step = vec![0.0; 10];
    step.extend([1.0; 10]);
    let s = smooth(&step, 0.8);
    assert!(s[10] > 0.0 && s[10] < 1.0, "lags behind the step");
    assert!(s.windows(2).all(|w| w[1] >= w[0]));
}
