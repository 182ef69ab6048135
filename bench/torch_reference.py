#!/usr/bin/env python3
"""PyTorch *eager* reference for ddpm-exp's UNet and training step, for throughput comparisons.

It rebuilds, module for module, the Ho et al. 2020 DDPM UNet of src/model/ (unet.rs, blocks.rs,
layers.rs, time_embedding.rs, config.rs) and the ε-prediction / L_simple training step of
src/run/trainer.rs, then times:

* training: host-made batch → t, ε → q(x_t|x_0) → loss → backward → global-norm clipping →
  Adam → EMA, reading the loss back to the host every step as the Rust trainer does;
* sampling: ancestral sampling (Algorithm 2, σ_t² = β_t) with the EMA weights in eval mode.

The data movement follows the Rust side: the Rust code draws x_0, t, ε and every sampling z on
the host (ChaCha streams) and uploads them, gathers the schedule coefficients on the host and
uploads them as [batch, 1, 1, 1] columns, and computes the sinusoidal embedding on the host in
f64 and uploads it as f32. This script does the same with seeded CPU torch.Generators (the
random numbers differ from the Rust ones; only the work is the same).

Examples (paper CIFAR10 scale on a GPU, then the embedded-digits scale on a CPU):

    python3 bench/torch_reference.py --device cuda --batch 128 --train-steps 50 --warmup 10 \\
        --dtype fp32 --sample-images 256 --sample-steps 1000 --json torch_cuda.json
    python3 bench/torch_reference.py --device cpu --profile digits --expect-params 0 \\
        --train-steps 5 --warmup 1 --sample-images 64 --sample-steps 10 --threads 2
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import platform
import sys
import time
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

# ---------------------------------------------------------------------------------------------
# Model: the paper's UNet, the same layout as src/model/.
# ---------------------------------------------------------------------------------------------

# Weight gain of the layers that end each residual branch (layers.rs: ZERO_INIT_GAIN).
ZERO_INIT_GAIN = 1e-5

# The paper's CIFAR10 model (UNetConfig::paper_cifar10) and its parameter count, which
# tests/model_shape.rs asserts on the Rust side.
PAPER_CIFAR10 = dict(
    in_channels=3,
    out_channels=3,
    image_size=32,
    channels=128,
    channel_mult=[1, 2, 2, 2],
    num_res_blocks=2,
    attention_resolutions=[16],
    dropout=0.1,
    norm_groups=32,
)
PAPER_CIFAR10_PARAMS = 35_746_307


def conv(c_in: int, c_out: int, kernel: int, stride: int, gain: float) -> nn.Conv2d:
    """layers.rs `conv`: k×k, padding k/2 on every side (symmetric), Xavier-uniform, zero bias."""
    layer = nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=True)
    nn.init.xavier_uniform_(layer.weight, gain=gain)
    nn.init.zeros_(layer.bias)
    return layer


def dense(d_in: int, d_out: int, gain: float) -> nn.Linear:
    """layers.rs `dense`. Burn stores the weight as [d_in, d_out], torch as [d_out, d_in]: the
    Xavier fans (d_in, d_out) and the parameter count are the same."""
    layer = nn.Linear(d_in, d_out, bias=True)
    nn.init.xavier_uniform_(layer.weight, gain=gain)
    nn.init.zeros_(layer.bias)
    return layer


def group_norm(groups: int, channels: int) -> nn.GroupNorm:
    # Burn's GroupNormConfig defaults: epsilon 1e-5, affine (weight 1, bias 0) — as torch's.
    return nn.GroupNorm(groups, channels, eps=1e-5, affine=True)


class ResBlock(nn.Module):
    """blocks.rs `ResBlock`: GN → swish → conv3, + dense(swish(temb)), GN → swish → dropout →
    conv3 (gain 1e-5), and a 1×1 conv shortcut when the channel count changes."""

    def __init__(self, c_in: int, c_out: int, time_dim: int, groups: int, dropout: float):
        super().__init__()
        self.norm1 = group_norm(groups, c_in)
        self.conv1 = conv(c_in, c_out, 3, 1, 1.0)
        self.time_proj = dense(time_dim, c_out, 1.0)
        self.norm2 = group_norm(groups, c_out)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = conv(c_out, c_out, 3, 1, ZERO_INIT_GAIN)
        self.shortcut = conv(c_in, c_out, 1, 1, 1.0) if c_in != c_out else None

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        skip = x if self.shortcut is None else self.shortcut(x)
        return skip + h


class AttnBlock(nn.Module):
    """blocks.rs `AttnBlock`: single head over all h·w positions, q/k/v/proj_out dense over
    channels on tokens [b, h·w, c], softmax(q kᵀ · c^-1/2), residual. Written with explicit
    matmuls (not scaled_dot_product_attention) so it runs the same ops as the Rust code."""

    def __init__(self, channels: int, groups: int):
        super().__init__()
        self.norm = group_norm(groups, channels)
        self.query = dense(channels, channels, 1.0)
        self.key = dense(channels, channels, 1.0)
        self.value = dense(channels, channels, 1.0)
        self.proj_out = dense(channels, channels, ZERO_INIT_GAIN)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        tokens = self.norm(x).reshape(b, c, h * w).transpose(1, 2)  # [b, h·w, c]
        q = self.query(tokens)
        k = self.key(tokens)
        v = self.value(tokens)
        weights = torch.softmax(torch.matmul(q, k.transpose(1, 2)) * (c ** -0.5), dim=2)
        attended = self.proj_out(torch.matmul(weights, v))  # [b, h·w, c]
        return x + attended.transpose(1, 2).reshape(b, c, h, w)


class Level(nn.Module):
    """unet.rs `Level`: residual blocks, each optionally followed by attention, and the
    resampling conv that leaves the level."""

    def __init__(self, blocks, attentions, resample):
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        # nn.ModuleList cannot hold None; Identity has no parameters.
        self.attentions = nn.ModuleList(a if a is not None else nn.Identity() for a in attentions)
        self.resample = resample


def sinusoidal_embedding(t_host: torch.Tensor, dim: int) -> torch.Tensor:
    """time_embedding.rs: [sin(t·f_0..f_{half-1}), cos(…)], f_i = exp(−i·ln(10000)/(half−1)),
    computed on the host in f64, returned as f32 on the host (the caller uploads it)."""
    half = dim // 2
    scale = math.log(10000.0) / (half - 1) if half > 1 else 0.0
    freqs = torch.exp(-scale * torch.arange(half, dtype=torch.float64))
    angles = t_host.to(torch.float64)[:, None] * freqs[None, :]
    emb = torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)
    if dim - 2 * half:
        emb = torch.cat([emb, torch.zeros(len(t_host), dim - 2 * half, dtype=torch.float64)], 1)
    return emb.to(torch.float32)


class UNet(nn.Module):
    """unet.rs `UNet` / `UNetConfig::init`, same module order."""

    def __init__(self, in_channels, out_channels, image_size, channels, channel_mult,
                 num_res_blocks, attention_resolutions, dropout, norm_groups):
        super().__init__()
        ch = channels
        time_dim = 4 * ch
        g = norm_groups
        self.embed_dim = ch
        resolutions = [image_size >> level for level in range(len(channel_mult))]
        last = len(channel_mult) - 1

        def res_block(c_in, c_out):
            return ResBlock(c_in, c_out, time_dim, g, dropout)

        def attn_at(res, c):
            return AttnBlock(c, g) if res in attention_resolutions else None

        # Construction order matches the Rust code (not that it changes the count).
        skip_channels = [ch]
        current = ch
        down = []
        for level, mult in enumerate(channel_mult):
            blocks, attentions = [], []
            for _ in range(num_res_blocks):
                blocks.append(res_block(current, ch * mult))
                current = ch * mult
                attentions.append(attn_at(resolutions[level], current))
                skip_channels.append(current)
            resample = conv(current, current, 3, 2, 1.0) if level != last else None
            if level != last:
                skip_channels.append(current)
            down.append(Level(blocks, attentions, resample))

        mid_block1 = res_block(current, current)
        mid_attn = AttnBlock(current, g)
        mid_block2 = res_block(current, current)

        up = []
        for level in reversed(range(len(channel_mult))):
            mult = channel_mult[level]
            blocks, attentions = [], []
            for _ in range(num_res_blocks + 1):
                skip = skip_channels.pop()
                blocks.append(res_block(current + skip, ch * mult))
                current = ch * mult
                attentions.append(attn_at(resolutions[level], current))
            resample = conv(current, current, 3, 1, 1.0) if level != 0 else None
            up.append(Level(blocks, attentions, resample))
        assert not skip_channels, "every skip activation is consumed"

        self.time_dense1 = dense(ch, time_dim, 1.0)
        self.time_dense2 = dense(time_dim, time_dim, 1.0)
        self.conv_in = conv(in_channels, ch, 3, 1, 1.0)
        self.down = nn.ModuleList(down)
        self.mid_block1 = mid_block1
        self.mid_attn = mid_attn
        self.mid_block2 = mid_block2
        self.up = nn.ModuleList(up)
        self.norm_out = group_norm(g, current)
        self.conv_out = conv(current, out_channels, 3, 1, ZERO_INIT_GAIN)

    def forward(self, x: torch.Tensor, t_host: torch.Tensor) -> torch.Tensor:
        """x: [b, in_ch, h, w] on the device; t_host: the paper's 1-based timesteps, [b] int64
        on the host (embedded as is, on the host, then uploaded — as unet.rs does)."""
        temb = sinusoidal_embedding(t_host, self.embed_dim).to(x.device)
        temb = self.time_dense2(F.silu(self.time_dense1(temb)))

        h = self.conv_in(x)
        skips = [h]
        for level in self.down:
            for block, attention in zip(level.blocks, level.attentions):
                h = attention(block(h, temb))
                skips.append(h)
            if level.resample is not None:
                h = level.resample(h)
                skips.append(h)

        h = self.mid_block1(h, temb)
        h = self.mid_attn(h)
        h = self.mid_block2(h, temb)

        for level in self.up:
            for block, attention in zip(level.blocks, level.attentions):
                h = attention(block(torch.cat([h, skips.pop()], dim=1), temb))
            if level.resample is not None:
                # blocks.rs upsample_nearest (reshape/expand) is nearest ×2, then a 3×3 conv.
                h = level.resample(F.interpolate(h, scale_factor=2.0, mode="nearest"))

        return self.conv_out(F.silu(self.norm_out(h)))


def config_problems(cfg: dict) -> list[str]:
    """The checks of UNetConfig::problems, so a bad flag fails before any tensor is made."""
    out = []
    mult = cfg["channel_mult"]
    if not mult or any(m <= 0 for m in mult):
        out.append("channel_mult: must list positive multipliers")
        return out
    downs = len(mult) - 1
    if cfg["image_size"] <= 0 or cfg["image_size"] % (1 << downs):
        out.append(f"channel_mult: {len(mult)} levels halve the image {downs} times, but image "
                   f"side {cfg['image_size']} is not divisible by {1 << downs}")
    resolutions = [cfg["image_size"] >> level for level in range(len(mult))]
    for r in cfg["attention_resolutions"]:
        if r not in resolutions:
            out.append(f"attention_resolutions: {r} never occurs; the levels run at {resolutions}")
    if cfg["channels"] <= 0 or cfg["norm_groups"] <= 0:
        out.append("channels and norm_groups must be positive")
    elif any((cfg["channels"] * m) % cfg["norm_groups"] for m in [1] + mult):
        out.append(f"norm_groups: {cfg['norm_groups']} does not divide every level's channels")
    if not 0.0 <= cfg["dropout"] < 1.0:
        out.append(f"dropout: must be in [0, 1), got {cfg['dropout']}")
    return out


# ---------------------------------------------------------------------------------------------
# Diffusion schedule (src/diffusion/schedule.rs, forward.rs): linear β, computed in f64.
# ---------------------------------------------------------------------------------------------

class Schedule:
    def __init__(self, timesteps: int, beta_start: float, beta_end: float):
        self.T = timesteps
        beta = torch.linspace(beta_start, beta_end, timesteps, dtype=torch.float64)
        alpha = 1.0 - beta
        alpha_bar = torch.cumprod(alpha, dim=0)
        # Index t − 1 holds the value for the paper's 1-based t.
        self.sqrt_alpha_bar = alpha_bar.sqrt()
        self.sqrt_one_minus_alpha_bar = (1.0 - alpha_bar).sqrt()
        self.eps_coef = beta / (1.0 - alpha_bar).sqrt()     # β_t / √(1 − ᾱ_t)
        self.recip_sqrt_alpha = 1.0 / alpha.sqrt()           # 1 / √α_t
        self.sigma = beta.sqrt()                             # σ_t = √β_t (fixed_large)

    @staticmethod
    def column(values: torch.Tensor, t_host: torch.Tensor, device) -> torch.Tensor:
        """StepCoefficients::gather: per-example values gathered on the host in f64, made f32,
        uploaded as [batch, 1, 1, 1]."""
        return values[t_host - 1].to(torch.float32).reshape(-1, 1, 1, 1).to(device)


# ---------------------------------------------------------------------------------------------
# Benchmark
# ---------------------------------------------------------------------------------------------

# Scale profiles, from experiments/base.yaml (digits) and experiments/profiles/*.yaml.
PROFILES = {
    "cifar10": dict(PAPER_CIFAR10, batch=128, lr=2e-4, lr_warmup=5000, ema_decay=0.9999),
    "digits": dict(in_channels=1, image_size=8, channels=16, channel_mult=[1, 2, 2],
                   num_res_blocks=1, attention_resolutions=[4], dropout=0.1, norm_groups=8,
                   batch=64, lr=1e-3, lr_warmup=200, ema_decay=0.995),
    "mnist": dict(in_channels=1, image_size=28, channels=64, channel_mult=[1, 2, 2],
                  num_res_blocks=2, attention_resolutions=[14], dropout=0.1, norm_groups=32,
                  batch=128, lr=2e-4, lr_warmup=1000, ema_decay=0.9995),
}
PROFILES["fashion_mnist"] = dict(PROFILES["mnist"])


def int_list(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v.strip()] if text.strip() else []


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description="PyTorch eager reference of ddpm-exp's UNet training step and sampler.")
    p.add_argument("--device", default="cuda", help="cuda, cuda:N or cpu")
    p.add_argument("--dtype", choices=["fp32", "bf16"], default="fp32",
                   help="bf16 = torch.autocast(bfloat16) around forward+loss (and the sampling "
                        "model call); weights, Adam and EMA stay fp32")
    p.add_argument("--profile", choices=sorted(PROFILES), default="cifar10",
                   help="scale whose model/batch/optimiser settings fill every flag not given "
                        "(default cifar10 = the paper's model)")
    m = p.add_argument_group("model (default: the profile's)")
    m.add_argument("--channels", type=int)
    m.add_argument("--channel-mult", type=int_list, help="comma separated, e.g. 1,2,2,2")
    m.add_argument("--image-size", type=int)
    m.add_argument("--in-channels", type=int)
    m.add_argument("--out-channels", type=int, help="default: in-channels (ε-prediction)")
    m.add_argument("--attention", type=int_list,
                   help="attention resolutions, comma separated (empty string: none)")
    m.add_argument("--res-blocks", type=int)
    m.add_argument("--norm-groups", type=int)
    m.add_argument("--dropout", type=float)
    m.add_argument("--expect-params", type=int, default=None,
                   help=f"assert this parameter count (0 skips). Defaults to "
                        f"{PAPER_CIFAR10_PARAMS} for the paper's config; required otherwise")
    t = p.add_argument_group("training")
    t.add_argument("--batch", type=int)
    t.add_argument("--train-steps", type=int, default=50, help="timed steps")
    t.add_argument("--warmup", type=int, default=10, help="untimed steps before the timed ones")
    t.add_argument("--lr", type=float)
    t.add_argument("--lr-warmup", type=int, help="linear LR warm-up steps (schedule_lr.rs)")
    t.add_argument("--ema-decay", type=float)
    t.add_argument("--grad-clip", type=float, default=1.0)
    t.add_argument("--clip-impl", choices=["rust", "torch"], default="rust",
                   help="rust (default): as grad_clip.rs — global norm read back to the host "
                        "(a second sync per step), gradients scaled by max/norm only when "
                        "norm > max; torch: torch.nn.utils.clip_grad_norm_ (no host read-back)")
    t.add_argument("--adam-impl", choices=["default", "foreach", "fused", "loop"],
                   default="default", help="torch.optim.Adam implementation (default: torch's "
                                           "choice — foreach on CUDA, per-tensor loop on CPU)")
    t.add_argument("--no-train", action="store_true")
    s = p.add_argument_group("sampling")
    s.add_argument("--sample-images", type=int, default=256)
    s.add_argument("--sample-steps", type=int, default=None,
                   help="run only the first K reverse steps (t = T … T−K+1); default all T")
    s.add_argument("--sample-warmup", type=int, default=1,
                   help="untimed model calls at the sampling batch size before the chain "
                        "(ddpm-exp bench makes one)")
    s.add_argument("--no-sample", action="store_true")
    d = p.add_argument_group("diffusion")
    d.add_argument("--timesteps", type=int, default=1000)
    d.add_argument("--beta-start", type=float, default=1e-4)
    d.add_argument("--beta-end", type=float, default=0.02)
    p.add_argument("--channels-last", action="store_true",
                   help="the model, its inputs and its activations in channels-last (NHWC) "
                        "memory format, the layout cuDNN and oneDNN convolutions prefer")
    p.add_argument("--tf32", choices=["default", "off", "on"], default="default",
                   help="default (recommended): leave PyTorch's TF32 flags as they are, which are "
                        "libtorch's defaults too; off/on set both flags")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads(N)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None, help="write the results as JSON to this path")
    p.add_argument("--like", default=None, metavar="DDPM_EXP_JSON",
                   help="take the network, batch, T and expected parameter count from the JSON "
                        "that `ddpm-exp bench --json` wrote (bench/run.sh does)")
    args = p.parse_args(argv)

    if args.like:
        with open(args.like) as f:
            ours = json.load(f)
        m = ours["model"]
        for flag, value in [("channels", m["channels"]), ("channel_mult", m["channel_mult"]),
                            ("image_size", m["image_size"]), ("in_channels", m["in_channels"]),
                            ("out_channels", m["out_channels"]),
                            ("attention", m["attention_resolutions"]),
                            ("res_blocks", m["num_res_blocks"]), ("norm_groups", m["norm_groups"]),
                            ("dropout", m["dropout"]), ("batch", ours["batch"]),
                            ("expect_params", ours["params"]), ("timesteps", ours["timesteps"])]:
            if getattr(args, flag) is None or flag == "timesteps":
                setattr(args, flag, value)

    prof = PROFILES[args.profile]
    for flag, key in [("channels", "channels"), ("channel_mult", "channel_mult"),
                      ("image_size", "image_size"), ("in_channels", "in_channels"),
                      ("attention", "attention_resolutions"), ("res_blocks", "num_res_blocks"),
                      ("norm_groups", "norm_groups"), ("dropout", "dropout"), ("batch", "batch"),
                      ("lr", "lr"), ("lr_warmup", "lr_warmup"), ("ema_decay", "ema_decay")]:
        if getattr(args, flag) is None:
            setattr(args, flag, prof[key])
    if args.out_channels is None:
        args.out_channels = args.in_channels
    if args.sample_steps is None:
        args.sample_steps = args.timesteps
    return args


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def fail(msg: str, code: int = 2) -> None:
    print(f"error: {msg}", file=sys.stderr, flush=True)
    sys.exit(code)


def tf32_flags() -> dict:
    with warnings.catch_warnings():  # torch ≥ 2.9 may warn about the legacy TF32 attributes
        warnings.simplefilter("ignore")
        flags = {
            "cuda_matmul_allow_tf32": bool(torch.backends.cuda.matmul.allow_tf32),
            "cudnn_allow_tf32": bool(torch.backends.cudnn.allow_tf32),
            "float32_matmul_precision": torch.get_float32_matmul_precision(),
        }
    return flags


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_adam(params, args, device):
    kwargs = dict(lr=args.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    if args.adam_impl == "foreach":
        kwargs["foreach"] = True
    elif args.adam_impl == "fused":
        kwargs["fused"] = True
    elif args.adam_impl == "loop":
        kwargs["foreach"] = False
    return torch.optim.Adam(params, **kwargs)


def adam_impl_used(opt: torch.optim.Optimizer, device) -> str:
    group = opt.param_groups[0]
    if group.get("fused"):
        return "fused"
    if group.get("foreach"):
        return "foreach"
    if group.get("foreach") is False:
        return "for-loop"
    # None: torch picks per step — foreach for CUDA tensors, the for-loop elsewhere.
    return "foreach (torch default)" if device.type == "cuda" else "for-loop (torch default)"


def main(argv=None) -> int:
    args = parse_args(argv)

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        fail(f"--device {args.device}: this torch ({torch.__version__}) sees no CUDA device")

    # TF32. PyTorch's defaults are torch.backends.cuda.matmul.allow_tf32 = False (cuBLAS fp32
    # matmuls stay full fp32; "highest" float32 matmul precision) and
    # torch.backends.cudnn.allow_tf32 = True (cuDNN convolutions may use TF32 tensor cores).
    # Those are ATen's own defaults (at::Context: allow_tf32_cublas false, allow_tf32_cudnn
    # true), so a plain libtorch program — the Rust side through burn-tch/tch, which sets
    # neither — runs with exactly the same flags. To keep the two sides on the same library
    # defaults, --tf32 default (the default) leaves both untouched; the values in effect are
    # recorded in the JSON. --tf32 off/on override both for experiments.
    if args.tf32 != "default":
        flag = args.tf32 == "on"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.backends.cuda.matmul.allow_tf32 = flag
            torch.backends.cudnn.allow_tf32 = flag

    cfg = dict(in_channels=args.in_channels, out_channels=args.out_channels,
               image_size=args.image_size, channels=args.channels,
               channel_mult=list(args.channel_mult), num_res_blocks=args.res_blocks,
               attention_resolutions=list(args.attention), dropout=args.dropout,
               norm_groups=args.norm_groups)
    problems = config_problems(cfg)
    if problems:
        fail("model config cannot be built:\n  " + "\n  ".join(problems))
    is_paper = cfg == PAPER_CIFAR10
    expect = args.expect_params
    if expect is None:
        if is_paper:
            expect = PAPER_CIFAR10_PARAMS
        else:
            fail("this is not the paper's CIFAR10 config, so give the Rust model's parameter "
                 "count with --expect-params N (or --expect-params 0 to skip the check)")

    torch.manual_seed(args.seed)  # weights and dropout masks
    model = UNet(**cfg)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"[torch_reference] torch {torch.__version__}, device {device}, dtype {args.dtype}, "
        f"config {cfg}")
    log(f"[torch_reference] parameters: {n_params:,}"
        + (f" (expected {expect:,})" if expect else " (check skipped)"))
    if expect and n_params != expect:
        fail(f"parameter count {n_params:,} differs from the expected {expect:,} — the model "
             f"does not mirror src/model/ for this config", code=1)

    model.to(device)
    memory_format = torch.channels_last if args.channels_last else torch.contiguous_format
    model.to(memory_format=memory_format)
    # EMA: a second copy of the parameters, never trained (unet.rs `valid()` copy).
    ema = copy.deepcopy(model)
    for p in ema.parameters():
        p.requires_grad_(False)

    schedule = Schedule(args.timesteps, args.beta_start, args.beta_end)
    amp_dtype = torch.bfloat16 if args.dtype == "bf16" else None

    def autocast():
        return torch.autocast(device_type=device.type, dtype=amp_dtype,
                              enabled=amp_dtype is not None)

    gpu_name = torch.cuda.get_device_name(device) if device.type == "cuda" else None
    result = {
        "impl": "pytorch-eager",
        "torch": torch.__version__,
        "device": str(device),
        "gpu_name": gpu_name,
        "cpu": platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "dtype": args.dtype,
        "params": n_params,
        "config": cfg,
        "batch": args.batch,
        "train_steps": None,
        "train_warmup_steps": None,
        "train_seconds": None,
        "train_steps_per_s": None,
        "train_images_per_s": None,
        "loss_first": None,
        "loss_last": None,
        "adam_impl": None,
        "clip_impl": args.clip_impl,
        "channels_last": args.channels_last,
        "ema_impl": "torch._foreach_mul_ + torch._foreach_add_ (in place)",
        "sample_images": None,
        "sample_steps": None,
        "sample_seconds": None,
        "sample_seconds_per_step": None,
        "sample_seconds_1000": None,
        "sample_images_per_s": None,
        # The same numbers under the names src/bench.rs (`ddpm-exp bench`) writes.
        "backend": "pytorch-eager",
        "image_shape": [args.in_channels, args.image_size, args.image_size],
        "final_loss": None,
        "sample_seconds_full": None,
        "timesteps": args.timesteps,
        **tf32_flags(),
    }

    # ---------------- training ----------------
    if not args.no_train:
        params = [p for p in model.parameters()]
        ema_params = [p for p in ema.parameters()]
        opt = make_adam(params, args, device)
        gen = torch.Generator().manual_seed(args.seed)  # host: x0, t, ε
        shape = (args.batch, args.in_channels, args.image_size, args.image_size)
        decay = args.ema_decay
        losses = []

        def train_step(step: int) -> float:
            # Batch built on the host and uploaded (the Rust Batcher does the same).
            x0 = (torch.rand(shape, generator=gen) * 2.0 - 1.0).to(device)
            t_host = torch.randint(1, args.timesteps + 1, (args.batch,), generator=gen)
            noise = torch.randn(shape, generator=gen).to(device)
            sab = Schedule.column(schedule.sqrt_alpha_bar, t_host, device)
            somab = Schedule.column(schedule.sqrt_one_minus_alpha_bar, t_host, device)
            x_t = (x0 * sab + noise * somab).contiguous(memory_format=memory_format)
            with autocast():
                out = model(x_t, t_host)
                loss = torch.mean((noise - out.float()) ** 2)
            loss_value = loss.item()  # trainer.rs reads the loss back every step (a sync)
            if not math.isfinite(loss_value):
                fail(f"loss is not finite at step {step}", code=3)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            grads = [p.grad for p in params if p.grad is not None]
            if args.clip_impl == "rust":
                # grad_clip.rs: global norm to the host, scale by max/norm only when above.
                norm = torch.linalg.vector_norm(
                    torch.stack(torch._foreach_norm(grads)), 2).item()
                if not math.isfinite(norm):
                    fail(f"gradient norm is not finite at step {step}", code=3)
                if norm > args.grad_clip:
                    torch._foreach_mul_(grads, args.grad_clip / norm)
            else:
                torch.nn.utils.clip_grad_norm_(params, args.grad_clip)
            # schedule_lr.rs: linear warm-up, the rate for the update completing step+1.
            lr = args.lr * (min(1.0, (step + 1) / args.lr_warmup) if args.lr_warmup else 1.0)
            for group in opt.param_groups:
                group["lr"] = lr
            opt.step()
            with torch.no_grad():  # ema = decay·ema + (1 − decay)·p
                torch._foreach_mul_(ema_params, decay)
                torch._foreach_add_(ema_params, params, alpha=1.0 - decay)
            return loss_value

        model.train()  # dropout active
        for step in range(args.warmup):
            losses.append(train_step(step))
        sync(device)
        start = time.perf_counter()
        for step in range(args.warmup, args.warmup + args.train_steps):
            losses.append(train_step(step))
        sync(device)
        seconds = time.perf_counter() - start
        sps = args.train_steps / seconds if seconds > 0 and args.train_steps else None
        result.update(
            train_steps=args.train_steps, train_warmup_steps=args.warmup, train_seconds=seconds,
            train_steps_per_s=sps, train_images_per_s=sps * args.batch if sps else None,
            loss_first=losses[0] if losses else None, loss_last=losses[-1] if losses else None,
            final_loss=losses[-1] if losses else None,
            adam_impl=adam_impl_used(opt, device))
        rate = f"{sps:.3f} steps/s ({sps * args.batch:.1f} img/s)" if sps else "n/a"
        trend = f"; loss {losses[0]:.4f} → {losses[-1]:.4f}" if losses else ""
        log(f"[torch_reference] train: batch {args.batch}, {args.train_steps} timed steps after "
            f"{args.warmup} warm-up in {seconds:.3f} s = {rate}{trend}")
        del opt

    # ---------------- sampling ----------------
    if not args.no_sample:
        n, k, T = args.sample_images, args.sample_steps, args.timesteps
        if not 1 <= k <= T:
            fail(f"--sample-steps must be in 1..{T}, got {k}")
        ema.eval()  # no dropout
        shape = (n, args.in_channels, args.image_size, args.image_size)
        gen = torch.Generator().manual_seed(args.seed + 1)  # host: x_T and every z
        with torch.no_grad():
            warm = torch.randn(shape, generator=gen).to(device)
            for _ in range(args.sample_warmup):
                with autocast():
                    ema(warm, torch.full((n,), T, dtype=torch.long))
            del warm
            sync(device)
            start = time.perf_counter()
            x = torch.randn(shape, generator=gen).to(device)
            for t in range(T, T - k, -1):
                t_host = torch.full((n,), t, dtype=torch.long)
                x = x.contiguous(memory_format=memory_format)
                with autocast():
                    eps = ema(x, t_host)
                eps = eps.float()
                eps_coef = Schedule.column(schedule.eps_coef, t_host, device)
                recip_sqrt_alpha = Schedule.column(schedule.recip_sqrt_alpha, t_host, device)
                mean = (x - eps * eps_coef) * recip_sqrt_alpha
                if t > 1:
                    sigma = Schedule.column(schedule.sigma, t_host, device)
                    z = torch.randn(shape, generator=gen).to(device)
                    x = mean + z * sigma
                else:
                    x = mean
            sync(device)
            seconds = time.perf_counter() - start
        per_step = seconds / k
        full = per_step * T
        result.update(sample_images=n, sample_steps=k, sample_seconds=seconds,
                      sample_seconds_per_step=per_step, sample_seconds_1000=full, sample_seconds_full=full,
                      sample_images_per_s=n / full)
        log(f"[torch_reference] sample: {n} images, {k} of {T} steps in {seconds:.3f} s "
            f"({per_step * 1e3:.2f} ms/step) → full chain {full:.1f} s = "
            f"{n / full:.3f} images/s")
        if not torch.isfinite(x).all():
            log("[torch_reference] warning: the sampled images are not all finite")

    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2)
            fh.write("\n")
        log(f"[torch_reference] wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
