//! The samplers researchers compare: respacing that keeps every step is Algorithm 2 bit for bit,
//! DDIM's step against its closed form, η = 0 draws no noise, and a perfect model's chain ends
//! at its data point for every mean parameterisation, respaced or not, deterministic or not.

use burn::prelude::*;
use ddpm_exp::diffusion::ddim::DdimSampler;
use ddpm_exp::diffusion::{
    AncestralSampler, ChainSampler, DiffusionSchedule, LossKind, MeanKind, Objective, Respaced,
    SamplerKind, ScheduleKind, ScheduleParams, StepCoefficients, VarianceKind, Weighting,
};
use ddpm_exp::rng::{Stream, stream};

const SHAPE: [usize; 4] = [2, 1, 3, 3];

fn schedule() -> DiffusionSchedule {
    let params = ScheduleParams {
        kind: ScheduleKind::Linear,
        beta_start: 1e-4,
        beta_end: 0.02,
        cosine_s: 0.008,
        max_beta: 0.999,
    };
    DiffusionSchedule::new(&params, 100)
}

fn objective(mean: MeanKind) -> Objective {
    Objective {
        mean,
        variance: VarianceKind::FixedLarge,
        loss: LossKind::Simple,
        vlb_weight: 0.001,
        rescale_vlb: false,
        weighting: Weighting::Uniform,
    }
}

fn values(x: Tensor<4>) -> Vec<f32> {
    x.into_data().try_to_vec::<f32>().unwrap()
}

/// The largest absolute difference between two sample sets.
fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// A made-up network: depends on x_t and t, so a wrong timestep or order shows.
fn fake_model(x: Tensor<4>, t: usize) -> Tensor<4> {
    x.mul_scalar(0.01 * t as f32).add_scalar(0.1)
}

fn chain(
    schedule: &DiffusionSchedule,
    mean: MeanKind,
    kind: SamplerKind,
    steps: usize,
    eta: f64,
) -> ChainSampler {
    ChainSampler {
        respaced: Respaced::evenly(schedule, steps),
        objective: objective(mean),
        clip_x0: false,
        kind,
        eta,
    }
}

#[test]
fn respacing_with_every_step_kept_is_the_plain_ancestral_sampler_bit_for_bit() {
    let (schedule, device) = (schedule(), Device::flex());
    for mean in [MeanKind::Eps, MeanKind::Mu, MeanKind::X0] {
        let plain = AncestralSampler {
            schedule: &schedule,
            objective: objective(mean),
            clip_x0: false,
        };
        let mut rng = stream(3, Stream::Sampling);
        let expected = plain.sample(SHAPE, &device, &mut rng, fake_model, |_| {});
        let respaced = chain(&schedule, mean, SamplerKind::Ancestral, 100, 0.0);
        let mut rng = stream(3, Stream::Sampling);
        let got = respaced.sample(SHAPE, &device, &mut rng, fake_model, |_| {});
        assert_eq!(values(got), values(expected), "{mean:?}");
    }
}

#[test]
fn a_ddim_step_is_eq_12_worked_out_by_hand() {
    let (schedule, device) = (schedule(), Device::flex());
    let (t, eta) = (40, 0.7);
    let sampler = DdimSampler {
        schedule: &schedule,
        objective: objective(MeanKind::Eps),
        clip_x0: false,
        eta,
    };
    let (x_t, eps, z) = (0.3f64, -0.8f64, 0.5f64);
    let full = |v: f64| Tensor::<4>::full([1, 1, 1, 1], v as f32, &device);
    let got = values(sampler.step(full(eps), full(x_t), t, || full(z)))[0] as f64;
    // By hand, from the schedule's own ᾱ values (Song et al. Eq. 12 and 16).
    let (abar, abar_prev) = (schedule.alpha_bar(t), schedule.alpha_bar(t - 1));
    let x0 = (x_t - (1.0 - abar).sqrt() * eps) / abar.sqrt();
    let sigma = eta * ((1.0 - abar_prev) / (1.0 - abar) * (1.0 - abar / abar_prev)).sqrt();
    let expected =
        abar_prev.sqrt() * x0 + (1.0 - abar_prev - sigma * sigma).sqrt() * eps + sigma * z;
    assert!((got - expected).abs() < 1e-5, "{got} vs {expected}");
    assert!((sampler.sigma(t) - sigma).abs() < 1e-15);
}

