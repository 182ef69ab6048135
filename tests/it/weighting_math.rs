//! The axes later papers ablate: v-prediction (Salimans & Ho 2022) and the MSE weightings
//! Min-SNR-γ (Hang et al. 2023) and P2 (Choi et al. 2022), against their closed forms at
//! t = 1, mid and T and at the SNR ends; one weighting gives one loss whatever is predicted;
//! the combinations that are not defined are refused; a short v run trains and samples.

use std::fs;

use burn::prelude::*;
use ddpm_exp::diffusion::{
    DiffusionSchedule, LossKind, MeanKind, Objective, ScheduleKind, ScheduleParams,
    StepCoefficients, VarianceKind, Weighting,
};
use ddpm_exp::rng::{Stream, normal_tensor, stream};
use ddpm_exp::spec::Overrides;

use crate::common::{assert_success, bin, last_line, tiny_yaml};

fn linear() -> DiffusionSchedule {
    let params = ScheduleParams {
        kind: ScheduleKind::Linear,
        beta_start: 1e-4,
        beta_end: 0.02,
        cosine_s: 0.008,
        max_beta: 0.999,
    };
    DiffusionSchedule::new(&params, 1000)
}

const MIN_SNR: Weighting = Weighting::MinSnr { gamma: 5.0 };
const P2: Weighting = Weighting::P2 { k: 1.0, gamma: 1.0 };

/// The papers' formulas, written out per space: Hang et al. give min(SNR, γ) on the x0-MSE
/// and its ε and v forms min(SNR, γ)/SNR and min(SNR, γ)/(SNR + 1); Choi et al. give
/// 1/(k + SNR)^γ on the ε-MSE, so SNR/(k + SNR)^γ on the x0-MSE and SNR/((k + SNR)^γ (SNR + 1))
/// on the v-MSE.
fn closed_form(weighting: Weighting, mean: MeanKind, snr: f64) -> f64 {
    match (weighting, mean) {
        (Weighting::Uniform, _) => 1.0,
        (Weighting::MinSnr { gamma }, MeanKind::X0) => snr.min(gamma),
        (Weighting::MinSnr { gamma }, MeanKind::Eps) => snr.min(gamma) / snr,
        (Weighting::MinSnr { gamma }, MeanKind::V) => snr.min(gamma) / (snr + 1.0),
        (Weighting::P2 { k, gamma }, MeanKind::Eps) => 1.0 / (k + snr).powf(gamma),
        (Weighting::P2 { k, gamma }, MeanKind::X0) => snr / (k + snr).powf(gamma),
        (Weighting::P2 { k, gamma }, MeanKind::V) => snr / ((k + snr).powf(gamma) * (snr + 1.0)),
        (_, MeanKind::Mu) => unreachable!("no weighting but uniform is defined for μ̃"),
    }
}

const SPACES: [MeanKind; 3] = [MeanKind::Eps, MeanKind::X0, MeanKind::V];

