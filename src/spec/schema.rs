//! The experiment spec as written in YAML. Every section has defaults (the paper's CIFAR10
//! set-up where the paper gives one), unknown keys are refused, and the resolved form of this
//! same struct is what a run records in `spec.yaml`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::data::image_folder::FolderOptions;
use crate::data::{DataRequest, DatasetName, LoaderMode, LoaderOptions};
use crate::device::DeviceName;
use crate::diffusion::{
    LossKind, MeanKind, SamplerKind, ScheduleKind, TimestepSamplerKind, VarianceKind, Weighting,
    WeightingKind, weighting,
};
use crate::model::{Precision, UNetShape};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Experiment {
    /// Name of the experiment; names the run directories. Defaults to the spec file's stem.
    pub name: String,
    /// A base spec (path relative to this file) whose values this one overrides.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extends: Option<String>,
    /// Root of every random stream of the run.
    pub seed: u64,
    /// Where to train: `cpu` (the pure-Rust flex backend), or with the `tch` feature
    /// `libtorch-cpu`, `cuda`, `cuda:N` (LibTorch).
    pub device: DeviceName,
    pub data: DataSpec,
    pub diffusion: DiffusionSpec,
    /// The UNet's shape: `model::UNetShape` lists its keys (the paper's CIFAR10 model by default).
    pub model: UNetShape,
    pub train: TrainSpec,
    pub sample: SampleSpec,
    pub eval: EvalSpec,
    /// Live views of the run (TensorBoard event files); left out of `spec.yaml` at its
    /// defaults, so that older runs' specs still match.
    #[serde(skip_serializing_if = "TrackingSpec::is_default")]
    pub tracking: TrackingSpec,
}

/// `tracking: {tensorboard: false}` writes no event files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrackingSpec {
    /// TensorBoard event files in the run folder, written as training goes (on by default).
    pub tensorboard: bool,
}

impl Default for TrackingSpec {
    fn default() -> Self {
        Self { tensorboard: true }
    }
}

impl TrackingSpec {
    fn is_default(&self) -> bool {
        self == &Self::default()
    }
}

