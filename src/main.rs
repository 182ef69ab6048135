//! Command-line wiring only: parse flags, call the library, map outcomes to exit codes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use ddpm_exp::ablate::run_ablation;
use ddpm_exp::bench::{BenchOptions, run_bench};
use ddpm_exp::error::{EXIT_DIVERGED, EXIT_INTERRUPTED, Failure};
use ddpm_exp::quality::score::IS_SPLITS;
use ddpm_exp::record::schedule_table::write_schedule;
use ddpm_exp::report::model_figures::ModelFigureSettings;
use ddpm_exp::report::{ReportOptions, make_report};
use ddpm_exp::run::evaluate::eval_nll;
use ddpm_exp::run::quality::{eval_quality, quality_table};
use ddpm_exp::run::{Outcome, resume_run, start_run};
use ddpm_exp::spec::{SpecError, find_profile, load_spec, load_spec_with_profile};

#[derive(Parser)]
#[command(
    name = "ddpm-exp",
    version,
    about = "Reproducible DDPM experiments and ablations (Ho et al. 2020)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a spec in a new run folder (or continue one with --resume); prints the folder last.
    Run {
        /// The experiment spec (YAML).
        #[arg(required_unless_present = "resume")]
        spec: Option<PathBuf>,
        /// Override any spec field: --set train.lr=1e-4 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Override the spec's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Where to train: cpu, libtorch-cpu, cuda, cuda:N (same as --set device=...).
        #[arg(long)]
        device: Option<String>,
        /// Scale profile laid over the spec: experiments/profiles/NAME.yaml or a path.
        #[arg(long)]
        profile: Option<String>,
        /// Folder under which the run folder is made.
        #[arg(long, default_value = "results")]
        out: PathBuf,
        /// Continue the run in this folder from its newest checkpoint.
        #[arg(long, value_name = "RUN_DIR", conflicts_with_all = ["spec", "set", "seed", "device", "profile"])]
        resume: Option<PathBuf>,
    },
    /// Run every spec × seed (skipping cells already complete), then print a summary table.
    Ablate {
        /// Specs to run (default: every experiments/*.yaml but base.yaml).
        specs: Vec<PathBuf>,
        /// Seeds, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "0")]
        seeds: Vec<u64>,
        /// Scale profile: experiments/profiles/NAME.yaml (digits, mnist, fashion_mnist, cifar10) or a path.
        #[arg(long)]
        profile: Option<String>,
        /// Folder of the cells' run folders (default: results/ablate[-PROFILE]).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Where to train every cell: cpu, libtorch-cpu, cuda, cuda:N.
        #[arg(long)]
        device: Option<String>,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// Training steps/s and sampling images/s of a spec's model (bench/run.sh compares PyTorch).
    Bench {
        spec: PathBuf,
        /// Scale profile laid over the spec (e.g. cifar10 for the paper's 35.7M UNet).
        #[arg(long)]
        profile: Option<String>,
        /// cpu, libtorch-cpu, cuda, cuda:N.
        #[arg(long)]
        device: Option<String>,
        /// Training batch size (default: the spec's).
        #[arg(long)]
        batch: Option<usize>,
        /// Untimed training steps first.
        #[arg(long, default_value_t = 5)]
        warmup: u64,
        #[arg(long, default_value_t = 20)]
        train_steps: u64,
        /// Images sampled at once (0: no sampling).
        #[arg(long, default_value_t = 0)]
        sample_images: usize,
        /// Reverse steps timed from t = T (the full chain's time is extrapolated).
        #[arg(long, default_value_t = 1000)]
        sample_steps: usize,
        /// Then time this many more training steps phase by phase (forward, backward, Adam…).
        #[arg(long, default_value_t = 0)]
        phases: u64,
        /// fp32, or bf16 mixed precision (same as --set train.precision=...).
        #[arg(long)]
        dtype: Option<String>,
        /// Also write the result as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// Evaluate a run's newest checkpoint (EMA weights) and add the results to its eval.parquet.
    Eval {
        run_dir: PathBuf,
        /// The test-set bound in bits/dim, with every per-t term (t = T … 1).
        #[arg(long)]
        nll: bool,
        /// Held-out images to use (default: the spec's `eval.nll_images`; 0 = all).
        #[arg(long)]
        images: Option<usize>,
        /// FID, IS and KID (through the dataset's own classifier, trained once and cached).
        #[arg(long)]
        quality: bool,
        /// Samples to score (default: the spec's `eval.quality_samples`).
        #[arg(long)]
        samples: Option<usize>,
        /// pytorch-fid's Inception weights file: also Inception FID / IS / KID.
        #[arg(long, value_name = "WEIGHTS.pth", requires = "quality")]
        inception: Option<PathBuf>,
    },
    /// Check specs without running them.
    Validate {
        #[arg(required = true)]
        specs: Vec<PathBuf>,
        /// Check the specs at this scale profile (as `ablate --profile` would run them).
        #[arg(long)]
        profile: Option<String>,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// Figures and tables for a paper from run folders alone (HTML, Markdown, LaTeX, PNG, SVG).
    Report {
        /// Run folders, or folders of them (e.g. results/ablate-digits).
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Where the report goes (default: INPUT/report for one results folder, else results/report).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Seed of the sample grids and other model figures (the same for every run).
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Images in each run's sample grid.
        #[arg(long, default_value_t = 64)]
        samples: usize,
        /// Skip the figures that need sampling from the models (they take minutes on a CPU).
        #[arg(long)]
        no_samples: bool,
        /// Weight of the loss curves' exponential moving average (0 = none).
        #[arg(long, default_value_t = 0.9)]
        smoothing: f64,
    },
    /// Write the per-t schedule table of a spec (Parquet, or CSV for a .csv name).
    Schedule {
        spec: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    ddpm_exp::run::interrupt::ignore_file_size_signal();
    let trains = matches!(cli.command, Command::Run { .. } | Command::Ablate { .. });
    if trains && let Err(e) = ddpm_exp::run::interrupt::install() {
        eprintln!("warning: {e}");
    }
    match dispatch(cli.command) {
        Ok(code) => ExitCode::from(code as u8),
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::from(failure.exit_code() as u8)
        }
    }
}

fn dispatch(command: Command) -> Result<i32, Failure> {
    match command {
        Command::Run {
            spec,
            mut set,
            seed,
            device,
            profile,
            out,
            resume,
        } => {
            let report = match (resume, spec) {
                (Some(run_dir), _) => resume_run(&run_dir)?,
                (None, Some(spec_path)) => {
                    if let Some(seed) = seed {
                        set.push(format!("seed={seed}"));
                    }
                    set.extend(device.map(|d| format!("device={d}")));
                    let resolved = load_with_profile(&spec_path, profile.as_deref(), &set)?;
                    start_run(&resolved.experiment, &spec_path, &out)?
                }
                (None, None) => unreachable!("clap requires a spec or --resume"),
            };
            let code = match report.outcome {
                Outcome::Completed => 0,
                Outcome::Interrupted { step } => {
                    eprintln!(
                        "interrupted at step {step}; continue with: ddpm-exp run --resume {}",
                        report.run_dir.display()
                    );
                    EXIT_INTERRUPTED
                }
                Outcome::Diverged {
                    step,
                    last_finite_loss,
                } => {
                    let last = last_finite_loss.map_or("none".to_string(), |l| format!("{l:.6}"));
                    eprintln!("diverged at step {step} (last finite loss {last})");
                    EXIT_DIVERGED
                }
            };
            println!("{}", report.run_dir.display());
            Ok(code)
        }
        Command::Ablate {
            specs,
            seeds,
            profile,
            out,
            device,
            mut set,
        } => {
            set.extend(device.map(|d| format!("device={d}")));
            let report = run_ablation(specs, &seeds, profile.as_deref(), out, &set)?;
            print!("{}", report.table);
            println!("{}", report.summary_path.display());
            Ok(if ddpm_exp::run::interrupt::requested() {
                EXIT_INTERRUPTED
            } else if report.any_failed {
                ddpm_exp::error::EXIT_FAILED
            } else {
                0
            })
        }
        Command::Eval {
            run_dir,
            nll,
            images,
            quality,
            samples,
            inception,
        } => {
            if !nll && !quality {
                return Err(Failure::BadInput(
                    "nothing to evaluate: pass --nll and/or --quality".into(),
                ));
            }
            if samples.is_some_and(|n| n < IS_SPLITS) {
                return Err(Failure::BadInput(format!(
                    "--samples: the Inception Score is taken over {IS_SPLITS} splits, so at least {IS_SPLITS} samples"
                )));
            }
            if nll {
                let report = eval_nll(&run_dir, images)?;
                println!(
                    "test NLL {:.4} bits/dim (L_T {:.2e}) on {} images at step {}",
                    report.total_bits_per_dim,
                    report.prior_bits_per_dim,
                    report.images,
                    report.step
                );
            }
            if quality {
                let r = eval_quality(&run_dir, samples, inception.as_deref())?;
                println!("{}", quality_table(&r));
            }
            Ok(0)
        }
        Command::Validate {
            specs,
            profile,
            set,
        } => {
            let mut failed = None;
            for path in &specs {
                let resolved = load_with_profile(path, profile.as_deref(), &set);
                match resolved {
                    Ok(resolved) => {
                        println!("ok: {} ({})", path.display(), resolved.experiment.name)
                    }
                    Err(e) => {
                        eprintln!("error: {e}");
                        failed = Some(Failure::from(e).exit_code());
                    }
                }
            }
            Ok(failed.unwrap_or(0))
        }
        Command::Report {
            inputs,
            out,
            seed,
            samples,
            no_samples,
            smoothing,
        } => {
            if !(0.0..1.0).contains(&smoothing) {
                return Err(Failure::BadInput(format!(
                    "--smoothing {smoothing}: must be in [0, 1)"
                )));
            }
            let out = out.unwrap_or_else(|| default_report_dir(&inputs));
            let options = ReportOptions {
                out,
                smoothing,
                model_figures: (!no_samples).then_some(ModelFigureSettings { seed, samples }),
            };
            let outcome = make_report(&inputs, &options)?;
            for b in &outcome.broken {
                eprintln!("warning: left out {}: {}", b.dir.display(), b.reason);
            }
            for note in &outcome.notes {
                eprintln!("note: not drawn: {note}");
            }
            print!("{}", ddpm_exp::report::tables::markdown(&outcome.cells));
            eprintln!(
                "report of {} runs in {} cells ({} broken folders left out)",
                outcome.runs,
                outcome.cells.len(),
                outcome.broken.len()
            );
            println!("{}", outcome.html.display());
            Ok(0)
        }
        Command::Bench {
            spec,
            profile,
            device,
            batch,
            warmup,
            train_steps,
            sample_images,
            sample_steps,
            phases,
            dtype,
            json,
            mut set,
        } => {
            // The bench trains on random images: no dataset folder is read, so none must exist.
            set.insert(0, "data.dir=.".to_string());
            set.extend(device.map(|d| format!("device={d}")));
            set.extend(dtype.map(|d| format!("train.precision={d}")));
            set.extend(batch.map(|b| format!("train.batch_size={b}")));
            let resolved = load_with_profile(&spec, profile.as_deref(), &set)?;
            let options = BenchOptions {
                warmup_steps: warmup,
                train_steps,
                sample_images,
                sample_steps,
                phase_steps: phases,
            };
            let result = run_bench(&resolved.experiment, &options)?;
            let text = serde_json::to_string_pretty(&result).expect("bench result serialises");
            if let Some(path) = json {
                ddpm_exp::record::atomic::write_atomic(&path, text.as_bytes()).map_err(|e| {
                    Failure::Failed(format!("{}: cannot write: {e}", path.display()))
                })?;
            }
            eprintln!(
                "{} params on {} ({}): {:.3} train steps/s at batch {}; {} images × {} steps in {:.1} s ({:.1} s for T = {})",
                result.params,
                result.device,
                result.backend,
                result.train_steps_per_s,
                result.batch,
                result.sample_images,
                result.sample_steps,
                result.sample_seconds,
                result.sample_seconds_full,
                result.timesteps
            );
            for (phase, ms) in &result.phase_ms {
                eprintln!("  {ms:9.2} ms/step  {phase}");
            }
            println!("{text}");
            Ok(0)
        }
        Command::Schedule { spec, out, set } => {
            let resolved = load_spec(&spec, &set)?;
            write_schedule(&out, &resolved.experiment.schedule()).map_err(Failure::Failed)?;
            println!("{}", out.display());
            Ok(0)
        }
    }
}

/// The spec at `path`, with the named scale profile laid over it when one is given.
fn load_with_profile(
    path: &std::path::Path,
    profile: Option<&str>,
    set: &[String],
) -> Result<ddpm_exp::spec::ResolvedSpec, SpecError> {
    match profile {
        Some(name) => load_spec_with_profile(path, Some(&find_profile(path, name)?), set),
        None => load_spec(path, set),
    }
}

/// INPUT/report when the one input is a results folder (not a run), else results/report.
fn default_report_dir(inputs: &[PathBuf]) -> PathBuf {
    match inputs {
        [one] if !one.join("meta.json").exists() => one.join("report"),
        _ => PathBuf::from("results/report"),
    }
}
