//! Runs stopped from outside: SIGKILL at seeded random moments (then `--resume`, again and
//! again) and Ctrl-C (SIGINT). Each must end exactly where the uninterrupted run ends: the same
//! metric rows, the same checkpoint bytes, the same samples.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::common::{assert_success, bin, last_line, tiny_yaml};

use burn::module::{Module, ModuleVisitor, Param};
use burn::prelude::*;
use ddpm_exp::record::RunFolder;
use ddpm_exp::record::meta::Status;
use ddpm_exp::record::metrics::read_metrics;
use ddpm_exp::spec::load_resolved;
use ddpm_exp::tracking::proto::event;
use ddpm_exp::tracking::tracker::{event_files, read_events};
use rand::{RngExt, SeedableRng};

/// The tiny spec, long enough to be hit mid-way: every step logged, a checkpoint every 5.
const OVERRIDES: [&str; 6] = [
    "--set",
    "train.steps=60",
    "--set",
    "train.checkpoint_every=5",
    "--set",
    "train.log_every=1",
];

fn spec(dir: &Path) -> PathBuf {
    let path = dir.join("tiny.yaml");
    fs::write(&path, tiny_yaml()).unwrap();
    path
}

/// `ddpm-exp ARGS` in the background, quietly.
fn spawn<S: AsRef<std::ffi::OsStr>>(args: impl IntoIterator<Item = S>) -> Child {
    bin()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Starts the run in the background; `extra` are more `--set` overrides.
fn start(spec: &Path, out: &Path, extra: &[&str]) -> Child {
    let paths = [spec.as_os_str(), "--out".as_ref(), out.as_os_str()];
    let overrides = OVERRIDES.iter().chain(extra).map(|a| a.as_ref());
    spawn(
        std::iter::once("run".as_ref())
            .chain(paths)
            .chain(overrides),
    )
}

fn resume(run: &Path) -> Child {
    spawn(["run".as_ref(), "--resume".as_ref(), run.as_os_str()])
}

/// The one run folder under `out`, once it has its meta.json.
fn wait_for_run(out: &Path) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(dir) = fs::read_dir(out).into_iter().flatten().flatten().next() {
            if dir.path().join("meta.json").is_file() {
                return dir.path();
            }
        }
        assert!(Instant::now() < deadline, "no run folder appeared");
        sleep(Duration::from_millis(5));
    }
}

fn uninterrupted(spec: &Path, out: &Path, extra: &[&str]) -> PathBuf {
    let output = bin()
        .arg("run")
        .arg(spec)
        .arg("--out")
        .arg(out)
        .args(OVERRIDES)
        .args(extra)
        .output()
        .unwrap();
    assert_success(&output);
    last_line(&output)
}

/// Every float tensor of a checkpoint's network file, in module order. (The files themselves
/// differ between processes: Burn stores each parameter's random id beside its tensor.)
fn tensors(run: &Path, file: &str) -> Vec<Vec<f32>> {
    struct Collect(Vec<Vec<f32>>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0
                .push(param.val().into_data().try_to_vec::<f32>().unwrap());
        }
    }
    let spec = load_resolved(&run.join("spec.yaml")).unwrap();
    let model = spec
        .unet_config()
        .init(&crate::common::device())
        .try_load_file(run.join("checkpoints/step_00000060").join(file))
        .unwrap();
    let mut collect = Collect(Vec::new());
    model.visit(&mut collect);
    collect.0
}

