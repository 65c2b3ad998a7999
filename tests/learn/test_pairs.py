"""Training pairs (convlearn.learn.pairs): alignment, clipped-pixel masks, --pairs matching, lazy reading."""

import io

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter

from convlearn.errors import ImageReadError, InputError
from convlearn.learn.pairs import (
    Pair,
    PairFiles,
    align_pair,
    align_target,
    find_pairs,
    informative_mask,
    integer_range,
    read_pair,
)


def png_bytes(levels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(levels).save(buffer, format="PNG")
    return buffer.getvalue()


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def test_integer_range():
    assert integer_range(np.uint8) == (0, 255)
    assert integer_range(np.uint16) == (0, 65535)
    assert integer_range(np.int16) == (-32768, 32767)
    assert integer_range(np.float64) is None and integer_range(np.bool_) is None


def test_mask_of_an_8bit_png():
    levels = np.array([[0, 1, 128], [254, 255, 7]], np.uint8)
    mask, excluded = informative_mask(png_bytes(levels))
    assert mask.tolist() == [[False, True, True], [True, False, True]] and excluded == 2


def test_mask_of_a_16bit_png():
    levels = np.array([[0, 255, 65535, 40000]], np.uint16)  # 255 is an ordinary level in 16 bits
    mask, excluded = informative_mask(png_bytes(levels))
    assert mask.tolist() == [[False, True, False, True]] and excluded == 2


def test_mask_of_a_colour_png_drops_a_pixel_clipped_in_any_channel():
    rgb = np.array([[[10, 20, 30], [10, 255, 30], [0, 20, 30]]], np.uint8)
    mask, excluded = informative_mask(png_bytes(rgb))
    assert mask.tolist() == [[True, False, False]] and excluded == 2


def test_mask_of_npy_arrays():
    assert informative_mask(npy_bytes(np.array([[-128, 0, 127]], np.int8)))[0].tolist() == [[False, True, False]]
    assert informative_mask(npy_bytes(np.array([[0.0, 1.0]], np.float32))) == (None, 0)


def test_float_tiff_has_no_mask():
    buffer = io.BytesIO()
    Image.fromarray(np.array([[0.0, 1.0]], np.float32)).save(buffer, format="TIFF")
    assert informative_mask(buffer.getvalue()) == (None, 0)


def test_read_pair_masks_a_clipped_target(tmp_path):
    image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (20, 24), dtype=np.uint8))
    image.save(tmp_path / "x.png")
    image.filter(ImageFilter.FIND_EDGES).save(tmp_path / "y.png")
    levels = np.asarray(Image.open(tmp_path / "y.png"))
    pair = read_pair(tmp_path / "x.png", tmp_path / "y.png")
    assert pair.input.shape == pair.target.shape == (20, 24) and pair.input.dtype == torch.float64
    assert torch.equal(pair.mask, torch.from_numpy((levels > 0) & (levels < 255)))
    assert pair.input_name == str(tmp_path / "x.png") and pair.target_name == str(tmp_path / "y.png")
    assert read_pair(tmp_path / "x.png", tmp_path / "y.png", keep_saturated=True).mask is None


def test_read_pair_without_clipped_pixels_has_no_mask(tmp_path):
    np.save(tmp_path / "x.npy", np.ones((4, 5), np.float32))
    Image.fromarray(np.full((4, 5), 9, np.uint8)).save(tmp_path / "y.png")
    assert read_pair(tmp_path / "x.npy", tmp_path / "y.png").mask is None


def test_a_fully_clipped_target_is_refused(tmp_path):
    np.save(tmp_path / "x.npy", np.ones((4, 5), np.float32))
    Image.fromarray(np.full((4, 5), 255, np.uint8)).save(tmp_path / "y.png")
    with pytest.raises(InputError, match="Every pixel of .* is at its type's minimum or maximum.*--keep-saturated"):
        read_pair(tmp_path / "x.npy", tmp_path / "y.png")


def test_read_pair_missing_file(tmp_path):
    with pytest.raises(ImageReadError, match="does not exist"):
        read_pair(tmp_path / "x.png", tmp_path / "y.png")


def test_align_pair_cuts_target_and_mask_alike():
    X = torch.zeros(5, 6)
    Y = torch.arange(30.0).reshape(5, 6)
    mask = Y.remainder(2) == 0
    aligned = align_pair(Pair(X, Y, mask=mask), (3, 3))
    assert torch.equal(aligned.target, Y[1:4, 1:5]) and torch.equal(aligned.mask, mask[1:4, 1:5])


def make_dir(root, inputs, targets):
    for side, names in (("inputs", inputs), ("targets", targets)):
        (root / side).mkdir(parents=True)
        for name in names:
            if name.endswith(".npy"):
                np.save(root / side / name, np.full((3, 3), 0.5, np.float32))
            else:
                Image.new("L", (3, 3), 9).save(root / side / name)


def test_find_pairs_matches_names_without_suffix(tmp_path):
    make_dir(tmp_path, ["b.png", "a.png", ".hidden.png"], ["a.npy", "b.png"])
    (tmp_path / "inputs" / "sub").mkdir()
    found = find_pairs(tmp_path)
    assert [(x.name, y.name) for x, y in found] == [("a.png", "a.npy"), ("b.png", "b.png")]


def test_find_pairs_errors(tmp_path):
    with pytest.raises(InputError, match="is not a directory"):
        find_pairs(tmp_path / "none")
    (tmp_path / "inputs").mkdir()
    with pytest.raises(InputError, match="has no targets/ folder"):
        find_pairs(tmp_path)


def test_find_pairs_names_a_file_without_partner(tmp_path):
    make_dir(tmp_path, ["a.png", "c.png"], ["a.png"])
    with pytest.raises(InputError, match=r"no partner with the same name for inputs/c\.png"):
        find_pairs(tmp_path)


def test_find_pairs_refuses_two_files_with_one_name(tmp_path):
    make_dir(tmp_path, ["a.png", "a.npy"], ["a.png"])
    with pytest.raises(InputError, match="inputs/ holds both 'a.npy' and 'a.png'"):
        find_pairs(tmp_path)


def test_find_pairs_empty(tmp_path):
    make_dir(tmp_path, [], [])
    with pytest.raises(InputError, match="hold no files"):
        find_pairs(tmp_path)


def test_pair_files_read_one_pair_at_a_time(tmp_path, monkeypatch):
    make_dir(tmp_path, ["a.png", "b.png"], ["a.png", "b.png"])
    files = PairFiles(find_pairs(tmp_path))
    calls = []
    import convlearn.learn.pairs

    real = convlearn.learn.pairs.read_pair
    monkeypatch.setattr(convlearn.learn.pairs, "read_pair", lambda *a, **k: calls.append(a) or real(*a, **k))
    iterator = iter(files)
    assert len(files) == 2 and calls == []
    first = next(iterator)
    assert len(calls) == 1 and first.input_name.endswith("a.png")
    assert [p.target_name for p in files[0:2]] == [str(tmp_path / "targets" / n) for n in ("a.png", "b.png")]


def test_same_size_target_aligned_like_opencv():
    X = torch.arange(20.0).reshape(4, 5)
    Y = torch.zeros(4, 5)
    assert align_target(X, Y, (3, 3)).shape == (2, 3)
    Y[1:3, 1:4] = 7
    assert torch.equal(align_target(X, Y, (3, 3)), torch.full((2, 3), 7.0))


def test_mismatched_target():
    with pytest.raises(InputError, match="a target must have the input's size or the valid size 3x4"):
        align_target(torch.zeros(4, 5), torch.zeros(3, 3), (2, 2))
