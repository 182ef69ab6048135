//! Every ablation cell that validates gives a finite loss with gradients, and `hybrid` stops
//! the bound's gradient through the mean while `vlb` does not.

use burn::prelude::*;
use ddpm_exp::diffusion::{
    DiffusionSchedule, LossKind, MeanKind, Objective, ScheduleKind, ScheduleParams,
    StepCoefficients, VarianceKind, Weighting,
};
use ddpm_exp::rng::{Stream, normal_tensor, stream};

const MEANS: [MeanKind; 4] = [MeanKind::Eps, MeanKind::Mu, MeanKind::X0, MeanKind::V];
const VARIANCES: [VarianceKind; 4] = [
    VarianceKind::FixedLarge,
    VarianceKind::FixedSmall,
    VarianceKind::Learned,
    VarianceKind::LearnedRange,
];
const LOSSES: [LossKind; 3] = [LossKind::Simple, LossKind::Vlb, LossKind::Hybrid];

fn schedule() -> DiffusionSchedule {
    DiffusionSchedule::new(
        &ScheduleParams {
            kind: ScheduleKind::Linear,
            beta_start: 1e-4,
            beta_end: 0.02,
            cosine_s: 0.008,
            max_beta: 0.999,
        },
        100,
    )
}

/// (model output as a leaf that tracks gradients, x0, x_t, noise, coefficients, ts) for a
/// batch of 4 one-channel 4×4 images, t = 1 included so L_0 is exercised.
fn batch(
    objective: &Objective,
) -> (
    Tensor<4>,
    Tensor<4>,
    Tensor<4>,
    Tensor<4>,
    StepCoefficients,
    Vec<usize>,
) {
    let device = crate::common::device().autodiff();
    let s = schedule();
    let ts = vec![1, 2, 50, 100];
    let mut rng = stream(3, Stream::Noise);
    let x0 = normal_tensor(&mut rng, [4, 1, 4, 4], &device).clamp(-1.0, 1.0);
    let noise = normal_tensor(&mut rng, [4, 1, 4, 4], &device);
    let coef = StepCoefficients::gather(&s, &ts, &device);
    let x_t = coef.q_sample(x0.clone(), noise.clone());
    let channels = objective.output_channels(1);
    let out = normal_tensor(&mut rng, [4, channels, 4, 4], &device)
        .mul_scalar(0.1)
        .require_grad();
    (out, x0, x_t, noise, coef, ts)
}

fn objective(mean: MeanKind, variance: VarianceKind, loss: LossKind) -> Objective {
    Objective {
        mean,
        variance,
        loss,
        vlb_weight: 1.0,
        rescale_vlb: false,
        weighting: Weighting::Uniform,
    }
}

#[test]
fn every_valid_cell_has_a_finite_loss_and_a_gradient() {
    let mut trained = 0;
    for mean in MEANS {
        for variance in VARIANCES {
            for loss in LOSSES {
                let obj = objective(mean, variance, loss);
                if obj.unsupported_reason().is_some() {
                    continue;
                }
                let (out, x0, x_t, noise, coef, ts) = batch(&obj);
                let terms = obj.loss_terms(out.clone(), x0, x_t, noise, &coef, &ts, &schedule());
                let value = terms.loss.clone().mean();
                assert!(value.clone().into_scalar::<f64>().is_finite(), "{obj:?}");
                let grads = value.backward();
                let g = out.grad(&grads).expect("the output receives a gradient");
                assert!(g.abs().sum().into_scalar::<f64>() > 0.0, "{obj:?}");
                trained += 1;
            }
        }
    }
    // 4 means × (2 fixed × {simple, vlb} + 2 learned × {vlb, hybrid}) = 32 cells.
    assert_eq!(trained, 32);
}

/// Gradient of the bound term alone w.r.t. (mean channels, variance channels).
fn vb_gradient_split(loss: LossKind) -> (f64, f64) {
    let obj = objective(MeanKind::Eps, VarianceKind::Learned, loss);
    let (out, x0, x_t, noise, coef, ts) = batch(&obj);
    let terms = obj.loss_terms(out.clone(), x0, x_t, noise, &coef, &ts, &schedule());
    let grads = terms
        .vb
        .expect("this loss has a bound term")
        .mean()
        .backward();
    let g = out.grad(&grads).unwrap();
    let mean_part = g.clone().narrow(1, 0, 1).abs().sum().into_scalar::<f64>();
    let var_part = g.narrow(1, 1, 1).abs().sum().into_scalar::<f64>();
    (mean_part, var_part)
}

#[test]
fn hybrid_stops_the_bound_gradient_through_the_mean_and_vlb_does_not() {
    let (mean, var) = vb_gradient_split(LossKind::Hybrid);
    assert_eq!(
        mean, 0.0,
        "hybrid: no bound gradient reaches the mean channels"
    );
    assert!(var > 0.0, "hybrid: the bound trains the variance channels");
    let (mean, var) = vb_gradient_split(LossKind::Vlb);
    assert!(mean > 0.0 && var > 0.0, "vlb trains both");
}

