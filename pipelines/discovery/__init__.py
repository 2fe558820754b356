"""Reading the examples tree: `example.yaml` files, the repository package an example needs, and the
presets derived from its own shell scripts. Pure: no AWS, no SDK."""

from pipelines.discovery.derive import Derived, derive_presets
from pipelines.discovery.shipping import shipped_files
from pipelines.discovery.tree import Tree, Unreadable, find_example, read_tree

__all__ = ["Derived", "Tree", "Unreadable", "derive_presets", "find_example", "read_tree", "shipped_files"]
