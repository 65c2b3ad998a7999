"""docs/architecture.md's claims that a program can check, checked on the source.

- The CLI keeps no choice list of its own: every ``Literal[...]`` under convlearn/cli is built from a
  tuple that a library module defines, never from string literals.
- ``convlearn --help`` and ``convlearn CMD --help`` import no module that imports torch.
- Data flows one way: no module outside convlearn/cli imports convlearn.cli.
- Rooms stay livable: no module over 400 lines, and no import cycle between packages.
- The floors drawn in docs/architecture.md hold every package, and every import goes down a floor.
- Every settings module (``*/config.py``) is named in the doc and imports no torch when imported alone; the
  packages the doc calls torch-free import none; convlearn/files imports nothing from convlearn.images.
- Every path, module and name the doc writes in backticks exists.

Imports are read from the syntax tree, function-level (lazy) imports included, so a cycle hidden
inside a function counts as one.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "convlearn"
MODULES = sorted(PACKAGE.rglob("*.py"))
CLI = PACKAGE / "cli"
MAX_MODULE_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


NAMES = {module_name(p) for p in MODULES}


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


def imported(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for every import in a module, at any depth, relative imports resolved."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            for alias in node.names:  # `from convlearn import edges` imports the module convlearn.edges
                named = f"{module}.{alias.name}"
                yield node.lineno, named if named in NAMES else module


def test_the_walk_sees_the_whole_package():
    assert {"convlearn", "convlearn.cli.app", "convlearn.detect.config", "convlearn.errors"} <= NAMES
    assert len(MODULES) > 40, len(MODULES)


# (1) The CLI reads the library's choices.


def _is_literal(node: ast.expr) -> bool:
    return (isinstance(node, ast.Name) and node.id == "Literal") or (
        isinstance(node, ast.Attribute) and node.attr == "Literal"
    )


def _library_names(tree: ast.Module) -> dict[str, str]:
    """Names this module imports from convlearn modules outside convlearn.cli: name -> module."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            inside = node.module == "convlearn" or node.module.startswith("convlearn.")
            if inside and not node.module.startswith("convlearn.cli"):
                for alias in node.names:
                    found[alias.asname or alias.name] = node.module
    return found


def literal_choices_of_its_own(path: Path) -> list[str]:
    """Every ``Literal[...]`` in a module that is not one tuple imported from the library, as 'file:line: text'."""
    tree = ast.parse(path.read_text(), str(path))
    library = _library_names(tree)
    bad = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Subscript) and _is_literal(node.value)):
            continue
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        items = [i.value if isinstance(i, ast.Starred) else i for i in items]
        # A name imported from the library, or an attribute of a library module (config.MODES).
        ok = all(
            (isinstance(i, ast.Name) and i.id in library)
            or (isinstance(i, ast.Attribute) and isinstance(i.value, ast.Name) and i.value.id in library)
            for i in items
        )
        if not ok:
            bad.append(f"{shown(path)}:{node.lineno}: {ast.unparse(node)}")
    return bad


def test_the_choice_check_tells_a_copy_from_the_library(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from typing import Literal\n"
        "from convlearn.detect.config import MODES\n"
        "from convlearn.cli.options import BORDERS\n"
        "A = Literal[MODES]\n"
        "B = Literal['valid', 'same']\n"
        "C = Literal[BORDERS]\n"
        "D = Literal[MODES, 'x']\n"
    )
    bad = literal_choices_of_its_own(sample)
    assert [line.split(": ", 1)[1] for line in bad] == [
        "Literal['valid', 'same']",
        "Literal[BORDERS]",
        "Literal[MODES, 'x']",
    ]


def test_the_cli_defines_no_choice_list_of_its_own():
    """Each choice list lives once, in the library's torch-free settings; the CLI imports it."""
    own = [line for path in sorted(CLI.rglob("*.py")) for line in literal_choices_of_its_own(path)]
    assert own == [], "choice lists spelled out in the CLI:\n" + "\n".join(own)


# (2) --help stays torch-free.

HELP_PROBE = """
import contextlib, io, json, sys
from convlearn.cli import app
import typer
commands = sorted(typer.main.get_command(app).commands)
for args in [["--help"], *[[c, "--help"] for c in commands]]:
    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()) as out:
        app(args, prog_name="convlearn")
    assert "Usage: convlearn" in out.getvalue(), (args, out.getvalue())
loaded = sorted(m for m in sys.modules if m == "convlearn" or m.startswith("convlearn."))
print(json.dumps({"commands": commands, "torch": [m for m in sys.modules if m.split(".")[0] == "torch"],
                  "convlearn": loaded}))
"""


def test_no_module_that_help_imports_imports_torch():
    """`convlearn --help`, then every `convlearn CMD --help`, in one fresh interpreter: torch never loads."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", HELP_PROBE], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.splitlines()[-1])
    assert {"detect", "learn", "synth", "kernels", "export"} <= set(seen["commands"]), seen["commands"]
    assert seen["torch"] == [], f"torch loaded by --help; convlearn modules loaded: {seen['convlearn']}"


# (3) Data flows one way.


def test_no_module_below_the_cli_imports_it():
    """Only convlearn/cli itself and the `python -m convlearn` entry point may import convlearn.cli."""
    upward = []
    for path in MODULES:
        if path.is_relative_to(CLI) or path == PACKAGE / "__main__.py":
            continue
        for line, module in imported(path):
            if module == "convlearn.cli" or module.startswith("convlearn.cli."):
                upward.append(f"{path.relative_to(ROOT)}:{line}: imports {module}")
    assert upward == [], "\n".join(upward)


# (4) Sizes and cycles.


def test_no_module_is_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in MODULES if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert long == {}, long


def room(module: str) -> str | None:
    """The package (or top-level module) of a convlearn module: convlearn.learn.fit -> convlearn.learn."""
    parts = module.split(".")
    if parts[0] != "convlearn":
        return None
    return ".".join(parts[:2])


def package_graph() -> dict[str, set[str]]:
    """Package -> the packages its modules import (the root's lazy table of exports included)."""
    rooms = {room(module_name(p)) for p in MODULES}
    graph: dict[str, set[str]] = {r: set() for r in rooms}
    for path in MODULES:
        source = room(module_name(path))
        targets = [m for _, m in imported(path)]
        if path == PACKAGE / "__init__.py":  # `convlearn.corr2d` and the like load on first use, by name
            tree = ast.parse(path.read_text())
            targets += [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
        for target in map(room, targets):
            if target in graph and target != source:
                graph[source].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle in a directed graph, as the list of its nodes (first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_import_cycle_between_packages():
    graph = package_graph()
    assert {"convlearn.cli", "convlearn.corr", "convlearn.learn"} <= set(graph)
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


# (5) docs/architecture.md: its floors, its torch-free modules, its names.
