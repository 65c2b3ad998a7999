"""No silent option in ``detect``: every pair of options is refused with its fix, or each option of it shows.

The table below says, for each option, the value tried, and for each pair that
must be refused, a fragment of the fix its message names. Every other pair must
run, and its files must differ from those of each option alone (an option that
changed nothing would be ignored in silence) -- unless one option implies the
other (``--border`` implies ``--mode same``), when they may be the same.
docs/commands.md ("Options that go together") says the same in words.
"""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convlearn.detect import run_detect
from convlearn.errors import InputError

#: Each option, as run_detect takes it, with a value other than its default.
OPTIONS = {
    "mode": {"mode": "same"},
    "border": {"border": "reflect"},
    "kernel": {"kernel": "sobel-y"},
    "magnitude": {"magnitude": True},
    "angle": {"angle": "ANGLE"},
    "threshold": {"threshold": "0.1"},
    "canny": {"canny": "0.02,0.1"},
    "sigma": {"sigma": 2.0},
    "channels": {"channels": "each"},
    "scale": {"scale": "abs"},
    "bit_depth": {"bit_depth": 16},
    "png_compression": {"png_compression": 9},
    "format": {"fmt": "npy"},
}

#: An option refused on its own, and the fix its message names.
ALONE_REFUSED = {"angle": "add --magnitude or --canny", "sigma": "add --canny"}
#: Pairs that give a refused option what it needs.
COMPLETES = {frozenset(p) for p in [("angle", "magnitude"), ("angle", "canny"), ("sigma", "canny")]}
#: Pairs refused, and the fix the message names.
PAIR_REFUSED = {
    frozenset(k): fix
    for k, fix in [
        (("canny", "mode"), "drop --mode and --border"),
        (("canny", "border"), "drop --mode and --border"),
        (("canny", "kernel"), "drop --kernel"),
        (("canny", "magnitude"), "drop --magnitude"),
        (("canny", "threshold"), "drop --threshold"),
        (("canny", "scale"), "drop --scale"),
        (("threshold", "scale"), "drop --scale"),
        (("channels", "bit_depth"), "with --channels each write .npy or 8-bit .png"),
        (("format", "scale"), "drop --scale"),
        (("format", "bit_depth"), "drop --bit-depth"),
        (("format", "png_compression"), "drop --png-compression"),
    ]
}
#: An option that implies another: alone it already does what the pair does.
IMPLIES = {"border": "mode"}


def expected(names: frozenset[str]) -> str | None:
    """The fix a refusal of these options names, or None when they must run."""
    if names in PAIR_REFUSED:
        return PAIR_REFUSED[names]
    if names in COMPLETES:
        return None
    return next((ALONE_REFUSED[n] for n in sorted(names) if n in ALONE_REFUSED), None)


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> Path:
    rng = np.random.default_rng(23)
    path = tmp_path_factory.mktemp("in") / "noise.png"
    Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(path)
    return path


def run(image: Path, where: Path, names: tuple[str, ...]) -> dict[str, bytes]:
    """run_detect with these options on ``image``; every file it wrote, by name."""
    out, angles = where / "out", where / "angle"
    out.mkdir(parents=True)
    angles.mkdir()
    settings = {}
    for name in names:
        settings.update(OPTIONS[name])
    if settings.get("angle") == "ANGLE":
        settings["angle"] = str(angles / "angle.npy")
    run_detect(inputs=[str(image)], output=str(out) + "/", **settings)
    return {str(p.relative_to(where)): p.read_bytes() for p in sorted(where.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def alone(image, tmp_path_factory) -> dict[str, dict[str, bytes] | None]:
    """Each option's files on its own (None when it is refused alone)."""
    files = {}
    for name in OPTIONS:
        try:
            files[name] = run(image, tmp_path_factory.mktemp(name), (name,))
        except InputError:
            files[name] = None
    return files


def test_each_option_alone_runs_or_names_its_fix(image, tmp_path):
    for name in OPTIONS:
        fix = ALONE_REFUSED.get(name)
        if fix is None:
            run(image, tmp_path / name, (name,))
        else:
            with pytest.raises(InputError, match=fix):
                run(image, tmp_path / name, (name,))


@pytest.mark.parametrize("pair", list(itertools.combinations(OPTIONS, 2)), ids="+".join)
def test_every_pair_is_refused_with_its_fix_or_shows_both(pair, image, alone, tmp_path):
    fix = expected(frozenset(pair))
    if fix is not None:
        with pytest.raises(InputError) as caught:
            run(image, tmp_path, pair)
        assert fix in str(caught.value)
        return
    both = run(image, tmp_path, pair)
    for one, other in (pair, pair[::-1]):
        if alone[one] is None or IMPLIES.get(one) == other:
            continue  # refused alone, or it already implies the other
        assert both != alone[one], f"{other} changed nothing next to {one}"


def test_a_border_implies_same_and_an_explicit_valid_is_refused(image, tmp_path):
    files = run(image, tmp_path / "a", ("border",))
    values = [v for k, v in files.items() if k.endswith(".png")]
    assert Image.open(io.BytesIO(values[0])).size == (16, 16)  # the input's size: --mode same
    with pytest.raises(InputError, match="--mode valid uses no border: drop one of them"):
        run_detect(inputs=[str(image)], output=str(tmp_path / "b.png"), mode="valid", border="reflect")


@pytest.mark.parametrize("binary", ["threshold", "canny"])
@pytest.mark.parametrize("scale", ["clip", "abs", "minmax"])
def test_a_scale_that_maps_0_and_1_as_auto_does_is_refused_on_a_binary_map(binary, scale, image, tmp_path):
    settings = {**OPTIONS[binary], "scale": scale}
    with pytest.raises(InputError, match=f"--{binary} writes 0 and 1, which --scale {scale} maps .* drop --scale"):
        run_detect(inputs=[str(image)], output=str(tmp_path / "out.png"), **settings)
