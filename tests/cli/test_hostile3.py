"""Hostile and careless use, third round (issue 24): streams, environment, races and names. One test per class.

The subject of most is the process itself (its real stdin and stdout, its
environment, its file-size limit, other writers in its folder), so the installed
console script runs; the stream and torchrun classes are fuzzed in
tests/cli/test_fuzz_cli.py.
"""

from __future__ import annotations

import os
import resource
import signal
import struct
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import invoke_cli, run_cli, start_cli
from PIL import Image


def _png(path: Path, shape=(16, 16), seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    Image.fromarray((rng.random(shape) * 255).astype(np.uint8)).save(path)
    return path


def _error_line(result) -> str:
    """The one stderr line, which must be the only one and carry no traceback."""
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr.decode()
    return lines[0]


def _dead_pid() -> int:
    """The id of a process that has ended."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


# Data loss.


def test_a_made_up_name_taken_during_the_run_is_not_replaced(tmp_path):
    # The plan finds late_canny.png free; the input is a FIFO, so the run waits on it
    # while another writer takes that name. Publishing must then fail, not replace it.
    _png(tmp_path / "early.png")
    os.mkfifo(tmp_path / "late.png")
    data = (tmp_path / "early.png").read_bytes()
    run = start_cli("detect", "early.png", "late.png", "--canny", "0.1,0.3", "-q", cwd=tmp_path)

    def feed():
        time.sleep(1.0)  # the plan is made before the inputs are read
        (tmp_path / "late_canny.png").write_bytes(b"the user's own file")
        with open(tmp_path / "late.png", "wb") as fifo:
            fifo.write(data)

    feeder = threading.Thread(target=feed)
    feeder.start()
    _, err = run.communicate(timeout=120)
    feeder.join()
    assert run.returncode == 1, err.decode()
    assert (tmp_path / "late_canny.png").read_bytes() == b"the user's own file"
    assert "already exists" in err.decode() and "Traceback" not in err.decode()
    assert (tmp_path / "early_canny.png").is_file()
    assert not list(tmp_path.glob(".*.part"))


def _limit_file_size(limit: int):
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


@pytest.mark.parametrize(
    "args", [["kernels", "box:99", "--json"], ["detect", "s.png", "-o", "-", "-f", "npy"]], ids=["json", "npy"]
)
def test_a_short_write_to_stdout_under_a_file_size_limit_fails(tmp_path, args):
    _png(tmp_path / "s.png", (64, 64))
    with open(tmp_path / "out", "wb") as out:
        run = start_cli(*args, cwd=tmp_path, stdout=out, preexec_fn=_limit_file_size(4096))
        _, err = run.communicate(timeout=120)
    assert (tmp_path / "out").stat().st_size == 4096  # cut short: the run must say so
    assert run.returncode == 1, err.decode()
    assert "Cannot write to stdout" in err.decode() and "Traceback" not in err.decode()


def test_stale_part_files_of_a_killed_run_are_removed_and_reported(tmp_path):
    dead, alive = _dead_pid(), os.getpid()
    stale = tmp_path / f".a.png.convlearn-{dead}-0123abcd.part"
    stale.write_bytes(b"\0" * 1000)
    running = tmp_path / f".b.png.convlearn-{alive}-0123abcd.part"  # a live run's: left alone
    running.write_bytes(b"\0")
    result = invoke_cli("synth", "x.png", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert not stale.exists() and running.exists()
    assert "removed 1 temporary .part file(s) (1000 bytes)" in result.stderr.decode()


def test_a_killed_run_leaves_its_part_file_under_a_name_the_next_run_knows(tmp_path):
    # SIGKILL while the temporary file is being written: the name carries the pid.
    from convlearn.files.publish import temporary_name

    name = temporary_name(tmp_path / "x.png").name
    assert name.startswith(".x.png.convlearn-") and f"-{os.getpid()}-" in name


def test_an_output_through_a_symlink_writes_the_file_it_points_to(tmp_path):
    _png(tmp_path / "a.png")
    (tmp_path / "real.png").write_bytes(b"old")
    (tmp_path / "link.png").symlink_to("real.png")
    result = invoke_cli("detect", "a.png", "-o", "link.png", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "link.png").is_symlink()
    assert (tmp_path / "real.png").read_bytes()[:4] == b"\x89PNG"
    (tmp_path / "real.png").chmod(0o444)  # the check follows the link too
    result = invoke_cli("detect", "a.png", "-o", "link.png", "-q", cwd=tmp_path)
    assert result.returncode == 2 and "read-only" in _error_line(result)


# Streams.


def _closed(fd: int):
    return lambda: os.close(fd)


@pytest.mark.parametrize(
    "args, code, words",
    [
        (["kernels", "box:3"], 1, "stdout: it is closed"),
        (["detect", "s.png", "-o", "o.png", "-q"], 0, None),
    ],
    ids=["text", "quiet-with-output"],
)
def test_a_closed_stdout_is_an_error_only_for_what_goes_there(tmp_path, args, code, words):
    _png(tmp_path / "s.png")
    run = start_cli(*args, cwd=tmp_path, stdout=None, preexec_fn=_closed(1))
    _, err = run.communicate(timeout=120)
    assert run.returncode == code, err.decode()
    assert "Traceback" not in err.decode() and "internal error" not in err.decode()
    if words:
        assert words in err.decode()
    if "-o" in args:
        assert (tmp_path / "o.png").read_bytes()[:4] == b"\x89PNG"


def test_a_closed_stdin_is_named(tmp_path):
    run = start_cli("detect", "-", "-o", "o.png", cwd=tmp_path, stdin=None, preexec_fn=_closed(0))
    _, err = run.communicate(timeout=120)
    assert run.returncode == 2 and "stdin cannot be read: it is closed" in err.decode()
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["kernels"],
        ["export", "sobel-x", "--to", "opencv"],
        ["detect", "s.png", "--print", "-q"],
    ],
    ids=["kernels", "export", "print"],
)
def test_text_to_a_full_device_fails_with_a_message(tmp_path, args):
    _png(tmp_path / "s.png")
    with open("/dev/full", "wb") as full:
        run = start_cli(*args, cwd=tmp_path, stdout=full)
        _, err = run.communicate(timeout=120)
    assert run.returncode == 1, err.decode()
    assert "Cannot write to stdout: no space left on device" in err.decode() and "internal" not in err.decode()


def test_a_reader_that_leaves_early_stays_quiet(tmp_path):
    run = start_cli("kernels", cwd=tmp_path)
    run.stdout.read(10)
    run.stdout.close()
    err = run.stderr.read()
    assert run.wait(timeout=120) in (0, 1) and err == b""


# Environment.


@pytest.mark.parametrize(
    "env, variable",
    [
        ({"WORLD_SIZE": "2"}, "RANK is not set"),
        ({"WORLD_SIZE": "abc"}, "WORLD_SIZE='abc'"),
        ({"WORLD_SIZE": "2", "RANK": "x"}, "RANK='x'"),
        ({"WORLD_SIZE": "2", "RANK": "0", "MASTER_PORT": "1"}, "MASTER_ADDR is not set"),
        ({"WORLD_SIZE": "2", "RANK": "0", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "http"}, "MASTER_PORT='http'"),
        ({"WORLD_SIZE": "2", "RANK": "0", "LOCAL_RANK": "-1", "MASTER_ADDR": "h", "MASTER_PORT": "1"}, "LOCAL_RANK"),
    ],
)
def test_torchrun_variables_set_wrongly_are_named(tmp_path, env, variable):
    _png(tmp_path / "s.png")
    clean = {k: "" for k in ("RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
    result = invoke_cli("detect", "s.png", "-o", "o.png", "-q", cwd=tmp_path, env={**clean, **env})
    assert result.returncode == 2 and variable in _error_line(result)
    assert not (tmp_path / "o.png").exists()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _torchrun_env(port: int, timeout: str = "60") -> dict:
    return {
        "WORLD_SIZE": "2",
        "RANK": "0",
        "LOCAL_RANK": "0",
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(port),
        "CONVLEARN_RENDEZVOUS_TIMEOUT": timeout,
    }


def test_a_port_in_use_is_named(tmp_path):
    import socket

    _png(tmp_path / "s.png")
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        result = run_cli(
            "detect", "s.png", "-o", "o.png", "-q", "--device", "cpu", cwd=tmp_path, env=_torchrun_env(port)
        )
    assert result.returncode == 2 and f"MASTER_PORT={port} is already in use" in _error_line(result)


@pytest.mark.slow
def test_a_stale_world_size_waits_only_as_long_as_allowed(tmp_path):
    _png(tmp_path / "s.png")
    env = _torchrun_env(_free_port(), timeout="2")
    t0 = time.monotonic()
    result = run_cli("detect", "s.png", "-o", "o.png", "-q", "--device", "cpu", cwd=tmp_path, env=env)
    assert result.returncode == 2 and "did not join within 2 s" in _error_line(result)
    assert time.monotonic() - t0 < 60
    assert not (tmp_path / "o.png").exists()


@pytest.mark.slow
@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_stop_signal_ends_the_rendezvous_wait_at_once(tmp_path, sig, code):
    _png(tmp_path / "s.png")
    args = ("detect", "s.png", "-o", "o.png", "-q", "--device", "cpu")
    # SIGINT as a terminal sends it: a job started in the background would ignore it.
    restore = lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)  # noqa: E731
    run = start_cli(*args, cwd=tmp_path, env=_torchrun_env(_free_port()), preexec_fn=restore)
    time.sleep(6)  # torch imported, the wait begun (it would last 60 s)
    assert run.poll() is None
    t0 = time.monotonic()
    run.send_signal(sig)
    _, err = run.communicate(timeout=30)
    assert run.returncode == code and time.monotonic() - t0 < 15, err.decode()
    assert "Traceback" not in err.decode()


# Inputs that change or do not fit.


def test_a_npy_cut_short_while_it_is_read_fails_that_file_alone(tmp_path, monkeypatch):
    # The header is read and checked; then the file loses its end (another process
    # truncates it). A memory map would die of SIGBUS here; the read fails, for that file.
    from convlearn.images import decode

    np.save(tmp_path / "a.npy", np.ones((64, 64), np.float32))
    np.save(tmp_path / "b.npy", np.ones((64, 64), np.float32))
    checked = decode.check_npy_header

    def check_then_truncate(data, name, max_pixels, **kw):
        checked(data, name, max_pixels, **kw)
        if name.endswith("a.npy"):
            os.truncate(name, 200)

    monkeypatch.setattr(decode, "check_npy_header", check_then_truncate)
    result = invoke_cli("detect", "a.npy", "b.npy", "-o", "out", "-q", "--device", "cpu", cwd=tmp_path)
    assert result.returncode == 1, result.stderr  # a batch with a failed file
    assert "a.npy: the file changed while it was read (from 16512 to 200 bytes)" in result.stderr.decode()
    assert (tmp_path / "out" / "b.png").is_file() and not (tmp_path / "out" / "a.png").exists()


def test_long_names_work_and_too_long_ones_are_refused_before_the_work(tmp_path):
    _png(tmp_path / "a.png")
    long = "n" * 251  # + ".png": 255 bytes, the most a name may have
    assert invoke_cli("synth", f"{long}.png", "-q", cwd=tmp_path).returncode == 0
    assert invoke_cli("detect", "a.png", "-o", f"d{long[1:]}.png", "-q", cwd=tmp_path).returncode == 0
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / f"{long}.png").write_bytes((tmp_path / "a.png").read_bytes())
    assert invoke_cli("detect", "src", "-o", "dst", "-q", cwd=tmp_path).returncode == 0
    assert (tmp_path / "dst" / f"{long}.png").is_file()
    invoke_cli("synth", "in.png", "--kernel", "sobel-x", "--target", "t.npy", "-q", cwd=tmp_path)
    for what in (["-o", f"k{long}.json"], ["--plot", f"p{long}.png"]):
        result = invoke_cli("learn", "-i", "in.png", "-t", "t.npy", *what, "-q", cwd=tmp_path)
        assert result.returncode == 2 and "more than the 255" in _error_line(result)
        assert "loss" not in result.stdout.decode()  # refused before the fit
    assert not list(tmp_path.glob(".*.part"))


def _png_header(path: Path, height: int, width: int) -> Path:
    """A PNG that claims ``height`` x ``width`` grey pixels and holds almost none (a bomb's header)."""
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * (width + 1))) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


