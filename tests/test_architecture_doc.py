"""docs/architecture.md's claims that can be checked: its floors, settings modules, names and package table."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys

from test_architecture import MODULES, NAMES, PACKAGE, ROOT, imported, module_name, package_graph, room, shown

DOC = ROOT / "docs" / "architecture.md"
#: Outside names the doc writes in backticks: not convlearn's to define.
OUTSIDE = {"F.conv2d", "Literal", "cv2"}


def doc_floors(text: str) -> list[list[str]]:
    """The floors drawn under '## The floors', top floor first, as package names ('errors' for errors.py)."""
    block = re.search(r"^## The floors\n.*?^```\n(.*?)^```", text, re.S | re.M)
    assert block, "docs/architecture.md has no drawing of the floors"
    return [[p.strip() for p in line.split("─")[0].split("·")] for line in block.group(1).splitlines() if line.strip()]


def test_the_floors_parse():
    floors = doc_floors("## The floors\n\n```\ncli   ─ top\na · b ─ mid\nerrors\n```\n")
    assert floors == [["cli"], ["a", "b"], ["errors"]]


def test_the_floors_hold_every_package_and_imports_go_down():
    """Each package imports only packages on floors below its own (none beside it), as the doc draws them."""
    floors = doc_floors(DOC.read_text())
    level = {f"convlearn.{p}": len(floors) - i for i, floor in enumerate(floors) for p in floor}
    graph = package_graph()
    outside = {"convlearn", "convlearn.__main__"}  # the root's lazy table of names, and `python -m convlearn`
    assert set(level) == set(graph) - outside, "floors drawn vs packages in the code"
    upward = [f"{a} -> {b}" for a in level for b in sorted(graph[a]) if b in level and level[b] >= level[a]]
    assert upward == [], "imports that do not go down a floor:\n" + "\n".join(upward)


def _imports_torch(*modules: str) -> list[str]:
    """The torch modules loaded by importing ``modules`` in a fresh interpreter."""
    code = f"import importlib, sys\nfor m in {list(modules)!r}: importlib.import_module(m)\n"
    code += "print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return ast.literal_eval(proc.stdout.splitlines()[-1])


def test_the_torch_probe_sees_torch():
    assert "torch" in _imports_torch("convlearn.corr.table")


def test_every_settings_module_is_named_and_torch_free_alone():
    """The doc names each package's config.py as a torch-free settings module; each imports no torch alone."""
    named = set(re.findall(r"`(\w+)/config\.py`", DOC.read_text()))
    present = {p.parent.name for p in PACKAGE.glob("*/config.py")}
    assert named == present, f"settings modules named in the doc {sorted(named)}, in the code {sorted(present)}"
    loaded = {name: _imports_torch(f"convlearn.{name}.config") for name in sorted(present)}
    assert {name: mods for name, mods in loaded.items() if mods} == {}


TORCH_FREE = ("files", "images", "kernels", "errors")


def test_the_packages_called_torch_free_import_no_torch():
    assert "`files`, `images`,\n`kernels` and `errors.py` import no torch at all" in DOC.read_text()
    modules = sorted(module_name(p) for p in MODULES if room(module_name(p)) in {f"convlearn.{n}" for n in TORCH_FREE})
    assert len(modules) > 15, modules
    assert _imports_torch(*modules) == []


def test_files_imports_nothing_from_images():
    """convlearn/files moves bytes and paths; the codecs (convlearn.images) stand on the floor above."""
    found = [
        f"{shown(path)}:{line}: imports {module}"
        for path in sorted((PACKAGE / "files").rglob("*.py"))
        for line, module in imported(path)
        if module == "convlearn.images" or module.startswith("convlearn.images.")
    ]
    assert found == [], "\n".join(found)


def _defined_names() -> set[str]:
    """Every top-level function, class and assigned name in convlearn."""
    names = set()
    for path in MODULES:
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def _modules_ending(dotted: str) -> list[str]:
    return sorted(m for m in NAMES if m == f"convlearn.{dotted}" or m.endswith(f".{dotted}"))


def _resolves(dotted: str) -> bool:
    """``a.b.c``: a convlearn module ending in a prefix of it (``distributed`` is convlearn.runtime.distributed),
    the rest attributes of it."""
    import importlib

    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        for module in _modules_ending(".".join(parts[:cut])):
            value = importlib.import_module(module)
            try:
                for attr in parts[cut:]:
                    value = getattr(value, attr)
            except AttributeError:
                continue
            return True
    return False


def unknown_backticks(text: str) -> list[str]:
    """Backticked paths under convlearn/ or tests/, modules and names in ``text`` that the code does not have."""
    defined = _defined_names()
    missing = []
    for item in sorted(set(re.findall(r"`([^`\n]+)`", text))):
        if (
            item in OUTSIDE
            or item.startswith(("-", ".", "convlearn ", "import "))
            or re.search(r"[ *:|]", item.split("(")[0])
        ):
            continue  # options, suffixes, command lines, wildcards and specs
        if "/" in item or item.endswith(".py"):
            base = ROOT if item.startswith(("convlearn/", "tests/")) else PACKAGE
            if not (base / item).exists():
                missing.append(item)
            continue
        name = re.match(r"[A-Za-z_][\w.]*", item)
        if name is None:
            missing.append(item)
            continue
        name = name.group(0)
        if "." in name and not _resolves(name):
            missing.append(item)
        elif "." not in name and name not in defined and not _modules_ending(name):
            missing.append(item)
    return missing


def test_the_backtick_check_finds_what_is_missing():
    text = "`corr/table.py` `corr/nothing.py` `lstsq.solve` `lstsq.nothing` `run_batch` `no_such_name` `--flag` `cv2`"
    assert unknown_backticks(text) == ["corr/nothing.py", "lstsq.nothing", "no_such_name"]


def test_every_path_module_and_name_the_doc_names_exists():
    missing = unknown_backticks(DOC.read_text())
    assert missing == [], f"docs/architecture.md names what the code does not have: {missing}"


def test_the_package_table_names_every_module_and_only_those():
    """Each row of the doc's package table names, in its last column, exactly its package's modules."""
    rows = re.findall(r"^\| `(convlearn/[\w/.]+)` \|.*\| ([^|]*) \|$", DOC.read_text(), re.M)
    assert len(rows) >= 10, rows
    assert {r for r, _ in rows} >= {f"convlearn/{p.name}/" for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    missing = [
        f"{package}{name}.py"
        for package, names in rows
        for name in re.findall(r"`(\w+)`", names)
        if not (ROOT / package / f"{name}.py").exists()
    ]
    assert missing == [], missing
    unnamed = [
        f"{package}{path.name}"
        for package, names in rows
        for path in sorted((ROOT / package).glob("*.py"))
        if path.name != "__init__.py" and f"`{path.stem}`" not in names
    ]
    assert unnamed == [], f"modules the doc's package table does not name: {unnamed}"