/// What must be identical: every metric row, the final weights and EMA bit for bit, the
/// checkpoint state, the samples.
fn assert_same_result(whole: &Path, other: &Path) {
    assert_eq!(
        read_metrics(&whole.join("metrics.parquet")).unwrap(),
        read_metrics(&other.join("metrics.parquet")).unwrap(),
        "metric rows differ (lost, duplicated or other numbers)"
    );
    for file in ["model.bpk", "ema.bpk"] {
        let (a, b) = (tensors(whole, file), tensors(other, file));
        assert!(!a.is_empty());
        assert!(a == b, "{file}: tensors differ");
    }
    let state = "checkpoints/step_00000060/state.json";
    assert_eq!(
        fs::read(whole.join(state)).unwrap(),
        fs::read(other.join(state)).unwrap()
    );
    // The same checkpoint bytes: model, EMA, optimiser and state, by their SHA-256s.
    let checksums = "checkpoints/step_00000060/checksums.json";
    assert_eq!(
        fs::read_to_string(whole.join(checksums)).unwrap(),
        fs::read_to_string(other.join(checksums)).unwrap(),
        "checkpoint files differ"
    );
    assert_eq!(
        fs::read(whole.join("samples.png")).unwrap(),
        fs::read(other.join("samples.png")).unwrap()
    );
    let meta = RunFolder::at(other).read_meta().unwrap();
    assert_eq!((meta.status, meta.steps_done), (Status::Ok, 60));
    let leftovers: Vec<_> = fs::read_dir(other.join("checkpoints"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".partial-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "partial checkpoint folders left behind"
    );
}

#[test]
fn sigkill_at_random_moments_then_resume_ends_like_the_uninterrupted_run() {
    let (dir, _) = kill_and_resume_like_the_uninterrupted_run(&[]);
    // TensorBoard sees every step once over the event files of all the sessions.
    let killed = wait_for_run(&dir.path().join("killed"));
    assert!(
        event_files(&killed).len() >= 4,
        "one event file per session"
    );
    let mut newest: BTreeMap<String, i64> = BTreeMap::new();
    for event in read_events(&killed).unwrap() {
        let Some(event::What::Summary(summary)) = event.what else {
            continue;
        };
        for value in summary.value {
            let before = newest.insert(value.tag.clone(), event.step);
            assert!(
                before.is_none_or(|b| b < event.step),
                "{} at step {} after step {before:?}",
                value.tag,
                event.step
            );
        }
    }
    if let Some(view) = crate::tensorboard::tensorboard_view(&killed) {
        crate::tensorboard::assert_scalars_match_metrics(&view, &killed);
    }
}

#[test]
fn the_loss_aware_t_sampler_resumes_from_its_history_in_the_checkpoint() {
    // Ten timesteps, so every t has its ten losses early and importance sampling is what
    // most of the run (and every kill after warm-up) exercises.
    let extra = [
        "--set",
        "train.timestep_sampler=loss_aware",
        "--set",
        "diffusion.timesteps=10",
    ];
    let (_dir, whole) = kill_and_resume_like_the_uninterrupted_run(&extra);
    let state: serde_json::Value = serde_json::from_slice(
        &fs::read(whole.join("checkpoints/step_00000060/state.json")).unwrap(),
    )
    .unwrap();
    let per_t = state["timestep_history"]["per_t"].as_array().unwrap();
    assert_eq!(per_t.len(), 10);
    assert!(
        per_t.iter().all(|h| h.as_array().unwrap().len() == 10),
        "every t has its ten losses by the end: {per_t:?}"
    );
}

#[test]
fn a_streamed_folder_run_killed_and_resumed_ends_like_the_in_memory_run() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images");
    crate::streaming::assorted_folder(&images, 40);
    let data = format!(
        "data: {{dataset: image_folder, dir: {}, image_size: 8, channels: 1, held_out: 0.2}}",
        images.display()
    );
    let spec = dir.path().join("folder.yaml");
    fs::write(&spec, tiny_yaml().replace("data: {dataset: digits}", &data)).unwrap();
    let memory = ["--set", "data.loader=memory"];
    let stream = ["--set", "data.loader=stream"];
    let (dir, _) = kill_and_resume(dir, &spec, &memory, &stream);
    let killed = wait_for_run(&dir.path().join("killed"));
    let resolved = fs::read_to_string(killed.join("spec.yaml")).unwrap();
    assert!(resolved.contains("loader: stream"), "{resolved}");
}

/// SIGKILLs the run at seeded moments, resumes it each time, and checks it ends exactly as
/// the uninterrupted run (returned, with the folder that holds it) does.
fn kill_and_resume_like_the_uninterrupted_run(extra: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(dir.path());
    kill_and_resume(dir, &spec, extra, extra)
}

/// [`kill_and_resume_like_the_uninterrupted_run`] of `spec`, with `whole_extra` overrides for
/// the uninterrupted run and `killed_extra` for the one killed.
fn kill_and_resume(
    dir: tempfile::TempDir,
    spec: &Path,
    whole_extra: &[&str],
    killed_extra: &[&str],
) -> (tempfile::TempDir, PathBuf) {
    let timer = Instant::now();
    let whole = uninterrupted(spec, &dir.path().join("whole"), whole_extra);

    // Kill points, seeded: once the checkpoint of a drawn step exists, wait a drawn 0–25 ms
    // (so kills land mid-step, mid-checkpoint or mid-flush), then SIGKILL and resume.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    // Six distinct checkpoints of the eleven (5, 10, …, 55), so every kill is a new moment.
    let mut targets: Vec<u64> = rand::seq::index::sample(&mut rng, 11, 6)
        .into_iter()
        .map(|i| 5 * (i as u64 + 1))
        .collect();
    targets.sort();
    let out = dir.path().join("killed");
    let mut child = start(spec, &out, killed_extra);
    let run = wait_for_run(&out);
    let mut kills = Vec::new();
    for target in targets {
        let deadline = Instant::now() + Duration::from_secs(120);
        let newest = || RunFolder::at(&run).checkpoints().first().map_or(0, |c| c.0);
        while newest() < target && child.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < deadline,
                "no checkpoint {target} in 2 minutes"
            );
            sleep(Duration::from_millis(1));
        }
        sleep(Duration::from_millis(rng.random_range(0..25)));
        if child.try_wait().unwrap().is_some() {
            break; // this process ended first: nothing left to kill
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills.push((target, newest()));
        child = resume(&run);
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "final resume failed");
    assert!(kills.len() >= 4, "too few kills landed: {kills:?}");
    eprintln!(
        "killed {} times (after checkpoint, newest on disk): {kills:?}; test {:?}",
        kills.len(),
        timer.elapsed()
    );
    assert_same_result(&whole, &run);
    (dir, whole)
}

