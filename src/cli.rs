//! The command line as typed: clap's structs, one per subcommand, and nothing else.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "ddpm-exp",
    version,
    about = "Reproducible DDPM experiments and ablations (Ho et al. 2020)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Train a spec in a new run folder (or continue one with --resume); prints the folder last.
    Run(RunArgs),
    /// Run every spec × seed (skipping cells already complete), then print a summary table.
    Ablate(AblateArgs),
    /// Training steps/s and sampling images/s of a spec's model (bench/run.sh compares PyTorch).
    Bench(BenchArgs),
    /// Evaluate a run's newest checkpoint (EMA weights) and add the results to its eval.parquet.
    Eval(EvalArgs),
    /// Check specs without running them.
    Validate(ValidateArgs),
    /// Figures and tables for a paper from run folders alone (HTML, Markdown, LaTeX, PNG, SVG).
    Report(ReportArgs),
    /// Write the per-t schedule table of a spec (Parquet, or CSV for a .csv name).
    Schedule(ScheduleArgs),
    /// Draw samples of a run's EMA weights into an .npz (uint8 N×H×W×C) or a folder of PNGs.
    Sample(SampleArgs),
    /// Datasets: fetch, verify and list them; export a split as the harness reads it.
    #[command(subcommand)]
    Data(DataCommand),
}

#[derive(clap::Subcommand)]
pub enum DataCommand {
    /// Find a dataset as a run would (the cache, a packaged copy), else download and verify it
    /// into the cache ($DDPM_EXP_DATA) or --dir; prints the folder for `data.dir`.
    Fetch(DataFetchArgs),
    /// Check a dataset's copies (or a folder) against the published SHA-256 digests.
    Verify(DataVerifyArgs),
    /// Every dataset: verified, unverified, corrupt or absent, and where it was found.
    List,
    /// Images per second an image folder decodes, scales and crops on this machine's cores.
    Throughput(DataThroughputArgs),
    /// Write a dataset split as an .npz (uint8 N×H×W×C) or a folder of PNGs: exactly the
    /// 8-bit images training and FID statistics use (e.g. pytorch-fid's reference folder).
    Export(DataExportArgs),
}

#[derive(Args)]
pub struct DataFetchArgs {
    /// mnist, fashion_mnist or cifar10.
    pub dataset: String,
    /// Download into this folder instead of the cache.
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

#[derive(Args)]
pub struct DataThroughputArgs {
    /// A folder of PNG / JPEG files (as `dataset: image_folder` reads it).
    pub dir: PathBuf,
    #[arg(long)]
    pub image_size: usize,
    /// 1 (grey) or 3 (RGB).
    #[arg(long, default_value_t = 3)]
    pub channels: usize,
    /// Timed passes over every file, after one untimed.
    #[arg(long, default_value_t = 3)]
    pub passes: usize,
    /// Also time the streaming loader delivering batches of this size (flipped, in the
    /// seeded order, decoded ahead within --memory-mb), as a streamed run reads them.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// The streaming loader's budget for decoded batches, in MiB (data.memory_mb).
    #[arg(long, default_value_t = 4096)]
    pub memory_mb: u64,
}

#[derive(Args)]
pub struct DataVerifyArgs {
    /// A dataset's name (every copy found is checked) or a folder.
    pub dataset_or_dir: String,
}

#[derive(Args)]
pub struct DataExportArgs {
    /// digits, mnist, fashion_mnist or cifar10.
    pub dataset: String,
    /// train or test.
    #[arg(long, value_enum, default_value = "train")]
    pub split: SplitArg,
    /// The dataset's folder (default: where a spec would look; digits are embedded).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// `X.npz` or a folder for PNGs; never overwritten.
    #[arg(long)]
    pub out: PathBuf,
}

/// `--split`'s values.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SplitArg {
    Train,
    Test,
}

