//! The spec's `device`: a name parsed once when the spec is read ([`DeviceName`], a field of
//! the resolved spec), and turned into a Burn device when a command needs one. The backend is
//! picked by the device; the rest of the code never names a backend.
//!
//! Names: `cpu` (alias `flex`: Burn's pure-Rust backend, always built in), and with the
//! `tch` cargo feature `libtorch-cpu` and `cuda` / `cuda:N` (LibTorch through `burn-tch`).

use std::fmt;
use std::str::FromStr;

use burn::prelude::*;
use burn::tensor::FloatDType;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::model::Precision;

/// What the spec's `device` may say, for error messages.
pub const AVAILABLE_HELP: &str = "devices are `cpu` (pure-Rust flex backend), `libtorch-cpu`, `cuda` or `cuda:N` (LibTorch; builds with the `tch` feature)";

/// Why a device name cannot be used. Every case is the user's input: exit 2, nothing run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DeviceError {
    #[error("unknown device {0:?}; {AVAILABLE_HELP}")]
    Unknown(String),
    #[error(
        "device \"{0}\" needs LibTorch, and this binary was built without it; \
         build with `scripts/setup-tch.sh` (see the README's GPU section)"
    )]
    NotBuilt(DeviceName),
    #[error(
        "device \"{name}\" is not available: LibTorch sees {count} CUDA device(s) \
         (driver, CUDA_VISIBLE_DEVICES, or a CPU-only torch?)"
    )]
    Unavailable { name: DeviceName, count: usize },
    #[error(
        "train.precision bf16: device \"{0}\" does not compute in bf16; use fp32 or a LibTorch device"
    )]
    NoBf16(DeviceName),
}

/// Every device error is the user's choice of device (nothing was run).
impl crate::error::Cause for DeviceError {
    fn is_bad_input(&self) -> bool {
        true
    }
}

/// A device name, parsed but not yet checked against the machine (so a spec for `cuda` can be
/// checked on a laptop). Written back in its canonical spelling (`cpu`, `libtorch-cpu`, `cuda:N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceName {
    #[default]
    Flex,
    LibTorchCpu,
    Cuda(usize),
}

impl FromStr for DeviceName {
    type Err = DeviceError;

    fn from_str(name: &str) -> Result<Self, DeviceError> {
        match name {
            "cpu" | "flex" => Ok(Self::Flex),
            "libtorch-cpu" | "tch-cpu" => Ok(Self::LibTorchCpu),
            "cuda" | "gpu" => Ok(Self::Cuda(0)),
            other => match other.strip_prefix("cuda:").map(str::parse::<usize>) {
                Some(Ok(index)) => Ok(Self::Cuda(index)),
                _ => Err(DeviceError::Unknown(other.to_string())),
            },
        }
    }
}

impl Serialize for DeviceName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Parsed inside the YAML reader's own visit of the string (not after it, as serde's
/// `try_from` would), so the reader's error carries the key and the value's line and column.
impl<'de> Deserialize<'de> for DeviceName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Name;
        impl Visitor<'_> for Name {
            type Value = DeviceName;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a device name")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<DeviceName, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(Name)
    }
}

impl fmt::Display for DeviceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Flex => write!(f, "cpu"),
            Self::LibTorchCpu => write!(f, "libtorch-cpu"),
            Self::Cuda(index) => write!(f, "cuda:{index}"),
        }
    }
}

impl DeviceName {
    /// The backend's name as recorded in `meta.json`.
    pub fn backend(self) -> &'static str {
        match self {
            Self::Flex => "burn-flex",
            Self::LibTorchCpu | Self::Cuda(_) => "burn-tch",
        }
    }

    /// The device, without autodiff, or why this build or machine cannot give it.
    pub fn device(self) -> Result<Device, DeviceError> {
        match self {
            Self::Flex => Ok(Device::flex()),
            other => libtorch_device(other),
        }
    }

    /// The device a spec trains on, checked for its `train.precision`.
    pub fn training_device(self, precision: Precision) -> Result<Device, DeviceError> {
        let device = self.device()?;
        match precision {
            Precision::Bf16 if !device.supports_dtype(FloatDType::BF16) => {
                Err(DeviceError::NoBf16(self))
            }
            Precision::Fp32 | Precision::Bf16 => Ok(device),
        }
    }
}

#[cfg(not(feature = "tch"))]
fn libtorch_device(name: DeviceName) -> Result<Device, DeviceError> {
    Err(DeviceError::NotBuilt(name))
}

#[cfg(feature = "tch")]
#[allow(deprecated)] // burn-tch is deprecated upstream but is the LibTorch path users ask for
fn libtorch_device(name: DeviceName) -> Result<Device, DeviceError> {
    match name {
        DeviceName::LibTorchCpu => Ok(Device::libtorch()),
        DeviceName::Cuda(index) => {
            // Asked before any tensor is made: libtorch aborts the process on a missing GPU.
            let count = if tch::Cuda::is_available() {
                tch::Cuda::device_count().max(0) as usize
            } else {
                0
            };
            if index >= count {
                return Err(DeviceError::Unavailable { name, count });
            }
            Ok(Device::libtorch_cuda(index))
        }
        DeviceName::Flex => unreachable!("flex is built in"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_with_indices_and_aliases() {
        let parse = |s: &str| s.parse::<DeviceName>();
        assert_eq!(parse("cpu"), Ok(DeviceName::Flex));
        assert_eq!(parse("cuda"), Ok(DeviceName::Cuda(0)));
        assert_eq!(parse("cuda:3"), Ok(DeviceName::Cuda(3)));
        assert_eq!(parse("libtorch-cpu"), Ok(DeviceName::LibTorchCpu));
        for bad in ["cuda:", "cuda:x", "tpu", "cuda:-1", ""] {
            assert!(parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(DeviceName::Cuda(1).backend(), "burn-tch");
    }

    #[test]
    fn canonical_names_read_back_as_themselves() {
        for name in [
            DeviceName::Flex,
            DeviceName::LibTorchCpu,
            DeviceName::Cuda(2),
        ] {
            assert_eq!(name.to_string().parse::<DeviceName>(), Ok(name));
        }
        assert_eq!("flex".parse::<DeviceName>().unwrap().to_string(), "cpu");
    }

    #[test]
    fn a_missing_gpu_is_an_error_not_a_panic() {
        // This machine (and CI) has no GPU; with or without the tch feature, asking for
        // cuda:7 must come back as a message.
        let err = DeviceName::Cuda(7).device().unwrap_err().to_string();
        assert!(err.contains("cuda:7"), "{err}");
    }
}
