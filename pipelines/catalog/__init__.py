"""The example tree and the presets it offers: discovery of `example.yaml`s, presets derived from their scripts.

`catalog.resolve`, `catalog.all_pairs` and the rest are the offers module's; the shell reader is `catalog.bash`.
"""

from pipelines.catalog.offers import (
    NotOffered,
    Offer,
    Offers,
    Pairs,
    Skipped,
    all_pairs,
    discover,
    offers_of,
    presets_of,
    read,
    resolve,
)
from pipelines.catalog.tree import Unreadable

__all__ = [
    "NotOffered",
    "Offer",
    "Offers",
    "Pairs",
    "Skipped",
    "Unreadable",
    "all_pairs",
    "discover",
    "offers_of",
    "presets_of",
    "read",
    "resolve",
]
