"""``convlearn restore`` end to end, in tmp_path: exit codes, files written, no clobbering, pipes, colour."""

import io
import json

import numpy as np
import pytest
import torch
from conftest import invoke_cli, run_cli
from PIL import Image

from convlearn.corr import filter2d
from convlearn.kernels import parse_kernel


def _psnr(a: np.ndarray, b: np.ndarray, m: int = 8) -> float:
    e = (a.astype(np.float64) - b.astype(np.float64))[m:-m, m:-m]
    return float(10 * np.log10(255.0**2 / np.mean(e**2)))


def _sharp(h: int = 96, w: int = 96, seed: int = 0) -> np.ndarray:
    """Piecewise-flat shapes with soft noise: levels 0..255."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:h, :w]
    img = 60 + 120 * ((x // 16 + y // 16) % 2) + 50 * ((x - 48) ** 2 + (y - 40) ** 2 < 300)
    return np.clip(img + rng.normal(0, 4, (h, w)), 0, 255).astype(np.uint8)


def _blur(levels: np.ndarray, spec: str = "gaussian:7,1.5", top: int = 255) -> np.ndarray:
    """The blur of an 8-bit image (reflected borders) rounded to levels 0..top, one plane or (H, W, 3)."""
    K = torch.as_tensor(parse_kernel(spec).weight)
    x = torch.as_tensor(levels / 255.0)
    planes = x.permute(2, 0, 1) if x.dim() == 3 else x[None]
    out = torch.stack([filter2d(p, K, mode="same", border="reflect") for p in planes])
    out = out.permute(1, 2, 0) if x.dim() == 3 else out[0]
    return np.clip(np.rint(out.numpy() * top), 0, top).astype(np.uint8 if top == 255 else np.uint16)


@pytest.fixture
def blurred(tmp_path):
    sharp = _sharp()
    Image.fromarray(_blur(sharp)).save(tmp_path / "b.png")
    return tmp_path / "b.png", sharp


def test_restores_a_png_beyond_the_blurred_one_and_says_why(tmp_path, blurred):
    path, sharp = blurred
    r = invoke_cli("restore", str(path), "-k", "gaussian:7,1.5", "-o", str(tmp_path / "r.png"))
    assert r.returncode == 0, r.stderr
    out = np.asarray(Image.open(tmp_path / "r.png"))
    assert out.shape == sharp.shape and out.dtype == np.uint8
    before, after = _psnr(np.asarray(Image.open(path)), sharp), _psnr(out, sharp)
    assert after > before + 3, (before, after)
    assert b"8-bit rounding" in r.stdout and b"strength" in r.stdout


def test_default_name_and_no_clobber(tmp_path, blurred):
    path, _ = blurred
    assert invoke_cli("restore", str(path), "-k", "gaussian:7,1.5", cwd=tmp_path).returncode == 0
    written = tmp_path / "b_restored.png"
    stamp = written.read_bytes()
    again = invoke_cli("restore", str(path), "-k", "gaussian:7,1.5", cwd=tmp_path)
    assert again.returncode == 2 and b"--overwrite" in again.stderr
    assert written.read_bytes() == stamp


def test_strength_given_is_used_and_reported(tmp_path, blurred):
    path, _ = blurred
    r = invoke_cli("restore", str(path), "-k", "gaussian:7,1.5", "--strength", "0.01", "-o", str(tmp_path / "r.npy"))
    assert r.returncode == 0 and b"strength 0.01: given" in r.stdout
    assert np.load(tmp_path / "r.npy").dtype == np.float32


def test_rl_method(tmp_path, blurred):
    path, sharp = blurred
    r = invoke_cli("restore", str(path), "-k", "gaussian:7,1.5", "--method", "rl", "-o", str(tmp_path / "r.png"))
    assert r.returncode == 0, r.stderr
    assert b"rl: stop when the residual" in r.stdout
    assert _psnr(np.asarray(Image.open(tmp_path / "r.png")), sharp) > _psnr(np.asarray(Image.open(path)), sharp)


def test_stdin_to_stdout(blurred):
    path, _ = blurred
    r = invoke_cli("restore", "-", "-k", "gaussian:7,1.5", input=path.read_bytes())
    assert r.returncode == 0
    assert np.asarray(Image.open(io.BytesIO(r.stdout))).shape == (96, 96)


def test_colour_each_with_a_kernel_per_channel(tmp_path):
    sharp = np.stack([_sharp(seed=s) for s in range(3)], -1)
    planes = [_blur(sharp[..., c], spec) for c, spec in enumerate(["gaussian:7,1.5", "gaussian:7,1", "box:3"])]
    Image.fromarray(np.stack(planes, -1)).save(tmp_path / "c.png")
    weights = [parse_kernel(s).weight for s in ["gaussian:7,1.5", "gaussian:7,1", "box:3"]]
    stack = np.zeros((3, 7, 7))
    stack[0], stack[1], stack[2, 2:5, 2:5] = weights  # box:3 centred in 7x7
    (tmp_path / "k.json").write_text(json.dumps({"kernel": stack.tolist()}))
    r = invoke_cli(
        "restore",
        str(tmp_path / "c.png"),
        "-k",
        str(tmp_path / "k.json"),
        "--channels",
        "each",
        "-o",
        str(tmp_path / "r.png"),
    )
    assert r.returncode == 0, r.stderr
    out = np.asarray(Image.open(tmp_path / "r.png"))
    assert out.shape == (96, 96, 3)
    for c in range(3):
        assert _psnr(out[..., c], sharp[..., c]) > _psnr(planes[c], sharp[..., c]) + 1, c
    luma = invoke_cli("restore", str(tmp_path / "c.png"), "-k", str(tmp_path / "k.json"), "-o", str(tmp_path / "l.png"))
    assert luma.returncode == 2 and b"--channels each" in luma.stderr and not (tmp_path / "l.png").exists()


def test_jpeg_tables_set_the_noise_and_it_still_improves(tmp_path, blurred):
    path, sharp = blurred
    Image.open(path).save(tmp_path / "b.jpg", quality=90)
    r = invoke_cli("restore", str(tmp_path / "b.jpg"), "-k", "gaussian:7,1.5", "-o", str(tmp_path / "r.png"))
    assert r.returncode == 0 and b"JPEG quantisation tables" in r.stdout
    jpeg = np.asarray(Image.open(tmp_path / "b.jpg"))
    assert _psnr(np.asarray(Image.open(tmp_path / "r.png")), sharp) > _psnr(jpeg, sharp)


def test_sixteen_bit_in_sixteen_bit_out(tmp_path):
    sharp = _sharp()
    Image.fromarray(_blur(sharp, top=65535)).save(tmp_path / "b16.png")
    r = invoke_cli("restore", str(tmp_path / "b16.png"), "-k", "gaussian:7,1.5", "-o", str(tmp_path / "r.png"))
    assert r.returncode == 0 and b"16-bit rounding" in r.stdout
    out = np.asarray(Image.open(tmp_path / "r.png"))
    assert out.dtype == np.uint16 and out.shape == sharp.shape
    assert _psnr(out / 257.0, sharp) > _psnr(_blur(sharp), sharp) + 3


def test_a_folder_to_a_folder_and_one_bad_file(tmp_path, blurred):
    path, _ = blurred
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.png").write_bytes(path.read_bytes())
    (tmp_path / "in" / "z.png").write_bytes(b"not an image")
    r = invoke_cli("restore", str(tmp_path / "in"), "-k", "gaussian:7,1.5", "-o", str(tmp_path / "out"))
    assert r.returncode == 1 and b"z.png" in r.stderr and b"1 of 2 files failed" in r.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-k", "box:3", "--strength", "-1"], b"Invalid strength"),
        (["-k", "box:3", "--method", "rl", "--strength", "1"], b"--method rl"),
        (["-k", "1,0,-1", "--method", "rl"], b"weights sum to 0"),
        (["-k", "gaussian:200"], b"larger than the image"),
        (["-k", "box:3", "--bit-depth", "12"], b"bit depth"),
    ],
)
def test_bad_usage_exits_2_and_writes_nothing(tmp_path, blurred, args, message):
    path, _ = blurred
    r = invoke_cli("restore", str(path), *args, "-o", str(tmp_path / "r.png"))
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert not (tmp_path / "r.png").exists()


def test_an_edge_kernel_is_refused_through_the_console_script(tmp_path, blurred):
    path, _ = blurred
    r = run_cli("restore", str(path), "-k", "sobel-x", "-o", str(tmp_path / "r.png"))
    assert r.returncode == 2
    assert r.stderr.decode().count("\n") <= 2 and "weights sum to 0" in r.stderr.decode()
    assert "Traceback" not in r.stderr.decode() and not (tmp_path / "r.png").exists()