impl Default for Experiment {
    fn default() -> Self {
        Self {
            name: String::new(),
            extends: None,
            seed: 0,
            device: DeviceName::Flex,
            data: DataSpec::default(),
            diffusion: DiffusionSpec::default(),
            model: UNetShape::default(),
            train: TrainSpec::default(),
            sample: SampleSpec::default(),
            eval: EvalSpec::default(),
            tracking: TrackingSpec::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataSpec {
    /// `digits` (embedded, 8×8), `mnist`, `fashion_mnist` (28×28) or `cifar10` (32×32, the
    /// default, as every default here is the paper's CIFAR10 set-up).
    pub dataset: DatasetName,
    /// Folder holding the dataset's files; without it a named dataset is found or fetched
    /// (data::locate). `image_folder` needs it.
    pub dir: Option<PathBuf>,
    /// Flip training images left–right with probability ½ (the paper does for CIFAR10).
    pub random_flip: bool,
    /// `image_folder`: side of the square images (short side scaled, centre crop).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_size: Option<usize>,
    /// `image_folder`: 1 (grey) or 3 (RGB, the default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channels: Option<usize>,
    /// `image_folder`: fraction of the files held out as the test split (fixed seeded shuffle).
    #[serde(skip_serializing_if = "is_zero")]
    pub held_out: f64,
    /// `auto` (stream an image folder whose decoded training split exceeds `memory_mb`),
    /// `memory`, or `stream` (image folders only; data/streaming.rs).
    #[serde(skip_serializing_if = "is_auto")]
    pub loader: LoaderMode,
    /// MiB of decoded images a streamed split may hold at once (the batches decoded ahead).
    #[serde(skip_serializing_if = "is_default_memory")]
    pub memory_mb: u64,
}

/// `data.memory_mb` when unset.
pub const DEFAULT_MEMORY_MB: u64 = 4096;

fn is_auto(mode: &LoaderMode) -> bool {
    *mode == LoaderMode::Auto
}

fn is_default_memory(mb: &u64) -> bool {
    *mb == DEFAULT_MEMORY_MB
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

impl DataSpec {
    /// What the data layer is asked to read.
    pub fn request(&self) -> DataRequest {
        let folder = (self.dataset == DatasetName::ImageFolder).then(|| FolderOptions {
            image_size: self.image_size.unwrap_or(0),
            channels: self.channels.unwrap_or(3),
            held_out: self.held_out,
        });
        DataRequest {
            dataset: self.dataset,
            dir: self.dir.clone(),
            folder,
        }
    }

    /// (channels, side) of the images.
    pub fn image_shape(&self) -> (usize, usize) {
        self.request().image_shape()
    }

    pub fn loader_options(&self) -> LoaderOptions {
        LoaderOptions {
            mode: self.loader,
            memory_bytes: self.memory_mb.saturating_mul(1 << 20),
        }
    }
}

impl Default for DataSpec {
    fn default() -> Self {
        Self {
            dataset: DatasetName::Cifar10,
            dir: None,
            random_flip: true,
            image_size: None,
            channels: None,
            held_out: 0.0,
            loader: LoaderMode::Auto,
            memory_mb: DEFAULT_MEMORY_MB,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiffusionSpec {
    /// T, the number of diffusion steps.
    pub timesteps: usize,
    pub schedule: ScheduleKind,
    /// β_1 for `linear` and `quadratic`.
    pub beta_start: f64,
    /// β_T for `linear` and `quadratic`; every β for `constant`.
    pub beta_end: f64,
    /// Offset s of the `cosine` schedule.
    pub cosine_s: f64,
    /// Cap on β for the `cosine` schedule.
    pub max_beta: f64,
    /// What the network predicts: `eps`, `mu`, `x0` or `v`.
    pub mean: MeanKind,
    /// Σ_θ: `fixed_large` (β_t), `fixed_small` (β̃_t), `learned`, `learned_range`.
    pub variance: VarianceKind,
    /// `simple` (unweighted MSE on the mean's target), `vlb` (the true bound) or `hybrid`.
    pub loss: LossKind,
    /// λ of `hybrid`: L_simple + λ·L_vlb (0.001 in Nichol & Dhariwal).
    pub vlb_weight: f64,
    /// Multiply the sampled bound term by T while training (improved-diffusion's rescaled KL).
    /// Default false, as the official DDPM code: the term is trained as L_{t−1} in bits/dim.
    pub rescale_vlb: bool,
    /// The per-t weight of the MSE term (`simple` and `hybrid` losses).
    pub weighting: WeightingSpec,
}

/// `diffusion.weighting`: `{kind: uniform | min_snr | p2, gamma: G, k: K}`. Unset numbers take
/// their papers' defaults when the spec is resolved (γ = 5 for min_snr; k = 1, γ = 1 for p2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WeightingSpec {
    /// `uniform` (L_simple), `min_snr` (Hang et al. 2023) or `p2` (Choi et al. 2022).
    pub kind: WeightingKind,
    /// γ of `min_snr` (the SNR cap) and of `p2` (the exponent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gamma: Option<f64>,
    /// k of `p2`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k: Option<f64>,
}

impl WeightingSpec {
    /// With the kind's unset numbers filled in.
    pub fn resolved(self) -> Self {
        let (gamma, k) = match self.kind {
            WeightingKind::Uniform => (self.gamma, self.k),
            WeightingKind::MinSnr => (self.gamma.or(Some(weighting::MIN_SNR_GAMMA)), self.k),
            WeightingKind::P2 => (
                self.gamma.or(Some(weighting::P2_GAMMA)),
                self.k.or(Some(weighting::P2_K)),
            ),
        };
        Self { gamma, k, ..self }
    }

    /// The weighting the math uses.
    pub fn weighting(&self) -> Weighting {
        let s = self.resolved();
        match s.kind {
            WeightingKind::Uniform => Weighting::Uniform,
            WeightingKind::MinSnr => Weighting::MinSnr {
                gamma: s.gamma.unwrap_or(weighting::MIN_SNR_GAMMA),
            },
            WeightingKind::P2 => Weighting::P2 {
                k: s.k.unwrap_or(weighting::P2_K),
                gamma: s.gamma.unwrap_or(weighting::P2_GAMMA),
            },
        }
    }
}

impl Default for DiffusionSpec {
    fn default() -> Self {
        Self {
            timesteps: 1000,
            schedule: ScheduleKind::Linear,
            beta_start: 1e-4,
            beta_end: 0.02,
            cosine_s: 0.008,
            max_beta: 0.999,
            mean: MeanKind::Eps,
            variance: VarianceKind::FixedLarge,
            loss: LossKind::Simple,
            vlb_weight: 0.001,
            rescale_vlb: false,
            weighting: WeightingSpec::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainSpec {
    /// Optimisation steps.
    pub steps: u64,
    pub batch_size: usize,
    /// Adam's learning rate after warm-up.
    pub lr: f64,
    /// Steps of linear warm-up from 0 to `lr`.
    pub warmup_steps: u64,
    /// Largest global gradient norm; larger gradients are scaled down. `null` disables.
    pub grad_clip: Option<f64>,
    /// Decay of the exponential moving average of the weights used for sampling.
    pub ema_decay: f64,
    pub adam_beta1: f64,
    pub adam_beta2: f64,
    pub adam_eps: f64,
    /// Record loss, lr and gradient norm every this many steps.
    pub log_every: u64,
    /// Write a checkpoint (and flush metrics) every this many steps, and at the end.
    pub checkpoint_every: u64,
    /// How many checkpoints to keep, newest first.
    pub keep_checkpoints: usize,
    /// `fp32`, or `bf16` mixed precision (bf16 forward/backward, f32 weights, Adam and EMA;
    /// LibTorch devices only).
    pub precision: Precision,
    /// How t is drawn per example: `uniform` (Algorithm 1) or `loss_aware` (Nichol &
    /// Dhariwal's importance sampling of the bound, p_t ∝ √E[L_t²]).
    pub timestep_sampler: TimestepSamplerKind,
}

impl Default for TrainSpec {
    fn default() -> Self {
        Self {
            steps: 800_000,
            batch_size: 128,
            lr: 2e-4,
            warmup_steps: 5000,
            grad_clip: Some(1.0),
            ema_decay: 0.9999,
            adam_beta1: 0.9,
            adam_beta2: 0.999,
            adam_eps: 1e-8,
            log_every: 10,
            checkpoint_every: 5000,
            keep_checkpoints: 2,
            precision: Precision::Fp32,
            timestep_sampler: TimestepSamplerKind::Uniform,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SampleSpec {
    /// Images in the grid drawn with the EMA weights at the end of a run.
    pub count: usize,
    /// Clip x̂_0 to [−1, 1] while sampling (the official code does; Algorithm 2 does not).
    pub clip_x0: bool,
    /// `ancestral` (Algorithm 2) or `ddim` (Song et al. 2021).
    pub sampler: SamplerKind,
    /// Reverse steps, evenly respaced over 1..T (Nichol & Dhariwal); null: all T.
    pub steps: Option<usize>,
    /// DDIM's η: 0 deterministic, 1 the ancestral chain's variance. Only with `ddim`.
    pub eta: f64,
}

impl Default for SampleSpec {
    fn default() -> Self {
        Self {
            count: 64,
            clip_x0: false,
            sampler: SamplerKind::Ancestral,
            steps: None,
            eta: 0.0,
        }
    }
}

/// Sampler settings laid over `sample` (a command's `--sampler/--steps/--eta`, or
/// `eval.quality_sampler`); `None` keeps `sample`'s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SamplerChoice {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sampler: Option<SamplerKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eta: Option<f64>,
    /// Clip x̂_0 to [−1, 1] (`sample.clip_x0`): DDIM and respaced steps of a μ-predicting
    /// network pass through x̂_0 = (μ − c₂ x_t) / c₁ with c₁ ≈ 1e−4 near t = T, and an
    /// unclipped x̂_0 of a half-trained network can run off to NaN within a few long steps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clip_x0: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvalSpec {
    /// Evaluate the test NLL (the full bound, t = T … 1) with the EMA weights when training ends.
    pub nll_at_end: bool,
    /// Held-out images the NLL is computed on (the first N of the test split; 0 = all).
    pub nll_images: usize,
    /// Images per forward pass during evaluation.
    pub batch_size: usize,
    /// Samples drawn for FID / IS / KID (`eval --quality`, and the two below).
    pub quality_samples: usize,
    /// Score the EMA weights every this many steps during training (0 = never); a multiple
    /// of `train.checkpoint_every`, so each score has the checkpoint that gave it.
    pub quality_every: u64,
    /// Score the final EMA weights when training ends.
    pub quality_at_end: bool,
    /// The sampler of the evaluations made during training (`quality_every`), laid over
    /// `sample` key by key (unset keys keep `sample`'s): a fast one keeps scoring affordable.
    /// The end-of-run score (`quality_at_end`) samples as `sample` says.
    pub quality_sampler: SamplerChoice,
    /// pytorch-fid's Inception weights (`pt_inception-2015-12-05-6726825d.pth`): when set,
    /// every quality evaluation also gives Inception FID / IS / KID. Never downloaded.
    pub inception_weights: Option<std::path::PathBuf>,
}

impl Default for EvalSpec {
    fn default() -> Self {
        Self {
            nll_at_end: false,
            nll_images: 0,
            batch_size: 128,
            quality_samples: 1000,
            quality_every: 0,
            quality_at_end: false,
            quality_sampler: SamplerChoice::default(),
            inception_weights: None,
        }
    }
}
