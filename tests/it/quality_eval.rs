//! The quality scores end to end on the embedded digits: the feature network is trained once,
//! cached with checksums and reused; it tells real digits from noise; `eval --quality` and a
//! spec's `eval.quality_every` record named scores in eval.parquet.

use std::fs;
use std::path::Path;
use std::time::Instant;

use crate::common::{assert_success, bin, last_line, tiny_yaml};

use ddpm_exp::data::{self, DataRequest, DatasetName, Split};
use ddpm_exp::quality::classifier_cache::{load_or_train, read_info};
use ddpm_exp::quality::image_scores::score_images;
use ddpm_exp::record::RunFolder;
use ddpm_exp::record::eval_table::{merge_eval, read_eval};
use ddpm_exp::record::meta::Status;
use rand::{RngExt, SeedableRng};

const NET: &str = "digits-classifier";

fn check_feature_net(cache: &Path) {
    let device = crate::common::device();
    let scorer = load_or_train(
        &DataRequest::named(DatasetName::Digits, None),
        cache,
        &device,
    )
    .unwrap();
    let info = read_info(&scorer.dir).unwrap();
    assert_eq!((scorer.name.as_str(), info.name.as_str()), (NET, NET));
    assert!(
        info.test_accuracy > 0.9,
        "test accuracy {}",
        info.test_accuracy
    );
    assert_eq!(scorer.accuracy, Some(info.test_accuracy));
    assert!(scorer.dir.join("checksums.json").is_file());

    // Cached: the second call trains nothing and gives the same network and reference.
    let started = Instant::now();
    let again = load_or_train(
        &DataRequest::named(DatasetName::Digits, None),
        cache,
        &device,
    )
    .unwrap();
    assert_eq!(read_info(&again.dir).unwrap(), info);
    assert_eq!(again.reference, scorer.reference);
    assert!(started.elapsed().as_secs_f64() < info.train_seconds);

    // Real held-out digits score far better than uniform noise.
    let test = data::load(&DataRequest::named(DatasetName::Digits, None), Split::Test).unwrap();
    let n = 200;
    let real = &test.pixels[..n * 64];
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let noise: Vec<f32> = (0..n * 64).map(|_| rng.random_range(-1.0..1.0)).collect();
    let real = score_images(&scorer, real, [1, 8, 8], 0, &device).unwrap();
    let noise = score_images(&scorer, &noise, [1, 8, 8], 0, &device).unwrap();
    assert!(
        real.fid * 5.0 < noise.fid,
        "FID real {} noise {}",
        real.fid,
        noise.fid
    );
    assert!(real.kid_mean < noise.kid_mean);
    assert!(
        real.is_mean > 5.0 && real.is_mean > noise.is_mean,
        "IS real {} noise {}",
        real.is_mean,
        noise.is_mean
    );

    // A damaged cache file is refused by name, not used.
    let net_file = scorer.dir.join("net.bpk");
    let mut bytes = fs::read(&net_file).unwrap();
    let last = bytes.len() - 100;
    bytes[last] ^= 0xff;
    fs::write(&net_file, &bytes).unwrap();
    let error = load_or_train(
        &DataRequest::named(DatasetName::Digits, None),
        cache,
        &device,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(error.contains("net.bpk"), "{error}");
    bytes[last] ^= 0xff;
    fs::write(&net_file, &bytes).unwrap();
}

fn rows(run: &Path, split: &str, name: &str) -> Vec<(u64, f64)> {
    read_eval(&run.join("eval.parquet"))
        .unwrap()
        .into_iter()
        .filter(|r| r.split == split && r.name == name)
        .map(|r| (r.step, r.value))
        .collect()
}

fn check_cli(dir: &Path, cache: &Path) {
    let spec = dir.join("tiny.yaml");
    fs::write(&spec, tiny_yaml()).unwrap();
    // Scored at every checkpoint (steps 4, 8, 12) during training, 40 samples each.
    let output = bin()
        .env("DDPM_EXP_CACHE", cache)
        .arg("run")
        .arg(&spec)
        .args(["--out"])
        .arg(dir.join("results"))
        .args([
            "--set",
            "eval.quality_every=4",
            "--set",
            "eval.quality_samples=40",
        ])
        .output()
        .unwrap();
    assert_success(&output);
    let run = last_line(&output);
    let fid = format!("fid ({NET})");
    let during: Vec<u64> = rows(&run, "samples vs train", &fid)
        .iter()
        .map(|r| r.0)
        .collect();
    assert_eq!(during, [4, 8, 12]);
    // The lowest FID of the in-training evaluations (40 samples each), before any other.
    let in_training = rows(&run, "samples vs train", &fid);
    let (best_step, best) = in_training
        .into_iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap();

    let output = bin()
        .env("DDPM_EXP_CACHE", cache)
        .args(["eval", "--quality", "--samples", "30"])
        .arg(&run)
        .output()
        .unwrap();
    assert_success(&output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("| digits-classifier (test accuracy "),
        "{stdout}"
    );
    assert!(stdout.contains("| samples | 30 |"), "{stdout}");
    // Re-scoring step 12 with 30 samples is another evaluation: kept beside the 40-sample one.
    assert_eq!(
        rows(&run, "samples vs train", "quality_images"),
        [(4, 40.0), (8, 40.0), (12, 40.0), (12, 30.0)]
    );
    let samples = rows(&run, "samples vs train", &fid)[3].1;
    let held_out = rows(&run, "test vs train", &fid)[3].1;
    assert!(
        held_out < samples,
        "12 steps of training beat real digits? {samples} vs {held_out}"
    );
    let accuracy = rows(&run, "test", &format!("accuracy ({NET})"));
    assert!(accuracy[0].1 > 0.9);

    // The report's table carries the run's scores, not their spreads or the yardstick.
    let report = dir.join("report");
    let output = bin()
        .arg("report")
        .arg(&run)
        .arg("--out")
        .arg(&report)
        .arg("--no-samples")
        .output()
        .unwrap();
    assert_success(&output);
    let table = fs::read_to_string(report.join("table.md")).unwrap();
    let header = table
        .lines()
        .find(|l| l.contains("cell"))
        .unwrap_or_default();
    assert!(header.contains("FID (digits-classifier)"), "{table}");
    assert!(header.contains("KID (digits-classifier)"), "{table}");
    assert!(
        !header.contains("kid_std") && !header.contains("accuracy"),
        "{table}"
    );
    let fid_column = header
        .split('|')
        .position(|c| c.trim() == "FID (digits-classifier)")
        .unwrap();
    let row = table.lines().find(|l| l.contains("tiny")).unwrap();
    let shown = row.split('|').nth(fid_column).unwrap().trim().to_string();
    assert_eq!(shown, format!("{samples:.2}"), "{table}");
    // The best FID compares evaluations with the spec's 40 samples, not step 12's 30.
    let cell = |heading: &str| {
        let column = header.split('|').position(|c| c.trim() == heading);
        let column = column.unwrap_or_else(|| panic!("no {heading} column: {table}"));
        row.split('|').nth(column).unwrap().trim().to_string()
    };
    assert_eq!(cell("best FID (digits-classifier)"), format!("{best:.2}"));
    assert_eq!(
        cell("best-FID step (digits-classifier)"),
        best_step.to_string()
    );

    // Another sampler than the run's: its rows go under their own split, the run's stay.
    let output = bin()
        .env("DDPM_EXP_CACHE", cache)
        .args([
            "eval",
            "--quality",
            "--samples",
            "30",
            "--sampler",
            "ddim",
            "--steps",
            "5",
        ])
        .arg(&run)
        .output()
        .unwrap();
    assert_success(&output);
    let ddim = "samples vs train [ddim, 5 steps, η 0]";
    assert_eq!(rows(&run, ddim, "quality_images"), [(12, 30.0)]);
    assert_eq!(rows(&run, ddim, &fid).len(), 1);
    assert_eq!(
        rows(&run, "samples vs train", "quality_images"),
        [(4, 40.0), (8, 40.0), (12, 40.0), (12, 30.0)]
    );

    let output = bin()
        .args(["eval", "--quality", "--samples", "5"])
        .arg(&run)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));

    // Inception weights that are not there: one line saying where they come from, exit 2.
    let output = bin()
        .env("DDPM_EXP_CACHE", cache)
        .args([
            "eval",
            "--quality",
            "--inception",
            "/nonexistent/pt_inception.pth",
        ])
        .arg(&run)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("/nonexistent/pt_inception.pth: no such file"),
        "{stderr}"
    );
    assert!(
        stderr.contains("pt_inception-2015-12-05-6726825d.pth"),
        "{stderr}"
    );
}

