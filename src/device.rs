//! Turning the spec's `device` string into a Burn device. The backend is picked at run time
//! by the device; the rest of the code never names a backend.
//!
//! Names: `cpu` (alias `flex`: Burn's pure-Rust backend, always built in), and with the
//! `tch` cargo feature `libtorch-cpu` and `cuda` / `cuda:N` (LibTorch through `burn-tch`).

use burn::prelude::*;
use burn::tensor::FloatDType;

use crate::model::Precision;

/// What the spec's `device` may say, for error messages.
pub const AVAILABLE_HELP: &str = "devices are `cpu` (pure-Rust flex backend), `libtorch-cpu`, `cuda` or `cuda:N` (LibTorch; builds with the `tch` feature)";

/// A device name, parsed but not yet checked against the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceName {
    Flex,
    LibTorchCpu,
    Cuda(usize),
}

impl DeviceName {
    pub fn parse(name: &str) -> Result<Self, String> {
        match name {
            "cpu" | "flex" => Ok(Self::Flex),
            "libtorch-cpu" | "tch-cpu" => Ok(Self::LibTorchCpu),
            "cuda" | "gpu" => Ok(Self::Cuda(0)),
            other => match other.strip_prefix("cuda:").map(str::parse::<usize>) {
                Some(Ok(index)) => Ok(Self::Cuda(index)),
                _ => Err(format!("unknown device {other:?}; {AVAILABLE_HELP}")),
            },
        }
    }

    /// The backend's name as recorded in `meta.json`.
    pub fn backend(self) -> &'static str {
        match self {
            Self::Flex => "burn-flex",
            Self::LibTorchCpu | Self::Cuda(_) => "burn-tch",
        }
    }
}

/// Whether `name` is a device name at all (spec validation; availability is checked when a
/// run starts, so a spec for `cuda` can be checked on a laptop).
pub fn is_known_device(name: &str) -> bool {
    DeviceName::parse(name).is_ok()
}

/// The device for `name`, without autodiff, or why this build or machine cannot give it.
pub fn parse_device(name: &str) -> Result<Device, String> {
    match DeviceName::parse(name)? {
        DeviceName::Flex => Ok(Device::flex()),
        other => libtorch_device(other, name),
    }
}

/// The device a spec trains on, checked for its `train.precision`.
pub fn training_device(name: &str, precision: Precision) -> Result<Device, String> {
    let device = parse_device(name)?;
    check_precision(&device, name, precision)?;
    Ok(device)
}

/// Refuses a precision the device cannot compute in (say bf16 on a backend without it).
fn check_precision(device: &Device, name: &str, precision: Precision) -> Result<(), String> {
    match precision {
        Precision::Fp32 => Ok(()),
        Precision::Bf16 if device.supports_dtype(FloatDType::BF16) => Ok(()),
        Precision::Bf16 => Err(format!(
            "train.precision bf16: device {name:?} does not compute in bf16; use fp32 or a LibTorch device"
        )),
    }
}

/// The backend's name as recorded in `meta.json`.
pub fn backend_name(name: &str) -> &'static str {
    DeviceName::parse(name).map_or("unknown", DeviceName::backend)
}

#[cfg(not(feature = "tch"))]
fn libtorch_device(_: DeviceName, name: &str) -> Result<Device, String> {
    Err(format!(
        "device {name:?} needs LibTorch, and this binary was built without it; \
         build with `scripts/setup-tch.sh` (see the README's GPU section)"
    ))
}

#[cfg(feature = "tch")]
#[allow(deprecated)] // burn-tch is deprecated upstream but is the LibTorch path users ask for
fn libtorch_device(which: DeviceName, name: &str) -> Result<Device, String> {
    match which {
        DeviceName::LibTorchCpu => Ok(Device::libtorch()),
        DeviceName::Cuda(index) => {
            // Asked before any tensor is made: libtorch aborts the process on a missing GPU.
            let count = if tch::Cuda::is_available() {
                tch::Cuda::device_count().max(0) as usize
            } else {
                0
            };
            if index >= count {
                return Err(format!(
                    "device {name:?} is not available: LibTorch sees {count} CUDA device(s) \
                     (driver, CUDA_VISIBLE_DEVICES, or a CPU-only torch?)"
                ));
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
        assert_eq!(DeviceName::parse("cpu"), Ok(DeviceName::Flex));
        assert_eq!(DeviceName::parse("cuda"), Ok(DeviceName::Cuda(0)));
        assert_eq!(DeviceName::parse("cuda:3"), Ok(DeviceName::Cuda(3)));
        assert_eq!(
            DeviceName::parse("libtorch-cpu"),
            Ok(DeviceName::LibTorchCpu)
        );
        for bad in ["cuda:", "cuda:x", "tpu", "cuda:-1", ""] {
            assert!(DeviceName::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(backend_name("cuda:1"), "burn-tch");
    }

    #[test]
    fn a_missing_gpu_is_an_error_not_a_panic() {
        // This machine (and CI) has no GPU; with or without the tch feature, asking for
        // cuda:7 must come back as a message.
        let err = parse_device("cuda:7").unwrap_err();
        assert!(err.contains("cuda:7"), "{err}");
    }
}