#[test]
fn weights_match_the_papers_formulas_at_t_1_mid_and_t() {
    let s = linear();
    for t in [1, 500, 1000] {
        let snr = s.snr(t);
        for weighting in [Weighting::Uniform, MIN_SNR, P2] {
            for mean in SPACES {
                let got = weighting.weight(mean, snr).unwrap();
                let want = closed_form(weighting, mean, snr);
                assert!(
                    (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                    "{weighting:?} for {mean:?} at t = {t} (SNR {snr}): {got}, formula {want}"
                );
            }
        }
    }
    // Hang et al.'s point: at t = 1 (SNR ≈ 1e4) min-SNR's ε-weight is γ/SNR ≪ 1, at t = T 1.
    assert!((MIN_SNR.weight(MeanKind::Eps, s.snr(1)).unwrap() - 5.0 / 9999.0).abs() < 1e-12);
    assert_eq!(MIN_SNR.weight(MeanKind::Eps, s.snr(1000)).unwrap(), 1.0);
}

#[test]
fn weights_at_the_snr_ends_are_finite_and_take_their_limits() {
    // (weighting, mean, limit as SNR → 0, limit as SNR → ∞)
    let limits = [
        (MIN_SNR, MeanKind::X0, 0.0, 5.0),
        (MIN_SNR, MeanKind::Eps, 1.0, 0.0),
        (MIN_SNR, MeanKind::V, 0.0, 0.0),
        (P2, MeanKind::Eps, 1.0, 0.0),
        (P2, MeanKind::X0, 0.0, 1.0),
        (P2, MeanKind::V, 0.0, 0.0),
        (Weighting::Uniform, MeanKind::V, 1.0, 1.0),
    ];
    for (weighting, mean, at_zero, at_infinity) in limits {
        for (snr, limit) in [
            (0.0, at_zero),
            (1e-300, at_zero),
            (1e300, at_infinity),
            (f64::INFINITY, at_infinity),
        ] {
            let w = weighting.weight(mean, snr).unwrap();
            assert!(
                w.is_finite() && w >= 0.0,
                "{weighting:?} {mean:?} SNR {snr}: {w}"
            );
            assert!(
                (w - limit).abs() < 1e-9,
                "{weighting:?} {mean:?} SNR {snr}: {w}, limit {limit}"
            );
        }
    }
    // A cosine schedule's ᾱ_T is 0 to rounding (SNR 0): every t's weight is still a number.
    let cosine = ScheduleParams {
        kind: ScheduleKind::Cosine,
        beta_start: 1e-4,
        beta_end: 0.02,
        cosine_s: 0.008,
        max_beta: 0.999,
    };
    let s = DiffusionSchedule::new(&cosine, 1000);
    for weighting in [MIN_SNR, P2] {
        for mean in SPACES {
            let objective = objective(mean, weighting);
            for t in 1..=1000 {
                let w = objective.loss_weight(&s, t);
                assert!(w.is_finite(), "{weighting:?} {mean:?} at t = {t}: {w}");
            }
        }
    }
}

#[test]
fn v_recovers_x0_and_eps_exactly_at_t_1_mid_and_t() {
    let device = crate::common::device();
    let s = linear();
    let mut rng = stream(11, Stream::Noise);
    let x0 = normal_tensor(&mut rng, [2, 1, 4, 4], &device).clamp(-1.0, 1.0);
    let noise = normal_tensor(&mut rng, [2, 1, 4, 4], &device);
    for t in [1, 500, 1000] {
        let coef = StepCoefficients::shared(&s, t);
        let x_t = coef.q_sample(x0.clone(), noise.clone());
        let v = coef.v_target(x0.clone(), noise.clone());
        // v = √ᾱ ε − √(1−ᾱ) x0, by hand.
        let (a, b) = (s.alpha_bar(t).sqrt(), (1.0 - s.alpha_bar(t)).sqrt());
        let by_hand = noise.clone().mul_scalar(a) - x0.clone().mul_scalar(b);
        for (name, got, want) in [
            ("v", v.clone(), by_hand),
            ("x̂0", coef.x0_from_v(x_t.clone(), v.clone()), x0.clone()),
            ("ε̂", coef.eps_from_v(x_t.clone(), v), noise.clone()),
        ] {
            let gap = (got - want).abs().max().into_scalar::<f64>();
            assert!(gap < 1e-5, "{name} at t = {t}: off by {gap}");
        }
    }
}

fn objective(mean: MeanKind, weighting: Weighting) -> Objective {
    Objective {
        mean,
        variance: VarianceKind::FixedLarge,
        loss: LossKind::Simple,
        vlb_weight: 0.001,
        rescale_vlb: false,
        weighting,
    }
}

#[test]
fn one_weighting_gives_one_loss_whatever_is_predicted() {
    // A network whose x̂0 is off by δ, stated as the ε, x0 and v it implies at the same x_t:
    // each space's weighted MSE must be the same number (ε-MSE = SNR·x0-MSE, v-MSE =
    // (SNR+1)·x0-MSE), and for min-SNR it is min(SNR, γ)·x0-MSE.
    let device = crate::common::device().autodiff();
    let s = linear();
    let ts = vec![1, 10, 500, 1000];
    let mut rng = stream(12, Stream::Noise);
    let x0 = normal_tensor(&mut rng, [4, 1, 4, 4], &device).clamp(-1.0, 1.0);
    let noise = normal_tensor(&mut rng, [4, 1, 4, 4], &device);
    let delta = normal_tensor(&mut rng, [4, 1, 4, 4], &device).mul_scalar(0.1);
    let coef = StepCoefficients::gather(&s, &ts, &device);
    let x_t = coef.q_sample(x0.clone(), noise.clone());
    let x0_hat = x0.clone() + delta.clone();
    let eps_hat = coef.eps_from_x0(x_t.clone(), x0_hat.clone());
    let v_hat = coef.v_target(x0_hat.clone(), eps_hat.clone());
    let host = |t: Tensor<1>| t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap();
    let x0_mse = host(delta.square().flatten::<2>(1, 3).mean_dim(1).reshape([4]));
    for weighting in [MIN_SNR, P2] {
        let mut losses = Vec::new();
        for (mean, out) in [
            (MeanKind::Eps, eps_hat.clone()),
            (MeanKind::X0, x0_hat.clone()),
            (MeanKind::V, v_hat.clone()),
        ] {
            let o = objective(mean, weighting);
            let terms = o.loss_terms(out, x0.clone(), x_t.clone(), noise.clone(), &coef, &ts, &s);
            losses.push((mean, host(terms.loss)));
        }
        for (i, &t) in ts.iter().enumerate() {
            let want = closed_form(weighting, MeanKind::X0, s.snr(t)) * x0_mse[i];
            for (mean, loss) in &losses {
                let gap = (loss[i] - want).abs() / want.abs().max(1e-12);
                assert!(
                    gap < 2e-3,
                    "{weighting:?} predicting {mean:?} at t = {t}: loss {}, x0-space {want}",
                    loss[i]
                );
            }
        }
    }
}

/// The first error loading `yaml` with `sets` reports, as text.
fn load_error(dir: &std::path::Path, sets: &[&str]) -> String {
    let path = dir.join("spec.yaml");
    fs::write(&path, tiny_yaml()).unwrap();
    let overrides = Overrides::with_set(sets.iter().map(|s| s.to_string()).collect());
    match ddpm_exp::spec::load(&path, None, &overrides) {
        Ok(_) => panic!("{sets:?} should be refused"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn undefined_combinations_are_refused_at_validation() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["diffusion.weighting.kind=min_snr", "diffusion.loss=vlb"],
            "loss: vlb",
        ),
        (
            &["diffusion.weighting.kind=p2", "diffusion.mean=mu"],
            "mean: mu",
        ),
        (&["diffusion.weighting.gamma=3"], "`uniform` has no"),
        (
            &[
                "diffusion.weighting.kind=min_snr",
                "diffusion.weighting.k=2",
            ],
            "`min_snr` has no",
        ),
        (
            &["diffusion.weighting.kind=p2", "diffusion.weighting.k=0"],
            "positive",
        ),
    ];
    for (sets, expected) in cases {
        let message = load_error(dir.path(), sets);
        assert!(
            message.contains("diffusion.weighting"),
            "{sets:?}: {message}"
        );
        assert!(message.contains(expected), "{sets:?}: {message}");
    }
    // Defaults are filled in the resolved spec, as every other default is.
    let path = dir.path().join("spec.yaml");
    let overrides = Overrides::with_set(vec!["diffusion.weighting.kind=p2".into()]);
    let spec = ddpm_exp::spec::load(&path, None, &overrides).unwrap();
    let w = spec.experiment.diffusion.weighting;
    assert_eq!((w.k, w.gamma), (Some(1.0), Some(1.0)));
}

#[test]
fn the_schedule_table_has_each_ts_snr_and_weight() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.yaml");
    fs::write(&spec, tiny_yaml()).unwrap();
    let csv = dir.path().join("schedule.csv");
    let output = bin()
        .arg("schedule")
        .arg(&spec)
        .args(["--set", "diffusion.mean=v", "--set"])
        .arg("diffusion.weighting={kind: min_snr, gamma: 2}")
        .arg("--out")
        .arg(&csv)
        .output()
        .unwrap();
    assert_success(&output);
    let text = fs::read_to_string(&csv).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (snr_at, weight_at) = (column("snr"), column("loss_weight"));
    let rows: Vec<Vec<f64>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 20, "the tiny spec's T");
    for row in rows {
        let snr = row[snr_at];
        let want = snr.min(2.0) / (snr + 1.0);
        assert!(
            (row[weight_at] - want).abs() < 1e-12,
            "t = {}: {row:?}",
            row[0]
        );
    }
}

