"""Every failure path, end to end, through the one error boundary.

Each case runs ``convlearn ARGS`` and checks:
  - the exit code (2 usage or input, 1 run time, 130 Ctrl-C);
  - one line on stderr, ``Error: ...``, that names the input and says what went wrong;
  - no traceback;
  - that nothing which existed before was damaged, and no half-written file remains.

Most cases run in-process (Typer's runner, the same boundary; conftest.invoke_cli). The cases marked
``script`` run the installed console script, so that each exit code and the one-line stderr are seen
as a shell sees them; so do the jobs that need a process of their own (a fault injected at start-up,
resource limits, a closed stdout, Ctrl-C). A console-script run costs 1-2 s of CPU (importing torch),
so those runs start up front, as many at a time as there are cores, and each test then checks its own.
Unit tests of the boundary itself (memory, broken pipes, internal errors) are at the end.
"""

from __future__ import annotations

import errno
import json
import os
import pickle
import resource
import signal
import struct
import subprocess
import sys
import time
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import typer
from conftest import cli_exe, invoke_cli, run_cli, runner, start_cli
from PIL import Image

from convlearn.cli import app
from convlearn.cli.app import BoundaryGroup, describe
from convlearn.errors import (
    ConvlearnError,
    DeviceError,
    ImageReadError,
    InputError,
    Interrupted,
    KernelSpecError,
    OutOfMemoryError,
    OutputError,
    TrainingError,
)
from convlearn.images import read_image, write_image
from convlearn.synth import make_image

# The workspace: every bad input, made once.

MARKER = "UNPICKLED"  # created only if something unpickles one of the payloads below


class _Payload:
    """Unpickling this opens MARKER for writing, which creates it: proof that someone unpickled."""

    def __reduce__(self):
        return (open, (MARKER, "w"))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb's shape)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"")) + _chunk(b"IEND", b"")


