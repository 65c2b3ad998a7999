"""``convlearn learn`` end to end: solvers, targets as tools write them, the report, failures, Ctrl-C."""

import io
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import cli_exe, invoke_cli, run_cli, runner
from PIL import Image, ImageFilter
from rich.console import Console

from convlearn.cli import app
from convlearn.corr import corr2d
from convlearn.kernels import parse_kernel
from convlearn.synth import make_image

K3 = torch.tensor([[0.5, -1.0, 0.25], [2.0, 0.0, -0.75], [0.1, 1.5, -2.0]], dtype=torch.float64)
README = Path(__file__).resolve().parents[2] / "README.md"


def write_pair(folder: Path, name="a", seed=1, size=40, target=None) -> tuple[Path, Path]:
    """An input .npy (smooth noise) and its exact float target under K3 (or ``target(X)``)."""
    X = make_image(pattern="noise", height=size, width=size, seed=seed)
    Y = corr2d(X.double(), K3) if target is None else target(X.double())
    folder.mkdir(parents=True, exist_ok=True)
    x, y = folder / f"{name}.npy", folder / f"{name}_target.npy"
    np.save(x, X.numpy())
    np.save(y, Y.float().numpy())
    return x, y


def learn(*args: str, **kwargs):
    return runner.invoke(app, ["learn", *args], **kwargs)


def readme_block(command: str) -> list[str]:
    """The output lines pasted under ``$ command`` in the README."""
    lines = README.read_text().splitlines()
    start = lines.index(f"$ {command}") + 1
    end = next(i for i in range(start, len(lines)) if lines[i].startswith(("$ ", "```")))
    return lines[start:end]