#[test]
fn a_short_v_prediction_run_trains_samples_and_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("v.yaml");
    let yaml = format!(
        "{}eval: {{nll_at_end: true, nll_images: 8, batch_size: 8}}\n",
        tiny_yaml()
    );
    fs::write(&spec, yaml).unwrap();
    let output = bin()
        .arg("run")
        .arg(&spec)
        .args([
            "--set",
            "diffusion.mean=v",
            "--set",
            "diffusion.weighting.kind=min_snr",
        ])
        .arg("--out")
        .arg(dir.path().join("results"))
        .output()
        .unwrap();
    assert_success(&output);
    let run = last_line(&output);
    let folder = ddpm_exp::record::RunFolder::open(&run).unwrap();
    let meta = folder.read_meta().unwrap();
    assert_eq!(meta.status, ddpm_exp::record::meta::Status::Ok);
    assert!(meta.last_finite_loss.is_some_and(f64::is_finite));
    assert!(folder.samples_path().is_file());
    let evals = folder.read_eval().unwrap().expect("the run was evaluated");
    let nll = evals.iter().find(|r| r.name == "nll_bpd" && r.t.is_none());
    assert!(
        nll.is_some_and(|r| r.value.is_finite() && r.value > 0.0),
        "{nll:?}"
    );
    // Both samplers draw from it (DDIM takes x̂0 and ε̂ from v̂).
    let npz = dir.path().join("ddim.npz");
    let output = bin()
        .arg("sample")
        .arg(&run)
        .args(["--sampler", "ddim", "--steps", "5", "--count", "4", "--out"])
        .arg(&npz)
        .output()
        .unwrap();
    assert_success(&output);
    assert!(npz.is_file());
}
