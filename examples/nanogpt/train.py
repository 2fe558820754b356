"""Train the character-level GPT in ``model.py``.

Usage::

    python train.py [config.py ...] [--key=value ...]

Configuration is layered: the defaults in ``DEFAULTS``, then every positional
config file (plain Python assignments, executed in order), then ``--key=value``
flags. Only keys present in ``DEFAULTS`` are accepted and values must match the
default's type (an int is accepted where a float is expected). Violations print
one line to stderr and exit with status 2.

Iteration numbering: iterations are numbered from 0 and training runs through
iteration ``max_iters`` inclusive; every iteration is one optimizer step. A
checkpoint written after finishing iteration ``k`` stores ``iter_num = k`` and
``init_from=resume`` continues with iteration ``k + 1``.

Distributed data parallel runs are started with torchrun, e.g.::

    torchrun --standalone --nproc_per_node=2 train.py config/train_shakespeare_char.py
"""

from __future__ import annotations

import ast
import contextlib
import math
import os
import pickle
import sys
import time
import types
from pathlib import Path
from typing import Any, TextIO

import numpy as np

# torch (and model.py, which needs it) is imported lazily inside train() so that
# config errors, --help and missing-data errors are reported in well under a second.

PROG = "train.py"
HERE = Path(__file__).resolve().parent
CKPT_NAME = "ckpt.pt"
LOG_NAME = "train_log.txt"


DEFAULTS: dict[str, Any] = {
    # I/O
    "log_dir": "logs",  # ckpt.pt and train_log.txt go here (relative to the cwd)
    "eval_interval": 250,
    "log_interval": 10,
    "eval_iters": 200,
    "always_save_checkpoint": True,  # save at every eval, not only on improvement
    "init_from": "scratch",  # 'scratch' or 'resume' (from log_dir/ckpt.pt)
    # logging (no network available: accepted for compatibility, ignored)
    "wandb_log": False,
    "wandb_project": "nanogpt",
    "wandb_run_name": "run",
    # data
    "dataset": "shakespeare_char",  # data/<dataset>/{train,val}.bin, meta.pkl
    "gradient_accumulation_steps": 1,
    "batch_size": 12,
    "block_size": 256,
    # model
    "n_layer": 6,
    "n_head": 6,
    "n_embd": 384,
    "dropout": 0.0,
    "bias": False,
    # AdamW
    "learning_rate": 6e-4,
    "max_iters": 5000,
    "weight_decay": 0.1,
    "beta1": 0.9,
    "beta2": 0.95,
    "grad_clip": 1.0,  # clip gradient norm at this value; 0.0 disables
    # learning-rate schedule: linear warmup then cosine decay to min_lr
    "decay_lr": True,
    "warmup_iters": 100,
    "lr_decay_iters": 5000,
    "min_lr": 6e-5,
    # system
    "device": "auto",  # 'auto' (cuda if available, else cpu), 'cpu', 'cuda', 'cuda:1'
    "dtype": "auto",  # 'auto' (float32 on cpu; bfloat16, else float16, on cuda),
    #                   'float32', 'bfloat16' or 'float16'
    "compile": False,  # use torch.compile when available
    "seed": 1337,
}

CHOICES: dict[str, tuple[str, ...]] = {
    "init_from": ("scratch", "resume"),
    "dtype": ("auto", "float32", "bfloat16", "float16"),
}
POSITIVE_INTS = (
    "eval_interval",
    "log_interval",
    "eval_iters",
    "gradient_accumulation_steps",
    "batch_size",
    "block_size",
    "n_layer",
    "n_head",
    "n_embd",
)
MODEL_KEYS = ("n_layer", "n_head", "n_embd", "block_size", "bias")


class ConfigError(Exception):
    """Invalid configuration; reported as one line on stderr with exit status 2."""


class SetupError(Exception):
    """Missing data or checkpoint; reported on stderr with exit status 1."""


# --------------------------------------------------------------------------- config


def _check_known(key: str) -> None:
    if key not in DEFAULTS:
        known = ", ".join(sorted(DEFAULTS))
        raise ConfigError(f"unknown config key '{key}' (known: {known})")


def _coerce(key: str, value: Any, shown: Any) -> Any:
    """Check ``value`` against the type of ``DEFAULTS[key]``; ``shown`` is for errors."""
    expected = type(DEFAULTS[key])
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if expected is float and is_int:
        value = float(value)
    if expected is int:
        ok = is_int
    else:
        ok = isinstance(value, expected)
    if not ok:
        raise ConfigError(f"config key '{key}' expects {expected.__name__}, got {shown!r}")
    return value


def _parse_flag_value(key: str, raw: str) -> Any:
    """Parse a command-line value with ``ast.literal_eval``, falling back to ``raw``."""
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        value = raw
    if isinstance(DEFAULTS[key], str) and not isinstance(value, str):
        value = raw  # e.g. --log_dir=2024 is the directory '2024'
    return value


