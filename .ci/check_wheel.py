"""Check an installed convlearn wheel (run by `make wheel-check` in a clean venv, outside the source tree).

Every module of the source tree is in it, the console script is declared and installed, and the
package imports (``import convlearn`` needs no dependency until a function is used).
"""

import importlib.metadata as metadata
import sys
from pathlib import Path

import convlearn

source = Path(__file__).resolve().parents[1] / "convlearn"
installed = Path(convlearn.__file__).parent
assert installed != source, f"imported the source tree, not the wheel: {installed}"
wanted = {p.relative_to(source.parent).as_posix() for p in source.rglob("*.py")}
files = {str(f) for f in metadata.files("convlearn") or []}
missing = sorted(wanted - files)
assert not missing, f"missing from the wheel: {missing}"
scripts = {e.name: e.value for e in metadata.entry_points(group="console_scripts")}
assert scripts.get("convlearn") == "convlearn.cli:main", scripts
assert (Path(sys.executable).parent / "convlearn").exists(), "no convlearn script in the venv's bin"
print(f"wheel OK: convlearn {convlearn.__version__}, {len(wanted)} modules, console script convlearn")
