//! Command-line wiring only: parse the arguments (cli.rs), call the library once per
//! subcommand, print what it returns, and turn outcomes into exit codes (in one place, `main`).

mod ablate_commands;
mod cli;
mod data_commands;

use ablate_commands::ablate;
use data_commands::data_command;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use cli::{
    BenchArgs, Cli, Command, EvalArgs, ReportArgs, RunArgs, SampleArgs, SamplerArg, ScheduleArgs,
    ValidateArgs,
};
use ddpm_exp::ablate::grid::{GridRequest, expand};
use ddpm_exp::bench::{BenchOptions, load_bench_spec, run_bench};
use ddpm_exp::diffusion::SamplerKind;
use ddpm_exp::error::{EXIT_DIVERGED, EXIT_INTERRUPTED, Failure};
use ddpm_exp::record::schedule_table::write_schedule;
use ddpm_exp::record::{RecordError, RunFolder};
use ddpm_exp::report::model_figures::ModelFigureSettings;
use ddpm_exp::report::{ReportOptions, make_report};
use ddpm_exp::run::eval_nll::eval_nll;
use ddpm_exp::run::eval_quality::{
    check_sample_count, eval_quality, quality_table, sampler_choices,
};
use ddpm_exp::run::sample_export::{SampleRequest, export_samples};
use ddpm_exp::run::{Outcome, resume_run, start_run};
use ddpm_exp::spec::Overrides;
use ddpm_exp::spec::SamplerChoice;
use ddpm_exp::spec::sweep::Sweep;

/// How a subcommand that ran to its end finished.
enum Ended {
    Ok,
    /// A run ended this way (its own exit code).
    Run(Outcome),
    /// A grid or a set of checks ended with some part failed or stopped.
    Code(i32),
}

fn main() -> ExitCode {
    ddpm_exp::malloc_tuning::keep_freed_memory();
    let cli = Cli::parse();
    ddpm_exp::interrupt::ignore_file_size_signal();
    let trains = matches!(cli.command, Command::Run(_) | Command::Ablate(_));
    if trains && let Err(e) = ddpm_exp::interrupt::install() {
        eprintln!("warning: cannot install the Ctrl-C handler: {e}");
    }
    let code = match dispatch(cli.command) {
        Ok(Ended::Ok) => 0,
        Ok(Ended::Run(Outcome::Completed)) => 0,
        Ok(Ended::Run(Outcome::Interrupted { .. })) => EXIT_INTERRUPTED,
        Ok(Ended::Run(Outcome::Diverged { .. })) => EXIT_DIVERGED,
        Ok(Ended::Code(code)) => code,
        Err(failure) => {
            eprintln!("error: {failure}");
            failure.exit_code()
        }
    };
    ExitCode::from(code as u8)
}

fn dispatch(command: Command) -> Result<Ended, Failure> {
    match command {
        Command::Run(args) => run(args),
        Command::Ablate(args) => ablate(args),
        Command::Bench(args) => bench(args),
        Command::Eval(args) => eval(args),
        Command::Validate(args) => Ok(validate(args)),
        Command::Report(args) => report(args),
        Command::Schedule(args) => schedule(args),
        Command::Sample(args) => sample(args),
        Command::Data(command) => data_command(command),
    }
}

fn run(args: RunArgs) -> Result<Ended, Failure> {
    let report = match (args.resume, args.spec) {
        (Some(run_dir), _) => resume_run(&run_dir)?,
        (None, Some(spec_path)) => {
            let overrides = Overrides {
                seed: args.seed,
                device: args.device,
                ..Overrides::with_set(ddpm_exp::spec::overrides::with_tracking(
                    &args.set,
                    args.no_tensorboard,
                ))
            };
            let resolved = ddpm_exp::spec::load(&spec_path, args.profile.as_deref(), &overrides)?;
            start_run(&resolved.experiment, &spec_path, &args.out)?
        }
        (None, None) => unreachable!("clap requires a spec or --resume"),
    };
    match &report.outcome {
        Outcome::Completed => {}
        Outcome::Interrupted { step } => eprintln!(
            "interrupted at step {step}; continue with: ddpm-exp run --resume {}",
            report.run_dir.display()
        ),
        Outcome::Diverged {
            step,
            last_finite_loss,
        } => {
            let last = last_finite_loss.map_or("none".to_string(), |l| format!("{l:.6}"));
            eprintln!("diverged at step {step} (last finite loss {last})");
        }
    }
    println!("{}", report.run_dir.display());
    Ok(Ended::Run(report.outcome))
}

/// `ddpm-exp eval RUN --nll / --quality`: the test NLL, and the quality scores of samples
/// drawn with every --sampler × --steps (the run's own setting where none is given).
fn eval(args: EvalArgs) -> Result<Ended, Failure> {
    if !args.nll && !args.quality {
        return Err(Failure::BadInput(
            "nothing to evaluate: pass --nll and/or --quality".into(),
        ));
    }
    check_sample_count(args.samples)?;
    if args.nll {
        let report = eval_nll(&args.run_dir, args.images)?;
        println!(
            "test NLL {:.4} bits/dim (L_T {:.2e}) on {} images at step {}",
            report.total_bits_per_dim, report.prior_bits_per_dim, report.images, report.step
        );
    }
    if args.quality {
        let kinds: Vec<SamplerKind> = args.sampler.iter().map(|&s| sampler_kind(s)).collect();
        let choices = sampler_choices(&kinds, &args.steps, args.eta, args.clip_x0);
        let inception = args.inception.as_deref();
        let reports = eval_quality(&args.run_dir, args.samples, inception, &choices)?;
        for r in &reports {
            println!("{}", quality_table(r));
        }
    }
    Ok(Ended::Ok)
}

