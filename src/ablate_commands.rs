//! `ddpm-exp ablate …`: the grid in this process, one cell of a plan (a cluster task), a
//! plan's status or summary, or the grid submitted to Slurm. Wiring only, as in main.rs.

use std::path::{Path, PathBuf};

use crate::Ended;
use crate::cli::{AblateArgs, SlurmArgs};
use ddpm_exp::ablate::parallel::{Slot, cpu_slots, device_slots, run_pool};
use ddpm_exp::ablate::plan::{WrittenPlan, write_plan};
use ddpm_exp::ablate::slurm::{SlurmOptions, requeue_self, require, submit, write_scripts};
use ddpm_exp::ablate::status::{grid_status, status_table};
use ddpm_exp::ablate::{
    AblationRequest, Cell, CellAction, CellTrainer, resolve, run_ablation, run_cell, summarise_plan,
};
use ddpm_exp::device::DeviceName;
use ddpm_exp::error::{EXIT_FAILED, EXIT_INTERRUPTED, Failure};
use ddpm_exp::record::RunFolder;
use ddpm_exp::record::meta::Status;
use ddpm_exp::run::{resume_run, start_run};
use ddpm_exp::spec::Overrides;
use ddpm_exp::spec::sweep::Sweep;

/// Cells trained in this process.
struct InProcess;

impl CellTrainer for InProcess {
    fn start(&self, cell: &Cell, out: &Path) -> Result<PathBuf, Failure> {
        Ok(start_run(&cell.experiment, &cell.spec_file, out)?.run_dir)
    }

    fn resume(&self, run_dir: &Path) -> Result<(), Failure> {
        resume_run(run_dir).map(|_| ())
    }
}

pub fn ablate(args: AblateArgs) -> Result<Ended, Failure> {
    if let Some(plan) = &args.plan {
        let plan = WrittenPlan::read(plan)?;
        return match (args.task, args.status, args.summary) {
            (Some(index), _, _) => task(&plan, index),
            (_, true, _) => {
                print!("{}", status_table(&grid_status(&plan)?));
                Ok(Ended::Ok)
            }
            (_, _, true) => {
                let report = summarise_plan(&plan)?;
                print!("{}", report.table);
                println!("{}", report.summary_path.display());
                Ok(Ended::Ok)
            }
            _ => Err(Failure::BadInput(
                "--plan needs --task N, --status or --summary".into(),
            )),
        };
    }
    let overrides = grid_overrides(&args);
    let sweep = Sweep::from_flags(&args.sweep, &args.zip)?;
    let request = AblationRequest {
        specs: args.specs,
        seeds: (!args.seeds.is_empty()).then_some(args.seeds.as_slice()),
        profile: args.profile.as_deref(),
        out: args.out,
        overrides: &overrides,
        sweep: &sweep,
    };
    if args.slurm {
        return submit_grid(request, &args.scheduler);
    }
    let slots = match (args.jobs, args.devices.is_empty()) {
        (Some(0), _) => return Err(Failure::BadInput("--jobs: at least 1".into())),
        (Some(jobs), _) if jobs > 1 => Some(cpu_slots(jobs)),
        (_, false) => Some(device_slots(&args.devices)?),
        _ => None,
    };
    if let Some(slots) = slots {
        return run_concurrently(request, &slots);
    }
    let report = run_ablation(request, &InProcess)?;
    print!("{}", report.table);
    println!("{}", report.summary_path.display());
    Ok(if report.interrupted {
        Ended::Code(EXIT_INTERRUPTED)
    } else if report.any_failed {
        Ended::Code(EXIT_FAILED)
    } else {
        Ended::Ok
    })
}

/// `--set` and `--device` for every cell; each GPU process sees only its own GPU, as cuda:0.
fn grid_overrides(args: &AblateArgs) -> Overrides {
    let device = match args.devices.is_empty() {
        true => args.device.clone(),
        false => Some(args.device.clone().unwrap_or_else(|| "cuda".into())),
    };
    Overrides {
        device,
        ..Overrides::with_set(ddpm_exp::spec::overrides::with_tracking(
            &args.set,
            args.no_tensorboard,
        ))
    }
}