/// Pruning spares the checkpoint of the lowest FID. Twelve tiny steps lower FID at every
/// evaluation, so the lowest is made to lie at step 4: a 4-step run is scored, its FID row is
/// set to 0, and the run is continued to step 12 keeping one checkpoint.
fn check_best_checkpoint_kept(dir: &Path, cache: &Path) {
    let spec = dir.join("best.yaml");
    fs::write(&spec, tiny_yaml()).unwrap();
    let quality = [
        "--set",
        "eval.quality_every=4",
        "--set",
        "eval.quality_samples=10",
    ];
    let output = bin()
        .env("DDPM_EXP_CACHE", cache)
        .arg("run")
        .arg(&spec)
        .arg("--out")
        .arg(dir.join("best"))
        .args(quality)
        .args([
            "--set",
            "train.steps=4",
            "--set",
            "train.keep_checkpoints=1",
        ])
        .output()
        .unwrap();
    assert_success(&output);
    let run = last_line(&output);
    let mut table = read_eval(&run.join("eval.parquet")).unwrap();
    let fid = format!("fid ({NET})");
    for row in table.iter_mut() {
        if row.split == "samples vs train" && row.name == fid {
            row.value = 0.0;
        }
    }
    merge_eval(&RunFolder::at(&run).eval_path(), "best", &table).unwrap();
    let resolved = fs::read_to_string(run.join("spec.yaml")).unwrap();
    assert!(resolved.contains("\n  steps: 4\n"), "{resolved}");
    fs::write(
        run.join("spec.yaml"),
        resolved.replace("\n  steps: 4\n", "\n  steps: 12\n"),
    )
    .unwrap();
    let mut meta = RunFolder::at(&run).read_meta().unwrap();
    meta.status = Status::Interrupted;
    RunFolder::at(&run).write_meta(&meta).unwrap();

    let output = bin()
        .env("DDPM_EXP_CACHE", cache)
        .args(["run", "--resume"])
        .arg(&run)
        .output()
        .unwrap();
    assert_success(&output);
    let kept: Vec<u64> = RunFolder::at(&run)
        .checkpoints()
        .iter()
        .map(|c| c.0)
        .collect();
    assert_eq!(kept, [12, 4], "keep_checkpoints 1, plus the lowest FID's");
    assert_eq!(rows(&run, "samples vs train", &fid).len(), 3);
}

#[test]
fn feature_network_and_quality_scores_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    check_feature_net(&cache);
    check_cli(dir.path(), &cache);
    check_best_checkpoint_kept(dir.path(), &cache);
}