def build_workspace(ws: Path) -> None:
    X = make_image().numpy()  # the notebook's 6x8 stripes
    write_image(ws / "s.png", X, scale="clip")
    np.save(ws / "s.npy", X)
    np.save(ws / "target_5x5.npy", np.zeros((5, 5), np.float32))
    (ws / "empty.png").write_bytes(b"")
    noise = np.random.default_rng(0).integers(0, 256, (200, 200), dtype=np.uint8)
    Image.fromarray(noise).save(ws / "full.png")
    data = (ws / "full.png").read_bytes()
    (ws / "truncated.png").write_bytes(data[: len(data) // 2])
    (ws / "random.png").write_bytes(np.random.default_rng(1).bytes(500))
    np.save(ws / "zero.npy", np.zeros((0, 5), np.float32))
    Image.fromarray(np.full((1, 1), 200, np.uint8)).save(ws / "one.png")
    np.save(ws / "nan.npy", np.array([[0.0, np.nan], [1.0, 0.5]], np.float32))
    np.save(ws / "inf.npy", np.array([[0.0, np.inf], [1.0, 0.5]], np.float32))
    np.save(ws / "k_nan.npy", np.array([[1.0, np.nan]]))
    (ws / "k_inf.json").write_text(json.dumps({"kernel": [[1.0, float("inf")]]}))  # Python writes "Infinity"
    (ws / "k_flat.json").write_text(json.dumps({"kernel": [1, -1]}))
    (ws / "k_nokey.json").write_text(json.dumps({"weights": [[1, -1]]}))
    (ws / "k_ragged.json").write_text(json.dumps([[1, 2], [3]]))
    (ws / "k_text.json").write_text(json.dumps({"kernel": [[1, "a"]]}))
    (ws / "k_3d.json").write_text(json.dumps({"kernel": [[[1]]]}))
    (ws / "k_bias.json").write_text(json.dumps({"kernel": [[1, -1]], "bias": "x"}))
    (ws / "k_broken.json").write_text('{"kernel": [[1, -1]')
    payload = pickle.dumps(_Payload())
    np.save(ws / "object.npy", np.array([_Payload(), 1], dtype=object), allow_pickle=True)
    (ws / "kernel.pkl").write_bytes(payload)
    (ws / "pickle.npy").write_bytes(payload)
    (ws / "pickle.json").write_bytes(payload)
    (ws / "pickle.png").write_bytes(payload)
    (ws / "bomb.png").write_bytes(png_claiming(30_000, 30_000))
    (ws / "a_file").write_text("not a directory")
    (ws / "out").mkdir()
    (ws / "dir.json").mkdir()
    (ws / "a_dir").mkdir()


# The cases. Each runs `convlearn ARGS` in the workspace and expects CODE and,
# in its one stderr line, every FRAGMENT.


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    code: int
    fragments: tuple[str, ...]
    script: bool  # through the installed console script (else in-process)


def case(id: str, args: str | list[str], code: int, *fragments: str, script: bool = False) -> Case:
    return Case(id, tuple(args.split() if isinstance(args, str) else args), code, fragments, script)


CASES = [
    # Paths.
    case("missing-path", "detect nope.png", 2, "'nope.png' does not exist", script=True),
    case("empty-file", "detect empty.png", 2, "empty.png", "empty"),
    case("truncated-png", "detect truncated.png", 2, "truncated.png", "truncated"),
    case("random-bytes-png", "detect random.png", 2, "random.png", "not an image"),
    case("zero-pixels", "detect zero.npy", 2, "zero.npy", "no pixels"),
    # Kernel specs.
    case("kernel-larger-than-image", "detect s.png -k box:7", 2, "Kernel 7x7 is larger than the image 6x8"),
    case("inline-empty-value", ["detect", "s.png", "-k", "1,,2"], 2, "'1,,2'", "Empty value"),
    case("inline-nan", ["detect", "s.png", "-k", "nan,1"], 2, "'nan,1'", "NaN or inf"),
    case("npy-input-nan", "detect nan.npy", 2, "nan.npy", "NaN or inf"),
    case("kernel-json-wrong-shape", "detect s.png -k k_flat.json", 2, "'k_flat.json'", "list of rows"),
    # Unsafe files.
    case("object-npy-image", "detect object.npy", 2, "object.npy", "allow_pickle"),
    case("pickle-kernel", "detect s.png -k kernel.pkl", 2, "'kernel.pkl'", "never loads pickles"),
    # Huge images.
    case("decompression-bomb", "detect bomb.png", 2, "bomb.png", "--max-pixels", script=True),  # its own memory
    # Devices.
    case("device-cuda", "detect s.png --device cuda -o out/cuda.png", 2, "CUDA is not available", "--device cpu"),
    # Outputs.
    case(
        "output-dir-is-a-file",
        "detect s.png -o a_file/edges.png",
        1,
        "'a_file' is a file, not a directory",
        script=True,
    ),
    case("output-is-input", "detect s.png -o s.png", 2, "'s.png' is also an input", "--output"),
    # Training.
    case(
        "learn-mismatched-pair",
        "learn -i s.png -t target_5x5.npy --kernel-size 1x2",
        2,
        "target_5x5.npy is 5x5",
        "6x8",
        "6x7",
    ),
    case("learn-diverges", "learn --lr 10 --epochs 40 -o diverged.json", 1, "--lr"),
]

# Jobs that need more than arguments: keyed by the name of the test that checks them.
SPECIAL = {}


def special(fn):
    """Register a job for the up-front pool; the test of the same name collects its result."""
    SPECIAL[fn.__name__.removeprefix("job_")] = fn
    return fn


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ws")
    build_workspace(path)
    return path


@pytest.fixture(scope="module")
def runs(ws, request) -> dict[str, Future]:
    """Start every selected console-script run now, a few at a time, then run the in-process cases
    while they go; tests wait for their own."""
    names = {item.name for item in request.session.items}
    wanted = [c for c in CASES if f"test_case[{c.id}]" in names]
    jobs = {name: fn for name, fn in SPECIAL.items() if f"test_{name}" in names}
    pool = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2))
    futures = {c.id: pool.submit(run_cli, *c.args, cwd=ws) for c in wanted if c.script}
    futures.update({name: pool.submit(fn, ws) for name, fn in jobs.items()})
    for c in wanted:  # here, in this thread: invoke_cli changes the working directory while it runs
        if not c.script:
            futures[c.id] = Future()
            futures[c.id].set_result(invoke_cli(*c.args, cwd=ws))
    yield futures
    pool.shutdown(wait=True)