/// The grid over a pool of processes on this machine (`--jobs`, `--devices`), then its summary.
fn run_concurrently(request: AblationRequest<'_>, slots: &[Slot]) -> Result<Ended, Failure> {
    let profile = request.profile;
    let (cells, out) = resolve(request)?;
    let gpu_slots = slots.iter().any(|s| !s.env.is_empty());
    if let Some(cell) = cells
        .iter()
        .find(|c| gpu_slots && c.experiment.device != DeviceName::Cuda(0))
    {
        return Err(Failure::BadInput(format!(
            "--devices: every cell trains on cuda (each process sees its own GPU as cuda:0); {} has \
             device {}",
            cell.spec_file.display(),
            cell.experiment.device
        )));
    }
    let plan = write_plan(&cells, &out, profile, 0)?;
    let program = std::env::current_exe()
        .map_err(|e| Failure::Failed(format!("cannot find this program's path: {e}")))?;
    let ends = run_pool(&plan, &program, slots)?;
    let report = summarise_plan(&plan)?;
    print!("{}", report.table);
    println!("{}", report.summary_path.display());
    for end in ends.iter().filter(|e| e.code != Some(0)) {
        eprintln!(
            "cell {} ended with exit {:?}: see {}",
            end.index,
            end.code,
            end.log.display()
        );
    }
    let interrupted = ddpm_exp::interrupt::requested()
        || ends.len() < cells.len()
        || ends.iter().any(|e| e.code == Some(EXIT_INTERRUPTED));
    Ok(if interrupted {
        Ended::Code(EXIT_INTERRUPTED)
    } else if report.any_failed || ends.iter().any(|e| e.code != Some(0)) {
        Ended::Code(EXIT_FAILED)
    } else {
        Ended::Ok
    })
}

/// One cell of the plan, as a cluster task runs it; exits as the run ended.
fn task(plan: &WrittenPlan, index: usize) -> Result<Ended, Failure> {
    let cell = plan.cell(index)?;
    let e = &cell.experiment;
    eprintln!("cell {index}: {} seed {}", e.name, e.seed);
    let (action, run_dir) = run_cell(&plan.plan.out, &cell, &InProcess);
    eprintln!("cell {index}: {action:?}");
    if let CellAction::Failed(why) = action {
        return Err(Failure::Failed(why));
    }
    let Some(run_dir) = run_dir else {
        return Ok(Ended::Ok);
    };
    if RunFolder::at(&run_dir).current_meta()?.status != Status::Interrupted {
        return Ok(Ended::Ok);
    }
    if ddpm_exp::interrupt::preempted() {
        requeue_self(&run_dir, plan.plan.max_requeues)?;
    }
    Ok(Ended::Code(EXIT_INTERRUPTED))
}

/// Resolves every cell, writes the plan and the scripts, and submits them (not with
/// --dry-run); prints the job ids, or the scripts' paths.
fn submit_grid(request: AblationRequest<'_>, args: &SlurmArgs) -> Result<Ended, Failure> {
    let profile = request.profile;
    let (cells, out) = resolve(request)?;
    if !args.dry_run {
        require("sbatch")?;
    }
    let options = SlurmOptions {
        partition: args.partition.clone(),
        time: args.time.clone(),
        gpus_per_task: args.gpus_per_task,
        cpus_per_task: args.cpus_per_task,
        mem: args.mem.clone(),
        account: args.account.clone(),
        qos: args.qos.clone(),
        array_parallelism: args.array_parallelism,
        sbatch_args: args.sbatch_args.clone(),
        signal_seconds: args.signal_seconds,
    };
    let binary = std::env::current_exe()
        .map_err(|e| Failure::Failed(format!("cannot find this program's path: {e}")))?;
    let workdir = std::env::current_dir()
        .map_err(|e| Failure::Failed(format!("cannot read the working folder: {e}")))?;
    let absolute_out = std::path::absolute(&out).unwrap_or(out.clone());
    options.check(&binary, &workdir, &absolute_out)?;
    let plan = write_plan(&cells, &out, profile, args.max_requeues)?;
    let scripts = write_scripts(&plan, &options, &binary, &workdir)?;
    eprintln!("plan of {} cells: {}", cells.len(), plan.path().display());
    if args.dry_run {
        println!("{}", scripts.array.display());
        println!("{}", scripts.summary.display());
        return Ok(Ended::Ok);
    }
    let submitted = submit(&scripts)?;
    eprintln!(
        "submitted array job {} ({} tasks) and summary job {} (after it); watch it with \
         `ddpm-exp ablate --plan {} --status`",
        submitted.array_job,
        cells.len(),
        submitted.summary_job,
        plan.path().display()
    );
    println!("{} {}", submitted.array_job, submitted.summary_job);
    Ok(Ended::Ok)
}
