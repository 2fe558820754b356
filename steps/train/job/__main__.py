"""`python3 <this folder> train`: the training image's ENTRYPOINT (and the local runner's command).

Run from a folder, Python puts the folder itself first on `sys.path` and gives this module no package,
so the folder is loaded here as the package `cvl_entry`: its modules then import each other relatively,
and their names (`command`, `outputs`) shadow nothing the job imports.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable

PACKAGE = "cvl_entry"


def _load_main() -> Callable[[list[str] | None], int]:
    folder = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0] or os.curdir) == folder:
        del sys.path[0]
    spec = importlib.util.spec_from_file_location(
        PACKAGE, os.path.join(folder, "__init__.py"), submodule_search_locations=[folder]
    )
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = package
    spec.loader.exec_module(package)
    main: Callable[[list[str] | None], int] = importlib.import_module(PACKAGE + ".entry").main
    return main


if __name__ == "__main__":
    main = importlib.import_module(__package__ + ".entry").main if __package__ else _load_main()
    sys.exit(main(sys.argv[1:]))