/// Checks every spec or sweep, saying ok or why not (every problem) for each; the exit code
/// is the last failure's.
fn validate(args: ValidateArgs) -> Ended {
    let overrides = Overrides::with_set(args.set);
    let sweep = match Sweep::from_flags(&args.sweep, &args.zip) {
        Ok(sweep) => sweep,
        Err(e) => {
            eprintln!("error: {e}");
            return Ended::Code(Failure::from(e).exit_code());
        }
    };
    let mut failed = None;
    for path in &args.specs {
        let request = GridRequest {
            specs: std::slice::from_ref(path),
            seeds: None,
            profile: args.profile.as_deref(),
            overrides: &overrides,
            sweep: &sweep,
        };
        match expand(&request) {
            Ok(cells) if cells.len() == 1 => {
                println!("ok: {} ({})", path.display(), cells[0].experiment.name)
            }
            Ok(cells) => println!("ok: {} ({} cells)", path.display(), cells.len()),
            Err(e) => {
                eprintln!("error: {e}");
                failed = Some(Failure::from(e).exit_code());
            }
        }
    }
    failed.map_or(Ended::Ok, Ended::Code)
}

fn report(args: ReportArgs) -> Result<Ended, Failure> {
    if !(0.0..1.0).contains(&args.smoothing) {
        return Err(Failure::BadInput(format!(
            "--smoothing {}: must be in [0, 1)",
            args.smoothing
        )));
    }
    let settings = ModelFigureSettings {
        seed: args.seed,
        samples: args.samples,
    };
    let options = ReportOptions {
        out: args.out.unwrap_or_else(|| default_report_dir(&args.inputs)),
        smoothing: args.smoothing,
        model_figures: (!args.no_samples).then_some(settings),
    };
    let outcome = make_report(&args.inputs, &options)?;
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
    Ok(Ended::Ok)
}

/// INPUT/report when the one input is a results folder (not a run), else results/report.
fn default_report_dir(inputs: &[PathBuf]) -> PathBuf {
    match inputs {
        [one] if RunFolder::open(one).is_err() => one.join("report"),
        _ => PathBuf::from("results/report"),
    }
}

fn bench(args: BenchArgs) -> Result<Ended, Failure> {
    let overrides = Overrides {
        device: args.device,
        precision: args.dtype,
        batch_size: args.batch,
        ..Overrides::with_set(args.set)
    };
    let resolved = load_bench_spec(&args.spec, args.profile.as_deref(), &overrides)?;
    let options = BenchOptions {
        warmup_steps: args.warmup,
        train_steps: args.train_steps,
        sample_images: args.sample_images,
        sample_steps: args.sample_steps,
        phase_steps: args.phases,
    };
    let result = run_bench(&resolved.experiment, &options)?;
    let text = serde_json::to_string_pretty(&result).expect("bench result serialises");
    if let Some(path) = args.json {
        ddpm_exp::record::atomic::write_atomic(&path, text.as_bytes())
            .map_err(|e| RecordError::unwritable(&path, format!("cannot write: {e}")))?;
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
    Ok(Ended::Ok)
}

fn schedule(args: ScheduleArgs) -> Result<Ended, Failure> {
    let overrides = Overrides::with_set(args.set);
    let resolved = ddpm_exp::spec::load(&args.spec, None, &overrides)?;
    let e = &resolved.experiment;
    write_schedule(&args.out, &e.schedule(), &e.objective())?;
    println!("{}", args.out.display());
    Ok(Ended::Ok)
}

fn sampler_kind(arg: SamplerArg) -> SamplerKind {
    match arg {
        SamplerArg::Ancestral => SamplerKind::Ancestral,
        SamplerArg::Ddim => SamplerKind::Ddim,
    }
}

fn sample(args: SampleArgs) -> Result<Ended, Failure> {
    let request = SampleRequest {
        run_dir: args.run_dir,
        out: args.out,
        count: args.count,
        quality_samples: args.quality_samples,
        choice: SamplerChoice {
            sampler: args.sampler.map(sampler_kind),
            steps: args.steps,
            eta: args.eta,
            clip_x0: args.clip_x0,
        },
        seed: args.seed,
        checkpoint: args.checkpoint,
        batch: args.batch,
    };
    let record = export_samples(&request)?;
    eprintln!(
        "{} samples of {} at step {}: {} sampler, {} steps, η = {}",
        record.count,
        record.run_id,
        record.checkpoint_step,
        record.sampler,
        record.steps,
        record.eta
    );
    println!("{}", request.out.display());
    Ok(Ended::Ok)
}
