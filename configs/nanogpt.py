"""Presets of the bundled `nanogpt` example (and of CVlization's nanogpt, which shares its interface)."""

from configs.preset import Checkpoint, Prepare, Preset

_COMMAND = ("python", "train.py", "config/train_shakespeare_char.py", "--log_dir=logs")
_PREPARE = (
    Prepare(
        command=("python", "data/shakespeare_char/prepare.py"), creates="data/shakespeare_char/train.bin"
    ),
)
# log_dir is the checkpoint folder, so a spot interruption resumes from its ckpt.pt, and it is kept.
_CHECKPOINT = Checkpoint(dir="logs", resume_marker="ckpt.pt", resume_args=("--init_from=resume",))

PRESETS = {
    "smoke": Preset(
        description="Tiny character GPT on the CPU: a few iterations, under a minute on 2 cores",
        command=_COMMAND,
        prepare=_PREPARE,
        hyperparameters={
            "device": "cpu",
            "compile": False,
            "max_iters": 40,
            "eval_interval": 20,
            "eval_iters": 5,
            "log_interval": 5,
            "batch_size": 12,
            "block_size": 64,
            "n_layer": 2,
            "n_head": 2,
            "n_embd": 64,
            "dropout": 0.0,
            "learning_rate": 1e-3,
            "warmup_iters": 5,
            "lr_decay_iters": 40,
            "always_save_checkpoint": True,
            "wandb_log": False,
        },
        checkpoint=_CHECKPOINT,
        keep=("logs",),
        distribution="torchrun",
        instance_type="ml.m5.xlarge",
        max_run_minutes=30,
    ),
    "train": Preset(
        description="The seed runner's run: 6-layer character GPT, 5000 iterations on one A10G, spot",
        command=_COMMAND,
        prepare=_PREPARE,
        hyperparameters={
            "device": "cuda",
            "compile": True,
            "max_iters": 5000,
            "eval_interval": 250,
            "eval_iters": 200,
            "log_interval": 10,
            "batch_size": 64,
            "block_size": 256,
            "n_layer": 6,
            "n_head": 6,
            "n_embd": 384,
            "dropout": 0.2,
            "learning_rate": 1e-3,
            "warmup_iters": 100,
            "lr_decay_iters": 5000,
            "always_save_checkpoint": True,
            "wandb_log": False,
        },
        checkpoint=_CHECKPOINT,
        keep=("logs",),
        distribution="torchrun",
        instance_type="ml.g5.xlarge",
        volume_size_gb=50,
        max_run_minutes=120,
        spot=True,
        max_wait_minutes=240,
    ),
}
