//! TensorBoard event files, read back by TensorBoard's own EventAccumulator
//! (scripts/tensorboard_read.py, in .venv-tch): each scalar tag holds exactly the steps and
//! values of metrics.parquet, the sample grids decode as PNGs of their size, the resolved spec
//! is a text tag; a grid's HParams data lists every cell; `tensorboard --logdir` itself serves
//! a run's scalar tags over HTTP on 127.0.0.1; turned off, no event file is written.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use base64::Engine;

use crate::common::{assert_success, bin, tiny_yaml, train_tiny};

use ddpm_exp::record::metrics::read_metrics;
use ddpm_exp::tracking::tracker::{event_files, read_events};

/// What TensorBoard's reader finds in `run`; None (skipped) without .venv-tch's tensorboard.
pub fn tensorboard_view(run: &Path) -> Option<serde_json::Value> {
    let python = crate::common::venv_python("import tensorboard")?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/tensorboard_read.py");
    let output = Command::new(python).arg(script).arg(run).output().unwrap();
    assert_success(&output);
    Some(serde_json::from_slice(&output.stdout).unwrap())
}

/// metrics.parquet's training rows: name → [(step, value)].
fn logged(run: &Path) -> BTreeMap<String, Vec<(u64, f64)>> {
    let mut by_name: BTreeMap<String, Vec<(u64, f64)>> = BTreeMap::new();
    for row in read_metrics(&run.join("metrics.parquet")).unwrap() {
        by_name
            .entry(row.name)
            .or_default()
            .push((row.step, row.value));
    }
    by_name
}

/// Every logged metric is a `train/` scalar with exactly its steps and (as f32) its values.
pub fn assert_scalars_match_metrics(view: &serde_json::Value, run: &Path) {
    for (name, rows) in logged(run) {
        let tag = format!("train/{name}");
        let events = view["scalars"][&tag]
            .as_array()
            .unwrap_or_else(|| panic!("no {tag}"));
        let seen: Vec<(u64, f64)> = events
            .iter()
            .map(|e| (e[0].as_u64().unwrap(), e[1].as_f64().unwrap()))
            .collect();
        let steps = |v: &[(u64, f64)]| v.iter().map(|p| p.0).collect::<Vec<_>>();
        assert_eq!(steps(&seen), steps(&rows), "{tag}: steps differ");
        for ((step, got), (_, want)) in seen.iter().zip(&rows) {
            let close = (got - want).abs() <= 1e-6 * want.abs().max(1e-30) || got == want;
            assert!(close, "{tag} at step {step}: {got} vs {want}");
        }
    }
}

#[test]
fn tensorboard_reads_the_runs_metrics_samples_and_spec() {
    let dir = tempfile::tempdir().unwrap();
    let run = train_tiny(dir.path());
    // Our own reader first: one file, every record whole.
    assert_eq!(event_files(&run).len(), 1);
    assert!(read_events(&run).unwrap().len() > 5);
    let Some(view) = tensorboard_view(&run) else {
        return;
    };
    assert_scalars_match_metrics(&view, &run);
    let rates = view["scalars"]["train/steps_per_second"]
        .as_array()
        .unwrap();
    assert!(
        rates.iter().all(|e| e[1].as_f64().unwrap() > 0.0),
        "{rates:?}"
    );

    let samples = view["images"]["samples"]
        .as_array()
        .expect("a samples image");
    assert_eq!(samples.len(), 1);
    let (w, h) = image::image_dimensions(run.join("samples.png")).unwrap();
    assert_eq!(
        (samples[0][1].as_u64(), samples[0][2].as_u64()),
        (Some(w as u64), Some(h as u64))
    );
    let png = base64::engine::general_purpose::STANDARD
        .decode(samples[0][3].as_str().unwrap())
        .unwrap();
    let decoded = image::load_from_memory(&png).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (w, h));

    // A 16-image grid at each checkpoint (the tiny spec's: steps 4, 8, 12).
    let grids = view["images"]["checkpoint_samples"]
        .as_array()
        .expect("checkpoint grids");
    let steps: Vec<u64> = grids.iter().map(|g| g[0].as_u64().unwrap()).collect();
    assert_eq!(steps, [4, 8, 12]);
    let png = base64::engine::general_purpose::STANDARD
        .decode(grids[0][3].as_str().unwrap())
        .unwrap();
    let grid = image::load_from_memory(&png).unwrap();
    assert_eq!(grid.width(), grid.height(), "a 4 × 4 grid");
    assert_eq!(Some(grid.width() as u64), grids[0][1].as_u64());

    let spec = fs::read_to_string(run.join("spec.yaml")).unwrap();
    let text = view["texts"]["spec"][0].as_str().expect("a spec text");
    assert!(
        text.contains(&spec),
        "the spec text is not the resolved spec:\n{text}"
    );
    let meta = view["texts"]["meta"][0].as_str().expect("a meta text");
    assert!(meta.contains("\"seed\": 0"), "{meta}");
}

