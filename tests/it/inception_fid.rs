//! The Inception-v3 of FID against pytorch-fid itself: scripts/inception_reference.py builds
//! pytorch-fid's network with seeded random weights (the real file cannot be downloaded here),
//! saves its state dict and the pool3 features and logits of a few images; loading that state
//! dict here must give the same numbers. CI's test environment installs pytorch-fid
//! (scripts/setup-tch.sh); elsewhere the comparison is skipped with a message. The same weights
//! then drive the cached Inception scorer on a small MNIST-format folder.

use std::fs;
use std::path::Path;
use std::process::Command;

use burn::prelude::*;

use crate::common::idx_bytes;
use ddpm_exp::data::{DataRequest, DatasetName, Split};
use ddpm_exp::quality::image_scores::score_images;
use ddpm_exp::quality::inception::{INCEPTION_CLASSES, INCEPTION_FEATURES, load_pytorch_fid};
use ddpm_exp::quality::inception_cache::load_inception;

fn read_f32(path: &Path) -> Vec<f32> {
    fs::read(path)
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Largest |a − b| relative to the largest |b|.
fn relative_gap(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(0f32, |m, v| m.max(v.abs()));
    let gap = a.iter().zip(b).fold(0f32, |m, (x, y)| m.max((x - y).abs()));
    gap / scale
}

#[test]
fn pool3_features_and_logits_match_pytorch_fid() {
    let Some(python) = crate::common::venv_python("import pytorch_fid, torchvision") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new(python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/inception_reference.py"))
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let device = crate::common::device();
    let net = load_pytorch_fid(&dir.path().join("weights.pth"), &device).unwrap();
    let meta: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("meta.json")).unwrap()).unwrap();
    for set in ["rgb32", "gray8"] {
        let shape: Vec<usize> = meta[set]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        // The harness's images are in [−1, 1]; pytorch-fid takes [0, 1] and rescales.
        let unit = read_f32(&dir.path().join(format!("{set}_inputs.f32")));
        let pixels: Vec<f32> = unit.iter().map(|v| 2.0 * v - 1.0).collect();
        let x = Tensor::from_data(
            TensorData::new(pixels, [shape[0], shape[1], shape[2], shape[3]]),
            &device,
        );
        let features = net.features(x);
        let logits = net.logits(features.clone());
        let features = features.into_data().try_to_vec::<f32>().unwrap();
        let logits = logits.into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(features.len(), shape[0] * INCEPTION_FEATURES);
        assert_eq!(logits.len(), shape[0] * INCEPTION_CLASSES);
        let want = read_f32(&dir.path().join(format!("{set}_features.f32")));
        let gap = relative_gap(&features, &want);
        assert!(
            gap < 1e-3,
            "{set}: pool3 features differ by {gap} (relative)"
        );
        let want = read_f32(&dir.path().join(format!("{set}_logits.f32")));
        let gap = relative_gap(&logits, &want);
        assert!(gap < 1e-3, "{set}: logits differ by {gap} (relative)");
    }
    check_scorer(&dir.path().join("weights.pth"), dir.path(), &device);
    // Which scorers a folder gets is the same on every backend; its 2048-wide FID matrices
    // cost half a minute, so the LibTorch half (scripts/test.sh) leaves it out.
    if crate::common::device_name() == "cpu" {
        check_image_folder_run(&dir.path().join("weights.pth"), dir.path());
    }
}