#[test]
fn ddim_with_eta_zero_draws_nothing_after_x_t() {
    let (schedule, device) = (schedule(), Device::flex());
    let mut rng = stream(5, Stream::Sampling);
    let sampler = chain(&schedule, MeanKind::Eps, SamplerKind::Ddim, 20, 0.0);
    let first = values(sampler.sample(SHAPE, &device, &mut rng, fake_model, |_| {}));
    let after_one_chain = rng.get_word_pos();
    let mut only_x_t = stream(5, Stream::Sampling);
    ddpm_exp::rng::normal_tensor(&mut only_x_t, SHAPE, &device);
    assert_eq!(after_one_chain, only_x_t.get_word_pos());
    // The same x_T gives the same x_0.
    let mut rng = stream(5, Stream::Sampling);
    let again = values(sampler.sample(SHAPE, &device, &mut rng, fake_model, |_| {}));
    assert_eq!(first, again);
}

/// The network that knows the one data point `x0`: its output for each parameterisation at the
/// original timestep t (the chain asks there, even when respaced).
fn perfect_model<'a>(
    schedule: &'a DiffusionSchedule,
    mean: MeanKind,
    x0: Tensor<4>,
) -> impl FnMut(Tensor<4>, usize) -> Tensor<4> + 'a {
    move |x_t, t| {
        let coef = StepCoefficients::gather(schedule, &vec![t; SHAPE[0]], &x_t.device());
        match mean {
            MeanKind::Eps => coef.eps_from_x0(x_t, x0.clone()),
            MeanKind::X0 => x0.clone(),
            MeanKind::Mu => coef.posterior_mean(x0.clone(), x_t),
            MeanKind::V => {
                let eps = coef.eps_from_x0(x_t, x0.clone());
                coef.v_target(x0.clone(), eps)
            }
        }
    }
}

#[test]
fn a_perfect_model_ends_at_its_data_point_with_every_sampler() {
    let (schedule, device) = (schedule(), Device::flex());
    let x0 = Tensor::<4>::from_data(
        TensorData::new(
            (0..18).map(|i| (i as f32 / 9.0) - 1.0).collect::<Vec<_>>(),
            SHAPE,
        ),
        &device,
    );
    let want = values(x0.clone());
    for mean in [MeanKind::Eps, MeanKind::Mu, MeanKind::X0, MeanKind::V] {
        for (kind, steps, eta) in [
            (SamplerKind::Ddim, 100, 0.0),
            (SamplerKind::Ddim, 10, 0.0),
            (SamplerKind::Ddim, 10, 1.0),
            (SamplerKind::Ancestral, 10, 0.0),
        ] {
            let sampler = chain(&schedule, mean, kind, steps, eta);
            let mut rng = stream(9, Stream::Sampling);
            let model = perfect_model(&schedule, mean, x0.clone());
            let got = values(sampler.sample(SHAPE, &device, &mut rng, model, |_| {}));
            let worst = max_abs_diff(&got, &want);
            assert!(
                worst < 1e-3,
                "{mean:?} {kind:?} {steps} steps η {eta}: off by {worst}"
            );
        }
    }
}

/// Network outputs in each parameterisation that all imply the same made-up x̂_0(x_t, t)
/// (through the full chain's equations at the original t).
fn consistent_model<'a>(
    schedule: &'a DiffusionSchedule,
    mean: MeanKind,
) -> impl FnMut(Tensor<4>, usize) -> Tensor<4> + 'a {
    move |x_t, t| {
        let coef = StepCoefficients::gather(schedule, &vec![t; SHAPE[0]], &x_t.device());
        let x0 = x_t.clone().mul_scalar(0.5).tanh();
        match mean {
            MeanKind::Eps => coef.eps_from_x0(x_t, x0),
            MeanKind::X0 => x0,
            MeanKind::Mu => coef.posterior_mean(x0, x_t),
            MeanKind::V => {
                let eps = coef.eps_from_x0(x_t, x0.clone());
                coef.v_target(x0, eps)
            }
        }
    }
}

