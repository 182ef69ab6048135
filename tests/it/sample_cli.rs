//! `ddpm-exp sample`: an npz numpy reads (uint8, N×H×W×C) and a PNG folder Pillow reads, the
//! same bytes for the same seed, how they were drawn beside them, and its refusals.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use crate::common::{assert_success, bin, train_tiny, venv_python};

fn sample(run: &Path, out: &Path, extra: &[&str]) -> Output {
    bin()
        .arg("sample")
        .arg(run)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn samples_export_as_npz_and_pngs_that_numpy_and_pillow_read() {
    let dir = tempfile::tempdir().unwrap();
    let run = train_tiny(dir.path());
    let args = [
        "--count",
        "5",
        "--sampler",
        "ddim",
        "--steps",
        "6",
        "--batch",
        "2",
    ];
    let (a, b) = (dir.path().join("a.npz"), dir.path().join("b.npz"));
    assert_success(&sample(&run, &a, &args));
    assert_success(&sample(&run, &b, &args));
    assert_eq!(
        fs::read(&a).unwrap(),
        fs::read(&b).unwrap(),
        "same seed, same bytes"
    );
    let record: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("a.npz.json")).unwrap()).unwrap();
    assert_eq!(record["sampler"], "ddim");
    assert_eq!(record["steps"], 6);
    assert_eq!(record["shape"], serde_json::json!([5, 8, 8, 1]));

    // A PNG folder of the same draw, into a folder that does not exist yet.
    let pngs = dir.path().join("new/pngs");
    assert_success(&sample(&run, &pngs, &args));
    let names: Vec<String> = fs::read_dir(&pngs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".png"))
        .collect();
    assert_eq!(names.len(), 5);
    assert!(pngs.join("sampling.json").exists());
    assert!(
        !dir.path().join("new/.partial-pngs").exists(),
        "the partial folder is renamed into place"
    );

    let Some(python) = venv_python("import numpy, PIL") else {
        return;
    };
    let check = "import sys, numpy as np; from PIL import Image\n\
        a = np.load(sys.argv[1])['arr_0']\n\
        assert a.dtype == np.uint8 and a.shape == (5, 8, 8, 1), (a.dtype, a.shape)\n\
        im = np.asarray(Image.open(sys.argv[2] + '/000000.png'))\n\
        assert im.dtype == np.uint8 and im.shape == (8, 8), (im.dtype, im.shape)\n\
        pngs = np.stack([np.asarray(Image.open(f'{sys.argv[2]}/{i:06}.png')) for i in range(5)])\n\
        assert (pngs == a[..., 0]).all(), 'the PNGs are the npz images'\n\
        assert a.max() > a.min(), 'all samples one grey level'";
    let output = Command::new(python)
        .args(["-c", check])
        .arg(&a)
        .arg(&pngs)
        .output()
        .unwrap();
    assert_success(&output);
}

#[test]
fn sample_refuses_an_existing_output_and_bad_sampler_flags() {
    let dir = tempfile::tempdir().unwrap();
    let run = train_tiny(dir.path());
    let taken = dir.path().join("taken.npz");
    fs::write(&taken, b"earlier result").unwrap();
    let sidecar_taken = dir.path().join("w.npz");
    fs::write(dir.path().join("w.npz.json"), b"earlier record").unwrap();
    for (out, extra, says) in [
        (&taken, &[][..], "already exists"),
        (&sidecar_taken, &[][..], "w.npz.json: already exists"),
        (
            &dir.path().join("x.npz"),
            &["--eta", "0.5"][..],
            "η is DDIM's",
        ),
        (&dir.path().join("y.npz"), &["--steps", "0"][..], "--steps"),
        (
            &dir.path().join("z.npz"),
            &["--checkpoint", "3"][..],
            "no checkpoint of step 3",
        ),
    ] {
        let output = sample(&run, out, extra);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
        assert_eq!(
            stderr.lines().filter(|l| l.starts_with("error:")).count(),
            1
        );
    }
    assert_eq!(fs::read(&taken).unwrap(), b"earlier result");
    assert!(!sidecar_taken.exists());
}

/// The uint8 array of an `.npz` written by the harness (its `arr_0.npy`, header skipped).
fn npz_bytes(path: &Path) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(fs::File::open(path).unwrap()).unwrap();
    let mut npy = Vec::new();
    std::io::Read::read_to_end(&mut zip.by_name("arr_0.npy").unwrap(), &mut npy).unwrap();
    let header = u16::from_le_bytes([npy[8], npy[9]]) as usize;
    npy[10 + header..].to_vec()
}

#[test]
fn quality_samples_are_the_images_eval_quality_scores() {
    use ddpm_exp::record::image_export::to_nhwc_bytes;
    use ddpm_exp::run::eval_quality::quality_samples;
    let dir = tempfile::tempdir().unwrap();
    let run = train_tiny(dir.path());
    let out = dir.path().join("q.npz");
    assert_success(&sample(&run, &out, &["--quality-samples", "--count", "6"]));
    let spec = ddpm_exp::spec::load_resolved(&run.join("spec.yaml")).unwrap();
    let device = crate::common::device();
    let build = || Ok::<_, ddpm_exp::error::Failure>(spec.unet_config().init(&device));
    let (model, _) = ddpm_exp::record::RunFolder::at(&run)
        .load_ema(None, build)
        .unwrap()
        .unwrap();
    let expected = to_nhwc_bytes(&quality_samples(&model, &spec, 6, &device), [6, 1, 8, 8]);
    assert_eq!(npz_bytes(&out), expected);
    let record: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("q.npz.json")).unwrap()).unwrap();
    assert_eq!(record["stream"], "quality");
    // Its stream is the spec's: a --seed would draw other images, so it is refused.
    let refused = sample(
        &run,
        &dir.path().join("r.npz"),
        &["--quality-samples", "--seed", "3"],
    );
    assert_eq!(refused.status.code(), Some(2));
}

#[test]
fn data_export_writes_a_split_as_the_harness_reads_it() {
    use ddpm_exp::data::{self, DataRequest, DatasetName, Split};
    use ddpm_exp::record::image_export::to_nhwc_bytes;
    let dir = tempfile::tempdir().unwrap();
    let export = |out: &Path| {
        bin()
            .args(["data", "export", "digits", "--split", "test", "--out"])
            .arg(out)
            .output()
            .unwrap()
    };
    let npz = dir.path().join("test.npz");
    assert_success(&export(&npz));
    let set = data::load(&DataRequest::named(DatasetName::Digits, None), Split::Test).unwrap();
    assert_eq!(npz_bytes(&npz), to_nhwc_bytes(&set.pixels, [297, 1, 8, 8]));
    let pngs = dir.path().join("test_pngs");
    assert_success(&export(&pngs));
    let count = fs::read_dir(&pngs)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "png")
        })
        .count();
    assert_eq!(count, 297);
    assert!(pngs.join("dataset.json").is_file());
    let unknown = bin()
        .args(["data", "export", "digitz", "--out"])
        .arg(dir.path().join("x.npz"))
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("expected one of: digits"));
}
