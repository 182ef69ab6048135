//! A run records the SHA-256 of both data splits when it starts; resuming or evaluating it
//! first checks that the data read now is the same. Otherwise a changed file, another
//! `data.dir`, or a new split of the embedded digits would silently continue training on other
//! images, or score the model on images it was trained on.

use crate::data::image_folder::FolderFiles;
use crate::data::{DatasetName, Images, Split, loader};
use crate::error::Failure;
use crate::record::RunFolder;
use crate::record::meta::{DataDigest, FileListDigest, Meta};
use crate::spec::Experiment;

/// The digests of the spec's data as it reads now, with the training split as the loader
/// holds it (which the caller goes on to use).
pub fn digest_data(spec: &Experiment) -> Result<(Images, DataDigest), Failure> {
    let request = spec.data.request();
    let loader = spec.data.loader_options();
    let (train, test, files) = match (request.dataset, &request.dir, request.folder) {
        (DatasetName::ImageFolder, Some(dir), Some(options)) => {
            // One walk of the folder for both splits and the file list.
            let list = FolderFiles::scan(dir)?;
            let files = FileListDigest {
                count: list.files.len(),
                sha256: list.list_sha256(),
            };
            let open = |split| loader::open_listed(&list, options, loader, split);
            (open(Split::Train)?, open(Split::Test)?, Some(files))
        }
        _ => {
            let open = |split| loader::open(&request, loader, split);
            (open(Split::Train)?, open(Split::Test)?, None)
        }
    };
    let digest = DataDigest {
        train: train.sha256()?,
        test: test.sha256()?,
        files,
    };
    Ok((train, digest))
}

/// Fails when `now` differs from what the run in `folder` recorded. A run recorded before
/// digests were kept cannot be checked: that is said on stderr, and the work goes on.
pub fn check_data(folder: &RunFolder, meta: &Meta, now: &DataDigest) -> Result<(), Failure> {
    let Some(recorded) = &meta.data_sha256 else {
        eprintln!(
            "warning: {}: the run records no data digest (made before they were kept), so it \
             cannot be checked that the data read now is what it was trained on",
            folder.meta_path().display()
        );
        return Ok(());
    };
    let changed: Vec<&str> = [
        ("training", &recorded.train, &now.train),
        ("test", &recorded.test, &now.test),
    ]
    .into_iter()
    .filter(|(_, then, now)| then != now)
    .map(|(split, _, _)| split)
    .collect();
    if changed.is_empty() {
        return Ok(());
    }
    Err(Failure::BadInput(format!(
        "{}: data_sha256: the {} split read now differs from the one this run started on \
         (other files, another data.dir, or another version of ddpm-exp's split); start a new \
         run on this data",
        folder.meta_path().display(),
        changed.join(" and ")
    )))
}