def one_error_line(proc: subprocess.CompletedProcess, code: int, *fragments: str) -> str:
    """Check the exit code and that stderr is exactly one ``Error:`` line with every fragment; return it."""
    err = proc.stderr.decode()
    assert proc.returncode == code, f"exit {proc.returncode}, expected {code}; stderr:\n{err}"
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    assert lines[0].startswith("Error: ")
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    return lines[0]


def part_files(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*.part"))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case(case, runs, ws):
    proc = runs[case.id].result()
    if case.id == "device-cuda":
        import torch

        if torch.cuda.is_available():
            pytest.skip("this machine has CUDA")
    one_error_line(proc, case.code, *case.fragments)


def test_nothing_was_unpickled_and_inputs_are_intact(runs, ws):
    for name in ("object-npy-image", "pickle-kernel", "output-is-input"):
        if name in runs:
            runs[name].result()
    assert not (ws / MARKER).exists()
    assert read_image(ws / "s.png")[0].tolist() == [1, 1, 0, 0, 0, 0, 1, 1]
    assert (ws / "a_file").read_text() == "not a directory"


def test_diverging_loss_writes_the_best_kernel(runs, ws):
    """Divergence exits 1 *and* keeps the best kernel so far."""
    one_error_line(runs["learn-diverges"].result(), 1, "--lr")
    saved = json.loads((ws / "diverged.json").read_text())
    assert np.isfinite(np.array(saved["kernel"], dtype=float)).all()


# Jobs with a fault injected into the real console script.

FILLS_UP = '''
"""Injected into a convlearn run by tests/test_errors.py: the disk fills after ROOM bytes of a file."""
import errno, os
_ROOM = int(os.environ["CONVLEARN_TEST_DISK_ROOM"])
_real_fdopen = os.fdopen
class _FillsUp:
    def __init__(self, real):
        self.real, self.room = real, _ROOM
    def write(self, data):
        fits = bytes(data[: self.room])
        self.real.write(fits)
        self.room -= len(fits)
        if len(fits) < len(data):
            self.real.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return len(data)
    def __getattr__(self, name):
        return getattr(self.real, name)
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        self.real.close()
def fdopen(fd, mode="r", *args, **kwargs):
    real = _real_fdopen(fd, mode, *args, **kwargs)
    return _FillsUp(real) if "w" in mode else real
os.fdopen = fdopen
'''


@special
def job_disk_full_keeps_the_old_output(ws):
    (ws / "faults").mkdir()
    (ws / "faults" / "sitecustomize.py").write_text(FILLS_UP)
    (ws / "disk").mkdir()
    (ws / "disk" / "edges.npy").write_bytes(b"the previous result")
    env = {"PYTHONPATH": str(ws / "faults"), "CONVLEARN_TEST_DISK_ROOM": "64"}
    return run_cli("detect", "s.png", "-o", "disk/edges.npy", cwd=ws, env=env)


def test_disk_full_keeps_the_old_output(runs, ws):
    proc = runs["disk_full_keeps_the_old_output"].result()
    one_error_line(proc, 1, "'disk/edges.npy'", "the disk is full", "was left as it was")
    assert (ws / "disk" / "edges.npy").read_bytes() == b"the previous result"
    assert part_files(ws / "disk") == []


@special
def job_file_size_limit_keeps_the_old_output(ws):
    # A real failed write, from the kernel: RLIMIT_FSIZE stops the file at 4 KiB (Python ignores SIGXFSZ).
    (ws / "fsize").mkdir()
    (ws / "fsize" / "big.npy").write_bytes(b"old")

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    return subprocess.run(
        [*cli_exe(), "synth", "fsize/big.npy", "--height", "64", "--width", "64", "-q"],
        cwd=ws,
        capture_output=True,
        preexec_fn=limit,
        timeout=300,
    )


def test_file_size_limit_keeps_the_old_output(runs, ws):
    proc = runs["file_size_limit_keeps_the_old_output"].result()
    one_error_line(proc, 1, "'fsize/big.npy'", "too large", "was left as it was")
    assert (ws / "fsize" / "big.npy").read_bytes() == b"old"
    assert part_files(ws / "fsize") == []


@special
def job_out_of_memory_says_what_to_lower(ws):
    # 1.5 GB of data segment: enough to import torch, too little for a 16384 x 16384 image.
    def limit():
        resource.setrlimit(resource.RLIMIT_DATA, (1_500_000_000, 1_500_000_000))

    return subprocess.run(
        [*cli_exe(), "synth", "huge.png", "--height", "16384", "--width", "16384", "-q"],
        cwd=ws,
        capture_output=True,
        preexec_fn=limit,
        timeout=300,
    )


def test_out_of_memory_says_what_to_lower(runs, ws):
    proc = runs["out_of_memory_says_what_to_lower"].result()
    one_error_line(proc, 1, "Out of memory in `convlearn synth`", "a smaller --height and --width")
    assert not (ws / "huge.png").exists()


@special
def job_closed_stdout_exits_quietly(ws):
    # The reader is gone before convlearn prints, as in `convlearn ... | head -0`.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = start_cli("synth", "piped.png", cwd=ws, stdout=write_end)
    finally:
        os.close(write_end)
    _, err = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, b"", err)


