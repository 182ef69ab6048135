//! `report` over a sweep's run folders: the swept keys found from the resolved specs alone
//! (a key that only follows another, min_snr's γ, is not an axis), a metrics figure and a
//! loss-curve figure per key, and a strip of each cell's samples read back from its grid.

use std::fs;

use crate::common::{assert_success, bin, tiny_yaml};

use ddpm_exp::record::grid::{read_grid, write_grid};

#[test]
fn a_sweeps_report_has_a_figure_per_swept_key_and_a_sample_strip() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("tiny.yaml"), tiny_yaml()).unwrap();
    let sweep = [
        "ablate",
        "tiny.yaml",
        "--sweep",
        "diffusion.weighting.kind=uniform,min_snr",
        "--sweep",
        "train.lr=1e-3,4e-3",
        "--out",
        "out",
    ];
    assert_success(&bin().current_dir(dir.path()).args(sweep).output().unwrap());
    let report = ["report", "out", "--no-samples", "--out", "report"];
    let output = bin().current_dir(dir.path()).args(report).output().unwrap();
    assert_success(&output);
    let md = fs::read_to_string(dir.path().join("report/report.md")).unwrap();
    let sweep = &md[md.find("## Sweep").expect("a Sweep section")..];
    assert!(sweep.contains("The cells differ in 2 key(s)"), "{sweep}");
    // Words in the order their cells started: these start within one second of each other.
    let kinds = [
        "- `diffusion.weighting.kind`: uniform, min_snr",
        "- `diffusion.weighting.kind`: min_snr, uniform",
    ];
    assert!(kinds.iter().any(|line| sweep.contains(line)), "{sweep}");
    assert!(sweep.contains("- `train.lr`: 0.001, 0.004"), "{sweep}");
    assert!(!sweep.contains("gamma"), "γ follows the kind: {sweep}");
    let figures = dir.path().join("report/figures");
    for stem in ["diffusion_weighting_kind", "train_lr"] {
        for name in [
            format!("sweep_{stem}.png"),
            format!("sweep_{stem}_loss.png"),
        ] {
            assert!(figures.join(&name).is_file(), "no {name}");
            assert!(
                md.contains(&format!("(figures/{name})")),
                "{name} not linked"
            );
        }
    }
    assert!(figures.join("sweep_samples.png").is_file());
    assert!(!md.contains("sample strip:"), "a grid was unreadable: {md}");
}

#[test]
fn a_sample_grid_reads_back_as_the_images_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("samples.png");
    let (count, channels, side) = (5, 3, 8);
    let size = channels * side * side;
    // Values on the 8-bit grid's levels, so the round trip is exact.
    let pixels: Vec<f32> = (0..count * size)
        .map(|i| ((i * 37) % 256) as f32 / 127.5 - 1.0)
        .collect();
    write_grid(&path, &pixels, count, channels, side).unwrap();
    let images = read_grid(&path, (count, channels, side), 4).unwrap();
    assert_eq!(images.len(), 4);
    for (k, image) in images.iter().enumerate() {
        let written = &pixels[k * size..(k + 1) * size];
        let worst = image
            .iter()
            .zip(written)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(worst < 1e-2, "image {k} differs by {worst}");
    }
    let wrong = read_grid(&path, (count, channels, 16), 1)
        .unwrap_err()
        .to_string();
    assert!(
        wrong.contains("is not a grid of 5 images of 16×16 pixels"),
        "{wrong}"
    );
}
