"""``convlearn detect`` end to end, in tmp_path."""

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli, runner
from PIL import Image

from convlearn.cli import app
from convlearn.detect import DetectConfig, detect_image
from convlearn.images import read_image
from convlearn.kernels import parse_kernel

SAMPLES = Path(__file__).resolve().parents[2] / "sample_images"


def _ok(args):
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def _png_bytes(levels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(levels).save(buffer, format="PNG")
    return buffer.getvalue()


def test_help_says_correlation_not_convolution():
    result = _ok(["detect", "--help"])
    assert "NOT flipped" in result.output and "cv2.filter2D" in result.output


def test_magnitude_and_angle(tmp_path):
    src = SAMPLES / "shapes.png"
    m, a = tmp_path / "m.npy", tmp_path / "a.npy"
    _ok(["detect", src, "-k", "sobel-x", "--magnitude", "--mode", "same", "-o", m, "--angle", a])
    X = read_image(src)
    cfg = DetectConfig(device="cpu", magnitude=True, angle=True, mode="same")
    expected = detect_image(X, parse_kernel("sobel-x"), cfg)
    np.testing.assert_allclose(read_image(tmp_path / "m.npy"), expected.values.numpy(), atol=1e-6)
    np.testing.assert_allclose(read_image(tmp_path / "a.npy"), expected.angle.numpy(), atol=1e-6)


def test_threshold_otsu_writes_a_binary_picture(tmp_path):
    _ok(["detect", SAMPLES / "shapes.png", "-k", "sobel-x", "-m", "--threshold", "otsu", "-o", tmp_path / "b.png"])
    levels = np.asarray(Image.open(tmp_path / "b.png"))
    assert set(np.unique(levels).tolist()) == {0, 255}


def test_canny(tmp_path):
    result = _ok(["detect", SAMPLES / "shapes.png", "--canny", "0.1,0.3", "-o", tmp_path / "c.png"])
    assert "-> " in result.output
    levels = np.asarray(Image.open(tmp_path / "c.png"))
    assert levels.shape == (128, 128) and set(np.unique(levels).tolist()) == {0, 255}


def test_channels_each_outputs_rgb(tmp_path):
    _ok(["detect", SAMPLES / "colour.png", "--channels", "each", "-k", "laplacian", "-o", tmp_path / "c.png"])
    with Image.open(tmp_path / "c.png") as image:
        assert image.mode == "RGB" and image.size == (94, 94)
    _ok(["detect", SAMPLES / "colour.png", "--channels", "each", "-k", "laplacian", "-o", tmp_path / "c.npy"])
    values = read_image(tmp_path / "c.npy", channels="each")
    expected = detect_image(
        read_image(SAMPLES / "colour.png", channels="each"),
        parse_kernel("laplacian"),
        DetectConfig(device="cpu", channels="each"),
    )
    np.testing.assert_allclose(values, expected.values.numpy(), atol=1e-6)


def test_luma_is_the_default_for_colour(tmp_path):
    _ok(["detect", SAMPLES / "colour.png", "-o", tmp_path / "l.npy"])
    assert read_image(tmp_path / "l.npy").shape == (96, 95)


def test_16_bit_png(tmp_path):
    _ok(["detect", SAMPLES / "noise.png", "-k", "gaussian:5", "--bit-depth", "16", "-o", tmp_path / "g.png"])
    with Image.open(tmp_path / "g.png") as image:
        assert image.mode.startswith("I") and np.asarray(image).max() > 255


def test_directory_recursive_and_names_kept(tmp_path):
    (tmp_path / "in" / "sub").mkdir(parents=True)
    for name in ["a.png", "sub/b.png"]:
        (tmp_path / "in" / name).write_bytes((SAMPLES / "checker.png").read_bytes())
    result = _ok(["detect", tmp_path / "in", "-r", "-o", tmp_path / "out", "--format", "npy", "-k", "sobel-y"])
    assert (tmp_path / "out" / "a.npy").is_file() and (tmp_path / "out" / "sub" / "b.npy").is_file()
    assert "wrote 2 of 2 files" in result.output


def test_quoted_glob(tmp_path):
    for name in ["x1.png", "x2.png", "y.png"]:
        (tmp_path / name).write_bytes((SAMPLES / "diagonal.png").read_bytes())
    _ok(["detect", str(tmp_path / "x*.png"), "-o", tmp_path / "out", "-q"])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["x1.png", "x2.png"]


def test_json_lines(tmp_path):
    result = _ok(["detect", SAMPLES / "stripes.png", SAMPLES / "checker.png", "-o", tmp_path, "--json"])
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [Path(r["input"]).name for r in lines] == ["stripes.png", "checker.png"]
    first = lines[0]
    assert set(first) >= {"input", "output", "shape", "min", "max", "mean", "seconds"}
    assert first["shape"] == [6, 7] and first["min"] == -1.0 and first["max"] == 1.0
    assert first["output"] == str(tmp_path / "stripes.png") and first["seconds"] > 0


def test_json_with_threshold_reports_it(tmp_path):
    from convlearn.edges import otsu_threshold

    args = [
        "detect",
        SAMPLES / "noise.png",
        "-m",
        "-k",
        "sobel-x",
        "--threshold",
        "otsu",
        "--json",
        "-o",
        tmp_path / "o.png",
    ]
    record = json.loads(_ok(args).stdout)
    magnitude = detect_image(read_image(SAMPLES / "noise.png"), parse_kernel("sobel-x"), DetectConfig(magnitude=True))
    assert record["threshold"] == pytest.approx(float(otsu_threshold(magnitude.values)), rel=1e-6)
    assert (record["min"], record["max"]) == (0.0, 1.0)


def test_print_colour_and_table(tmp_path):
    result = _ok(["detect", SAMPLES / "stripes.png", "--table"])
    assert "┃" in result.stdout and "-1" in result.stdout
    result = _ok(["detect", SAMPLES / "noise.png", "--table", "-k", "box"])
    assert "top-left 16x16 of 94x94" in result.stdout
    result = _ok(["detect", SAMPLES / "colour.png", "--channels", "each", "--print"])
    assert result.stdout.startswith("tensor([[[")  # (3, H, W), as torch shows images
    grey = runner.invoke(app, ["detect", str(SAMPLES / "stripes.png"), "--channels", "each", "--print"])
    assert grey.exit_code == 2 and "single-plane (grey) image" in grey.output


def test_batch_with_one_broken_file_exit_1(tmp_path):
    for name in ["a.png", "c.png"]:
        (tmp_path / name).write_bytes((SAMPLES / "checker.png").read_bytes())
    (tmp_path / "b.png").write_bytes(b"not a png")
    result = runner.invoke(app, ["detect", str(tmp_path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "c.png"]
    assert f"failed: {tmp_path / 'b.png'}: not an image" in result.stderr
    assert "1 of 3 files failed (listed above); the other 2 were done" in result.stderr


def test_output_equal_to_input_is_refused(tmp_path):
    src = tmp_path / "a.png"
    src.write_bytes((SAMPLES / "checker.png").read_bytes())
    before = src.read_bytes()
    result = runner.invoke(app, ["detect", str(src), "-o", str(src)])
    assert result.exit_code == 2
    assert "is also an input; refusing to overwrite it" in result.stderr
    assert src.read_bytes() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--angle", "a.png"], "--angle is the direction of a gradient pair"),
        (["--canny", "0.5,0.1"], "0 <= LOW <= HIGH"),
        (["--threshold", "high"], "Invalid threshold 'high'"),
        (["--channels", "rgb"], "'rgb' is not one of 'luma', 'each'"),
        (["-o", "-", "--json"], "would mix text into it"),
        (["--format", "gif"], "'gif' is not one of 'png', 'tif', 'npy'"),
    ],
)
def test_bad_options_exit_2(tmp_path, args, message):
    result = runner.invoke(app, ["detect", str(SAMPLES / "stripes.png"), *args])
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.replace("│", " ").split())  # Click's choice errors come boxed