def test_an_image_larger_than_the_free_memory_is_refused_before_decoding(tmp_path):
    _png_header(tmp_path / "bomb.png", 200_000, 200_000)  # 4e10 pixels: hundreds of GiB to decode
    t0 = time.monotonic()
    result = invoke_cli("detect", "bomb.png", "--max-pixels", "50000000000", "-q", cwd=tmp_path)
    assert result.returncode == 1 and "GiB of memory is free" in _error_line(result)
    assert "crop or downscale" in _error_line(result) and time.monotonic() - t0 < 60


# Clarity.


def test_an_unusable_terminal_width_is_taken_as_unknown(tmp_path):
    result = run_cli("detect", "missing.png", cwd=tmp_path, env={"COLUMNS": "0"})
    assert result.returncode == 2 and "'missing.png' does not exist" in _error_line(result)
    result = run_cli("kernels", "box:3", env={"COLUMNS": "3"})
    assert result.returncode == 0 and "0.1111" in result.stdout.decode()


def _float64_tiff(a: np.ndarray) -> bytes:
    """A minimal little-endian TIFF of one 64-bit float plane (as scientific tools write it)."""
    h, w = a.shape
    pixels = np.ascontiguousarray(a, "<f8").tobytes()
    tags = [(256, 3, 1, w), (257, 3, 1, h), (258, 3, 1, 64), (259, 3, 1, 1), (262, 3, 1, 1)]
    tags += [(273, 4, 1, 8), (277, 3, 1, 1), (278, 3, 1, h), (279, 4, 1, len(pixels)), (339, 3, 1, 3)]
    ifd = struct.pack("<H", len(tags)) + b"".join(struct.pack("<HHII", *t) for t in tags) + b"\0" * 4
    return b"II*\0" + struct.pack("<I", 8 + len(pixels)) + pixels + ifd


