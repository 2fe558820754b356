"""Prepare tiny-shakespeare for character-level language modelling.

Reads ``input.txt`` located next to this script, builds a character vocabulary
and writes, also next to this script:

* ``train.bin`` / ``val.bin``: token ids as raw ``uint16`` arrays (90/10 split)
* ``meta.pkl``: ``{'vocab_size': int, 'itos': dict, 'stoi': dict}``

The script only uses its own directory, so it can be run from anywhere::

    python data/shakespeare_char/prepare.py
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
TRAIN_FRACTION = 0.9


def build_vocab(text: str) -> tuple[dict[str, int], dict[int, str]]:
    """Return ``(stoi, itos)`` mappings for the sorted set of characters in ``text``."""
    chars = sorted(set(text))
    stoi = {ch: i for i, ch in enumerate(chars)}
    itos = dict(enumerate(chars))
    return stoi, itos


def encode(text: str, stoi: dict[str, int]) -> np.ndarray:
    """Encode ``text`` into a ``uint16`` array of token ids."""
    return np.fromiter((stoi[ch] for ch in text), dtype=np.uint16, count=len(text))


def prepare(data_dir: Path = HERE) -> dict[str, int]:
    """Write ``train.bin``, ``val.bin`` and ``meta.pkl`` into ``data_dir``.

    Returns a small summary ``{'chars', 'vocab_size', 'train_tokens', 'val_tokens'}``.
    """
    input_path = data_dir / "input.txt"
    if not input_path.exists():
        raise SystemExit(f"prepare.py: missing {input_path}")
    text = input_path.read_text(encoding="utf-8")

    stoi, itos = build_vocab(text)
    if len(stoi) > np.iinfo(np.uint16).max + 1:
        raise SystemExit("prepare.py: vocabulary does not fit in uint16")

    n_train = int(len(text) * TRAIN_FRACTION)
    train_ids = encode(text[:n_train], stoi)
    val_ids = encode(text[n_train:], stoi)

    train_ids.tofile(data_dir / "train.bin")
    val_ids.tofile(data_dir / "val.bin")
    with open(data_dir / "meta.pkl", "wb") as f:
        pickle.dump({"vocab_size": len(stoi), "itos": itos, "stoi": stoi}, f)

    return {
        "chars": len(text),
        "vocab_size": len(stoi),
        "train_tokens": len(train_ids),
        "val_tokens": len(val_ids),
    }


def main() -> None:
    """Command-line entry point: prepare the dataset and print its sizes."""
    summary = prepare()
    print(f"length of dataset in characters: {summary['chars']:,}")
    print(f"vocab size: {summary['vocab_size']}")
    print(f"train has {summary['train_tokens']:,} tokens")
    print(f"val has {summary['val_tokens']:,} tokens")
    print(f"wrote train.bin, val.bin, meta.pkl to {HERE}")


if __name__ == "__main__":
    main()