def test_stdin_to_stdout_in_process():
    data = (SAMPLES / "checker.png").read_bytes()
    result = runner.invoke(app, ["detect", "-", "-k", "sobel-x", "--mode", "same"], input=data)
    assert result.exit_code == 0, result.stderr
    out = np.asarray(Image.open(io.BytesIO(result.stdout_bytes)))
    assert out.shape == (64, 64) and out.dtype == np.uint8
    assert result.stderr == ""


def test_pipe_through_the_console_script(tmp_path):
    # Two commands in a row, as `convlearn detect - ... | convlearn detect - --print` would run.
    levels = np.zeros((6, 8), np.uint8)
    levels[:, [0, 1, 6, 7]] = 255
    first = run_cli("detect", "-", "-k", "box:1", "-o", "-", input=_png_bytes(levels))
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(b"\x89PNG") and first.stderr == b""
    second = run_cli("detect", "-", "--print", input=first.stdout)
    assert second.returncode == 0, second.stderr
    assert second.stdout.decode().startswith("tensor([[ 0.,  1.,  0.,  0.,  0., -1.,  0.],")


def test_npy_to_stdout(tmp_path):
    result = runner.invoke(app, ["detect", str(SAMPLES / "stripes.png"), "-o", "-", "-f", "npy"])
    assert result.exit_code == 0
    values = np.load(io.BytesIO(result.stdout_bytes))
    assert values[0].tolist() == [0, 1, 0, 0, 0, -1, 0]


def test_png_compression_changes_the_bytes_not_the_pixels(tmp_path):
    levels = np.random.default_rng(5).integers(0, 256, (30, 40)).astype(np.uint8)
    Image.fromarray(levels).save(tmp_path / "in.png")
    for level in ("0", "9"):
        args = ["detect", str(tmp_path / "in.png"), "-k", "sobel-x", "-o", str(tmp_path / f"out{level}.png")]
        result = runner.invoke(app, [*args, "--png-compression", level], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    stored, packed = (tmp_path / "out0.png").read_bytes(), (tmp_path / "out9.png").read_bytes()
    assert len(stored) > len(packed)
    np.testing.assert_array_equal(
        np.asarray(Image.open(tmp_path / "out0.png")), np.asarray(Image.open(tmp_path / "out9.png"))
    )


def test_png_compression_out_of_range_exits_2(tmp_path):
    result = run_cli("detect", str(tmp_path / "in.png"), "--png-compression", "10")
    assert result.returncode == 2 and b"--png-compression" in result.stderr


def test_a_batch_names_the_first_files_it_wrote_unless_quiet(tmp_path):
    args = ["detect", SAMPLES, "-o", tmp_path / "out", "--canny", "0.1,0.3"]
    line = _ok(args).output.strip()
    assert re.fullmatch(
        rf"wrote 6 of 6 files to {tmp_path / 'out'} in \d+\.\d\d s: (\w+\.png, ){{2}}\w+\.png and 3 more", line
    )
    assert _ok([*args, "--quiet"]).output == ""
