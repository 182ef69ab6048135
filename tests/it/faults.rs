//! Faults from outside the program: damaged checkpoints, a cut-short metrics table, a file-size
//! limit (a full disk), a read-only results folder, two runs started at once, a data file cut
//! short, a process killed without a word. Each must end with one clear error (or, for the
//! concurrent runs, two good runs) and leave every earlier record as it was.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{assert_success, bin, gzip, idx_bytes, last_line, tiny_yaml};

use ddpm_exp::record::RunFolder;
use ddpm_exp::record::meta::Status;
use ddpm_exp::record::metrics::read_metrics;

/// The tiny spec keeping every checkpoint (4, 8, 12) so there is one before the newest.
const KEEP_ALL: [&str; 2] = ["--set", "train.keep_checkpoints=3"];

fn spec(dir: &Path) -> PathBuf {
    let path = dir.join("tiny.yaml");
    fs::write(&path, tiny_yaml()).unwrap();
    path
}

/// A finished 12-step run under `dir/whole`.
fn finished_run(dir: &Path) -> PathBuf {
    let output = bin()
        .arg("run")
        .arg(spec(dir))
        .arg("--out")
        .arg(dir.join("whole"))
        .args(KEEP_ALL)
        .output()
        .unwrap();
    assert_success(&output);
    last_line(&output)
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A copy of the finished run as a run killed after its checkpoint at `step` leaves it (the
/// state the kill tests in interrupt_resume.rs reach by timing): later checkpoints and the
/// samples gone, meta.json still saying `running`.
fn stopped_copy(whole: &Path, dest: &Path, step: u64) -> PathBuf {
    copy_tree(whole, dest);
    for (s, dir) in RunFolder::at(dest).checkpoints() {
        if s > step {
            fs::remove_dir_all(dir).unwrap();
        }
    }
    fs::remove_file(dest.join("samples.png")).unwrap();
    let mut meta = RunFolder::at(dest).read_meta().unwrap();
    meta.status = Status::Running;
    RunFolder::at(dest).write_meta(&meta).unwrap();
    dest.to_path_buf()
}

/// Every file under `dir` (relative path → bytes), to show that nothing changed.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, into: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, into);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_path_buf();
                into.insert(rel, fs::read(&path).unwrap());
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(dir, dir, &mut files);
    files
}

fn resume(run: &Path) -> Output {
    bin().arg("run").arg("--resume").arg(run).output().unwrap()
}

/// The command failed with `code` and said so in exactly one line, `error: …`, with no panic.
fn one_line_error(output: &Output, code: i32) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "want one error line: {stderr}");
    eprintln!("user sees (exit {code}): {}", errors[0]); // for `--nocapture`
    errors[0].to_string()
}

/// Damage done to the newest checkpoint's files, each by a different route to disk.
fn damages() -> Vec<(&'static str, &'static str, Box<dyn Fn(&Path)>)> {
    vec![
        (
            "cut short",
            "model.bpk",
            Box::new(|f: &Path| {
                let bytes = fs::read(f).unwrap();
                fs::write(f, &bytes[..bytes.len() / 2]).unwrap();
            }),
        ),
        (
            // Bytes inside a weight tensor: Burn itself would load these without complaint.
            "flipped weight bytes",
            "model.bpk",
            Box::new(|f: &Path| {
                let mut bytes = fs::read(f).unwrap();
                let n = bytes.len();
                for b in &mut bytes[n - 4000..n - 3000] {
                    *b ^= 0x55;
                }
                fs::write(f, bytes).unwrap();
            }),
        ),
        (
            "overwritten with noise",
            "ema.bpk",
            Box::new(|f: &Path| fs::write(f, [7u8; 300]).unwrap()),
        ),
        (
            "missing",
            "optimizer.bpk",
            Box::new(|f: &Path| fs::remove_file(f).unwrap()),
        ),
        (
            "cut short",
            "state.json",
            Box::new(|f: &Path| {
                let text = fs::read(f).unwrap();
                fs::write(f, &text[..40]).unwrap();
            }),
        ),
    ]
}

