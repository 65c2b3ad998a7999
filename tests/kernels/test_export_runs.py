"""Every export snippet, run where it is pasted: in the tool it names, on a grey and on a colour image.

Each result is compared with convlearn's own correlation of the same 8-bit levels (``--mode same``
with OpenCV's default border, reflect-101), on the interior where tools' borders differ. OpenCV,
SciPy and Pillow are test dependencies; ImageMagick runs where it is installed (``magick`` for 7,
``convert`` or Debian's ``convert-im6`` for 6) and the test is skipped elsewhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest
import torch
from PIL import Image

from convlearn.corr import filter2d
from convlearn.kernels import Kernel, export_kernel

RNG = np.random.default_rng(23)
GREY = RNG.integers(0, 256, (20, 24), dtype=np.uint8)
COLOUR = RNG.integers(0, 256, (20, 24, 3), dtype=np.uint8)
# Asymmetric, off-centre and with a bias, so a flip, a shift or a lost bias shows; mostly positive,
# so that tools which clip to 0..255 keep most pixels.
KERNELS = {
    "3x3 bias": Kernel(np.array([[0.1, 0.3, 0.0], [0.05, 0.4, 0.1], [0.0, 0.15, -0.1]]), 0.02),
    "2x3 anchored": Kernel(np.array([[0.5, 0.25, -0.25], [0.0, 0.75, 0.125]]), None, anchor=(0, 1)),
}
EDGE = 3  # pixels next to the border are left out: each tool pads in its own way


def expected(image: np.ndarray, kernel: Kernel) -> np.ndarray:
    """convlearn's correlation of the 8-bit levels, channel by channel, plus the bias in levels."""
    planes = image[..., None] if image.ndim == 2 else image
    K = torch.from_numpy(kernel.weight)
    out = [
        filter2d(
            torch.from_numpy(planes[..., c].astype(np.float64)), K, mode="same", border="reflect", anchor=kernel.anchor
        )
        for c in range(planes.shape[-1])
    ]
    values = torch.stack(out, dim=-1).numpy() + (kernel.bias or 0.0) * 255
    return values[..., 0] if image.ndim == 2 else values


def inner(values: np.ndarray) -> np.ndarray:
    return values[EDGE:-EDGE, EDGE:-EDGE]


def run_python(text: str, image):
    namespace = {"image": image}
    exec(compile(text, "<export>", "exec"), namespace)
    return namespace["result"]


IMAGES = {"grey": GREY, "colour": COLOUR}


@pytest.mark.parametrize("kernel", KERNELS.values(), ids=KERNELS)
@pytest.mark.parametrize("image", IMAGES.values(), ids=IMAGES)
@pytest.mark.parametrize("tool", ["opencv", "scipy"])
def test_the_opencv_and_scipy_snippets_run_on_grey_and_colour(tool, image, kernel):
    result = run_python(export_kernel(kernel, tool), image.astype(np.float64))
    assert result.shape == image.shape
    np.testing.assert_allclose(inner(result), inner(expected(image, kernel)), atol=1e-9)


@pytest.mark.parametrize("kernel", KERNELS.values(), ids=KERNELS)
@pytest.mark.parametrize("image", IMAGES.values(), ids=IMAGES)
def test_the_pillow_snippet_runs_on_grey_and_colour(image, kernel):
    result = np.asarray(run_python(export_kernel(kernel, "pillow"), Image.fromarray(image)), dtype=np.float64)
    want = np.clip(np.round(expected(image, kernel)), 0, 255)  # 8-bit results: rounded and clipped
    assert np.abs(inner(result) - inner(want)).max() <= 1


def imagemagick() -> str | None:
    """A directory whose ``convert`` (or ``magick``) is ImageMagick, for the exported line to find; None without one."""
    for name in ("magick", "convert-im6", "convert-im6.q16", "convert"):
        path = shutil.which(name)
        if path is None:
            continue
        probe = subprocess.run([path, "-version"], capture_output=True, text=True, timeout=30)
        if "ImageMagick" in probe.stdout:
            return path
    return None


@pytest.mark.parametrize("kernel", KERNELS.values(), ids=KERNELS)
@pytest.mark.parametrize("image", IMAGES.values(), ids=IMAGES)
def test_the_imagemagick_command_runs_on_grey_and_colour(image, kernel, tmp_path):
    program = imagemagick()
    if program is None:
        pytest.skip("ImageMagick is not installed here")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    name = "magick" if os.path.basename(program) == "magick" else "convert"
    (bin_dir / name).symlink_to(program)  # only this one on PATH's front: a stand-in named convert must not answer
    Image.fromarray(image).save(tmp_path / "input.png")
    command = export_kernel(kernel, "imagemagick").splitlines()[-1]
    env = {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin"}
    done = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    result = np.asarray(Image.open(tmp_path / "output.png"), dtype=np.float64)
    if image.ndim == 3 and result.ndim == 2:
        pytest.fail("ImageMagick wrote a grey image for a colour input")
    want = np.clip(expected(image, kernel), 0, 255)
    assert np.abs(inner(result) - inner(want)).max() <= 1