def test_default_run_prints_exactly_what_the_readme_shows(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = learn("--output", "kernel.json", catch_exceptions=False)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == readme_block("convlearn learn --output kernel.json")
    assert result.stderr == ""


@pytest.mark.parametrize("solver", ["sgd", "lstsq", "adam", "lbfgs"])
def test_every_solver_from_files(tmp_path, solver):
    x, y = write_pair(tmp_path)
    out = tmp_path / "k.json"
    args = ["-i", str(x), "-t", str(y), "--kernel-size", "3x3", "--solver", solver, "-o", str(out)]
    result = learn(*args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["solver"] == solver and data["kernel_size"] == [3, 3]
    assert data["inputs"] == [str(x)] and data["targets"] == [str(y)]
    assert np.abs(np.array(data["kernel"]) - K3.numpy()).max() < 1e-4
    assert data["r2"] > 0.9999 and data["loss"] >= 0 and data["pixels"] == 38 * 38
    assert "R² " in result.stdout and "38x38" not in result.stdout and "1,444 pixels from 1 pair" in result.stdout
    if solver == "lstsq":
        assert data["step"] is None and "exact least-squares kernel" in result.stdout
    else:
        assert data["step"] > 0 and f"{solver}: step " in result.stdout
    if solver == "sgd":  # on pairs, with no --epochs: until converged
        assert data["stopped"] == "converged" and "1/λmax of the Jacobi-preconditioned Hessian" in result.stdout


def test_json_prints_only_the_summary_on_stdout(tmp_path):
    x, y = write_pair(tmp_path)
    result = learn("-i", str(x), "-t", str(y), "--kernel-size", "3x3", "--solver", "lstsq", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert set(data) >= {"kernel", "bias", "solver", "kernel_size", "loss", "r2", "rms", "step", "inputs", "targets"}
    assert np.abs(np.array(data["kernel"]) - K3.numpy()).max() < 1e-6


def test_quiet_prints_nothing_even_with_warnings(tmp_path):
    x, y = write_pair(tmp_path, target=lambda X: corr2d(X, K3).abs())
    result = learn("-i", str(x), "-t", str(y), "--kernel-size", "3x3", "-q", "-o", str(tmp_path / "k.json"))
    assert result.exit_code == 0 and result.output == ""
    assert (tmp_path / "k.json").exists()


def test_pairs_directory_and_repeated_inputs_learn_one_kernel(tmp_path):
    root = tmp_path / "pairs"
    for name, seed in (("one", 2), ("two", 3)):
        x, y = write_pair(tmp_path / "made", name, seed)
        (root / "inputs").mkdir(parents=True, exist_ok=True)
        (root / "targets").mkdir(parents=True, exist_ok=True)
        x.rename(root / "inputs" / f"{name}.npy")
        y.rename(root / "targets" / f"{name}.npy")
    x3, y3 = write_pair(tmp_path, "three", 4, size=30)
    out = tmp_path / "k.json"
    args = ["--pairs", str(root), "-i", str(x3), "-t", str(y3), "--kernel-size", "3x3", "--solver", "lstsq"]
    result = learn(*args, "-o", str(out), catch_exceptions=False)
    assert result.exit_code == 0
    data = json.loads(out.read_text())
    assert data["pairs"] == 3 and data["pixels"] == 2 * 38 * 38 + 28 * 28
    assert data["inputs"] == [str(x3), str(root / "inputs" / "one.npy"), str(root / "inputs" / "two.npy")]
    assert "3,672 pixels from 3 pairs" in result.stdout


def test_reference_difference(tmp_path):
    x, y = write_pair(tmp_path, target=lambda X: corr2d(X, torch.from_numpy(parse_kernel("sobel-x").weight)))
    out = tmp_path / "k.json"
    result = learn("-i", str(x), "-t", str(y), "--kernel-size", "3x3", "--solver", "lstsq", "--reference", "sobel-x",
                   "-o", str(out))  # fmt: skip
    assert result.exit_code == 0
    line = next(line for line in result.stdout.splitlines() if line.startswith("max |kernel - sobel-x| = "))
    assert float(line.split("= ")[1]) < 1e-5
    assert json.loads(out.read_text())["reference"]["spec"] == "sobel-x"


def test_reference_of_the_wrong_size_is_refused_before_training(tmp_path):
    x, y = write_pair(tmp_path)
    result = learn("-i", str(x), "-t", str(y), "--kernel-size", "3x3", "--reference", "edge")
    assert result.exit_code == 2 and result.stdout == ""
    assert "--reference 'edge' is 1x2, but --kernel-size is 3x3" in result.stderr


def test_non_linear_target_warns(tmp_path):
    x, y = write_pair(tmp_path, target=lambda X: corr2d(X, K3).abs())
    result = learn("-i", str(x), "-t", str(y), "--kernel-size", "3x3", "--solver", "lstsq", "--bias")
    assert result.exit_code == 0
    assert re.search(r"Warning: R² is 0\.\d{4} at best \(< 0\.99\): the target is not well explained", result.stderr)


def test_clipped_8bit_target_is_masked_and_exact(tmp_path):
    image = Image.open(Path(__file__).resolve().parents[2] / "sample_images" / "noise.png").convert("L")
    image.save(tmp_path / "x.png")
    image.filter(ImageFilter.FIND_EDGES).save(tmp_path / "y.png")  # clips at 0 and 255
    args = ["-i", str(tmp_path / "x.png"), "-t", str(tmp_path / "y.png"), "--kernel-size", "3x3", "--solver", "lstsq"]
    reference = ["--reference", "-1,-1,-1;-1,8,-1;-1,-1,-1", "--json"]
    masked = json.loads(learn(*args, *reference).stdout)
    unmasked = json.loads(learn(*args, *reference, "--keep-saturated").stdout)
    assert masked["reference"]["max_abs_diff"] < 1e-5 and masked["excluded"] > 0 and masked["r2"] > 0.999999
    assert unmasked["reference"]["max_abs_diff"] > 1 and unmasked["excluded"] == 0
    text = learn(*args).stdout
    assert f"{masked['excluded']:,} clipped target pixels left out (--keep-saturated keeps them)" in text


def test_offset_target_needs_bias(tmp_path):
    image = Image.open(Path(__file__).resolve().parents[2] / "sample_images" / "noise.png").convert("L")
    image.save(tmp_path / "x.png")
    image.filter(ImageFilter.Kernel((3, 3), [1, 2, 0, -1, 0, 1, 0, -2, -1], scale=1, offset=128)).save(
        tmp_path / "y.png"
    )
    args = ["-i", str(tmp_path / "x.png"), "-t", str(tmp_path / "y.png"), "--kernel-size", "3x3", "--solver", "lstsq"]
    plain, offset = (json.loads(learn(*args, *extra, "--json").stdout) for extra in ([], ["--bias"]))
    assert plain["bias"] is None and plain["r2"] < 0.99
    assert offset["bias"] == pytest.approx(128 / 255, abs=1e-6) and offset["r2"] > 0.999999


def test_same_size_target(tmp_path):
    x, y = write_pair(tmp_path, target=lambda X: corr2d(torch.nn.functional.pad(X[None], (1, 1, 1, 1))[0], K3))
    assert np.load(y).shape == np.load(x).shape
    data = json.loads(learn("-i", str(x), "-t", str(y), "--kernel-size", "3x3", "--solver", "lstsq", "--json").stdout)
    assert np.abs(np.array(data["kernel"]) - K3.numpy()).max() < 1e-6


def test_sgd_not_converging_names_the_faster_solver(tmp_path):
    x, y = write_pair(tmp_path)
    result = learn("-i", str(x), "-t", str(y), "--kernel-size", "3x3", "--epochs", "10")
    assert result.exit_code == 0
    assert "Warning: sgd did not converge in 10 epochs" in result.stderr and "--solver lstsq" in result.stderr
    assert "without --epochs (and --lr) sgd runs until it converges" in result.stderr


# Failures.


def test_divergence_stops_names_a_safe_step_and_writes_the_best_kernel(tmp_path):
    x, y = write_pair(tmp_path)
    out = tmp_path / "k.json"
    result = learn("-i", str(x), "-t", str(y), "--kernel-size", "3x3", "--lr", "1", "--epochs", "500", "-o", str(out))
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert re.search(
        r"^Error: The loss grew from .* step 1 is too large for this data\. A safe step is [0-9.e-]+ ", line
    )
    assert line.endswith(f"it was written to {out}")
    data = json.loads(out.read_text())
    assert data["stopped"] == "diverged" and np.isfinite(data["kernel"]).all()


def test_ctrl_c_writes_the_kernel_and_exits_130(tmp_path, monkeypatch):
    x, y = write_pair(tmp_path)
    out = tmp_path / "k.json"
    calls = {"n": 0}
    import convlearn.learn.problem

    real_corr2d = convlearn.learn.problem.corr2d

    def corr2d_then_ctrl_c(*args, **kwargs):  # Ctrl-C lands in the forward pass of the 4th epoch
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real_corr2d(*args, **kwargs)

    monkeypatch.setattr(convlearn.learn.problem, "corr2d", corr2d_then_ctrl_c)
    # --lr: the notebook's plain descent, whose every epoch is a forward pass over the pixels.
    args = ["-i", str(x), "-t", str(y), "--kernel-size", "3x3", "--epochs", "50", "--lr", "1e-4", "-o", str(out)]
    result = learn(*args)
    assert result.exit_code == 130
    assert f"Interrupted at epoch 3 of 50; the kernel reached so far was kept and written to {out}" in result.stderr
    data = json.loads(out.read_text())
    assert data["stopped"] == "interrupted" and data["epochs"] == 3


def test_sigint_to_the_console_script_saves_the_kernel(tmp_path):
    # A tiny step keeps SGD from converging (and stopping early) before the
    # signal lands, however fast or slow the machine is.
    x, y = write_pair(tmp_path)
    out = tmp_path / "k.json"
    args = ["learn", "-i", str(x), "-t", str(y), "--kernel-size", "3x3", "--epochs", "10000000", "--lr", "1e-9"]
    args += ["-o", str(out)]
    proc = subprocess.Popen(
        [*cli_exe(), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # Take Ctrl-C as Python does, even when the test run itself ignores it (a background job).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        first = proc.stdout.readline()  # "sgd: step ..." comes just before the first epoch
        assert first.startswith(b"sgd: step "), first + proc.stderr.read()
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert b"Interrupted at epoch" in err and b"Traceback" not in err
    assert json.loads(out.read_text())["stopped"] == "interrupted"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-i", "a.png"], "Got 1 --input and 0 --target; give one target per input"),
        (["--pairs", "nowhere"], "--pairs 'nowhere' is not a directory"),
    ],
)
def test_usage_errors_exit_2(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = learn(*args)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"Error: {message}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--solver", "newton"], "Invalid value for '--solver' / '-s': Value error, 'newton' is not one of 'sgd', "
         "'lstsq', 'adam', 'lbfgs'."),
        (["--dtype", "half"], "Invalid value for '--dtype': Value error, 'half' is not one of 'float32', 'float64'."),
    ],
)  # fmt: skip
def test_bad_choice_is_refused_by_the_parser_through_the_console_script(args, message):
    proc = run_cli("learn", *args)
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert message in " ".join(err.replace("│", " ").split()) and "Traceback" not in err