#[test]
fn turned_off_no_event_file_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("tiny.yaml");
    fs::write(&spec, tiny_yaml()).unwrap();
    for flags in [
        vec!["--no-tensorboard"],
        vec!["--set", "tracking.tensorboard=false"],
    ] {
        let output = bin()
            .arg("run")
            .arg(&spec)
            .args(["--out"])
            .arg(dir.path().join("results"))
            .args(&flags)
            .output()
            .unwrap();
        assert_success(&output);
        let run = crate::common::last_line(&output);
        assert!(run.join("metrics.parquet").is_file());
        assert!(event_files(&run).is_empty(), "{flags:?} wrote event files");
        let resolved = fs::read_to_string(run.join("spec.yaml")).unwrap();
        assert!(resolved.contains("tensorboard: false"), "{resolved}");
    }
}

#[test]
fn a_grids_hparams_data_lists_every_cell() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("tiny.yaml"), tiny_yaml()).unwrap();
    let args = [
        "ablate",
        "tiny.yaml",
        "--sweep",
        "train.lr=1e-3,2e-3",
        "--out",
        "out",
    ];
    assert_success(&bin().current_dir(dir.path()).args(args).output().unwrap());
    let out = dir.path().join("out");
    let Some(grid) = tensorboard_view(&out) else {
        return;
    };
    let experiment = &grid["hparams"]["_hparams_/experiment"]["experiment"];
    let names: Vec<&str> = experiment["hparamInfos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["cell", "seed", "train.lr"], "{experiment}");
    let metrics = experiment["metricInfos"].to_string();
    assert!(metrics.contains("train/loss"), "{metrics}");

    let mut groups = Vec::new();
    for entry in fs::read_dir(&out).unwrap().flatten() {
        if !entry.path().join("meta.json").is_file() {
            continue;
        }
        let view = tensorboard_view(&entry.path()).unwrap();
        let start = &view["hparams"]["_hparams_/session_start_info"]["sessionStartInfo"];
        // google.protobuf.Value reads back as a plain JSON number.
        let lr = start["hparams"]["train.lr"].as_f64().unwrap();
        let group = start["groupName"].as_str().unwrap().to_string();
        assert!(
            group.ends_with(&format!("train.lr={lr}")),
            "{group} has lr {lr}"
        );
        let end = &view["hparams"]["_hparams_/session_end_info"]["sessionEndInfo"];
        assert_eq!(end["status"], "STATUS_SUCCESS");
        groups.push(group);
    }
    groups.sort();
    assert_eq!(groups, ["tiny__train.lr=0.001", "tiny__train.lr=0.002"]);
}

/// Ends the server however the test ends.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn tensorboard_itself_serves_the_runs_scalar_tags() {
    let Some(python) = crate::common::venv_python("import tensorboard") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let run = train_tiny(dir.path());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let logdir = dir.path().join("results");
    let child = Command::new(python)
        .args([
            "-m",
            "tensorboard.main",
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ])
        .arg("--logdir")
        .arg(&logdir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _server = Server(child);
    let url = format!("http://127.0.0.1:{port}/data/plugin/scalars/tags");
    let run_name = run.file_name().unwrap().to_string_lossy().to_string();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let mut last = String::new();
    while std::time::Instant::now() < deadline {
        if let Ok(mut response) = ureq::get(&url).call() {
            last = response.body_mut().read_to_string().unwrap_or_default();
            let tags: serde_json::Value = serde_json::from_str(&last).unwrap_or_default();
            if tags[&run_name]["train/loss"].is_object() {
                assert!(tags[&run_name]["train/lr"].is_object(), "{last}");
                return;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    panic!("no train/loss of {run_name} from {url} in 90 s; last answer: {last}");
}