def _read_config_file(arg: str) -> dict[str, Any]:
    path = Path(arg)
    if not path.exists() and not path.is_absolute() and (HERE / path).exists():
        path = HERE / path  # allow config/... relative to the example folder
    try:
        source = path.read_text(encoding="utf-8")
        namespace: dict[str, Any] = {}
        exec(compile(source, str(path), "exec"), namespace)
    except OSError as e:
        raise ConfigError(f"cannot read config file '{arg}': {e.strerror}") from e
    except Exception as e:  # any error in user config is a config error
        raise ConfigError(f"error in config file '{arg}': {e!r}") from e
    return {
        k: v for k, v in namespace.items() if not k.startswith("_") and not isinstance(v, types.ModuleType)
    }


def usage() -> str:
    """Return a help text listing every config key with its default."""
    lines = [f"usage: {PROG} [config.py ...] [--key=value ...]", "", "keys:"]
    lines += [f"  --{k}={v!r}" for k, v in DEFAULTS.items()]
    return "\n".join(lines)


def load_config(argv: list[str]) -> dict[str, Any]:
    """Build the run configuration from defaults, config files and ``--key=value``.

    Raises ``ConfigError`` for unknown keys, type mismatches and invalid values.
    """
    cfg = dict(DEFAULTS)
    files = [a for a in argv if not a.startswith("--")]
    flags = [a for a in argv if a.startswith("--")]
    for arg in files:
        for key, value in _read_config_file(arg).items():
            _check_known(key)
            cfg[key] = _coerce(key, value, value)
    for arg in flags:
        if "=" not in arg:
            raise ConfigError(f"expected --key=value, got '{arg}'")
        key, raw = arg[2:].split("=", 1)
        _check_known(key)
        cfg[key] = _coerce(key, _parse_flag_value(key, raw), raw)

    for key, allowed in CHOICES.items():
        if cfg[key] not in allowed:
            raise ConfigError(f"config key '{key}' must be one of {', '.join(allowed)}, got {cfg[key]!r}")
    for key in POSITIVE_INTS:
        if cfg[key] < 1:
            raise ConfigError(f"config key '{key}' must be >= 1, got {cfg[key]!r}")
    if cfg["max_iters"] < 0:
        raise ConfigError(f"config key 'max_iters' must be >= 0, got {cfg['max_iters']}")
    if cfg["n_embd"] % cfg["n_head"]:
        raise ConfigError(f"n_embd ({cfg['n_embd']}) must be divisible by n_head ({cfg['n_head']})")
    return cfg


# ----------------------------------------------------------------------- helpers


def get_lr(it: int, cfg: dict[str, Any]) -> float:
    """Learning rate for iteration ``it``: linear warmup, cosine decay, then floor."""
    if not cfg["decay_lr"]:
        return cfg["learning_rate"]
    lr, min_lr = cfg["learning_rate"], cfg["min_lr"]
    warmup, decay_iters = cfg["warmup_iters"], cfg["lr_decay_iters"]
    if it < warmup:
        return lr * (it + 1) / (warmup + 1)
    if it >= decay_iters:
        return min_lr
    ratio = (it - warmup) / max(1, decay_iters - warmup)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (lr - min_lr)