def test_output_over_an_input_is_refused(tmp_path):
    x, y = write_pair(tmp_path)
    result = learn("-i", str(x), "-t", str(y), "-o", str(y))
    assert result.exit_code == 2 and "is also an input" in result.stderr
    assert np.load(y).shape == (38, 38)


# The progress bar and the loss plot.


def test_long_runs_show_a_progress_bar_with_the_loss_on_a_terminal(tmp_path, monkeypatch):
    import convlearn.cli.render

    screen = io.StringIO()
    monkeypatch.setattr(convlearn.cli.render, "stderr", Console(file=screen, force_terminal=True, width=100))
    x, y = write_pair(tmp_path, size=16)
    result = learn("-i", str(x), "-t", str(y), "--kernel-size", "3x3", "--epochs", "150", catch_exceptions=False)
    assert result.exit_code == 0
    assert "epoch 0, loss" not in result.stdout  # long runs: no line per epoch
    shown = screen.getvalue()
    assert "sgd" in shown and "150/150" in shown and re.search(r"loss \d", shown)


def test_plot_draws_the_loss_curve(tmp_path):
    """matplotlib is in the test extras: a real PNG is written, decodes, and has a curve on it."""
    x, y = write_pair(tmp_path, size=16)
    plot = tmp_path / "loss.png"
    args = ["-i", str(x), "-t", str(y), "--kernel-size", "3x3", "--epochs", "30", "--plot", str(plot)]
    result = learn(*args, "-o", str(tmp_path / "k.json"), catch_exceptions=False)
    assert result.exit_code == 0 and f"wrote {plot}" in result.stdout
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 5_000
    with Image.open(plot) as image:
        assert image.format == "PNG"
        image.load()  # decodes every pixel: a truncated file raises here
        # figsize 6x4 inches at 100 dpi, trimmed to the drawing: axes, labels and title
        assert 400 < image.width <= 700 and 250 < image.height <= 500, image.size
        grey = np.asarray(image.convert("L"), dtype=float)
    # Not blank: mostly white paper, with dark text and axes, and the curve's colour (matplotlib's C0 blue).
    assert (grey > 250).mean() > 0.5 and (grey < 100).sum() > 500
    rgb = np.asarray(Image.open(plot).convert("RGB"), dtype=int)
    blue = (rgb[..., 2] > 150) & (rgb[..., 0] < 100)
    assert blue.sum() > 100, "no curve drawn"