def test_closed_stdout_exits_quietly(runs, ws):
    proc = runs["closed_stdout_exits_quietly"].result()
    assert proc.returncode == 1, proc.stderr.decode()  # as Rich, Typer and Python's docs do on EPIPE
    assert proc.stderr == b""  # no BrokenPipeError, no "Exception ignored"
    assert read_image(ws / "piped.png").shape == (6, 8)  # the file was written before printing


# In-process variants of the cases above, through the same boundary.


def invoke(args: list[str], cwd: Path):
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return runner.invoke(app, args)
    finally:
        os.chdir(old)


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["detect", "s.png", "-k", "nope.json"], 2, "'nope.json' does not exist"),
        (["detect", "s.png", "-k", "dir.json"], 2, "'dir.json' is a directory"),
        (["detect", "s.png", "-k", "1,2;3"], 2, "Ragged kernel '1,2;3'"),
        (["learn", "-i", "a_dir", "-t", "s.png"], 2, "'a_dir'"),
        (["detect", "one.png"], 2, "Kernel 1x2 is larger than the image 1x1"),
        (["detect", "s.png", "-k", "abc"], 2, "Unknown kernel 'abc'"),
        (["detect", "s.png", "-k", ""], 2, "Empty kernel spec"),
        (["detect", "s.png", "--max-pixels", "47"], 2, "--max-pixels"),
        (["detect", "inf.npy"], 2, "inf.npy: contains NaN or inf"),
        (["detect", "s.png", "-k", "1;inf"], 2, "contains NaN or inf"),
        (["detect", "s.png", "-k", "k_nan.npy"], 2, "contains NaN or inf"),
        (["detect", "s.png", "-k", "k_inf.json"], 2, "k_inf.json"),
        (["detect", "s.png", "-k", "k_nokey.json"], 2, 'has no "kernel" key'),
        (["detect", "s.png", "-k", "k_ragged.json"], 2, "ragged rows"),
        (["detect", "s.png", "-k", "k_text.json"], 2, "list of rows of numbers"),
        (["detect", "s.png", "-k", "k_3d.json"], 2, "list of rows of numbers"),
        (["detect", "s.png", "-k", "k_bias.json"], 2, '"bias" must be a number or null'),
        (["detect", "s.png", "-k", "k_broken.json"], 2, "is not valid JSON"),
        (["detect", "s.png", "-k", "object.npy"], 2, "'object.npy'"),
        (["detect", "s.png", "-k", "pickle.npy"], 2, "'pickle.npy'"),
        (["detect", "s.png", "-k", "pickle.json"], 2, "'pickle.json'"),
        (["detect", "pickle.png"], 2, "pickle.png: not an image"),
        (["detect", "s.png", "-k", "[/bold]"], 2, "'[/bold]'"),  # Rich markup in a message stays text
        (["detect", "s.png", "--device", "tpu"], 2, "Invalid device 'tpu'. Expected one of: auto, cpu, cuda"),
        (["detect", "s.png", "-o", "no/such/dir/e.png"], 1, "the directory 'no/such/dir' does not exist"),
        (["detect", "s.png", "-o", "out"], 0, ""),  # an existing directory is a place to write into
        (["learn", "-i", "s.png"], 2, "Got 1 --input and 0 --target"),
        (["learn", "-i", "s.png", "-t", "s.png", "--max-pixels", "10"], 2, "--max-pixels"),
        (["learn", "--epochs", "x"], 2, "Invalid value for '--epochs'"),  # Typer's usage error
        (["detect"], 2, "Missing argument"),
        (["detect", "s.png", "--no-such-option"], 2, "No such option: --no-such-option"),
    ],
)
def test_variants_in_process(ws, args, code, fragment):
    result = invoke(args, ws)
    assert result.exit_code == code, result.output
    if code == 0:
        return
    assert fragment in result.stderr
    assert "Traceback" not in result.output
    if "Usage:" not in result.stderr:  # convlearn's own errors: exactly one line
        assert len(result.stderr.strip().splitlines()) == 1
    assert not (ws / MARKER).exists()