#[test]
fn a_damaged_checkpoint_is_refused_by_name_and_the_one_before_finishes_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let whole = finished_run(dir.path());
    for (k, (how, file, damage)) in damages().into_iter().enumerate() {
        let run = stopped_copy(&whole, &dir.path().join(format!("case{k}")), 12);
        damage(&run.join("checkpoints/step_00000012").join(file));
        let before = snapshot(&run);

        let line = one_line_error(&resume(&run), 1);
        assert!(line.contains(file), "{how} {file}: {line}");
        assert!(line.contains("resume from step 8"), "{how} {file}: {line}");
        let mut after = snapshot(&run);
        let meta = RunFolder::at(&run).read_meta().unwrap();
        assert_eq!(meta.status, Status::Failed, "{how} {file}");
        assert!(meta.error.unwrap().contains(file));
        // Only meta.json changed (and the lock file was made): no record was touched.
        after.remove(Path::new("meta.json"));
        let mut before = before;
        before.remove(Path::new("meta.json"));
        after.remove(Path::new(".lock"));
        before.remove(Path::new(".lock"));
        assert!(before == after, "{how} {file}: records changed");

        // Doing what the message says ends the run exactly as the undamaged run ended.
        fs::rename(
            run.join("checkpoints/step_00000012"),
            dir.path().join(format!("damaged{k}")),
        )
        .unwrap();
        assert_success(&resume(&run));
        assert_eq!(RunFolder::at(&run).read_meta().unwrap().status, Status::Ok);
        assert_eq!(
            read_metrics(&run.join("metrics.parquet")).unwrap(),
            read_metrics(&whole.join("metrics.parquet")).unwrap(),
            "{how} {file}"
        );
        assert_eq!(
            fs::read(run.join("samples.png")).unwrap(),
            fs::read(whole.join("samples.png")).unwrap()
        );
    }
}

#[test]
fn a_truncated_metrics_table_is_refused_on_resume_and_kept_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let whole = finished_run(dir.path());
    let run = stopped_copy(&whole, &dir.path().join("cut"), 8);
    let table = run.join("metrics.parquet");
    let bytes = fs::read(&table).unwrap();
    fs::write(&table, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let before = fs::read(&table).unwrap();

    let line = one_line_error(&resume(&run), 1);
    assert!(line.contains("metrics.parquet"), "{line}");
    assert_eq!(fs::read(&table).unwrap(), before);
    assert_eq!(
        RunFolder::at(&run).checkpoints().len(),
        2,
        "checkpoints 4 and 8 kept"
    );
    assert_eq!(
        RunFolder::at(&run).read_meta().unwrap().status,
        Status::Failed
    );
}

/// `ddpm-exp ARGS` with the file-size limit `ulimit -f KIB` (what a full disk or quota does to a
/// write: it fails part-way).
fn with_file_limit(kib: u64, args: &[&std::ffi::OsStr]) -> Output {
    let mut command = Command::new("bash");
    command
        .arg("-c")
        .arg(format!("ulimit -f {kib} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_ddpm-exp"))
        .args(args);
    command.output().unwrap()
}

#[test]
fn a_full_disk_fails_the_run_keeps_the_checkpoint_before_and_resume_finishes_it() {
    let dir = tempfile::tempdir().unwrap();
    let whole = finished_run(dir.path());
    let run = stopped_copy(&whole, &dir.path().join("full"), 4);

    // 100 KiB: meta.json and the metrics table fit, a 200 KiB model file does not.
    let output = with_file_limit(100, &["run".as_ref(), "--resume".as_ref(), run.as_os_str()]);
    let line = one_line_error(&output, 1);
    assert!(line.contains("cannot write checkpoint"), "{line}");
    assert!(line.contains("File too large"), "{line}");
    let meta = RunFolder::at(&run).read_meta().unwrap();
    assert_eq!(meta.status, Status::Failed);
    assert_eq!(
        meta.steps_done, 8,
        "trained to the checkpoint it could not write"
    );
    let steps: Vec<u64> = RunFolder::at(&run)
        .checkpoints()
        .iter()
        .map(|c| c.0)
        .collect();
    assert_eq!(
        steps,
        [4],
        "the checkpoint before is kept, no half-written one added"
    );
    let leftovers = fs::read_dir(run.join("checkpoints"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".partial-"))
        .count();
    assert_eq!(leftovers, 0, "partial checkpoint folders left behind");

    // With room again, resuming ends exactly as the run that never hit the limit.
    assert_success(&resume(&run));
    assert_eq!(RunFolder::at(&run).read_meta().unwrap().status, Status::Ok);
    assert_eq!(
        read_metrics(&run.join("metrics.parquet")).unwrap(),
        read_metrics(&whole.join("metrics.parquet")).unwrap()
    );
    assert_eq!(
        fs::read(run.join("samples.png")).unwrap(),
        fs::read(whole.join("samples.png")).unwrap()
    );
}

#[test]
fn a_run_that_cannot_write_its_first_record_leaves_no_folder() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(dir.path());
    let out = dir.path().join("results");
    let output = with_file_limit(
        0,
        &[
            "run".as_ref(),
            spec.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ],
    );
    let line = one_line_error(&output, 1);
    assert!(line.contains("spec.yaml: cannot write"), "{line}");
    assert_eq!(
        fs::read_dir(&out).unwrap().count(),
        0,
        "a half-made run folder was left"
    );
}