#[derive(Args)]
pub struct RunArgs {
    /// The experiment spec (YAML).
    #[arg(required_unless_present = "resume")]
    pub spec: Option<PathBuf>,
    /// Override any spec field: --set train.lr=1e-4 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Override the spec's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Where to train: cpu, libtorch-cpu, cuda, cuda:N (same as --set device=...).
    #[arg(long)]
    pub device: Option<String>,
    /// Scale profile laid over the spec: experiments/profiles/NAME.yaml or a path.
    #[arg(long)]
    pub profile: Option<String>,
    /// Folder under which the run folder is made.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Write no TensorBoard event files (same as --set tracking.tensorboard=false).
    #[arg(long)]
    pub no_tensorboard: bool,
    /// Continue the run in this folder from its newest checkpoint.
    #[arg(long, value_name = "RUN_DIR", conflicts_with_all = ["spec", "set", "seed", "device", "profile", "no_tensorboard"])]
    pub resume: Option<PathBuf>,
}

#[derive(Args)]
pub struct AblateArgs {
    /// Specs or sweep files to run (default: every experiments/*.yaml but base.yaml).
    pub specs: Vec<PathBuf>,
    /// Seeds, comma-separated (default: a sweep file's `seeds:`, else 0).
    #[arg(long, value_delimiter = ',')]
    pub seeds: Vec<u64>,
    /// Sweep a key over values: `--sweep train.lr=1e-4,3e-4`, `--sweep
    /// "model.channel_mult=[1,2],[1,2,2]"`, `--sweep train.lr=geom(1e-4,1e-3,4)`; each
    /// --sweep multiplies the grid.
    #[arg(long = "sweep", value_name = "KEY=V1,V2,…")]
    pub sweep: Vec<String>,
    /// Keys that vary together: every --zip is one group, equally many values each.
    #[arg(long = "zip", value_name = "KEY=V1,V2,…")]
    pub zip: Vec<String>,
    /// Scale profile: experiments/profiles/NAME.yaml (digits, mnist, fashion_mnist, cifar10) or a path.
    #[arg(long)]
    pub profile: Option<String>,
    /// Folder of the cells' run folders (default: results/ablate[-PROFILE]).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Where to train every cell: cpu, libtorch-cpu, cuda, cuda:N.
    #[arg(long)]
    pub device: Option<String>,
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Write no TensorBoard event files in any cell (--set tracking.tensorboard=false).
    #[arg(long)]
    pub no_tensorboard: bool,
    /// A grid's plan (OUT/grids/ID/plan.json, written by --slurm), for --task, --status or
    /// --summary.
    #[arg(long, conflicts_with_all = ["specs", "slurm"])]
    pub plan: Option<PathBuf>,
    /// Run only cell N of --plan: skip it when complete, resume it when unfinished (a Slurm
    /// array task passes $SLURM_ARRAY_TASK_ID).
    #[arg(long, requires = "plan")]
    pub task: Option<usize>,
    /// Every cell's state in --plan's run folders: pending, running, interrupted, ok,
    /// diverged, failed.
    #[arg(long, requires = "plan", conflicts_with = "task")]
    pub status: bool,
    /// Write --plan's summary.md from its run folders as they are.
    #[arg(long, requires = "plan", conflicts_with_all = ["task", "status"])]
    pub summary: bool,
    /// Run this many cells at once on this machine, one process each (CPU cells).
    #[arg(long, conflicts_with_all = ["plan", "slurm", "devices"])]
    pub jobs: Option<usize>,
    /// Run cells at once, one process per GPU, each seeing only its own (comma-separated
    /// cuda:N; the cells train on `cuda`).
    #[arg(long, value_delimiter = ',', conflicts_with_all = ["plan", "slurm"])]
    pub devices: Vec<String>,
    /// Submit the grid to Slurm: a job array, one task per cell, and a summary job after it.
    #[arg(long)]
    pub slurm: bool,
    #[command(flatten)]
    pub scheduler: SlurmArgs,
}

