//! `dataset: image_folder`: PNG and JPEG files of mixed sizes, grey and RGB, in nested folders;
//! scaled and centre-cropped; labels by top-level folder; a fixed held-out split; a broken file
//! named; and a run on such a folder through the binary.

use std::path::Path;

use ddpm_exp::data::Split;
use ddpm_exp::data::image_folder::{FolderFiles, FolderOptions, load_split};
use image::{GrayImage, Rgb, RgbImage};

use super::common::{bin, tiny_yaml};

/// A grey PNG whose column x has intensity 10·x.
fn write_columns(path: &Path, w: u32, h: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    GrayImage::from_fn(w, h, |x, _| image::Luma([(10 * x) as u8]))
        .save(path)
        .unwrap();
}

fn write_solid_rgb(path: &Path, w: u32, h: u32, rgb: [u8; 3]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    RgbImage::from_pixel(w, h, Rgb(rgb)).save(path).unwrap();
}

/// Three classes (top-level folders), PNG and JPEG, grey and RGB, no two the same size.
fn mixed_folder(root: &Path) {
    write_columns(&root.join("a/wide.png"), 16, 8);
    write_solid_rgb(&root.join("a/deeper/red.png"), 9, 12, [200, 0, 0]);
    write_solid_rgb(&root.join("b/photo.JPG"), 20, 20, [0, 0, 255]);
    write_columns(&root.join("c/tall.png"), 8, 30);
    std::fs::write(root.join("notes.txt"), "not an image").unwrap();
    std::fs::create_dir_all(root.join(".hidden")).unwrap();
    std::fs::write(root.join(".hidden/x.png"), b"skipped").unwrap();
}

fn rgb8(held_out: f64) -> FolderOptions {
    FolderOptions {
        image_size: 8,
        channels: 3,
        held_out,
    }
}

#[test]
fn mixed_sizes_and_modes_become_square_images_with_folder_labels() {
    let dir = tempfile::tempdir().unwrap();
    mixed_folder(dir.path());
    let files = FolderFiles::scan(dir.path()).unwrap();
    let names: Vec<String> = files
        .files
        .iter()
        .map(|(p, l)| format!("{}:{l}", p.display()))
        .collect();
    assert_eq!(
        names,
        [
            "a/deeper/red.png:0",
            "a/wide.png:0",
            "b/photo.JPG:1",
            "c/tall.png:2"
        ]
    );

    let set = load_split(dir.path(), rgb8(0.0), Split::Train).unwrap();
    assert_eq!(
        (set.len(), set.channels, set.height, set.width),
        (4, 3, 8, 8)
    );
    let index = |name: &str| {
        let order = files.split(0.0, Split::Train);
        order.iter().position(|(p, _)| p.ends_with(name)).unwrap()
    };
    // 16×8 needs no scaling: the centre crop keeps columns 4..12, intensity 40 first.
    let wide = set.image(index("wide.png"));
    assert!(
        (wide[0] - ddpm_exp::data::byte_to_unit(40)).abs() < 1e-6,
        "{}",
        wide[0]
    );
    assert!((wide[7] - ddpm_exp::data::byte_to_unit(110)).abs() < 1e-6);
    // Grey stored as RGB: every channel alike. A solid image stays solid after scaling.
    assert_eq!(wide[..64], wide[64..128]);
    let red = set.image(index("red.png"));
    assert!(
        red[..64]
            .iter()
            .all(|&v| (v - ddpm_exp::data::byte_to_unit(200)).abs() < 1e-6)
    );
    assert!(red[64..].iter().all(|&v| v == -1.0));
    let blue = set.image(index("photo.JPG"));
    assert!(blue[128..].iter().all(|&v| v > 0.9), "JPEG's blue channel");

    let grey = load_split(
        dir.path(),
        FolderOptions {
            channels: 1,
            ..rgb8(0.0)
        },
        Split::Train,
    )
    .unwrap();
    assert_eq!(grey.image_len(), 64);
}

#[test]
fn the_held_out_split_is_fixed_and_disjoint() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..8 {
        write_columns(&dir.path().join(format!("img{i}.png")), 8, 8);
    }
    let files = FolderFiles::scan(dir.path()).unwrap();
    let (train, test) = (
        files.split(0.25, Split::Train),
        files.split(0.25, Split::Test),
    );
    assert_eq!((train.len(), test.len()), (6, 2));
    assert!(test.iter().all(|t| !train.contains(t)));
    assert_eq!(
        test,
        FolderFiles::scan(dir.path())
            .unwrap()
            .split(0.25, Split::Test)
    );
    assert_eq!(
        load_split(dir.path(), rgb8(0.25), Split::Test)
            .unwrap()
            .len(),
        2
    );
    // A fraction that rounds to no test image, or to no training image, is refused.
    let err = load_split(dir.path(), rgb8(0.01), Split::Train)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("data.held_out") && err.contains("holds out no image"),
        "{err}"
    );
    let err = load_split(dir.path(), rgb8(0.96), Split::Train)
        .unwrap_err()
        .to_string();
    assert!(err.contains("leaves no training image"), "{err}");
}

#[test]
fn a_broken_file_is_named_not_skipped() {
    let dir = tempfile::tempdir().unwrap();
    mixed_folder(dir.path());
    std::fs::write(dir.path().join("b/broken.png"), b"\x89PNG but not really").unwrap();
    let err = load_split(dir.path(), rgb8(0.0), Split::Train)
        .unwrap_err()
        .to_string();
    assert!(err.contains("broken.png"), "{err}");
    let empty = tempfile::tempdir().unwrap();
    let err = load_split(empty.path(), rgb8(0.0), Split::Train)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no .png"), "{err}");
}

fn folder_spec(dir: &Path, data_keys: &str) -> std::path::PathBuf {
    let yaml = tiny_yaml().replace("data: {dataset: digits}", &format!("data: {data_keys}"));
    let path = dir.join("folder.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}

#[test]
fn a_run_trains_on_a_folder_and_records_its_file_list() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images");
    mixed_folder(&images);
    let keys = format!(
        "{{dataset: image_folder, dir: {}, image_size: 8, channels: 1, held_out: 0.25}}",
        images.display()
    );
    let out = bin()
        .arg("run")
        .arg(folder_spec(dir.path(), &keys))
        .arg("--out")
        .arg(dir.path().join("results"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = super::common::last_line(&out);
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["data_sha256"]["files"]["count"], 4, "{meta}");
}

#[test]
fn folder_keys_are_checked_against_the_dataset() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("images")).unwrap();
    let cases = [
        (
            format!(
                "{{dataset: image_folder, dir: {}}}",
                dir.path().join("images").display()
            ),
            "data.image_size",
        ),
        (
            "{dataset: digits, image_size: 8}".to_string(),
            "data.image_size",
        ),
        (
            "{dataset: image_folder, image_size: 8}".to_string(),
            "data.dir",
        ),
    ];
    for (keys, key) in cases {
        let out = bin()
            .arg("validate")
            .arg(folder_spec(dir.path(), &keys))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{keys}: {err}");
        assert!(err.contains(key), "{keys}: {err}");
    }
}
