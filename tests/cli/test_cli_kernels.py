"""``convlearn kernels`` end to end."""

import numpy as np
from conftest import run_cli, runner

from convlearn.cli import app
from convlearn.kernels import KERNELS, parse_kernel


def test_kernels_lists_every_builtin():
    result = runner.invoke(app, ["kernels"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for name, info in KERNELS.items():
        for form in (info.usage or name).split(" or "):
            assert form in result.stdout
    assert "correlation, without flipping it" in result.stdout
    assert "cv2.Sobel(dx=1, dy=0, ksize=3)" in result.stdout


def test_kernels_shows_one():
    result = runner.invoke(app, ["kernels", "sobel-y"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "sobel-y (3x3)" in result.stdout and "cv2.Sobel(dx=0, dy=1" in result.stdout
    assert "gx = sobel-x, gy = sobel-y" in result.stdout


def test_kernels_imagemagick_strings_round_trip():
    spec = "3x2+0+1: 1 2 3 4 5 6"
    result = runner.invoke(app, ["kernels", spec], env={"COLUMNS": "300"})
    assert result.exit_code == 0
    text = result.stdout
    correlate = text.split("-morphology Correlate '")[1].split("'")[0]
    convolve = text.split("-morphology Convolve '")[1].split("'")[0]
    K, C, V = parse_kernel(spec), parse_kernel(correlate), parse_kernel(convolve)
    np.testing.assert_array_equal(C.weight, K.weight)
    assert C.origin == K.origin
    # ImageMagick's Convolve flips the kernel and its origin: the printed string undoes that.
    np.testing.assert_array_equal(V.weight[::-1, ::-1], K.weight)
    assert (1 - V.origin[0], 2 - V.origin[1]) == K.origin


def test_kernels_json_loads_back(tmp_path):
    result = runner.invoke(app, ["kernels", "gaussian:5,1.2", "--json"])
    (tmp_path / "k.json").write_text(result.stdout)
    np.testing.assert_array_equal(parse_kernel(str(tmp_path / "k.json")).weight, parse_kernel("gaussian:5,1.2").weight)


def test_kernels_bad_name_suggests_through_the_console_script():
    proc = run_cli("kernels", "sobelx")
    assert proc.returncode == 2
    assert proc.stderr.decode().strip() == "Error: Unknown kernel 'sobelx'. Did you mean 'sobel-x'?"