def test_messages_name_the_real_cause(tmp_path):
    np.save(tmp_path / "big.npy", np.full((4, 4), 1e300))
    np.save(tmp_path / "cx.npy", np.zeros((4, 4), complex))
    np.save(tmp_path / "dt.npy", np.zeros((4, 4), "datetime64[s]"))
    (tmp_path / "f64.tif").write_bytes(_float64_tiff(np.random.default_rng(0).random((4, 5))))
    expected = {
        "big.npy": "beyond the range of float32",
        "cx.npy": "complex numbers",
        "dt.npy": "dates (datetime64)",
        "f64.tif": "64-bit float samples",
    }
    for name, words in expected.items():
        result = invoke_cli("detect", name, "-o", "o.png", cwd=tmp_path)
        line = _error_line(result)
        assert result.returncode == 2 and words in line, line
        assert "NaN" not in line and "unpickle" not in line and "not an image Pillow" not in line


def test_inputs_that_would_be_used_in_part_are_refused(tmp_path):
    frames = [Image.fromarray(np.full((8, 8), 40 * i, np.uint8)) for i in range(3)]
    for name in ("anim.gif", "anim.png", "pages.tif"):
        frames[0].save(tmp_path / name, save_all=True, append_images=frames[1:])
    np.save(tmp_path / "rgba.npy", np.zeros((8, 8, 4), np.uint8))
    for name, words in [
        ("anim.gif", "3 frames"),
        ("anim.png", "3 frames"),
        ("pages.tif", "3 frames"),
        ("rgba.npy", "(8, 8, 4)"),
    ]:
        result = invoke_cli("detect", name, "-o", "o.png", cwd=tmp_path)
        assert result.returncode == 2 and words in _error_line(result)
    assert not (tmp_path / "o.png").exists()


def test_a_kernel_file_with_a_key_twice_is_refused(tmp_path):
    _png(tmp_path / "a.png")
    (tmp_path / "k.json").write_text('{"kernel": [[1]], "kernel": [[1, -1]]}')
    result = invoke_cli("detect", "a.png", "-k", "k.json", "-o", "o.png", cwd=tmp_path)
    assert result.returncode == 2 and "gives the key 'kernel' twice" in _error_line(result)