#[test]
fn ctrl_c_checkpoints_marks_interrupted_and_resumes_to_the_same_result() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(dir.path());
    let whole = uninterrupted(&spec, &dir.path().join("whole"), &[]);

    let out = dir.path().join("interrupted");
    let mut child = start(&spec, &out, &[]);
    let run = wait_for_run(&out);
    // Interrupt once the first steps are logged, between checkpoints if timing allows.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !run.join("checkpoints").exists() && Instant::now() < deadline {
        sleep(Duration::from_millis(2));
    }
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = child.wait().unwrap();
    let meta = RunFolder::at(&run).read_meta().unwrap();
    if status.code() == Some(0) {
        // The run was already drawing its samples: a finished run is the honest record.
        assert_eq!(meta.status, Status::Ok);
    } else {
        assert_eq!(status.code(), Some(130), "Ctrl-C exits 130");
        assert_eq!(meta.status, Status::Interrupted);
        let at = meta.steps_done;
        assert!(at > 0 && at < 60, "stopped at step {at}");
        // The checkpoint is at the step it stopped, and no row is newer than it.
        assert!(
            run.join(format!("checkpoints/step_{at:08}/model.bpk"))
                .is_file()
        );
        let rows = read_metrics(&run.join("metrics.parquet")).unwrap();
        assert!(rows.iter().all(|r| r.step <= at));
        assert!(rows.iter().any(|r| r.step == at));
    }
    let output = bin().args(["run", "--resume"]).arg(&run).output().unwrap();
    assert_success(&output);
    assert_same_result(&whole, &run);
}

#[test]
fn a_second_process_on_the_same_run_is_refused_while_the_first_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(dir.path());
    let out = dir.path().join("busy");
    let mut first = start(&spec, &out, &[]);
    let run = wait_for_run(&out);
    let second = bin().args(["run", "--resume"]).arg(&run).output().unwrap();
    let still_running = first.try_wait().unwrap().is_none();
    first.wait().unwrap();
    assert!(
        still_running,
        "the first run ended before the second began: lengthen it"
    );
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("another ddpm-exp process"), "{stderr}");
    // Whatever the timing, the first run's record is whole.
    let meta = RunFolder::at(&run).read_meta().unwrap();
    assert_eq!((meta.status, meta.steps_done), (Status::Ok, 60));
}

#[test]
fn a_run_killed_while_evaluating_keeps_its_training_time_on_resume() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(dir.path());
    let run = uninterrupted(&spec, &dir.path().join("whole"), &[]);
    let folder = RunFolder::at(&run);
    let finished = folder.read_meta().unwrap();
    // What a kill during the end-of-run evaluation leaves: every checkpoint, and the
    // meta.json written when training began.
    let mut left = finished.clone();
    left.status = Status::Running;
    (left.train_seconds, left.steps_per_second, left.ended_at) = (0.0, None, None);
    folder.write_meta(&left).unwrap();
    let output = bin().args(["run", "--resume"]).arg(&run).output().unwrap();
    assert_success(&output);
    let resumed = folder.read_meta().unwrap();
    assert_eq!(resumed.status, Status::Ok);
    // The seconds come from the last checkpoint (written at step 60, just before the
    // samples were drawn), not from the stale meta.json: nearly the whole run's.
    let (before, after) = (finished.train_seconds, resumed.train_seconds);
    assert!(
        after > 0.5 * before && after <= before + 0.5,
        "train seconds {after} after the resume, {before} in the run itself"
    );
    let rate = resumed.steps_per_second.unwrap();
    assert!(
        (rate - 60.0 / after).abs() < 1e-2 * rate,
        "steps/s {rate} is not the whole run's 60 steps over {after} s"
    );
}