/// `ablate --slurm`'s requests of the scheduler (sbatch's own option names).
#[derive(Args)]
pub struct SlurmArgs {
    /// Write the plan and the sbatch scripts, submit nothing.
    #[arg(long, requires = "slurm")]
    pub dry_run: bool,
    #[arg(long, requires = "slurm")]
    pub partition: Option<String>,
    /// Time limit of each task, as sbatch takes it (e.g. 2-00:00:00).
    #[arg(long, requires = "slurm")]
    pub time: Option<String>,
    #[arg(long, requires = "slurm")]
    pub gpus_per_task: Option<u32>,
    #[arg(long, requires = "slurm")]
    pub cpus_per_task: Option<u32>,
    /// Memory per node, as sbatch takes it (e.g. 32G).
    #[arg(long, requires = "slurm")]
    pub mem: Option<String>,
    #[arg(long, requires = "slurm")]
    pub account: Option<String>,
    #[arg(long, requires = "slurm")]
    pub qos: Option<String>,
    /// At most this many cells at once (the array's %N).
    #[arg(long, requires = "slurm")]
    pub array_parallelism: Option<usize>,
    /// One more #SBATCH option, as given (repeatable), e.g. --sbatch-arg=--constraint=a100.
    #[arg(long = "sbatch-arg", requires = "slurm", allow_hyphen_values = true)]
    pub sbatch_args: Vec<String>,
    /// Seconds before the time limit at which Slurm tells a task to checkpoint (SIGUSR2).
    #[arg(long, requires = "slurm", default_value_t = 300)]
    pub signal_seconds: u64,
    /// How often a task may requeue itself after that warning (then it stays interrupted;
    /// submitting the grid again continues it).
    #[arg(long, requires = "slurm", default_value_t = 3)]
    pub max_requeues: u32,
}