#[test]
fn simple_targets_follow_the_mean_parameterisation() {
    // Each mean's target worked out here from the betas alone: ε for eps, x_0 for x0, for
    // mu the posterior mean of eq. 7, √ᾱ_{t−1} β_t/(1−ᾱ_t) x_0 + √α_t (1−ᾱ_{t−1})/(1−ᾱ_t) x_t,
    // and for v Salimans & Ho's √ᾱ_t ε − √(1−ᾱ_t) x_0.
    let s = schedule();
    let alpha_bar = |t: usize| (1..=t).map(|k| 1.0 - s.beta(k)).product::<f64>();
    let host = |x: &Tensor<4>| x.clone().into_data().try_to_vec::<f32>().unwrap();
    for mean in MEANS {
        let obj = objective(mean, VarianceKind::FixedLarge, LossKind::Simple);
        let (_, x0, x_t, noise, coef, ts) = batch(&obj);
        let (x0_h, xt_h, noise_h) = (host(&x0), host(&x_t), host(&noise));
        let per_image = x0_h.len() / ts.len();
        let expected: Vec<f32> = (0..x0_h.len())
            .map(|i| {
                let t = ts[i / per_image];
                let (ab, ab_prev, beta) = (alpha_bar(t), alpha_bar(t - 1), s.beta(t));
                match mean {
                    MeanKind::Eps => noise_h[i],
                    MeanKind::X0 => x0_h[i],
                    MeanKind::Mu => {
                        let c0 = ab_prev.sqrt() * beta / (1.0 - ab);
                        let ct = (1.0 - beta).sqrt() * (1.0 - ab_prev) / (1.0 - ab);
                        (c0 * x0_h[i] as f64 + ct * xt_h[i] as f64) as f32
                    }
                    MeanKind::V => {
                        (ab.sqrt() * noise_h[i] as f64 - (1.0 - ab).sqrt() * x0_h[i] as f64) as f32
                    }
                }
            })
            .collect();
        let target = obj.simple_target(x0.clone(), x_t.clone(), noise.clone(), &coef);
        for (got, want) in host(&target).iter().zip(&expected) {
            assert!(
                (got - want).abs() < 1e-5,
                "{mean:?}: target {got}, worked out {want}"
            );
        }
        // With the network output equal to the worked-out target, the simple loss is 0.
        let out = Tensor::<4>::from_data(
            TensorData::new(expected, x0.dims()),
            &crate::common::device().autodiff(),
        );
        let terms = obj.loss_terms(out, x0, x_t, noise, &coef, &ts, &schedule());
        let loss = terms.loss.sum().into_scalar::<f64>();
        assert!(loss < 1e-9, "{mean:?}: loss {loss} at the target");
    }
}

/// Largest |a − b| over the largest |a| (or 1).
fn relative_gap(a: Tensor<4>, b: Tensor<4>) -> f32 {
    let scale = a.clone().abs().max().into_scalar::<f32>().max(1.0);
    (a - b).abs().max().into_scalar::<f32>() / scale
}

#[test]
fn a_shared_timestep_as_scalars_gives_what_per_image_columns_give() {
    // Sampling and the bound's loop apply their batch's one t as scalars
    // (StepCoefficients::shared); training gathers a column per image. Same q_sample, μ_θ,
    // log σ², x̂_0 and bound terms, for every mean and variance, clipped or not.
    let device = crate::common::device();
    let s = schedule();
    let mut rng = stream(4, Stream::Noise);
    let x0 = normal_tensor(&mut rng, [3, 1, 4, 4], &device).clamp(-1.0, 1.0);
    for t in [1, 2, 37, 100] {
        let columns = StepCoefficients::gather(&s, &[t; 3], &device);
        let scalars = StepCoefficients::shared(&s, t);
        let noise = normal_tensor(&mut rng, [3, 1, 4, 4], &device);
        let x_t = columns.q_sample(x0.clone(), noise.clone());
        let gap = relative_gap(x_t.clone(), scalars.q_sample(x0.clone(), noise));
        assert!(gap <= 1e-6, "q_sample at t = {t}: {gap}");
        for (mean, variance) in MEANS.into_iter().flat_map(|m| VARIANCES.map(|v| (m, v))) {
            let obj = objective(mean, variance, LossKind::Hybrid);
            let out =
                normal_tensor(&mut rng, [3, obj.output_channels(1), 4, 4], &device).mul_scalar(0.1);
            let x0_hat = |coef| obj.predicted_x0(out.clone().narrow(1, 0, 1), x_t.clone(), coef);
            let gap = relative_gap(x0_hat(&columns), x0_hat(&scalars));
            assert!(gap <= 1e-6, "x̂_0 of {mean:?} at t = {t}: {gap}");
            for clip in [false, true] {
                let first =
                    || Tensor::<1, Bool>::from_data(TensorData::new(vec![t == 1; 3], [3]), &device);
                let terms = |coef| {
                    let (m, v) = obj.p_mean_log_variance(out.clone(), x_t.clone(), coef, clip);
                    let vb =
                        obj.vb_term(m.clone(), v.clone(), x0.clone(), x_t.clone(), coef, first());
                    (m, v, vb.reshape([3, 1, 1, 1]))
                };
                let ((m1, v1, vb1), (m2, v2, vb2)) = (terms(&columns), terms(&scalars));
                let cell = format!("{mean:?}/{variance:?} at t = {t}, clip {clip}");
                for (name, a, b) in [("μ_θ", m1, m2), ("log σ²", v1, v2), ("L_t", vb1, vb2)] {
                    let gap = relative_gap(a, b);
                    assert!(gap <= 1e-6, "{name} of {cell}: {gap}");
                }
            }
        }
    }
}