/// Makes `path` and everything in it read-only (files 0444, folders 0555).
fn make_read_only(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for entry in fs::read_dir(path).unwrap().flatten() {
        if entry.file_type().unwrap().is_dir() {
            make_read_only(&entry.path());
        } else {
            fs::set_permissions(entry.path(), fs::Permissions::from_mode(0o444)).unwrap();
        }
    }
    fs::set_permissions(path, fs::Permissions::from_mode(0o555)).unwrap();
}

/// `ddpm-exp ARGS` as a user that permissions apply to: as root (CI containers), the command
/// runs as `nobody`, since root writes through any mode bits.
fn unprivileged(args: &[&std::ffi::OsStr]) -> Output {
    let mut command = bin();
    command.args(args).stdin(Stdio::null());
    // SAFETY: the closure runs in the forked child before exec and only makes system calls.
    if unsafe { libc::geteuid() } == 0 {
        unsafe {
            command.pre_exec(|| {
                if libc::setgid(65534) != 0 || libc::setuid(65534) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    command.output().unwrap()
}

#[test]
fn a_read_only_results_folder_is_refused_and_its_runs_are_untouched() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    // The test's own folder must be reachable by the unprivileged user.
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let whole = finished_run(dir.path());
    let results = dir.path().join("read-only");
    let run = stopped_copy(&whole, &results.join("earlier"), 8);
    let spec = dir.path().join("tiny.yaml");
    make_read_only(&results);
    let before = snapshot(&results);

    let start = unprivileged(&[
        "run".as_ref(),
        spec.as_os_str(),
        "--out".as_ref(),
        results.as_os_str(),
    ]);
    let line = one_line_error(&start, 1);
    assert!(line.contains("cannot create run folder"), "{line}");
    assert!(line.contains("Permission denied"), "{line}");

    let resumed = unprivileged(&["run".as_ref(), "--resume".as_ref(), run.as_os_str()]);
    let line = one_line_error(&resumed, 2);
    assert!(line.contains(".lock"), "{line}");
    assert!(
        before == snapshot(&results),
        "records in the read-only folder changed"
    );
}

#[test]
fn two_runs_started_at_once_into_one_folder_each_get_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(dir.path());
    let out = dir.path().join("results");
    let children: Vec<_> = (0..2)
        .map(|_| {
            bin()
                .arg("run")
                .arg(&spec)
                .arg("--out")
                .arg(&out)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let runs: Vec<PathBuf> = outputs
        .iter()
        .map(|o| {
            assert_success(o);
            last_line(o)
        })
        .collect();
    assert_ne!(runs[0], runs[1], "both runs wrote into one folder");
    assert_eq!(fs::read_dir(&out).unwrap().count(), 2);
    for run in &runs {
        let meta = RunFolder::at(run).read_meta().unwrap();
        assert_eq!((meta.status, meta.steps_done), (Status::Ok, 12));
    }
    // Same spec and seed: the same numbers, however the two processes interleaved.
    assert_eq!(
        read_metrics(&runs[0].join("metrics.parquet")).unwrap(),
        read_metrics(&runs[1].join("metrics.parquet")).unwrap()
    );
}

/// A spec training on an MNIST-format folder.
fn mnist_spec(dir: &Path, data: &Path) -> PathBuf {
    let path = dir.join("mnist.yaml");
    let yaml = tiny_yaml()
        .replace(
            "data: {dataset: digits}",
            &format!("data: {{dataset: mnist, dir: {}}}", data.display()),
        )
        .replace("attention_resolutions: [4]", "attention_resolutions: [14]");
    fs::write(&path, yaml).unwrap();
    path
}

#[test]
fn a_data_file_cut_short_is_named_and_no_run_folder_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let pixels: Vec<u8> = (0..10 * 784).map(|i| (i * 37 % 256) as u8).collect();
    let images = idx_bytes(&[10, 28, 28], &pixels);
    let gz = gzip(&images);
    let labels = idx_bytes(&[10], &[3; 10]);
    let cases: [(&str, Vec<u8>, &str); 2] = [
        // The header promises 10 images, the file holds 4.
        (
            "train-images-idx3-ubyte",
            images[..16 + 4 * 784].to_vec(),
            "need 7840 bytes of data, found 3136",
        ),
        // A download stopped part-way.
        (
            "train-images-idx3-ubyte.gz",
            gz[..gz.len() / 2].to_vec(),
            "cut short",
        ),
    ];
    for (k, (name, bytes, message)) in cases.into_iter().enumerate() {
        let data = dir.path().join(format!("mnist{k}"));
        fs::create_dir_all(&data).unwrap();
        fs::write(data.join("train-labels-idx1-ubyte"), &labels).unwrap();
        fs::write(data.join(name), bytes).unwrap();
        let out = dir.path().join(format!("results{k}"));
        let output = bin()
            .arg("run")
            .arg(mnist_spec(dir.path(), &data))
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        let line = one_line_error(&output, 2);
        assert!(line.contains(name) && line.contains(message), "{line}");
        assert!(
            !out.exists(),
            "a run folder was made for data that cannot be read"
        );
    }
}

#[test]
fn a_killed_run_reads_as_interrupted_not_running() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(dir.path());
    let out = dir.path().join("results");
    let mut child = bin()
        .arg("run")
        .arg(&spec)
        .arg("--out")
        .arg(&out)
        .args(["--set", "train.steps=100000"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let run = loop {
        let found = fs::read_dir(&out).into_iter().flatten().flatten().next();
        if let Some(entry) = found.filter(|e| !RunFolder::at(&e.path()).checkpoints().is_empty()) {
            break entry.path();
        }
        assert!(Instant::now() < deadline, "no checkpoint in a minute");
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(
        RunFolder::at(&run).current_meta().unwrap().status,
        Status::Running
    );
    child.kill().unwrap(); // SIGKILL: nothing gets recorded
    child.wait().unwrap();
    assert_eq!(
        RunFolder::at(&run).read_meta().unwrap().status,
        Status::Running,
        "the file cannot know"
    );
    let now = RunFolder::at(&run).current_meta().unwrap();
    assert_eq!(now.status, Status::Interrupted);
    assert!(now.error.unwrap().contains("killed"));
}

/// An MNIST-format folder of 16 training and 8 test images, the test pixels offset by `shift`.
fn mnist_folder(dir: &Path, shift: u8) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    let images = |n: u32, offset: u8| {
        let pixels: Vec<u8> = (0..n as usize * 784)
            .map(|i| ((i * 37 % 256) as u8).wrapping_add(offset))
            .collect();
        gzip(&idx_bytes(&[n, 28, 28], &pixels))
    };
    let labels = |n: u32| gzip(&idx_bytes(&[n], &vec![3; n as usize]));
    fs::write(dir.join("train-images-idx3-ubyte.gz"), images(16, 0)).unwrap();
    fs::write(dir.join("train-labels-idx1-ubyte.gz"), labels(16)).unwrap();
    fs::write(dir.join("t10k-images-idx3-ubyte.gz"), images(8, shift)).unwrap();
    fs::write(dir.join("t10k-labels-idx1-ubyte.gz"), labels(8)).unwrap();
    dir.to_path_buf()
}

#[test]
fn data_changed_since_the_run_started_is_refused_by_resume_and_eval() {
    let dir = tempfile::tempdir().unwrap();
    let data = mnist_folder(&dir.path().join("mnist"), 0);
    let output = bin()
        .arg("run")
        .arg(mnist_spec(dir.path(), &data))
        .arg("--out")
        .arg(dir.path().join("whole"))
        .args(["--set", "train.steps=8", "--set", "eval.nll_at_end=false"])
        .output()
        .unwrap();
    assert_success(&output);
    let whole = last_line(&output);
    let digest = RunFolder::at(&whole)
        .read_meta()
        .unwrap()
        .data_sha256
        .expect("recorded");
    assert_ne!(digest.train, digest.test);
    let run = stopped_copy(&whole, &dir.path().join("stopped"), 4);

    // One test image's pixels move by one grey level: resume and both evaluations refuse.
    mnist_folder(&data, 1);
    let before = snapshot(&run);
    let eval = |what: &str| bin().args(["eval", what]).arg(&run).output().unwrap();
    for output in [resume(&run), eval("--nll"), eval("--quality")] {
        let line = one_line_error(&output, 2);
        assert!(
            line.contains("data_sha256") && line.contains("the test split read now differs"),
            "{line}"
        );
    }
    let (mut after, mut before) = (snapshot(&run), before);
    after.remove(Path::new(".lock"));
    before.remove(Path::new(".lock"));
    assert!(
        before == after,
        "a refused resume or eval changed the records"
    );

    // The data the run started on: it resumes and finishes as the uninterrupted run did.
    mnist_folder(&data, 0);
    assert_success(&resume(&run));
    assert_eq!(
        read_metrics(&run.join("metrics.parquet")).unwrap(),
        read_metrics(&whole.join("metrics.parquet")).unwrap()
    );
}

#[test]
fn sigterm_stops_an_evaluation_at_once_and_leaves_its_table_alone() {
    let dir = tempfile::tempdir().unwrap();
    let run = finished_run(dir.path());
    let before = snapshot(&run);
    // Far more samples than can be drawn before the signal arrives.
    let mut child = bin()
        .env("DDPM_EXP_CACHE", dir.path().join("cache"))
        .args(["eval", "--quality", "--samples", "1000000"])
        .arg(&run)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let signalled = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(10),
            "eval ignored SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), None, "ended by the signal: {status:?}");
    assert!(snapshot(&run) == before, "the run's records changed");
}
