"""Why a `--local` run failed with `ModuleNotFoundError`: the package, and where the image installs it.

A local run uses this machine's Python, not the example's image; a module the image installs may be
missing here. The hint names the module's package and the example's Dockerfile line (or requirements
file line) that installs it, so the user can install the same thing or run on SageMaker.
"""

from __future__ import annotations

import re
from pathlib import Path

_MISSING = re.compile(r"No module named '([A-Za-z0-9_.]+)'")
# Modules whose package is named differently on PyPI (the common ones in CVlization's examples).
_PACKAGE_OF = {
    "cv2": "opencv-python",
    "PIL": "pillow",
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "yaml": "pyyaml",
    "bs4": "beautifulsoup4",
    "dotenv": "python-dotenv",
    "google.protobuf": "protobuf",
    "attr": "attrs",
    "Crypto": "pycryptodome",
    "fitz": "pymupdf",
    "docx": "python-docx",
    "lightning": "lightning",
    "pytorch_lightning": "pytorch-lightning",
    "mmcv": "mmcv",
    "hydra": "hydra-core",
    "jwt": "pyjwt",
    "magic": "python-magic",
    "serial": "pyserial",
    "git": "gitpython",
    "faiss": "faiss-cpu",
    "llama_cpp": "llama-cpp-python",
}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def package_of(module: str) -> str:
    """The PyPI package that provides top-level `module` (its own name when not known otherwise)."""
    top = module.split(".")[0]
    return _PACKAGE_OF.get(module, _PACKAGE_OF.get(top, top))


def _mentions(line: str, package: str) -> bool:
    wanted = _normal(package)
    for word in re.split(r"[\s\"'\\]+", line):
        name = re.split(r"[<>=!~\[;@]", word, maxsplit=1)[0]
        if name and (_normal(name) == wanted or _normal(name).startswith(wanted + "-")):
            return True
    return False


def _shown(line: str) -> str:
    """A Dockerfile line as quoted in a message: without its continuation backslash."""
    return line.strip().removesuffix("\\").strip()


def installing_line(example_path: Path, package: str) -> str | None:
    """`Dockerfile line N: <text>` (or a requirements file's line and the Dockerfile line using it)."""
    dockerfile = example_path / "Dockerfile"
    if not dockerfile.is_file():
        return None
    lines = dockerfile.read_text("utf-8", "replace").splitlines()
    for number, line in enumerate(lines, 1):
        if not line.lstrip().startswith("#") and _mentions(line, package):
            return f"Dockerfile line {number}: {_shown(line)}"
    for number, line in enumerate(lines, 1):
        for requirements in re.findall(r"-r\s+(\S+)", line):
            found = example_path / Path(requirements).name
            if not found.is_file():
                continue
            for inner, text in enumerate(found.read_text("utf-8", "replace").splitlines(), 1):
                if not text.lstrip().startswith("#") and _mentions(text, package):
                    return (
                        f"{found.name} line {inner}: {text.strip()} (installed by Dockerfile line {number})"
                    )
    return None


def explain_missing_module(log_lines: list[str], example_path: Path) -> str | None:
    """One line naming the missing module's package and where the image installs it; None if no module
    is missing in `log_lines`."""
    module = next((match.group(1) for line in reversed(log_lines) if (match := _MISSING.search(line))), None)
    if module is None:
        return None
    top = module.split(".")[0]
    if (example_path / f"{top}.py").is_file() or (example_path / top).is_dir():
        return f"module {module!r} is the example's own, but not importable from the command's working folder"
    package = package_of(module)
    where = installing_line(example_path, package)
    head = f"module {module!r} (package {package}) is not installed in this Python"
    if where:
        return f"{head}; the image installs it at {where}: install it here too, or run on SageMaker"
    return f"{head}, and the example's Dockerfile does not install it by that name: add it to the Dockerfile"