#[derive(Args)]
pub struct BenchArgs {
    pub spec: PathBuf,
    /// Scale profile laid over the spec (e.g. cifar10 for the paper's 35.7M UNet).
    #[arg(long)]
    pub profile: Option<String>,
    /// cpu, libtorch-cpu, cuda, cuda:N.
    #[arg(long)]
    pub device: Option<String>,
    /// Training batch size (default: the spec's).
    #[arg(long)]
    pub batch: Option<usize>,
    /// Untimed training steps first.
    #[arg(long, default_value_t = 5)]
    pub warmup: u64,
    #[arg(long, default_value_t = 20)]
    pub train_steps: u64,
    /// Images sampled at once (0: no sampling).
    #[arg(long, default_value_t = 0)]
    pub sample_images: usize,
    /// Reverse steps timed from t = T (the full chain's time is extrapolated).
    #[arg(long, default_value_t = 1000)]
    pub sample_steps: usize,
    /// Then time this many more training steps phase by phase (forward, backward, Adam…).
    #[arg(long, default_value_t = 0)]
    pub phases: u64,
    /// fp32, or bf16 mixed precision (same as --set train.precision=...).
    #[arg(long)]
    pub dtype: Option<String>,
    /// Also write the result as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

#[derive(Args)]
pub struct EvalArgs {
    pub run_dir: PathBuf,
    /// The test-set bound in bits/dim, with every per-t term (t = T … 1).
    #[arg(long)]
    pub nll: bool,
    /// Held-out images to use (default: the spec's `eval.nll_images`; 0 = all).
    #[arg(long)]
    pub images: Option<usize>,
    /// FID, IS and KID (through the dataset's own classifier, trained once and cached).
    #[arg(long)]
    pub quality: bool,
    /// Samples to score (default: the spec's `eval.quality_samples`).
    #[arg(long)]
    pub samples: Option<usize>,
    /// pytorch-fid's Inception weights file: also Inception FID / IS / KID.
    #[arg(long, value_name = "WEIGHTS.pth", requires = "quality")]
    pub inception: Option<PathBuf>,
    /// Sample the quality samples with ancestral or ddim (default: the run's `sample.sampler`);
    /// other settings than the run's are recorded under their own split. A list
    /// (`ancestral,ddim`) evaluates each, with every `--steps`.
    #[arg(long, value_enum, requires = "quality", value_delimiter = ',')]
    pub sampler: Vec<SamplerArg>,
    /// Reverse steps for the quality samples (default: the run's `sample.steps`, else T); a
    /// list (`10,20,50,100,1000`) evaluates each: the report draws FID against steps.
    #[arg(long, requires = "quality", value_delimiter = ',')]
    pub steps: Vec<usize>,
    /// DDIM's η for the quality samples.
    #[arg(long, requires = "quality")]
    pub eta: Option<f64>,
    /// Clip x̂_0 to [−1, 1] while sampling (default: the run's `sample.clip_x0`).
    #[arg(long, requires = "quality", value_name = "true|false")]
    pub clip_x0: Option<bool>,
}

#[derive(Args)]
pub struct SampleArgs {
    pub run_dir: PathBuf,
    /// `X.npz` (numpy, key arr_0) or a folder for PNGs; never overwritten.
    #[arg(long)]
    pub out: PathBuf,
    /// Images to draw (default 64; with --quality-samples, the run's `eval.quality_samples`).
    #[arg(long)]
    pub count: Option<usize>,
    /// The very samples `eval --quality` scores (its seeded stream, the run's eval batch size,
    /// rounded to 8-bit levels), so an external FID tool can check ddpm-exp's own numbers.
    #[arg(long, conflicts_with_all = ["seed", "batch"])]
    pub quality_samples: bool,
    /// ancestral or ddim (default: the run's `sample.sampler`).
    #[arg(long, value_enum)]
    pub sampler: Option<SamplerArg>,
    /// Reverse steps, evenly respaced over 1..T (default: the run's `sample.steps`, else T).
    #[arg(long)]
    pub steps: Option<usize>,
    /// DDIM's η (default: the run's `sample.eta`).
    #[arg(long)]
    pub eta: Option<f64>,
    /// Clip x̂_0 to [−1, 1] while sampling (default: the run's `sample.clip_x0`).
    #[arg(long, value_name = "true|false")]
    pub clip_x0: Option<bool>,
    /// Seed of the sampling stream (default: the run's seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// The checkpoint's step (default: the newest).
    #[arg(long, value_name = "STEP")]
    pub checkpoint: Option<u64>,
    /// Images per batch (default: the run's `eval.batch_size`; the bytes depend on it).
    #[arg(long)]
    pub batch: Option<usize>,
}

/// `--sampler`'s values.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SamplerArg {
    Ancestral,
    Ddim,
}

#[derive(Args)]
pub struct ValidateArgs {
    /// Specs or sweep files (a sweep file's every cell is checked).
    #[arg(required = true)]
    pub specs: Vec<PathBuf>,
    /// Check each spec's cells over these axes too, as `ablate --sweep` would make them.
    #[arg(long = "sweep", value_name = "KEY=V1,V2,…")]
    pub sweep: Vec<String>,
    #[arg(long = "zip", value_name = "KEY=V1,V2,…")]
    pub zip: Vec<String>,
    /// Check the specs at this scale profile (as `ablate --profile` would run them).
    #[arg(long)]
    pub profile: Option<String>,
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

#[derive(Args)]
pub struct ReportArgs {
    /// Run folders, or folders of them (e.g. results/ablate-digits).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Where the report goes (default: INPUT/report for one results folder, else results/report).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Seed of the sample grids and other model figures (the same for every run).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Images in each run's sample grid.
    #[arg(long, default_value_t = 64)]
    pub samples: usize,
    /// Skip the figures that need sampling from the models (they take minutes on a CPU).
    #[arg(long)]
    pub no_samples: bool,
    /// Weight of the loss curves' exponential moving average (0 = none).
    #[arg(long, default_value_t = 0.9)]
    pub smoothing: f64,
}

#[derive(Args)]
pub struct ScheduleArgs {
    pub spec: PathBuf,
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}