def test_plot_without_matplotlib_prints_a_hint(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    x, y = write_pair(tmp_path, size=16)
    plot = tmp_path / "loss.png"
    result = learn("-i", str(x), "-t", str(y), "--kernel-size", "3x3", "--plot", str(plot), "-o", str(tmp_path / "k"))
    assert result.exit_code == 0 and not plot.exists()
    assert result.stderr.strip().endswith("--plot needs matplotlib: pip install 'convlearn[plot]'")
    assert (tmp_path / "k").exists()


def test_plot_with_lstsq_says_there_is_no_curve(tmp_path):
    x, y = write_pair(tmp_path, size=16)
    result = learn("-i", str(x), "-t", str(y), "--kernel-size", "3x3", "--solver", "lstsq", "--plot", "p.png")
    assert result.exit_code == 0 and "no loss curve" in result.stderr


# Colour: --channels each and full, then detect -k applying what was learned.


def write_colour_pair(folder: Path, size=48) -> tuple[Path, Path, np.ndarray]:
    """An RGB noise picture and its 8-bit target under a Pillow filter per band (R blurred, G kept, B sharpened)."""
    X = np.random.default_rng(1).integers(0, 256, (size, size, 3), dtype=np.uint8)
    r, g, b = Image.fromarray(X).split()
    blur = ImageFilter.Kernel((3, 3), [1, 2, 1, 2, 4, 2, 1, 2, 1], 16)
    sharpen = ImageFilter.Kernel((3, 3), [0, -1, 0, -1, 5, -1, 0, -1, 0], 1)
    target = Image.merge("RGB", (r.filter(blur), g, b.filter(sharpen)))
    x, y = folder / "rgb.png", folder / "tinted.png"
    Image.fromarray(X).save(x)
    target.save(y)
    return x, y, np.asarray(target)


def test_learn_each_then_detect_reproduces_the_target(tmp_path):
    x, y, target = write_colour_pair(tmp_path)
    k = tmp_path / "k.json"
    result = learn("-i", str(x), "-t", str(y), "--channels", "each", "-o", str(k), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "learned kernel, R" in result.output and "learned kernel, B" in result.output
    assert "the union of the sizes found per channel (R 3x3, G 1x1, B 3x3)" in result.output
    assert re.search(r"B: R² 1\.000000 .* closest built-in: sharpen", result.output)
    saved = json.loads(k.read_text())
    assert np.array(saved["kernel"]).shape == (3, 3, 3) and saved["channels"] == "each"
    out = tmp_path / "re.png"
    done = runner.invoke(
        app, ["detect", str(x), "-k", str(k), "--channels", "each", "--mode", "same", "--scale", "clip", "-o", str(out)]
    )
    assert done.exit_code == 0, done.output
    again = np.asarray(Image.open(out)).astype(int)
    # Pillow leaves the border pixels unfiltered; inside, only its rounding of halves differs.
    assert np.abs(again - target.astype(int))[1:-1, 1:-1].max() <= 1


def test_learn_full_writes_a_cross_channel_kernel_detect_applies(tmp_path):
    x, y, target = write_colour_pair(tmp_path)
    k = tmp_path / "k.json"
    result = learn(
        "-i", str(x), "-t", str(y), "--channels", "full", "--kernel-size", "3x3", "--solver", "lstsq", "-o", str(k)
    )
    assert result.exit_code == 0, result.output
    assert "learned kernel, R <- G" in result.output
    assert np.array(json.loads(k.read_text())["kernel"]).shape == (3, 3, 3, 3)
    out = tmp_path / "re.png"  # a (3, 3, h, w) kernel reads RGB without --channels
    done = runner.invoke(app, ["detect", str(x), "-k", str(k), "--mode", "same", "--scale", "clip", "-o", str(out)])
    assert done.exit_code == 0, done.output
    assert np.abs(np.asarray(Image.open(out)).astype(int) - target.astype(int))[1:-1, 1:-1].max() <= 1


def test_colour_errors_are_input_errors(tmp_path):
    x, y, _ = write_colour_pair(tmp_path)
    grey = tmp_path / "grey.png"
    Image.fromarray(np.zeros((48, 48), np.uint8)).save(grey)
    bad = invoke_cli("learn", "-i", str(grey), "-t", str(y), "--channels", "each")
    assert bad.returncode == 2
    assert "a single-plane (grey) image, but R, G and B planes were asked for" in bad.stderr.decode()
    k = tmp_path / "k.json"
    assert (
        invoke_cli(
            "learn", "-i", str(x), "-t", str(y), "--channels", "each", "--solver", "lstsq", "-o", str(k)
        ).returncode
        == 0
    )
    luma = invoke_cli("detect", str(x), "-k", str(k), "-o", str(tmp_path / "o.png"))
    assert luma.returncode == 2
    assert "has one plane per channel, shape (3, 3, 3): add --channels each" in luma.stderr.decode()
    pillow = invoke_cli("export", str(k), "--to", "pillow")
    assert pillow.returncode == 2
    assert "Pillow's ImageFilter.Kernel applies one kernel to every band" in pillow.stderr.decode()