/// An image folder (no labels) trained with `eval.inception_weights`: its end-of-run scores
/// are Inception-v3's FID, IS and KID of the samples and of the held-out images, and no
/// classifier is trained; without the weights, validation refuses the quality keys.
fn check_image_folder_run(weights: &Path, dir: &Path) {
    let images = dir.join("images");
    // 10 to train on, 10 held out (one per IS split), 10 samples: Inception is slow on a CPU.
    crate::streaming::assorted_folder(&images, 20);
    let data = format!(
        "data: {{dataset: image_folder, dir: {}, image_size: 8, channels: 3, held_out: 0.5}}",
        images.display()
    );
    let eval = "eval: {quality_at_end: true, quality_samples: 10}\n";
    let yaml = crate::common::tiny_yaml().replace("data: {dataset: digits}", &data) + eval;
    let spec = dir.join("folder.yaml");
    fs::write(&spec, &yaml).unwrap();
    let refused = crate::common::bin()
        .arg("validate")
        .arg(&spec)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("eval.quality_at_end") && stderr.contains("set eval.inception_weights"),
        "{stderr}"
    );

    let with_weights = format!("inception_weights: {}, ", weights.display());
    fs::write(
        &spec,
        yaml.replace("eval: {", &format!("eval: {{{with_weights}")),
    )
    .unwrap();
    let output = crate::common::bin()
        .arg("run")
        .arg(&spec)
        .arg("--out")
        .arg(dir.join("results"))
        .env("DDPM_EXP_CACHE", dir.join("folder-cache"))
        .output()
        .unwrap();
    crate::common::assert_success(&output);
    let run = crate::common::last_line(&output);
    let rows = ddpm_exp::record::eval_table::read_eval(&run.join("eval.parquet")).unwrap();
    let score = |split: &str, name: &str| {
        rows.iter()
            .find(|r| r.split == split && r.name == name)
            .map(|r| r.value)
    };
    for split in [
        "samples vs train",
        ddpm_exp::record::eval_table::YARDSTICK_SPLIT,
    ] {
        for name in [
            "fid (inception-v3)",
            "is (inception-v3)",
            "kid (inception-v3)",
        ] {
            let value = score(split, name).unwrap_or_else(|| panic!("no {split} {name}: {rows:?}"));
            assert!(value.is_finite(), "{split} {name} = {value}");
        }
    }
    assert!(
        rows.iter().all(|r| !r.name.contains("classifier")),
        "{rows:?}"
    );
    let cache: Vec<_> = fs::read_dir(dir.join("folder-cache"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(
        cache.len(),
        1,
        "only Inception's reference is cached: {cache:?}"
    );
}

/// The Inception scorer on a small MNIST-format folder: reference statistics made once and
/// reused, scores of held-out images finite, a damaged cache file refused.
fn check_scorer(weights: &Path, dir: &Path, device: &Device) {
    let data = dir.join("mnist");
    fs::create_dir_all(&data).unwrap();
    for (split, n) in [("train", 12u32), ("t10k", 10)] {
        let pixels: Vec<u8> = (0..n as usize * 784)
            .map(|i| (i * 31 % 256) as u8)
            .collect();
        let labels: Vec<u8> = (0..n as u8).map(|i| i % 10).collect();
        fs::write(
            data.join(format!("{split}-images-idx3-ubyte")),
            idx_bytes(&[n, 28, 28], &pixels),
        )
        .unwrap();
        fs::write(
            data.join(format!("{split}-labels-idx1-ubyte")),
            idx_bytes(&[n], &labels),
        )
        .unwrap();
    }
    let cache = dir.join("cache");
    let request = DataRequest::named(DatasetName::Mnist, Some(data.as_path()));
    let scorer = load_inception(weights, &request, &cache, device).unwrap();
    assert_eq!(scorer.name, "inception-v3");
    assert_eq!(scorer.reference.stats.mean.len(), INCEPTION_FEATURES);
    assert_eq!(scorer.reference_features.rows(), 12);
    let again = load_inception(weights, &request, &cache, device).unwrap();
    assert_eq!(again.reference, scorer.reference);
    assert_eq!(fs::read_dir(&cache).unwrap().count(), 1, "computed twice");

    let test = ddpm_exp::data::load(&request, Split::Test).unwrap();
    let scores = score_images(&scorer, &test.pixels, [1, 28, 28], 0, device).unwrap();
    assert!(scores.fid.is_finite() && scores.fid > 0.0, "{scores:?}");
    assert!(scores.is_mean >= 1.0 && scores.is_mean <= INCEPTION_CLASSES as f64);

    let cov = scorer.dir.join("reference_cov.f64");
    let mut bytes = fs::read(&cov).unwrap();
    bytes[8] ^= 1;
    fs::write(&cov, bytes).unwrap();
    let error = load_inception(weights, &request, &cache, device)
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("reference_cov.f64"), "{error}");
}

#[test]
fn a_missing_or_wrong_weights_file_says_what_is_needed() {
    let device = crate::common::device();
    let dir = tempfile::tempdir().unwrap();
    let missing = load_pytorch_fid(&dir.path().join("nope.pth"), &device)
        .unwrap_err()
        .to_string();
    assert!(missing.contains("nope.pth: no such file"), "{missing}");
    assert!(
        missing.contains("pt_inception-2015-12-05-6726825d.pth"),
        "{missing}"
    );
    let garbage = dir.path().join("garbage.pth");
    fs::write(&garbage, b"not a pickle").unwrap();
    let wrong = load_pytorch_fid(&garbage, &device).unwrap_err().to_string();
    assert!(wrong.contains("garbage.pth"), "{wrong}");
}
