"""Many files through convlearn.images: input collection, output planning, prefetching and batching."""

from pathlib import Path

import numpy as np
import pytest

from convlearn.errors import ImageReadError, InputError
from convlearn.files import Source, collect_inputs, plan_outputs
from convlearn.images import group_batches, prefetch


def test_collect_inputs_files_dirs_globs(tmp_path):
    (tmp_path / "d" / "sub").mkdir(parents=True)
    for name in ["d/b.png", "d/a.png", "d/notes.txt", "d/.hidden.png", "d/sub/c.npy", "e.png"]:
        (tmp_path / name).write_bytes(b"x")
    found = collect_inputs([str(tmp_path / "d")])
    assert [(Path(s.path).name, str(s.name)) for s in found] == [("a.png", "a.png"), ("b.png", "b.png")]
    found = collect_inputs([str(tmp_path / "d")], recursive=True)
    assert [str(s.name) for s in found] == ["a.png", "b.png", "sub/c.npy"]
    found = collect_inputs([str(tmp_path / "d" / "*.png"), str(tmp_path / "e.png"), str(tmp_path / "d" / "a.png")])
    assert [str(s.name) for s in found] == ["a.png", "b.png", "e.png"]  # each once
    found = collect_inputs([str(tmp_path / "**" / "*.npy")], recursive=True)
    assert [str(s.name) for s in found] == ["d/sub/c.npy"]


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        ([], "No input given"),
        (["-", "a.png"], "'-' \\(stdin\\) must be the only input"),
        (["{tmp}/nothing*.png"], "No files match"),
        (["{tmp}"], "No images .* in directory"),
    ],
)
def test_collect_inputs_errors(tmp_path, specs, message):
    with pytest.raises(InputError, match=message):
        collect_inputs([s.format(tmp=tmp_path) for s in specs])


def test_a_missing_file_is_kept_to_fail_on_its_own(tmp_path):
    assert [s.path for s in collect_inputs([str(tmp_path / "gone.png")])] == [str(tmp_path / "gone.png")]


def test_plan_outputs(tmp_path):
    sources = [Source(str(tmp_path / "in" / "a.jpg"), Path("a.jpg")), Source("x/b.png", Path("sub/b.png"))]
    out = plan_outputs(sources, tmp_path / "out", fmt="npy")
    assert out == [str(tmp_path / "out" / "a.npy"), str(tmp_path / "out" / "sub" / "b.npy")]
    assert (tmp_path / "out" / "sub").is_dir()
    one = [Source("a.png", Path("a.png"))]
    assert plan_outputs(one, None, default_tag="sobel-x") == ["a_sobel-x.png"]
    assert plan_outputs(one, None) == [None]
    assert plan_outputs(one, "-") == ["-"]
    assert plan_outputs(one, tmp_path / "y.png") == [str(tmp_path / "y.png")]


@pytest.mark.parametrize(
    ("names", "output", "message"),
    [
        (["a.png", "a.jpg"], "out", "would both be written to"),
        (["a.png", "b.png"], "-", "writes one image to stdout, but there are 2 inputs"),
    ],
)
def test_plan_outputs_refuses(tmp_path, names, output, message):
    sources = [Source(str(tmp_path / n), Path(n)) for n in names]
    target = output if output == "-" else tmp_path / output
    with pytest.raises(InputError, match=message):
        plan_outputs(sources, target)


def test_plan_outputs_refuses_to_overwrite_an_input(tmp_path):
    src = tmp_path / "a.png"
    src.write_bytes(b"x")
    with pytest.raises(InputError, match="is also an input; refusing to overwrite it"):
        plan_outputs([Source(str(src), Path("a.png"))], tmp_path, as_directory=True)
    assert src.read_bytes() == b"x"


def test_prefetch_keeps_order_and_failures():
    def load(s):
        if s.path == "bad":
            raise ImageReadError("bad: broken")
        return s.path.upper()

    sources = [Source(p, Path(p)) for p in ["a", "bad", "c", "d", "e"]]
    got = list(prefetch(sources, load, workers=3, depth=2))
    assert [x.source.path for x in got] == ["a", "bad", "c", "d", "e"]
    assert [x.value for x in got] == ["A", None, "C", "D", "E"]
    assert isinstance(got[1].error, ImageReadError)


def test_group_batches_by_shape_and_size():
    from convlearn.images import Loaded

    items = [
        Loaded(i, Source(str(i), Path(str(i))), np.zeros(shape), err)
        for i, (shape, err) in enumerate(
            [((2, 2), None), ((2, 2), None), ((2, 2), None), ((3, 3), None), ((1, 1), ValueError()), ((3, 3), None)]
        )
    ]
    groups = list(group_batches(items, max_items=2, max_pixels=100, shape_of=np.shape))
    assert [[x.index for x in g] for g in groups] == [[0, 1], [2], [3], [4], [5]]
    groups = list(group_batches(items[:3], max_items=8, max_pixels=8, shape_of=np.shape))
    assert [[x.index for x in g] for g in groups] == [[0, 1], [2]]
