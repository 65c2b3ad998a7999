"""``convlearn learn`` with no options on pairs other programs made: the noise floor, the verdict, the choices."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "learn"))
from conftest import runner
from wild_data import photo

from convlearn.cli import app

K3 = np.array([[0.05, -0.2, 0.1], [-0.15, 1.3, -0.1], [0.12, -0.22, 0.1]])


def _pair(tmp_path: Path, y: np.ndarray, x: np.ndarray, suffix: str = ".png", **save) -> tuple[Path, Path]:
    inp, target = tmp_path / "in.png", tmp_path / f"target{suffix}"
    Image.fromarray(x).save(inp)
    if suffix == ".npy":
        np.save(target, y)
    else:
        Image.fromarray(y).save(target, **save)
    return inp, target


def _learn(inp: Path, target: Path, out: Path, *extra: str):
    result = runner.invoke(app, ["learn", "-i", str(inp), "-t", str(target), "-o", str(out), *extra])
    assert result.exit_code == 0, result.output
    return result.output, json.loads(out.read_text())


def test_png_pair_reports_its_floor_and_is_linear(tmp_path, cv2):
    x = photo(160, seed=1)
    inp, target = _pair(tmp_path, cv2.filter2D(x, -1, K3), x)
    out, record = _learn(inp, target, tmp_path / "k.json")
    assert "noise floor 0.29 levels (8-bit PNG)" in out
    assert record["linear"] is True and record["kernel_size"] == [3, 3]
    assert record["rms_levels"] <= 2 * record["noise_floor_levels"]
    assert record["noise_floor_levels"] == pytest.approx(1 / 12**0.5, rel=1e-4)
    assert np.abs(np.array(record["kernel"]) - K3).max() < 0.02
    # the solver's own figures only with --verbose
    assert "step" not in out and "solver lstsq" not in out and "not linear" not in out
    verbose, _ = _learn(inp, target, tmp_path / "k2.json", "--verbose")
    assert "solver lstsq: the exact least-squares kernel" in verbose


def test_jpeg_pair_reports_its_quality(tmp_path, cv2):
    x = photo(160, seed=2)
    inp, target = _pair(tmp_path, cv2.GaussianBlur(x, (5, 5), 1.2), x, ".jpg", quality=90)
    out, record = _learn(inp, target, tmp_path / "k.json")
    assert "(JPEG, quality about 90)" in out and "noise floor about " in out
    assert record["linear"] is True and record["kernel_size"] == [5, 5], out
    assert record["fitted_to"] in ("JPEG bins", "pixels") and record["bins_missed_by_levels"] < 0.2


def test_median_is_not_linear(tmp_path, cv2):
    x = photo(160, seed=3)
    inp, target = _pair(tmp_path, cv2.medianBlur(x, 5), x)
    out, record = _learn(inp, target, tmp_path / "k.json")
    assert record["linear"] is False
    assert "not linear: the RMS residual is" in out and "times the noise floor" in out


def test_offset_gets_a_bias_by_default_and_not_with_no_bias(tmp_path, cv2):
    x = photo(160, seed=6)
    inp, target = _pair(tmp_path, cv2.Sobel(x, cv2.CV_8U, 1, 0, scale=0.25, delta=128), x)
    _, record = _learn(inp, target, tmp_path / "k.json")
    assert record["bias_fitted"] and record["bias"] * 255 == pytest.approx(128, abs=0.5)
    assert record["closest"]["spec"] == "sobel-x" and record["closest"]["scale"] == pytest.approx(0.25, abs=1e-3)
    _, forced = _learn(inp, target, tmp_path / "k2.json", "--no-bias")
    assert not forced["bias_fitted"] and forced["linear"] is False


def test_exact_float_target_comes_back_3x3(tmp_path, cv2):
    x = photo(128, seed=7)
    xf = x.astype(np.float32) / 255
    y = cv2.filter2D(xf, -1, K3.astype(np.float32), borderType=cv2.BORDER_REFLECT)
    inp, target = _pair(tmp_path, y, x, ".npy")
    _, record = _learn(inp, target, tmp_path / "k.json")
    assert record["kernel_size"] == [3, 3] and record["linear"] is True
    assert np.abs(np.array(record["kernel"]) - K3).max() < 1e-6


def test_clip_margin_is_an_option(tmp_path, cv2):
    x = photo(160, seed=8)
    inp, target = _pair(tmp_path, cv2.Sobel(x, cv2.CV_8U, 1, 0), x, ".jpg", quality=90)
    _, auto = _learn(inp, target, tmp_path / "k.json")
    assert auto["clip_margin_levels"] > 0 and auto["excluded"] > 0
    _, none = _learn(inp, target, tmp_path / "k2.json", "--clip-margin", "0")
    assert none["clip_margin_levels"] == 0 and none["excluded"] < auto["excluded"]
    bad = runner.invoke(app, ["learn", "-i", str(inp), "-t", str(target), "--clip-margin", "300"])
    assert bad.exit_code == 2 and "--clip-margin" in bad.output


def test_name_by_data_prints_scale_one_plain(tmp_path):
    x = photo(160, seed=9)
    inp, target = _pair(tmp_path, np.asarray(Image.fromarray(x).filter(ImageFilter.BoxBlur(1))), x)
    out, record = _learn(inp, target, tmp_path / "k.json")
    assert record["closest"]["spec"] == "box:3" and "scale" not in record["closest"]
    assert "closest built-in: box:3 (" in out


@pytest.mark.parametrize("quality", [75, 95])
def test_behind_jpeg_linear_is_not_flagged_and_median_is(tmp_path, cv2, quality):
    x = photo(192, seed=2)
    inp, target = _pair(
        tmp_path, np.asarray(Image.fromarray(x).filter(ImageFilter.SHARPEN)), x, ".jpg", quality=quality
    )
    out, record = _learn(inp, target, tmp_path / "k.json")
    assert record["linear"] is True and record["bins_missed_by_levels"] < 0.2, out
    assert record["fitted_to"] in ("JPEG bins", "pixels")
    inp, target = _pair(tmp_path, cv2.medianBlur(x, 5), x, ".jpg", quality=quality)
    out, record = _learn(inp, target, tmp_path / "k2.json")
    assert record["linear"] is False and "not linear: fitted to the JPEG target's quantisation bins" in out
