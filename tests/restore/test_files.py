"""run_restore and what it reads from a file: a JPEG's tables, 16-bit levels, the checks before any read."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from convlearn.corr import filter2d
from convlearn.errors import ConvlearnError, InputError
from convlearn.images.decode import decode_with_levels
from convlearn.kernels import Kernel, parse_kernel
from convlearn.restore import RestoredFile, jpeg_noise, restore_planes, run_restore
from convlearn.restore.config import check_kernel_channels, check_output_settings
from convlearn.restore.run import MIN_STRENGTH, rounding_of


def _levels(seed: int = 0, shape=(64, 64)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    blocks = np.kron(rng.integers(40, 215, (shape[0] // 8, shape[1] // 8)), np.ones((8, 8)))
    return blocks.astype(np.uint8)


def _jpeg(levels: np.ndarray, quality: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(levels).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def test_a_jpeg_brings_its_tables_and_other_formats_none():
    data = _jpeg(_levels(), 90)
    decoded = decode_with_levels(data, keep_levels=False)
    assert decoded.levels is None and decoded.quantization is not None
    with Image.open(io.BytesIO(data)) as image:
        assert decoded.quantization == {k: list(v) for k, v in image.quantization.items()}
    png = io.BytesIO()
    Image.fromarray(_levels()).save(png, format="PNG")
    assert decode_with_levels(png.getvalue()).quantization is None


def test_coarser_tables_mean_more_noise():
    low, high = (decode_with_levels(_jpeg(_levels(), q), keep_levels=False).quantization for q in (50, 95))
    assert jpeg_noise(low).sigma > 3 * jpeg_noise(high).sigma


def test_float32_planes_on_the_16bit_grid_are_found():
    levels = torch.arange(0, 65536, 7, dtype=torch.float64)
    assert rounding_of((levels / 65535).to(torch.float32)).source == "16-bit rounding"
    assert rounding_of(torch.tensor([0.25, 0.5001], dtype=torch.float32)) is None


def test_the_strength_floor_is_used_and_said():
    rng = np.random.default_rng(1)
    b = torch.from_numpy(np.round(rng.random((48, 48)) * 65535) / 65535)
    out = restore_planes(b, Kernel(np.full((3, 3), 1 / 9)), noise=1e-9)
    assert out.reports[0].strength == MIN_STRENGTH and out.reports[0].why.startswith("strength 1e-06: the floor")


def test_run_restore_writes_and_tells(tmp_path):
    Image.fromarray(_levels()).save(tmp_path / "a.png")
    seen: list[RestoredFile] = []
    outcome = run_restore(inputs=[tmp_path / "a.png"], kernel="box:3", output=tmp_path / "r.npy", on_result=seen.append)
    assert [f.output for f in seen] == [str(tmp_path / "r.npy")] and outcome.written == [str(tmp_path / "r.npy")]
    assert seen[0].shape == (64, 64) and "8-bit rounding" in seen[0].summary
    assert np.load(tmp_path / "r.npy").shape == (64, 64)


def test_a_learned_kernel_files_bias_and_anchor_are_undone(tmp_path):
    sharp = torch.from_numpy(_levels() / 255.0)
    K = Kernel(np.array([[0.6, 0.2], [0.2, 0.0]]), bias=0.05, anchor=(0, 0))
    blurred = filter2d(sharp, torch.as_tensor(K.weight), mode="same", border="reflect", anchor=(0, 0)) + 0.05
    out = restore_planes(blurred, K, noise=0.0, strength=1e-8, border="reflect", tolerance=1e-8, max_iterations=500)
    assert float((out.planes - sharp).abs().max()) < 1e-3


def test_bad_inputs_fail_before_any_file_is_read(tmp_path):
    with pytest.raises(InputError, match="weights sum to 0"):
        run_restore(inputs=[tmp_path / "missing.png"], kernel="sobel-x")
    with pytest.raises(InputError, match="does not exist"):
        run_restore(inputs=[tmp_path / "missing.png"], kernel="box:3")
    with pytest.raises(InputError, match="use --channels each"):
        check_kernel_channels(Kernel(np.ones((3, 3, 3)) / 9), "wiener", "luma")
    with pytest.raises(InputError, match="16-bit PNG holds one plane"):
        check_output_settings(channels="each", device="cpu", bit_depth=16, scale="clip", fmt="png")


def test_a_batch_reports_each_failure_and_goes_on(tmp_path):
    Image.fromarray(_levels()).save(tmp_path / "a.png")
    (tmp_path / "b.png").write_bytes(b"not a picture")
    outcome = run_restore(
        inputs=[tmp_path / "a.png", tmp_path / "b.png"], kernel=parse_kernel("box:3").name, output=tmp_path / "out"
    )
    assert len(outcome.failed) == 1 and "b.png" in outcome.failed[0]
    assert outcome.written == [str(tmp_path / "out" / "a.png")]
    with pytest.raises(ConvlearnError, match="b.png"):
        run_restore(inputs=[tmp_path / "b.png"], kernel="box:3", output=tmp_path / "c.png")