#[test]
fn every_parameterisation_of_one_model_samples_alike_when_respaced() {
    // A μ-network predicts the full chain's posterior mean; on a respaced chain that is not
    // the posterior between kept steps, so its x̂_0 must be taken through the full chain.
    let (schedule, device) = (schedule(), Device::flex());
    for (kind, eta) in [(SamplerKind::Ddim, 0.0), (SamplerKind::Ancestral, 0.0)] {
        let run = |mean| {
            let sampler = chain(&schedule, mean, kind, 10, eta);
            let mut rng = stream(4, Stream::Sampling);
            let model = consistent_model(&schedule, mean);
            values(sampler.sample(SHAPE, &device, &mut rng, model, |_| {}))
        };
        let eps = run(MeanKind::Eps);
        for mean in [MeanKind::X0, MeanKind::Mu, MeanKind::V] {
            let worst = max_abs_diff(&run(mean), &eps);
            assert!(
                worst < 1e-3,
                "{kind:?} {mean:?}: off by {worst} from ε's samples"
            );
        }
    }
}

#[test]
fn a_learned_one_step_variance_is_restated_on_the_respaced_step() {
    // A learned-Σ network that says log σ² = log β_t of the full chain (the top of its range)
    // must sample, on a respaced chain, as the fixed σ² = β'_k of the respaced step does: its
    // one-step β_t is far smaller than the jump's β'_k, and used as is it would under-noise.
    let (schedule, device) = (schedule(), Device::flex());
    let with_variance = |variance| ChainSampler {
        objective: Objective {
            variance,
            ..objective(MeanKind::Eps)
        },
        ..chain(&schedule, MeanKind::Eps, SamplerKind::Ancestral, 10, 0.0)
    };
    let learned = with_variance(VarianceKind::Learned);
    let learned_model = |x: Tensor<4>, t: usize| {
        let coef = StepCoefficients::gather(&schedule, &vec![t; SHAPE[0]], &x.device());
        let log_beta = coef.log_beta.expanded(&x);
        Tensor::cat(vec![fake_model(x, t), log_beta], 1)
    };
    let mut rng = stream(5, Stream::Sampling);
    let got = values(learned.sample(SHAPE, &device, &mut rng, learned_model, |_| {}));
    let fixed = with_variance(VarianceKind::FixedLarge);
    let mut rng = stream(5, Stream::Sampling);
    let expected = values(fixed.sample(SHAPE, &device, &mut rng, fake_model, |_| {}));
    let worst = max_abs_diff(&got, &expected);
    assert!(worst < 1e-4, "off by {worst} from σ² = β'_k");

    // Far above the range (late in the chain its bounds are a few float steps apart): the
    // fraction is clamped to the top, not blown up into an infinite variance.
    let above_model = |x: Tensor<4>, t: usize| {
        let coef = StepCoefficients::gather(&schedule, &vec![t; SHAPE[0]], &x.device());
        let log_var = coef.log_beta.expanded(&x).add_scalar(5.0);
        Tensor::cat(vec![fake_model(x, t), log_var], 1)
    };
    let mut rng = stream(5, Stream::Sampling);
    let above = values(learned.sample(SHAPE, &device, &mut rng, above_model, |_| {}));
    assert!(above.iter().all(|v| v.is_finite()));
    let worst = max_abs_diff(&above, &expected);
    assert!(worst < 1e-4, "off by {worst} from the top of the range");
}

#[test]
fn eval_takes_every_sampler_with_every_step_count_and_eta_only_for_ddim() {
    use ddpm_exp::run::eval_quality::sampler_choices;
    let own = sampler_choices(&[], &[], Some(0.5), None);
    assert_eq!(own.len(), 1);
    assert_eq!(
        (own[0].sampler, own[0].steps, own[0].eta),
        (None, None, Some(0.5))
    );
    let kinds = [SamplerKind::Ancestral, SamplerKind::Ddim];
    let grid = sampler_choices(&kinds, &[10, 50, 100], Some(0.5), Some(true));
    assert_eq!(grid.len(), 6);
    assert_eq!(
        (grid[0].sampler, grid[0].steps),
        (Some(SamplerKind::Ancestral), Some(10))
    );
    assert_eq!(
        (grid[5].sampler, grid[5].steps),
        (Some(SamplerKind::Ddim), Some(100))
    );
    assert!(
        grid[..3]
            .iter()
            .all(|c| c.eta.is_none() && c.clip_x0 == Some(true))
    );
    assert!(grid[3..].iter().all(|c| c.eta == Some(0.5)));
}
