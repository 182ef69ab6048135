//! The loss-aware t sampler (Nichol & Dhariwal's importance sampling of the bound) against a
//! hand computation: uniform until every t has ten losses, then p_t ∝ √E[L_t²] mixed with
//! 0.001 of uniform, loss weights 1 / (T p_t), and draws that follow p.

use ddpm_exp::diffusion::timestep_sampler::{HISTORY_PER_T, LossHistory};
use ddpm_exp::diffusion::{TimestepSampler, TimestepSamplerKind};
use ddpm_exp::rng::{Stream, stream};

/// T = 3 with full histories: t = 1 saw only 1s, t = 2 only 2s, t = 3 alternately 0 and 2.
fn warmed_up() -> TimestepSampler {
    let mut sampler = TimestepSampler::new(TimestepSamplerKind::LossAware, 3);
    for i in 0..HISTORY_PER_T {
        let third = if i % 2 == 0 { 0.0 } else { 2.0 };
        sampler.record(&[1, 2, 3], &[1.0, 2.0, third]);
    }
    sampler
}

#[test]
fn probabilities_and_weights_match_the_hand_computation() {
    let TimestepSampler::LossAware(history) = warmed_up() else {
        panic!("a loss-aware sampler")
    };
    // √E[L²] = 1, 2, √((0² + 2²)/2) = √2; their sum 3 + √2 = 4.414214.
    // p_t = 0.999 · w_t / 4.414214 + 0.001 / 3.
    let expected = [
        0.226_647_712_074_658_75,
        0.452_962_090_815_984_2,
        0.320_390_197_109_357_07,
    ];
    let p = history.probabilities();
    for (got, want) in p.iter().zip(expected) {
        assert!((got - want).abs() < 1e-12, "p = {p:?}");
    }
    // Each example's loss weight is 1 / (T p_t): 1/(3 · 0.2266477) = 1.4707112, …
    let draw = warmed_up().draw(&mut stream(0, Stream::Timestep), 64, 3);
    let weights = draw.weights.expect("loss-aware draws carry weights");
    let by_t = [
        1.470_711_220_872_734_2,
        0.735_896_756_244_773_6,
        1.040_398_040_703_968_4,
    ];
    for (&t, w) in draw.ts.iter().zip(&weights) {
        assert!((w - by_t[t - 1]).abs() < 1e-12, "t = {t}: weight {w}");
    }
}

#[test]
fn draws_follow_the_probabilities() {
    let sampler = warmed_up();
    let draw = sampler.draw(&mut stream(1, Stream::Timestep), 30_000, 3);
    let mut counts = [0usize; 3];
    for &t in &draw.ts {
        counts[t - 1] += 1;
    }
    let TimestepSampler::LossAware(history) = &sampler else {
        unreachable!()
    };
    for (count, p) in counts.iter().zip(history.probabilities()) {
        let share = *count as f64 / 30_000.0;
        // Four standard errors of a share near 0.3 over 30,000 draws is about 0.011.
        assert!((share - p).abs() < 0.011, "share {share} vs p {p}");
    }
}

#[test]
fn until_every_t_has_ten_losses_it_is_uniform_and_unweighted_in_effect() {
    let mut sampler = TimestepSampler::new(TimestepSamplerKind::LossAware, 3);
    for _ in 0..HISTORY_PER_T {
        sampler.record(&[1, 2], &[5.0, 0.1]);
    }
    sampler.record(&[3; 9], &[1.0; 9]); // t = 3 has nine: not yet
    let TimestepSampler::LossAware(history) = &sampler else {
        unreachable!()
    };
    assert!(!history.warmed_up());
    assert_eq!(history.probabilities(), vec![1.0 / 3.0; 3]);
    let draw = sampler.draw(&mut stream(2, Stream::Timestep), 16, 3);
    assert!(
        draw.weights
            .unwrap()
            .iter()
            .all(|&w| (w - 1.0).abs() < 1e-12)
    );
}

#[test]
fn the_history_keeps_the_last_ten_losses_of_each_t() {
    let mut history = LossHistory {
        per_t: vec![Vec::new(); 2],
    };
    for i in 0..13 {
        history.record(&[2], &[i as f32]);
    }
    assert_eq!(history.per_t[0], Vec::<f64>::new());
    assert_eq!(history.per_t[1], (3..13).map(f64::from).collect::<Vec<_>>());
}

#[test]
fn uniform_draws_carry_no_weights_and_restore_needs_no_history() {
    let uniform = TimestepSampler::new(TimestepSamplerKind::Uniform, 5);
    let draw = uniform.draw(&mut stream(3, Stream::Timestep), 100, 5);
    assert!(draw.weights.is_none());
    assert!(draw.ts.iter().all(|t| (1..=5).contains(t)));
    assert!(TimestepSampler::restore(TimestepSamplerKind::Uniform, 5, None).is_ok());
    let missing = TimestepSampler::restore(TimestepSamplerKind::LossAware, 5, None);
    assert!(missing.unwrap_err().contains("no loss history"));
}
