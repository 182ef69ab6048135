//! What each downloadable dataset is made of: its files as published, where they are published
//! (a canonical address and a mirror), and their SHA-256 digests.
//!
//! Digests of the published files are TensorFlow Datasets' (url_checksums/mnist.txt,
//! fashion_mnist.txt, cifar10.txt). Fashion-MNIST also has digests of its gunzipped IDX files:
//! Debian's `dataset-fashion-mnist` recompresses the same deflate streams without the gzip
//! header's file name (each file is exactly name + 1 bytes shorter), so its `.gz` files differ
//! from upstream's while their contents do not. Those content digests were computed from
//! Debian's package (0.0~git20200523.55506a9-1).

use super::DatasetName;

/// One file as it is published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFile {
    /// File name, in the dataset folder and at the end of every address.
    pub name: String,
    pub size: u64,
    /// SHA-256 (hex) of the file as published.
    pub sha256: String,
    /// SHA-256 of the gunzipped content, where known: a recompressed `.gz` or an unpacked
    /// copy verifies by it.
    pub content_sha256: Option<String>,
    /// Base addresses the file is published under (`{base}/{name}`), tried in order.
    pub bases: Vec<String>,
}

/// How a dataset's published files become the files its loader reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// The loader reads the published files themselves (IDX, gzip or raw).
    Files,
    /// One `.tar.gz` holding `folder/` with the loader's files (CIFAR-10's binary version).
    TarGz {
        folder: String,
        members: Vec<String>,
    },
}

/// A downloadable dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The name specs use (`data.dataset`), also the dataset's folder in the cache.
    pub name: String,
    pub files: Vec<RemoteFile>,
    pub layout: Layout,
}

impl Source {
    /// The folder under a dataset's own folder that its loader reads.
    pub fn loader_subfolder(&self) -> Option<&str> {
        match &self.layout {
            Layout::Files => None,
            Layout::TarGz { folder, .. } => Some(folder),
        }
    }
}

/// torchvision's first MNIST mirror, then TensorFlow Datasets' (the digests are of its copy).
const MNIST_BASES: [&str; 2] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist",
    "https://storage.googleapis.com/cvdf-datasets/mnist",
];
/// Zalando's published copy, then the files in the dataset's GitHub repository.
const FASHION_BASES: [&str; 2] = [
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion",
];
/// The only publisher of the binary version (torchvision lists no mirror either).
const CIFAR_BASES: [&str; 1] = ["https://www.cs.toronto.edu/~kriz"];

/// The dataset's files, or None for one that is not downloaded (the embedded digits, an image
/// folder).
pub fn source(dataset: DatasetName) -> Option<Source> {
    match dataset {
        DatasetName::Digits | DatasetName::ImageFolder => None,
        DatasetName::Mnist => Some(idx_source("mnist", &MNIST_BASES, &MNIST_FILES)),
        DatasetName::FashionMnist => {
            Some(idx_source("fashion_mnist", &FASHION_BASES, &FASHION_FILES))
        }
        DatasetName::Cifar10 => Some(cifar10()),
    }
}

/// (name, size, sha256 as published, sha256 of the gunzipped content).
type IdxFile = (&'static str, u64, &'static str, Option<&'static str>);

const MNIST_FILES: [IdxFile; 4] = [
    (
        "train-images-idx3-ubyte.gz",
        9_912_422,
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        None,
    ),
    (
        "train-labels-idx1-ubyte.gz",
        28_881,
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        None,
    ),
    (
        "t10k-images-idx3-ubyte.gz",
        1_648_877,
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        None,
    ),
    (
        "t10k-labels-idx1-ubyte.gz",
        4_542,
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        None,
    ),
];

const FASHION_FILES: [IdxFile; 4] = [
    (
        "train-images-idx3-ubyte.gz",
        26_421_880,
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        Some("c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    ),
    (
        "train-labels-idx1-ubyte.gz",
        29_515,
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        Some("bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    ),
    (
        "t10k-images-idx3-ubyte.gz",
        4_422_102,
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        Some("5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    ),
    (
        "t10k-labels-idx1-ubyte.gz",
        5_148,
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        Some("0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
    ),
];

fn idx_source(name: &str, bases: &[&str], files: &[IdxFile]) -> Source {
    let files = files
        .iter()
        .map(|&(file, size, sha256, content)| RemoteFile {
            name: file.to_string(),
            size,
            sha256: sha256.to_string(),
            content_sha256: content.map(str::to_string),
            bases: bases.iter().map(|b| b.to_string()).collect(),
        })
        .collect();
    Source {
        name: name.to_string(),
        files,
        layout: Layout::Files,
    }
}

fn cifar10() -> Source {
    let mut members: Vec<String> = super::cifar::TRAIN_FILES
        .iter()
        .chain(&super::cifar::TEST_FILES)
        .map(|s| s.to_string())
        .collect();
    members.sort();
    Source {
        name: "cifar10".into(),
        files: vec![RemoteFile {
            name: "cifar-10-binary.tar.gz".into(),
            size: 170_052_171,
            sha256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd".into(),
            content_sha256: None,
            bases: CIFAR_BASES.iter().map(|b| b.to_string()).collect(),
        }],
        layout: Layout::TarGz {
            folder: "cifar-10-batches-bin".into(),
            members,
        },
    }
}
