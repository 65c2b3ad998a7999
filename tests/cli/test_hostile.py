"""Hostile and careless inputs, one test per class.

Data loss (outputs that would replace files), numbers out of range, endless
input, wrong results and unclear messages. The commands run in-process through
the same error boundary (conftest.invoke_cli), and the result is read as the
console script's would be: exit code, stdout, stderr. Where the subject is the
process itself (stop signals, a pipe on stdin, what reaches the real stderr and
stdout, another user's permissions) the installed console script runs. The
option values themselves are fuzzed in tests/cli/test_fuzz_cli.py.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import invoke_cli, run_cli, start_cli
from PIL import Image

from convlearn.images import read_image


def _png(path: Path, shape=(16, 16), seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    Image.fromarray((rng.random(shape) * 255).astype(np.uint8)).save(path)
    return path


def _err(result) -> str:
    return result.stderr.decode()


def _error_line(result) -> str:
    """The one stderr line, which must be the only one and carry no traceback."""
    lines = _err(result).strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), _err(result)
    return lines[0]


# Data loss.


def test_default_names_never_replace_a_file(tmp_path):
    _png(tmp_path / "camera.png")
    (tmp_path / "blur.json").write_text('{"kernel": [[0.5, 0.5]]}')
    (tmp_path / "camera_blur.png").write_bytes(b"the user's own file")
    result = invoke_cli("detect", "camera.png", "-k", "blur.json", cwd=tmp_path)
    assert result.returncode == 2
    assert "'camera_blur.png' already exists" in _error_line(result) and "--overwrite" in _err(result)
    assert (tmp_path / "camera_blur.png").read_bytes() == b"the user's own file"
    result = invoke_cli("detect", "camera.png", "-k", "blur.json", "--overwrite", cwd=tmp_path)
    assert result.returncode == 0, _err(result)
    assert read_image(tmp_path / "camera_blur.png").shape == (16, 15)


def test_inline_and_magick_kernels_get_distinct_names(tmp_path):
    _png(tmp_path / "a.png")
    specs = ["1,-1", "1,-2", "2: 1 0 0 -1", "2: 0 1 -1 0"]
    for spec in specs:
        assert invoke_cli("detect", "a.png", "-k", spec, "-q", cwd=tmp_path).returncode == 0
    made = sorted(p.name for p in tmp_path.iterdir() if p.name != "a.png")
    assert len(made) == len(specs), made
    assert sum(n.startswith("a_inline-") for n in made) == 2 and sum(n.startswith("a_magick-") for n in made) == 2


def _outputs_that_are_inputs(d: Path) -> list[tuple[list[str], str]]:
    """(arguments, the file they must leave alone): an output that names a file the command reads."""
    return [
        (["detect", "a.png", "-k", "k.npy", "-o", "k.npy"], "k.npy"),
        (["detect", "a.png", "-k", "k.npy", "--magnitude", "--angle", "k.npy", "-o", "o.png"], "k.npy"),
        (["learn", "--solver", "lstsq", "--reference", "k.json", "-o", "k.json"], "k.json"),
        (["learn", "-i", "a.png", "-t", "b.png", "--solver", "lstsq", "-o", "b.png"], "b.png"),
        (["learn", "--solver", "lstsq", "-o", "k2.json", "--plot", "k2.json"], None),
        (["synth", "s.png", "-k", "edge", "--target", "s.png"], None),
        (["synth", "s.png", "-k", "k.npy", "--target", "k.npy"], "k.npy"),
    ]


def test_an_output_that_is_an_input_is_refused_before_anything_is_written(tmp_path):
    _png(tmp_path / "a.png")
    _png(tmp_path / "b.png", seed=1)
    (tmp_path / "k.json").write_text('{"kernel": [[1, -1]]}')
    np.save(tmp_path / "k.npy", np.array([[1.0, -1.0]]))
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    for args, kept in _outputs_that_are_inputs(tmp_path):
        result = invoke_cli(*args, cwd=tmp_path)
        assert result.returncode == 2, (args, _err(result))
        line = _error_line(result)
        assert "also an input" in line or "both name" in line, (args, line)
        assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before, args
        assert kept is None or (tmp_path / kept).read_bytes() == before[kept]


def test_read_only_and_special_files_are_not_replaced(tmp_path):
    _png(tmp_path / "a.png")
    ro = tmp_path / "ro.png"
    ro.write_bytes(b"keep me")
    ro.chmod(0o444)
    result = invoke_cli("detect", "a.png", "-o", "ro.png", cwd=tmp_path)
    assert result.returncode == 2 and "read-only; remove it or chmod u+w" in _error_line(result)
    assert ro.read_bytes() == b"keep me"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "sock.png"))
        result = invoke_cli("detect", "a.png", "-o", "sock.png", cwd=tmp_path)
        assert result.returncode == 2 and "a socket, not a regular file" in _error_line(result)
        assert (tmp_path / "sock.png").is_socket()
    result = invoke_cli("detect", "a.png", "-o", "/dev/null", cwd=tmp_path)  # no suffix: refused, not replaced
    assert result.returncode == 2 and Path("/dev/null").is_char_device()


def test_a_fifo_output_is_written_as_a_stream(tmp_path):
    _png(tmp_path / "a.png")
    fifo = tmp_path / "out.png"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    result = invoke_cli("detect", "a.png", "-o", "out.png", cwd=tmp_path)
    reader.join(60)
    assert result.returncode == 0, _err(result)
    assert got and got[0].startswith(b"\x89PNG") and fifo.is_fifo()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_commands_with_several_outputs_check_them_all_first(tmp_path):
    _png(tmp_path / "a.png")
    _png(tmp_path / "b.png", seed=1)
    result = invoke_cli("synth", "img.png", "-k", "edge", "--target", "t.xyz", cwd=tmp_path)
    assert result.returncode == 2 and not (tmp_path / "img.png").exists()
    result = invoke_cli("learn", "-o", "k.json", "--plot", "missing/loss.png", cwd=tmp_path)
    assert result.returncode == 1 and "'missing' does not exist" in _error_line(result)
    assert not (tmp_path / "k.json").exists()
    # The --output directory is made only once --angle is checked too.
    result = invoke_cli("detect", "a.png", "b.png", "-o", "newdir/", "--magnitude", "--angle", "a.png", cwd=tmp_path)
    assert result.returncode == 2 and not (tmp_path / "newdir").exists()
    result = invoke_cli("detect", "a.png", "b.png", "-k", "a.png", "-o", "newdir2/", cwd=tmp_path)
    assert result.returncode == 2 and not (tmp_path / "newdir2").exists()


def _default_signals() -> None:
    """In the child: take the stop signals as Python does, even where the test run ignores them."""
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, signal.SIG_DFL)


def _start_batch(tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    np.save(src / "im000.npy", np.random.default_rng(0).random((256, 256)).astype(np.float32))
    for i in range(1, 300):  # hard links: many inputs for the price of one file
        os.link(src / "im000.npy", src / f"im{i:03d}.npy")
    proc = start_cli("detect", str(src), "-k", "box:5", "-f", "npy", "-o", str(out), preexec_fn=_default_signals)
    deadline = time.monotonic() + 240
    while not (out.is_dir() and any(not p.name.startswith(".") for p in out.iterdir())):
        assert proc.poll() is None and time.monotonic() < deadline, "the batch never wrote a first output"
        time.sleep(0.005)
    return proc, out


@pytest.mark.slow
@pytest.mark.parametrize(
    ("signals", "code"), [([signal.SIGTERM], 143), ([signal.SIGHUP], 129), ([signal.SIGINT] * 2, 130)]
)
def test_stop_signals_keep_complete_outputs(tmp_path, signals, code):
    """SIGTERM and SIGHUP stop a run as Ctrl-C does; two quick Ctrl-C never print a traceback."""
    proc, out = _start_batch(tmp_path)
    for s in signals:
        proc.send_signal(s)
        time.sleep(0.01)
    _, stderr = proc.communicate(timeout=120)
    err = stderr.decode()
    assert proc.returncode == code, err
    assert "Traceback" not in err and err.strip().splitlines()[-1].startswith("Error: Interrupted after")
    assert [p for p in out.iterdir() if p.name.startswith(".")] == []  # no temporary files
    expected = np.load(next(out.iterdir()))
    assert all(np.array_equal(np.load(p), expected) for p in out.iterdir())  # every output complete


# Internal errors become exit 2.

OUT_OF_RANGE = [
    ["detect", "a.png", "-k", "99999999999999999999999999999999999999999"],
    ["detect", "a.png", "-k", "1e999"],
    ["detect", "a.png", "-k", "box:inf"],
    ["detect", "a.png", "-k", "box:1e999"],
    ["detect", "a.png", "-k", "gaussian:3,1e300"],
    ["detect", "a.png", "-k", "gaussian:3,1e-300"],
    ["detect", "a.png", "-k", "log:5,1e-300"],
    ["detect", "a.png", "-k", "99999999999999999999999:1"],
    ["detect", "a.png", "-k", "3x3+99999999999999999999+0: 1 1 1 1 1 1 1 1 1"],
    ["detect", "a.png", "-k", "1: 1e999"],
    ["detect", "a.png", "-k", "1e38,1"],  # finite in float64, not in float32 sums
    ["detect", "a.png", "-k", "huge.json"],
    ["detect", "a.png", "-k", "long.json"],
    ["detect", "a.png", "-k", "inf.json"],
    ["detect", "a.png", "--canny", "0.1,0.2", "--sigma", "1e308"],
    ["learn", "--lr", "1e39"],
    ["learn", "--seed", str(2**64)],
    ["synth", "s.png", "-p", "noise", "--seed", str(2**64)],
    ["synth", "s.png", "-p", "checker", "--cell", str(2**64)],
]


def test_numbers_out_of_range_are_input_errors(tmp_path):
    _png(tmp_path / "a.png")
    (tmp_path / "huge.json").write_text('{"kernel": [[1' + "0" * 400 + "]]}")
    (tmp_path / "long.json").write_text('{"kernel": [[1' + "0" * 5000 + "]]}")
    (tmp_path / "inf.json").write_text('{"kernel": [[1e999]]}')
    for args in OUT_OF_RANGE:
        result = invoke_cli(*args, cwd=tmp_path)
        assert result.returncode == 2, (args, _err(result))
        assert "internal error" not in _error_line(result)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "huge.json", "inf.json", "long.json"]


@pytest.mark.parametrize("solver", ["lstsq", "sgd", "adam", "lbfgs"])
def test_a_kernel_larger_than_the_image_is_refused_before_memory_is_taken(tmp_path, solver):
    _png(tmp_path / "a.png")
    result = invoke_cli(
        "learn", "-i", "a.png", "-t", "a.png", "--solver", solver, "--kernel-size", "1025x1025", cwd=tmp_path
    )
    assert result.returncode == 2 and "larger than the input image 16x16" in _error_line(result)
    result = invoke_cli("learn", "--solver", solver, "--kernel-size", "100000x3", cwd=tmp_path)
    assert result.returncode == 2 and "larger than the input image 6x8" in _error_line(result)


def test_files_that_describe_impossible_sizes(tmp_path):
    _png(tmp_path / "a.png")
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000), }"
    header += b" " * (117 - len(header)) + b"\n"
    npy = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + b"\0" * 64
    (tmp_path / "big.npy").write_bytes(npy)
    (tmp_path / "bigk.npy").write_bytes(npy)
    cases = [
        (["detect", "a.png", "-k", "deep.json"], "nests its JSON too deeply"),
        (["detect", "big.npy", "--max-pixels", str(10**11), "-o", "o.png"], "damaged or truncated"),
        (["detect", "big.npy", "-o", "o.png"], "more than the limit"),
        (["detect", "a.png", "-k", "bigk.npy"], "the largest side allowed is"),
    ]
    for args, words in cases:
        result = invoke_cli(*args, cwd=tmp_path)
        assert result.returncode == 2 and words in _error_line(result), (args, _err(result))


def test_channels_each_on_a_single_plane(tmp_path):
    _png(tmp_path / "grey.png")
    np.save(tmp_path / "grey.npy", np.ones((5, 5), np.float32))
    for name in ["grey.png", "grey.npy"]:
        result = invoke_cli("detect", name, "--channels", "each", "-o", "o.png", cwd=tmp_path)
        assert result.returncode == 2 and "single-plane (grey) image" in _error_line(result)


def test_file_names_with_rich_markup(tmp_path):
    (tmp_path / "[").mkdir()
    _png(tmp_path / "[" / "x].png")
    result = invoke_cli("detect", "[/x].png", "-o", "[/bold]out.png", cwd=tmp_path)
    assert result.returncode == 0, _err(result)
    assert "[/x].png -> [/bold]out.png" in result.stdout.decode()
    result = invoke_cli("synth", "[/s].png", cwd=tmp_path)
    assert result.returncode == 0 and "wrote [/s].png" in result.stdout.decode()


# Hangs and memory.


def test_endless_input_is_refused(tmp_path):
    result = invoke_cli("detect", "/dev/zero", "--max-pixels", "1000", "-o", "o.png", cwd=tmp_path)
    assert result.returncode == 2 and "more than 1056576 bytes" in _error_line(result)
    yes = subprocess.Popen(["yes"], stdout=subprocess.PIPE)
    try:
        proc = start_cli("detect", "-", "--max-pixels", "1000", "-o", "o.png", cwd=tmp_path, stdin=yes.stdout)
        _, stderr = proc.communicate(timeout=60)
    finally:
        yes.kill()
        yes.wait()
    assert proc.returncode == 2 and "<stdin>: more than" in stderr.decode()
    assert not (tmp_path / "o.png").exists()


def test_globs_do_not_follow_directory_symlink_loops(tmp_path):
    (tmp_path / "tree" / "sub").mkdir(parents=True)
    _png(tmp_path / "tree" / "sub" / "a.png")
    os.symlink("..", tmp_path / "tree" / "sub" / "up")
    os.symlink(".", tmp_path / "tree" / "self")
    for spec in ["tree/**/*.png", "tree"]:
        result = invoke_cli("detect", spec, "-r", "-o", "out/", "--overwrite", cwd=tmp_path)
        assert result.returncode == 0, _err(result)
        assert sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*.png")) == ["sub/a.png"]


# Wrong results.


def _png16_rgb(levels: np.ndarray) -> bytes:
    """A 16-bit RGB PNG, written by hand: every row with another of the five PNG filters."""
    h, w, _ = levels.shape
    raw = levels.astype(">u2").view(np.uint8).reshape(h, w * 6).astype(np.int32)
    rows = []
    for y in range(h):
        x, up = raw[y], raw[y - 1] if y else np.zeros_like(raw[0])
        left = np.concatenate([np.zeros(6, np.int32), x[:-6]])
        upleft = np.concatenate([np.zeros(6, np.int32), up[:-6]])
        p = left + up - upleft
        pa, pb, pc = abs(p - left), abs(p - up), abs(p - upleft)
        paeth = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, upleft))
        kind = y % 5
        pred = [0, left, up, (left + up) // 2, paeth][kind]
        rows.append(bytes([kind]) + ((x - pred) % 256).astype(np.uint8).tobytes())

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


def test_16_bit_colour_png_is_read_at_16_bits(tmp_path):
    levels = np.random.default_rng(3).integers(0, 65536, (9, 7, 3)).astype(np.uint16)
    (tmp_path / "deep.png").write_bytes(_png16_rgb(levels))
    result = invoke_cli("detect", "deep.png", "-k", "1", "--channels", "each", "-o", "o.npy", cwd=tmp_path)
    assert result.returncode == 0, _err(result)
    np.testing.assert_array_equal(np.load(tmp_path / "o.npy"), (levels / 65535).astype(np.float32))


def test_32_bit_integer_tiff_has_one_rule(tmp_path):
    for values in ([[0, 1, 70000, 2**31 - 1]], [[0, 5, 40000, 60000]]):  # over and within 16 bits alike
        Image.fromarray(np.array(values, np.int32)).save(tmp_path / "i.tif")
        result = invoke_cli("detect", "i.tif", "-k", "1", "-o", "o.npy", "--overwrite", cwd=tmp_path)
        assert result.returncode == 0, _err(result)
        np.testing.assert_allclose(np.load(tmp_path / "o.npy"), np.array(values) / (2**31 - 1), rtol=1e-6)


def test_jpeg_exif_orientation_is_applied_unless_raw(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned: show turned 90 degrees clockwise
    Image.new("L", (20, 10), 128).save(tmp_path / "turned.jpg", exif=exif)  # 20 wide, 10 high as stored
    assert invoke_cli("detect", "turned.jpg", "-k", "1", "-o", "up.npy", cwd=tmp_path).returncode == 0
    assert (
        invoke_cli("detect", "turned.jpg", "-k", "1", "-o", "raw.npy", "--raw-orientation", cwd=tmp_path).returncode
        == 0
    )
    assert np.load(tmp_path / "up.npy").shape == (20, 10) and np.load(tmp_path / "raw.npy").shape == (10, 20)


def test_stdin_with_json_keeps_the_image_off_stdout(tmp_path):
    data = (_png(tmp_path / "a.png")).read_bytes()
    result = run_cli("detect", "-", "--json", cwd=tmp_path, input=data)
    assert result.returncode == 0, _err(result)
    record = json.loads(result.stdout.decode())  # nothing but the JSON line
    assert record["output"] == "stdin_edge.png" and (tmp_path / "stdin_edge.png").is_file()


def test_a_folder_named_like_a_built_in_kernel_does_not_shadow_it(tmp_path):
    _png(tmp_path / "a.png")
    (tmp_path / "edge").mkdir()
    (tmp_path / "log").mkdir()
    for name in ["edge", "log"]:
        result = invoke_cli("detect", "a.png", "-k", name, "--print", cwd=tmp_path)
        assert result.returncode == 0, _err(result)
    result = invoke_cli("detect", "a.png", "-k", "./edge", "--print", cwd=tmp_path)
    assert result.returncode == 2 and "is a directory" in _error_line(result)


def test_a_folder_or_glob_input_always_writes_to_an_output_folder(tmp_path):
    (tmp_path / "one").mkdir()
    _png(tmp_path / "one" / "a.png")
    for spec, out in [("one", "res1"), ("one/*.png", "res2")]:
        result = invoke_cli("detect", spec, "-o", out, cwd=tmp_path)
        assert result.returncode == 0, _err(result)
        assert (tmp_path / out).is_dir() and (tmp_path / out / "a.png").is_file()


# Clarity.


def test_nan_in_a_float_tiff_is_named_as_such(tmp_path):
    Image.fromarray(np.array([[0.5, np.nan]], np.float32)).save(tmp_path / "nan.tif")
    line = _error_line(invoke_cli("detect", "nan.tif", "-o", "o.png", cwd=tmp_path))
    assert "NaN or inf" in line and "damaged" not in line


def test_numpy_warnings_do_not_precede_the_error_line(tmp_path):
    np.save(tmp_path / "big.npy", np.full((4, 4), 1e300))  # overflows float32
    result = run_cli("detect", "big.npy", "-o", "o.png", cwd=tmp_path)
    # The only line, with the real cause (issue 24): no RuntimeWarning before it.
    assert result.returncode == 2 and "beyond the range of float32" in _error_line(result)


def test_a_huge_inline_kernel_is_not_echoed_whole(tmp_path):
    _png(tmp_path / "a.png")
    spec = "1," * 30_000 + "1;1"  # ragged
    result = invoke_cli("detect", "a.png", "-k", spec, cwd=tmp_path)
    line = _error_line(result)
    assert result.returncode == 2 and len(line) < 300 and "(60003 characters)" in line


def test_a_fifo_kernel_is_not_called_missing(tmp_path):
    _png(tmp_path / "a.png")
    os.mkfifo(tmp_path / "k.json")
    line = _error_line(invoke_cli("detect", "a.png", "-k", "k.json", cwd=tmp_path))
    assert "not a regular file" in line and "does not exist" not in line


@pytest.mark.skipif(not hasattr(os, "setuid"), reason="needs POSIX users")
def test_unreadable_files_give_one_exit_code():
    """An image, a kernel file and a training pair that cannot be read: exit 2 alike (run as another user when root)."""
    work = Path(tempfile.mkdtemp(prefix="convlearn-unreadable-"))
    work.chmod(0o777)
    _png(work / "ok.png")
    (work / "ok.png").chmod(0o644)
    for name in ["img.png", "k.json", "t.png"]:
        (work / name).write_bytes(b"x")
        (work / name).chmod(0)
    drop = (lambda: os.setuid(65534)) if os.geteuid() == 0 else None
    env = {"HOME": str(work)}
    try:
        runs = start_cli("--version", cwd=work, env=env, preexec_fn=drop).wait(timeout=120) == 0
    except PermissionError:  # the script itself is out of the unprivileged user's reach
        runs = False
    if not runs:
        pytest.skip("an unprivileged user cannot run the console script here")
    cases = [["detect", "img.png"], ["detect", "ok.png", "-k", "k.json"], ["learn", "-i", "ok.png", "-t", "t.png"]]
    for args in cases:
        proc = start_cli(*args, cwd=work, env=env, preexec_fn=drop)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 2, (args, err.decode())
        assert "permission denied" in err.decode().lower(), err.decode()


@pytest.mark.parametrize(
    ("value", "traceback"), [("false", False), ("0", False), ("off", False), ("no", False), ("1", True), ("yes", True)]
)
def test_convlearn_debug_false_means_off(tmp_path, value, traceback):
    result = invoke_cli("detect", "missing.png", cwd=tmp_path, env={"CONVLEARN_DEBUG": value})
    assert result.returncode == 2 and ("Traceback" in _err(result)) == traceback


def test_an_unreadable_kernel_file_is_an_input_error(tmp_path, monkeypatch):
    """The same rule as for images, checked in-process where the tests run as root (who reads any file)."""
    from convlearn.errors import KernelSpecError
    from convlearn.kernels import load_kernel_file

    (tmp_path / "k.json").write_text('{"kernel": [[1, -1]]}')

    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_text", denied)
    with pytest.raises(KernelSpecError, match="cannot be read: Permission denied"):
        load_kernel_file(tmp_path / "k.json")


def test_synth_default_name_never_replaces_a_file(tmp_path):
    (tmp_path / "stripes.png").write_bytes(b"mine")
    refused = invoke_cli("synth", "-q", cwd=tmp_path)
    assert refused.returncode == 2 and "'stripes.png' already exists" in _error_line(refused)
    assert (tmp_path / "stripes.png").read_bytes() == b"mine"
    assert invoke_cli("synth", "-q", "--overwrite", cwd=tmp_path).returncode == 0
    assert (tmp_path / "stripes.png").read_bytes().startswith(b"\x89PNG")
    assert invoke_cli("synth", "stripes.png", "-q", cwd=tmp_path).returncode == 0  # a name given is the user's choice


@pytest.mark.parametrize("spec", ["box:21", "gaussian:3,1e300"])
def test_synth_checks_its_kernel_before_writing_anything(tmp_path, spec):
    refused = invoke_cli("synth", "o.png", "-q", "--target", "t.png", "-k", spec, cwd=tmp_path)
    assert refused.returncode == 2 and _error_line(refused).startswith("Error: ")
    assert not (tmp_path / "o.png").exists() and not (tmp_path / "t.png").exists()
