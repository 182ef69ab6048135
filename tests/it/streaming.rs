//! The streaming loader against the in-memory one: the same batches for the same seed from
//! any step, within its memory budget; a file broken mid-run is named; the files' digest sees
//! a changed byte. (Kill and resume of a streamed run: interrupt_resume.rs.)

use std::path::Path;

use ddpm_exp::data::batch_plan::BatchPlan;
use ddpm_exp::data::image_folder::FolderSplit;
use ddpm_exp::data::image_folder::{FolderOptions, load_split};
use ddpm_exp::data::streaming::{StreamingBatcher, prefetch_depth};
use ddpm_exp::data::{BatchSource, Batcher, Split};
use image::{GrayImage, RgbImage};

/// `count` images of assorted sizes, grey and RGB, PNG and JPEG, in two class folders; no two
/// alike, so a batch in the wrong order or unflipped shows.
pub fn assorted_folder(root: &Path, count: u32) {
    for i in 0..count {
        let (w, h) = (8 + i % 5, 7 + i % 6);
        let class = if i % 3 == 0 { "cats" } else { "dogs" };
        let value = |x: u32, y: u32, c: u32| ((x * 29 + y * 7 + c * 50 + i * 13) % 256) as u8;
        let path = root.join(class).join(format!("img{i:03}"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        if i % 2 == 0 {
            GrayImage::from_fn(w, h, |x, y| image::Luma([value(x, y, 0)]))
                .save(path.with_extension("png"))
                .unwrap();
        } else {
            let rgb = RgbImage::from_fn(w, h, |x, y| {
                image::Rgb([value(x, y, 0), value(x, y, 1), value(x, y, 2)])
            });
            let ext = if i % 4 == 1 { "jpg" } else { "png" };
            rgb.save(path.with_extension(ext)).unwrap();
        }
    }
}

const OPTIONS: FolderOptions = FolderOptions {
    image_size: 8,
    channels: 3,
    held_out: 0.2,
};

const BATCH: usize = 5;
const BATCH_BYTES: u64 = (BATCH * 3 * 8 * 8 * 4) as u64;

fn streamed(root: &Path, seed: u64, budget: u64) -> StreamingBatcher {
    let folder = FolderSplit::open(root, OPTIONS, Split::Train).unwrap();
    StreamingBatcher::new(folder, BATCH, true, seed, budget)
}

#[test]
fn streamed_batches_equal_in_memory_batches_from_any_step() {
    let dir = tempfile::tempdir().unwrap();
    assorted_folder(dir.path(), 23);
    let set = load_split(dir.path(), OPTIONS, Split::Train).unwrap();
    assert_eq!(set.len(), 18, "23 files less 20% held out");
    let mut memory = Batcher::new(&set, BATCH, true, 4);
    // The smallest budget (one batch waiting) and a roomy one (the most, eight).
    for budget in [4 * BATCH_BYTES, 11 * BATCH_BYTES] {
        let mut stream = streamed(dir.path(), 4, budget);
        assert_eq!(stream.depth() as u64, budget / BATCH_BYTES - 3);
        assert_eq!(stream.batch_shape(), [BATCH, 3, 8, 8]);
        // Steps in order across four epochs, then a jump back (a resume), then ahead.
        let steps: Vec<u64> = (0..16).chain([3, 4, 40, 41, 0]).collect();
        for step in steps {
            assert_eq!(
                stream.batch_pixels(step).unwrap(),
                memory.pixels(step),
                "step {step}, budget {budget}"
            );
        }
    }
    // Another seed, another sequence: the comparison above could fail.
    let mut other = streamed(dir.path(), 5, 4 * BATCH_BYTES);
    assert_ne!(other.batch_pixels(0).unwrap(), memory.pixels(0));
}

#[test]
fn the_budget_sets_how_many_batches_wait() {
    assert_eq!(prefetch_depth(10 * BATCH_BYTES, BATCH_BYTES), 7);
    assert_eq!(prefetch_depth(10 * BATCH_BYTES - 1, BATCH_BYTES), 6);
    assert_eq!(
        prefetch_depth(BATCH_BYTES, BATCH_BYTES),
        1,
        "never below one"
    );
    let most = prefetch_depth(1000 * BATCH_BYTES, BATCH_BYTES);
    assert_eq!(most, 8, "never above eight");
}

#[test]
fn a_file_broken_after_the_start_is_named_when_its_batch_comes() {
    let dir = tempfile::tempdir().unwrap();
    assorted_folder(dir.path(), 12);
    let folder = FolderSplit::open(dir.path(), OPTIONS, Split::Train).unwrap();
    let before = folder.sha256().unwrap();
    let victim = dir.path().join(&folder.files[0].0);
    let mut stream = StreamingBatcher::new(folder.clone(), BATCH, false, 0, 4 * BATCH_BYTES);
    std::fs::write(&victim, b"\x89PNG cut short").unwrap();
    // Every file appears within the first epoch's batches: the broken one among them.
    let mut plan = BatchPlan::new(folder.len(), BATCH, false, 0);
    let broken_at = (0..)
        .find(|&s| plan.examples(s).iter().any(|&(i, _)| i == 0))
        .unwrap();
    for step in 0..broken_at {
        stream.batch_pixels(step).unwrap();
    }
    let err = stream.batch_pixels(broken_at).unwrap_err().to_string();
    assert!(err.contains(&*victim.to_string_lossy()), "{err}");
    assert!(err.contains("not a readable PNG or JPEG"), "{err}");
    // The files' digest, which a run checks at its start and resume, names the file too;
    // and a file changed into another image changes it.
    let err = folder.sha256().unwrap_err().to_string();
    assert!(err.contains(&*victim.to_string_lossy()), "{err}");
    GrayImage::from_pixel(9, 9, image::Luma([3]))
        .save(&victim)
        .unwrap();
    assert_ne!(folder.sha256().unwrap(), before);
}

#[test]
fn auto_streams_a_folder_only_when_its_decoded_split_exceeds_the_budget() {
    use ddpm_exp::data::{DataRequest, DatasetName, Images, LoaderMode, LoaderOptions, loader};
    let dir = tempfile::tempdir().unwrap();
    assorted_folder(dir.path(), 10);
    let request = DataRequest {
        dataset: DatasetName::ImageFolder,
        dir: Some(dir.path().to_path_buf()),
        folder: Some(OPTIONS),
    };
    let decoded = 8 * 3 * 8 * 8 * 4; // 8 training images, f32
    let open = |mode, memory_bytes| {
        let loader = LoaderOptions { mode, memory_bytes };
        loader::open(&request, loader, Split::Train).unwrap()
    };
    assert!(matches!(
        open(LoaderMode::Auto, decoded),
        Images::InMemory(_)
    ));
    assert!(matches!(
        open(LoaderMode::Auto, decoded - 1),
        Images::Streamed(_)
    ));
    assert!(matches!(
        open(LoaderMode::Stream, 1 << 30),
        Images::Streamed(_)
    ));
    assert!(matches!(open(LoaderMode::Memory, 1), Images::InMemory(_)));
    // A named dataset is always held in memory.
    let digits = DataRequest::named(DatasetName::Digits, None);
    let loader = LoaderOptions {
        mode: LoaderMode::Auto,
        memory_bytes: 1,
    };
    let set = loader::open(&digits, loader, Split::Train).unwrap();
    assert!(matches!(set, Images::InMemory(_)));
}

#[test]
fn data_throughput_times_decoding_and_the_streaming_loader() {
    let dir = tempfile::tempdir().unwrap();
    assorted_folder(dir.path(), 10);
    let throughput = |batch: &str| {
        super::common::bin()
            .args(["data", "throughput"])
            .arg(dir.path())
            .args(["--image-size", "8", "--passes", "2", "--memory-mb", "1"])
            .args(["--batch-size", batch])
            .output()
            .unwrap()
    };
    let out = throughput("4");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("10 files × 2 passes to 8×8×3"),
        "{stdout}"
    );
    // 10 files in batches of 4: 3 a pass, 2 timed passes.
    assert!(
        lines[1].starts_with("streaming loader: 6 batches of 4"),
        "{stdout}"
    );
    assert!(lines[1].ends_with(" images/s"), "{stdout}");
    let out = throughput("0");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--batch-size at least 1"), "{stderr}");
}

#[test]
fn a_streamed_run_that_meets_a_damaged_file_checkpoints_and_fails_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images");
    assorted_folder(&images, 40);
    // Damaged past its header: the start's check passes, decoding its batch does not.
    let victim = images.join("dogs/img010.png");
    let bytes = std::fs::read(&victim).unwrap();
    std::fs::write(&victim, &bytes[..bytes.len() / 2]).unwrap();
    let data = format!(
        "data: {{dataset: image_folder, dir: {}, image_size: 8, channels: 1, loader: stream}}",
        images.display()
    );
    let spec = dir.path().join("folder.yaml");
    let yaml = super::common::tiny_yaml().replace("data: {dataset: digits}", &data);
    std::fs::write(&spec, yaml).unwrap();
    let out = super::common::bin()
        .arg("run")
        .arg(&spec)
        .arg("--out")
        .arg(dir.path().join("results"))
        .args([
            "--set",
            "train.steps=40",
            "--set",
            "train.checkpoint_every=100",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("img010.png"), "{stderr}");
    let run = std::fs::read_dir(dir.path().join("results"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let folder = ddpm_exp::record::RunFolder::at(&run);
    let meta = folder.read_meta().unwrap();
    assert_eq!(meta.status, ddpm_exp::record::meta::Status::Failed);
    assert!(meta.error.unwrap().contains("img010.png"));
    // The steps done before it are kept: a checkpoint where it stopped.
    let newest = folder.checkpoints().first().map(|c| c.0);
    assert_eq!(newest, Some(meta.steps_done), "{stderr}");
    assert!(
        meta.steps_done > 0,
        "the damaged file came in the first batch: no steps to keep"
    );
}
