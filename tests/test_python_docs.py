"""docs/python.md's examples run as written: doctest over the page, from the repository's root."""

from __future__ import annotations

import doctest
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_example_in_docs_python_md_runs(monkeypatch):
    monkeypatch.chdir(ROOT)  # the examples read sample_images/
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    failed, attempted = doctest.testfile(
        str(ROOT / "docs" / "python.md"), module_relative=False, optionflags=flags, verbose=False
    )
    assert attempted > 20, attempted
    assert failed == 0, f"{failed} of {attempted} examples in docs/python.md failed (printed above)"


def test_the_page_is_linked_from_the_readme():
    assert "docs/python.md" in (ROOT / "README.md").read_text()
    assert os.path.exists(ROOT / "docs" / "python.md")