def test_raised_max_pixels_lets_an_image_through(ws, tmp_path):
    result = invoke(["detect", "s.png", "--max-pixels", "48", "-o", str(tmp_path / "e.npy")], ws)
    assert result.exit_code == 0, result.output
    assert read_image(tmp_path / "e.npy").shape == (6, 7)
    # A header claiming 90 million pixels is refused at the default limit, and gets
    # past the guard when the limit is raised on purpose (then fails as the empty file it is).
    (tmp_path / "over.png").write_bytes(png_claiming(10_000, 9_000))
    refused = invoke(["detect", str(tmp_path / "over.png")], ws)
    assert refused.exit_code == 2 and "--max-pixels" in refused.stderr
    raised = invoke(["detect", str(tmp_path / "over.png"), "--max-pixels", "100000000"], ws)
    assert raised.exit_code == 2 and "truncated" in raised.stderr and "--max-pixels" not in raised.stderr


def test_one_pixel_image_with_a_one_pixel_kernel_is_fine(ws, tmp_path):
    result = invoke(["detect", "one.png", "-k", "2", "-o", str(tmp_path / "o.npy")], ws)
    assert result.exit_code == 0, result.output
    assert read_image(tmp_path / "o.npy").shape == (1, 1)
    assert read_image(tmp_path / "o.npy")[0, 0] == pytest.approx(2 * 200 / 255)


def test_output_that_is_an_input_in_a_batch(tmp_path):
    for name in ("a", "b"):
        write_image(tmp_path / f"{name}.png", make_image().numpy(), scale="clip")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    result = invoke(["detect", "a.png", "b.png", "-o", "."], tmp_path)  # would write ./a.png over the input
    assert result.exit_code == 2 and "is also an input" in result.stderr
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_batch_output_directory_under_a_file(ws):
    result = invoke(["detect", "s.png", "one.png", "-o", "a_file/out"], ws)
    assert result.exit_code == 1
    assert "a_file" in result.stderr and "internal error" not in result.stderr
    assert (ws / "a_file").read_text() == "not a directory"