def save_checkpoint(obj: dict[str, Any], path: Path) -> None:
    """Write ``obj`` to ``path`` atomically (temporary file, fsync, ``os.replace``)."""
    import torch

    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        torch.save(obj, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class Logger:
    """Print flushed lines to stdout and append them to ``train_log.txt`` (rank 0)."""

    def __init__(self, log_dir: Path | None) -> None:
        self.file: TextIO | None = None
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
            self.file = open(log_dir / LOG_NAME, "a", encoding="utf-8")

    def __call__(self, msg: str) -> None:
        """Emit ``msg`` (no-op on non-zero ranks)."""
        if self.file is None:
            return
        print(msg, flush=True)
        self.file.write(msg + "\n")
        self.file.flush()

    def close(self) -> None:
        """Close the log file."""
        if self.file is not None:
            self.file.close()
            self.file = None


def _cpu_count() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


# -------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    """Run training; returns the process exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if any(a in ("-h", "--help") for a in argv):
        print(usage())
        return 0
    try:
        cfg = load_config(argv)
    except ConfigError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2
    try:
        return train(cfg)
    except SetupError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 1


def train(cfg: dict[str, Any]) -> int:
    """Set up data, model, optimizer and (optionally) DDP, then run the loop."""
    # ---- data (checked before any process-group setup so errors exit quickly)
    data_dir = HERE / "data" / cfg["dataset"]
    bins = {split: data_dir / f"{split}.bin" for split in ("train", "val")}
    meta_path = data_dir / "meta.pkl"
    missing = [p for p in (*bins.values(), meta_path) if not p.exists()]
    if missing:
        raise SetupError(
            f"dataset '{cfg['dataset']}' is not prepared (missing "
            f"{', '.join(str(p.relative_to(HERE)) for p in missing)}); run "
            f"`python data/{cfg['dataset']}/prepare.py` first"
        )
    with open(meta_path, "rb") as f:
        vocab_size = int(pickle.load(f)["vocab_size"])
    block_size = cfg["block_size"]
    for path in bins.values():
        n_tokens = path.stat().st_size // np.dtype(np.uint16).itemsize
        if n_tokens <= block_size:
            raise SetupError(f"{path} has {n_tokens} tokens, need > block_size")

    import torch
    import torch.distributed as dist

    device = cfg["device"]
    if device == "auto":
        device = cfg["device"] = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        print(f"{PROG}: device '{device}' requested but CUDA is not available", file=sys.stderr)
        return 2
    if cfg["dtype"] == "auto":
        if not device.startswith("cuda"):
            cfg["dtype"] = "float32"
        else:
            cfg["dtype"] = "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    ckpt_path = Path(cfg["log_dir"]) / CKPT_NAME
    if cfg["init_from"] == "resume" and not ckpt_path.exists():
        raise SetupError(
            f"init_from=resume but {ckpt_path} does not exist; train with init_from=scratch first"
        )

    # ---- distributed setup
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    ddp = world_size > 1
    rank = int(os.environ.get("RANK", "0")) if ddp else 0
    local_rank = int(os.environ.get("LOCAL_RANK", "0")) if ddp else 0
    master = rank == 0
    gas = cfg["gradient_accumulation_steps"]
    if ddp:
        if device.startswith("cuda"):
            device = f"cuda:{local_rank}"
            torch.cuda.set_device(device)
            backend = "nccl"
        else:
            torch.set_num_threads(max(1, _cpu_count() // world_size))
            backend = "gloo"
        dist.init_process_group(backend=backend)
        # Each rank does gas // world_size micro-steps (at least one).
        gas = max(1, gas // world_size)

    log = Logger(Path(cfg["log_dir"]) if master else None)
    try:
        status = _run(cfg, log, device, ddp, rank, local_rank, world_size, gas, vocab_size, bins, ckpt_path)
        if ddp:
            dist.barrier()  # let rank 0 finish its final eval/checkpoint first
        return status
    finally:
        log.close()
        if ddp:
            dist.destroy_process_group()


def _run(
    cfg: dict[str, Any],
    log: Logger,
    device: str,
    ddp: bool,
    rank: int,
    local_rank: int,
    world_size: int,
    gas: int,
    vocab_size: int,
    bins: dict[str, Path],
    ckpt_path: Path,
) -> int:
    import torch
    from model import GPT, GPTConfig

    master = rank == 0
    seed = cfg["seed"]
    torch.manual_seed(seed + rank)
    device_type = "cuda" if device.startswith("cuda") else "cpu"
    if device_type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    pt_dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[cfg["dtype"]]
    autocast = (
        contextlib.nullcontext()
        if pt_dtype == torch.float32
        else torch.autocast(device_type=device_type, dtype=pt_dtype)
    )
    if cfg["wandb_log"]:
        log("note: wandb_log=True is ignored (no network access; wandb is not used)")
    if ddp:
        log(
            f"DDP: world_size={world_size}, backend="
            f"{'nccl' if device_type == 'cuda' else 'gloo'}, "
            f"gradient_accumulation_steps per rank={gas}"
        )

    # ---- model / optimizer
    model_args: dict[str, Any] = {k: cfg[k] for k in MODEL_KEYS}
    model_args["vocab_size"] = vocab_size
    iter_num, best_val_loss = -1, float("inf")  # -1: nothing finished yet
    checkpoint = None
    if cfg["init_from"] == "resume":
        checkpoint = torch.load(ckpt_path, map_location=device, weights_only=True)
        for k, v in checkpoint["model_args"].items():
            if k in model_args and model_args[k] != v:
                log(f"note: using {k}={v!r} from the checkpoint (config says {model_args[k]!r})")
            model_args[k] = v
            if k in cfg:
                cfg[k] = v
        iter_num = int(checkpoint["iter_num"])
        best_val_loss = float(checkpoint["best_val_loss"])
        log(f"resuming from iteration {iter_num} ({ckpt_path})")
        if iter_num >= cfg["max_iters"]:
            log(
                f"max_iters={cfg['max_iters']} already reached "
                f"(checkpoint is at iteration {iter_num}); nothing to do"
            )
            return 0
    model = GPT(GPTConfig(dropout=cfg["dropout"], **model_args))
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
    model.to(device)
    block_size, batch_size = model.config.block_size, cfg["batch_size"]
    log(f"number of parameters: {model.num_params() / 1e6:.2f}M")
    log(f"tokens per iteration: {gas * world_size * batch_size * block_size:,}")

    optimizer = model.configure_optimizer(
        cfg["weight_decay"],
        cfg["learning_rate"],
        (cfg["beta1"], cfg["beta2"]),
        device_type,
    )
    scaler = torch.amp.GradScaler(device_type, enabled=pt_dtype == torch.float16)
    if checkpoint is not None:
        optimizer.load_state_dict(checkpoint["optimizer"])
        if checkpoint.get("scaler"):
            scaler.load_state_dict(checkpoint["scaler"])
    checkpoint = None  # free memory

    train_model: torch.nn.Module = model
    if cfg["compile"]:
        if hasattr(torch, "compile"):
            log("compiling the model with torch.compile")
            train_model = torch.compile(model)
        else:
            log("note: torch.compile is not available; running eagerly")
    if ddp:
        from torch.nn.parallel import DistributedDataParallel as DDP

        train_model = DDP(train_model, device_ids=[local_rank] if device_type == "cuda" else None)

    # ---- data
    offsets = np.arange(block_size + 1)

    def get_batch(split: str, rng: np.random.Generator) -> tuple[torch.Tensor, ...]:
        # Re-open the memmap each call: a long-lived memmap keeps growing RSS.
        data = np.memmap(bins[split], dtype=np.uint16, mode="r")
        ix = rng.integers(0, len(data) - block_size, size=batch_size)
        chunk = torch.from_numpy(data[ix[:, None] + offsets].astype(np.int64))
        x, y = chunk[:, :-1].contiguous(), chunk[:, 1:].contiguous()
        if device_type == "cuda":
            x = x.pin_memory().to(device, non_blocking=True)
            y = y.pin_memory().to(device, non_blocking=True)
        else:
            x, y = x.to(device), y.to(device)
        return x, y

    @torch.no_grad()
    def estimate_loss() -> dict[str, float]:
        # Fixed evaluation batches (same every eval) make val losses comparable.
        out = {}
        model.eval()
        for i, split in enumerate(("train", "val")):
            rng = np.random.default_rng((seed, 1_000_003, i))
            losses = torch.zeros(cfg["eval_iters"])
            for k in range(cfg["eval_iters"]):
                x, y = get_batch(split, rng)
                with autocast:
                    _, loss = model(x, y)
                losses[k] = loss.item()
            out[split] = losses.mean().item()
        model.train()
        return out

    def checkpoint_state(it: int) -> dict[str, Any]:
        return {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scaler": scaler.state_dict() if scaler.is_enabled() else None,
            "model_args": model_args,
            "iter_num": it,
            "best_val_loss": best_val_loss,
            "config": cfg,
        }

    # ---- training loop: iterations start_iter .. max_iters (inclusive)
    max_iters = cfg["max_iters"]
    start_iter = iter_num + 1
    log(f"starting at iteration {start_iter}")
    model.train()
    t_last = time.perf_counter()
    for it in range(start_iter, max_iters + 1):
        lr = get_lr(it, cfg)
        for group in optimizer.param_groups:
            group["lr"] = lr
        loss_sum = torch.zeros((), device=device)
        for micro in range(gas):
            # Batches depend only on (seed, rank, iteration, micro-step), so a
            # resumed run sees the same data as an uninterrupted one.
            x, y = get_batch("train", np.random.default_rng((seed, rank, it, micro)))
            no_sync = ddp and micro < gas - 1  # all-reduce only on the last micro-step
            with train_model.no_sync() if no_sync else contextlib.nullcontext():
                with autocast:
                    _, loss = train_model(x, y)
                    loss = loss / gas
                scaler.scale(loss).backward()
            loss_sum += loss.detach()
        if cfg["grad_clip"] > 0.0:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["grad_clip"])
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)

        now = time.perf_counter()
        dt, t_last = now - t_last, now
        last = it == max_iters
        if not master:
            continue
        if it % cfg["log_interval"] == 0 or last:
            log(f"iter {it}: loss {loss_sum.item():.4f}, time {dt * 1000:.2f}ms")
        if it % cfg["eval_interval"] == 0 or last:
            losses = estimate_loss()
            log(f"step {it}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")
            improved = losses["val"] < best_val_loss
            best_val_loss = min(best_val_loss, losses["val"])
            if last or improved or cfg["always_save_checkpoint"]:
                save_checkpoint(checkpoint_state(it), ckpt_path)
                log(f"saved checkpoint at iteration {it} to {ckpt_path}")
            t_last = time.perf_counter()  # keep eval time out of the next 'time'
    if master:
        log(f"done: finished iteration {max_iters}, best val loss {best_val_loss:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
