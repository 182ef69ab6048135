"""Reference numbers for tests/inception_fid.rs: pytorch-fid's own FID Inception-v3 (its
InceptionV3 wrapper: resize to 299, scale to [-1, 1], pool3) with seeded random weights, since
the real weights file cannot be downloaded here. Writes into OUT_DIR:

  weights.pth              the Inception3 state dict, keyed as pytorch-fid's weights file is
  <set>_inputs.f32         images in [0, 1], float32 little-endian, [n, c, h, w]
  <set>_features.f32       pool3 features [n, 2048]
  <set>_logits.f32         the 1008-way fc layer applied to them
  meta.json                the shapes of every set

Batch-norm statistics are measured on random images first, so that no layer is near zero.
"""
import json
import pathlib
import sys

import torch
import pytorch_fid.inception as pfi

out = pathlib.Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
torch.manual_seed(0)

# fid_inception_v3() downloads the real weights: keep its freshly initialised network instead.
pfi.load_state_dict_from_url = lambda *args, **kwargs: None
keep_load = torch.nn.Module.load_state_dict
torch.nn.Module.load_state_dict = lambda self, *args, **kwargs: None
inception = pfi.fid_inception_v3()
torch.nn.Module.load_state_dict = keep_load

# The wrapper the FID code uses, built around this network.
pfi.fid_inception_v3 = lambda: inception
wrapper = pfi.InceptionV3([pfi.InceptionV3.BLOCK_INDEX_BY_DIM[2048]])

for module in inception.modules():
    if isinstance(module, torch.nn.BatchNorm2d):
        module.momentum = None  # a plain average over the calibration batches
        module.reset_running_stats()
wrapper.train()
with torch.no_grad():
    for _ in range(2):
        wrapper(torch.rand(8, 3, 32, 32))
wrapper.eval()
torch.save(inception.state_dict(), out / "weights.pth")

sets = {"rgb32": torch.rand(3, 3, 32, 32), "gray8": torch.rand(2, 1, 8, 8)}
meta = {}
with torch.no_grad():
    for name, images in sets.items():
        rgb = images.repeat(1, 3, 1, 1) if images.shape[1] == 1 else images
        features = wrapper(rgb)[0].flatten(1)
        logits = inception.fc(features)
        images.numpy().astype("<f4").tofile(out / f"{name}_inputs.f32")
        features.numpy().astype("<f4").tofile(out / f"{name}_features.f32")
        logits.numpy().astype("<f4").tofile(out / f"{name}_logits.f32")
        meta[name] = list(images.shape)
(out / "meta.json").write_text(json.dumps(meta))
