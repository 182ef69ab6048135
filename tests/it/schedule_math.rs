//! The schedule and posterior tables against values worked out independently of the code's
//! own recurrences. Each expected value says where it comes from.

use ddpm_exp::diffusion::{DiffusionSchedule, ScheduleKind, ScheduleParams};

fn params(kind: ScheduleKind, beta_start: f64, beta_end: f64) -> ScheduleParams {
    ScheduleParams {
        kind,
        beta_start,
        beta_end,
        cosine_s: 0.008,
        max_beta: 0.999,
    }
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-300)
}

#[test]
fn linear_betas_match_the_paper_endpoints_and_linspace() {
    let s = DiffusionSchedule::new(&params(ScheduleKind::Linear, 1e-4, 0.02), 1000);
    // Paper §4: β_1 = 1e-4, β_T = 0.02, linear in between (numpy linspace, step (0.02-1e-4)/999).
    assert!(close(s.beta(1), 1e-4, 1e-12));
    assert!(close(s.beta(1000), 0.02, 1e-12));
    assert!(close(
        s.beta(500),
        1e-4 + 499.0 * (0.02 - 1e-4) / 999.0,
        1e-12
    ));
}

#[test]
fn linear_alpha_bar_matches_a_closed_form_sum_of_logs() {
    let s = DiffusionSchedule::new(&params(ScheduleKind::Linear, 1e-4, 0.02), 1000);
    // ᾱ_T = exp(Σ log(1 − β_t)), summed here directly from the linspace formula, not from the
    // code's running product. Known value for the paper's schedule: ᾱ_T ≈ 4.036e-5.
    let log_sum: f64 = (0..1000)
        .map(|i| (1.0 - (1e-4 + i as f64 * (0.02 - 1e-4) / 999.0)).ln())
        .sum();
    assert!(close(s.alpha_bar(1000), log_sum.exp(), 1e-9));
    assert!(
        (s.alpha_bar(1000) - 4.036e-5).abs() < 5e-8,
        "ᾱ_T = {}",
        s.alpha_bar(1000)
    );
}

#[test]
fn constant_schedule_has_geometric_alpha_bar_and_closed_form_posterior() {
    // With β_t = b: ᾱ_t = (1 − b)^t, and β̃_t = b (1 − (1 − b)^(t−1)) / (1 − (1 − b)^t).
    let b = 0.05;
    let s = DiffusionSchedule::new(&params(ScheduleKind::Constant, 1e-4, b), 50);
    for t in [1usize, 2, 7, 50] {
        assert!(
            close(s.alpha_bar(t), (1.0 - b).powi(t as i32), 1e-12),
            "t={t}"
        );
        let expected = b * (1.0 - (1.0 - b).powi(t as i32 - 1)) / (1.0 - (1.0 - b).powi(t as i32));
        assert!((s.posterior_variance(t) - expected).abs() < 1e-15, "t={t}");
    }
    // β̃_1 = 0 (ᾱ_0 = 1), so its clipped log takes β̃_2's value.
    assert_eq!(s.posterior_variance(1), 0.0);
    assert!(close(
        s.posterior_log_variance_clipped(1),
        s.posterior_variance(2).ln(),
        1e-12
    ));
}

#[test]
fn posterior_precision_is_the_sum_of_the_two_gaussian_precisions() {
    // q(x_{t−1}|x_t,x_0) ∝ q(x_t|x_{t−1}) q(x_{t−1}|x_0): precisions add,
    // 1/β̃_t = α_t/β_t + 1/(1 − ᾱ_{t−1}) (Bayes' rule for Gaussians), for t ≥ 2.
    let s = DiffusionSchedule::new(&params(ScheduleKind::Linear, 1e-4, 0.02), 1000);
    for t in [2usize, 10, 500, 1000] {
        let precision = s.alpha(t) / s.beta(t) + 1.0 / (1.0 - s.alpha_bar_prev(t));
        assert!(
            close(s.posterior_variance(t), 1.0 / precision, 1e-9),
            "t={t}"
        );
        // The posterior mean's weights are precision-weighted: x_t enters as
        // √α_t/β_t · β̃_t and x_0 as √ᾱ_{t−1}/(1 − ᾱ_{t−1}) · β̃_t.
        let v = s.posterior_variance(t);
        assert!(close(
            s.posterior_mean_coef2(t),
            s.alpha(t).sqrt() / s.beta(t) * v,
            1e-9
        ));
        assert!(close(
            s.posterior_mean_coef1(t),
            s.alpha_bar_prev(t).sqrt() / (1.0 - s.alpha_bar_prev(t)) * v,
            1e-9
        ));
    }
}

#[test]
fn posterior_mean_from_eps_matches_equation_11() {
    // μ̃_t(x_t, x_0(x_t, ε)) = (x_t − β_t/√(1−ᾱ_t) ε)/√α_t: eq. 11 of the paper, checked at
    // arbitrary numbers for x_t and ε through the two coefficient tables.
    let s = DiffusionSchedule::new(&params(ScheduleKind::Linear, 1e-4, 0.02), 1000);
    let (x_t, eps) = (0.37, -1.21);
    for t in [2usize, 100, 999] {
        let x0 = (x_t - (1.0 - s.alpha_bar(t)).sqrt() * eps) / s.alpha_bar(t).sqrt();
        let via_tables = s.posterior_mean_coef1(t) * x0 + s.posterior_mean_coef2(t) * x_t;
        let eq11 = (x_t - s.beta(t) / (1.0 - s.alpha_bar(t)).sqrt() * eps) / s.alpha(t).sqrt();
        assert!((via_tables - eq11).abs() < 1e-10, "t={t}");
    }
}

#[test]
fn cosine_alpha_bar_follows_its_defining_function() {
    // Nichol & Dhariwal: ᾱ_t = f(t)/f(0), f(t) = cos²(((t/T)+s)/(1+s)·π/2), wherever β < 0.999.
    let t_max = 1000usize;
    let s = DiffusionSchedule::new(&params(ScheduleKind::Cosine, 1e-4, 0.02), t_max);
    let f = |t: f64| {
        (((t / t_max as f64) + 0.008) / 1.008 * std::f64::consts::FRAC_PI_2)
            .cos()
            .powi(2)
    };
    for t in [1usize, 10, 250, 500, 900] {
        assert!(close(s.alpha_bar(t), f(t as f64) / f(0.0), 1e-9), "t={t}");
    }
    assert!(s.beta.iter().all(|&b| b > 0.0 && b <= 0.999));
    assert_eq!(s.beta(t_max), 0.999, "the last β is capped");
}

#[test]
fn quadratic_betas_are_squares_of_a_linspace_of_roots() {
    let s = DiffusionSchedule::new(&params(ScheduleKind::Quadratic, 1e-4, 0.02), 11);
    // √β from 0.01 to √0.02 in 10 equal steps; the middle one is the mean of the roots, squared.
    let mid = ((0.01 + 0.02f64.sqrt()) / 2.0).powi(2);
    assert!(close(s.beta(6), mid, 1e-12));
    assert!(close(s.beta(1), 1e-4, 1e-12) && close(s.beta(11), 0.02, 1e-12));
}

#[test]
fn snr_is_alpha_bar_over_its_complement() {
    let s = DiffusionSchedule::new(&params(ScheduleKind::Linear, 1e-4, 0.02), 1000);
    // At t = 1, ᾱ_1 = 1 − 1e-4, so SNR = (1 − 1e-4)/1e-4 = 9999.
    assert!(close(s.snr(1), 9999.0, 1e-9));
    assert!(s.snr(1000) < 1e-4);
}