def test_learn_output_that_is_an_input(tmp_path):
    """learn -o refuses to overwrite an --input or --target."""
    X = make_image().numpy()
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", X[:, :-1] - X[:, 1:])
    before = (tmp_path / "x.npy").read_bytes()
    result = invoke(["learn", "-i", "x.npy", "-t", "y.npy", "-o", "x.npy"], tmp_path)
    assert result.exit_code == 2 and "is also an input" in result.stderr
    assert (tmp_path / "x.npy").read_bytes() == before


def test_unwritable_output_directory(ws, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as root, where permissions do not stop writes; output-dir-is-a-file covers this")
        result = invoke(["detect", "s.png", "-o", str(locked / "e.png")], ws)
        assert result.exit_code == 1 and "permission denied" in result.stderr
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


# Ctrl-C, last: it times its signal, so it runs after the pool has drained. Ctrl-C in learn
# (the kernel so far is written, exit 130) is tested in tests/cli/test_cli_learn.py
# (test_sigint_to_the_console_script_saves_the_kernel).


def default_sigint() -> None:
    """In the child: take Ctrl-C as Python does, even when the test run itself ignores it (a background job)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_for(predicate, timeout: float, proc: subprocess.Popen) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.005)
    return False


def test_ctrl_c_in_a_batch_leaves_only_complete_outputs(tmp_path):
    """Ctrl-C in a batch: exit 130, only complete outputs, and a summary that names what was not done."""
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    image = np.random.default_rng(0).random((256, 256)).astype(np.float32)
    np.save(src / "im000.npy", image)
    inputs = [src / "im000.npy"]
    for i in range(1, 400):  # hard links: 400 inputs for the price of one file
        inputs.append(src / f"im{i:03d}.npy")
        os.link(src / "im000.npy", inputs[-1])
    proc = start_cli("detect", *map(str, inputs), "-k", "box:5", "-o", str(out), preexec_fn=default_sigint)

    def started() -> bool:
        return out.is_dir() and any(not p.name.startswith(".") for p in out.iterdir())

    assert wait_for(started, 240, proc), "the batch never wrote a first output"
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    err = stderr.decode()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.strip().splitlines()[-1].startswith("Error: Interrupted")
    done = sorted(p for p in out.iterdir())
    assert part_files(out) == [] and all(not p.name.startswith(".") for p in done)
    assert 0 < len(done) < len(inputs), "the batch should have been cut short"
    expected = None
    for path in done:  # every output that exists is complete
        values = read_image(path)
        if expected is None:
            expected = values
        assert values.shape == (252, 252) and np.array_equal(values, expected)
    done_stems = {p.stem for p in done}
    not_done = [p for p in inputs if p.stem not in done_stems]
    assert not_done[0].name in err, f"the summary should name what was not done:\n{err}"


# The boundary itself, on a small app of its own.

boundary_app = typer.Typer(cls=BoundaryGroup, pretty_exceptions_enable=False)


# Named like torch.OutOfMemoryError, which CUDA raises; the boundary must not need torch to know it.
TorchOutOfMemory = type("OutOfMemoryError", (RuntimeError,), {})

FAILURES = {
    "input": InputError("bad input 'x'"),
    "kernel": KernelSpecError("bad kernel"),
    "image": ImageReadError("bad image"),
    "device": DeviceError("no such device"),
    "output": OutputError("cannot write"),
    "training": TrainingError("diverged"),
    "oom-ours": OutOfMemoryError("Out of memory at tile 512; lower --tile"),
    "interrupted": Interrupted("Interrupted after 2 of 5 images; not done: c.png, d.png, e.png"),
    "ctrl-c": KeyboardInterrupt(),
    "memory": MemoryError(),
    "cuda-oom": TorchOutOfMemory("CUDA out of memory. Tried to allocate 20.00 GiB"),
    "cpu-oom": RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1 bytes"),
    "pipe": BrokenPipeError(errno.EPIPE, "Broken pipe"),
    "os": FileNotFoundError(errno.ENOENT, "No such file or directory", "gone.png"),
    "bug": ZeroDivisionError("division by zero"),
    "multiline": InputError("first line\nsecond line [red]not markup[/red]"),
}


@boundary_app.callback()
def _group() -> None:
    pass


@boundary_app.command()
def fail(kind: str, tile: int = 0, device: str = "auto") -> None:
    raise FAILURES[kind]


@pytest.mark.parametrize(
    ("kind", "code", "line"),
    [
        ("input", 2, "Error: bad input 'x'"),
        ("kernel", 2, "Error: bad kernel"),
        ("image", 2, "Error: bad image"),
        ("device", 2, "Error: no such device"),
        ("output", 1, "Error: cannot write"),
        ("training", 1, "Error: diverged"),
        ("oom-ours", 1, "Error: Out of memory at tile 512; lower --tile"),
        ("interrupted", 130, "Error: Interrupted after 2 of 5 images; not done: c.png, d.png, e.png"),
        ("ctrl-c", 130, "Error: Interrupted (Ctrl-C)"),
        ("memory", 1, "Error: Out of memory in `convlearn fail`. To fit, use a smaller input, or a smaller --tile"),
        (
            "cuda-oom",
            1,
            "Error: Out of memory on the GPU in `convlearn fail`. To fit, use a smaller input, "
            "or a smaller --tile, or run with --device cpu",
        ),
        ("cpu-oom", 1, "Error: Out of memory in `convlearn fail`. To fit, use a smaller input, or a smaller --tile"),
        ("os", 1, "Error: Cannot access 'gone.png': No such file or directory"),
        ("bug", 1, "Error: internal error: ZeroDivisionError: division by zero (run with --debug for the traceback)"),
        ("multiline", 2, "Error: first line second line [red]not markup[/red]"),
    ],
)
def test_boundary_turns_each_failure_into_one_line(kind, code, line):
    result = runner.invoke(boundary_app, ["fail", kind], prog_name="convlearn")
    assert result.exit_code == code
    assert result.stderr.splitlines() == [line]
    assert result.stdout == ""


def test_boundary_is_quiet_on_a_broken_pipe(monkeypatch):
    app_module = sys.modules["convlearn.cli.app"]

    silenced = []
    monkeypatch.setattr(app_module, "_silence_stdout", lambda: silenced.append(True))
    result = runner.invoke(boundary_app, ["fail", "pipe"])
    assert result.exit_code == 1 and result.stderr == "" and silenced == [True]


def test_describe_names_each_exit_code():
    assert describe(InputError("x")) == (2, "x")
    assert describe(Interrupted("y")) == (130, "y")
    assert describe(BrokenPipeError()) == (1, None)
    assert describe(KeyboardInterrupt()) == (130, "Interrupted (Ctrl-C)")
    assert describe(MemoryError(), "learn") == (
        1,
        "Out of memory in `convlearn learn`. To fit, use smaller or fewer --input/--target pairs or a smaller "
        "--kernel-size",
    )
    assert issubclass(OutOfMemoryError, ConvlearnError) and OutOfMemoryError.exit_code == 1


def test_debug_shows_the_traceback_and_keeps_the_exit_code(ws):
    with_debug = invoke(["--debug", "detect", "random.png"], ws)
    assert with_debug.exit_code == 2
    assert "Traceback (most recent call last)" in with_debug.stderr and "ImageReadError" in with_debug.stderr
    assert with_debug.stderr.strip().splitlines()[-1].startswith("Error: random.png")
    without = invoke(["detect", "random.png"], ws)  # --debug does not stick to the next run
    assert without.exit_code == 2 and "Traceback" not in without.stderr


def test_env_debug_shows_the_traceback(ws, monkeypatch):
    monkeypatch.setenv("CONVLEARN_DEBUG", "1")
    result = invoke(["detect", "empty.png"], ws)
    assert result.exit_code == 2 and "Traceback" in result.stderr
    assert result.stderr.strip().splitlines()[-1] == "Error: empty.png: the file is empty"


def test_no_temporary_file_is_left_anywhere(runs, ws):
    for future in runs.values():
        future.result()
    assert part_files(ws) == []
