"""Fuzzing the command line's option values: numbers, sizes, kernel specs and paths.

For every value: the exit code is 0 or 2, no "internal error" and no traceback,
and when the command failed, no file or folder in its directory changed. Closed
and full streams and torchrun's variables set at random may also exit 1 (a
failure at run time), under the same rules. The
commands run in-process (Typer's runner) so that a few hundred examples take
seconds; tests/cli/test_hostile.py runs one case of each class, and
tests/cli/test_errors.py one error of each exit code through the installed
console script. Raise ``CONVLEARN_FUZZ_EXAMPLES`` for a longer hunt.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import resource
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from conftest import runner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from convlearn.cli import app

EXAMPLES = int(os.environ.get("CONVLEARN_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: One working folder for every example: a grey and a colour image, a kernel file,
#: a read-only file and a folder. Examples that succeed add files; failures must not.
WORK = Path(tempfile.mkdtemp(prefix="convlearn-fuzz-cli-"))


def _make_work() -> None:
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((16, 16)) * 255).astype(np.uint8)).save(WORK / "img.png")
    Image.fromarray((rng.random((12, 10, 3)) * 255).astype(np.uint8)).save(WORK / "col.png")
    (WORK / "k.json").write_text('{"kernel": [[1, -1]]}')
    (WORK / "ro.png").write_bytes((WORK / "img.png").read_bytes())
    (WORK / "ro.png").chmod(0o444)
    (WORK / "sub").mkdir()
    (WORK / "[red]x[").mkdir()  # so that "[red]x[/].png" names a file in a folder that exists
    (WORK / "sub" / "a.png").write_bytes((WORK / "img.png").read_bytes())


_make_work()


def _snapshot() -> dict:
    """Every file's contents and mode, and every folder, under WORK."""
    found = {}
    for top, dirs, files in os.walk(WORK):
        for d in dirs:
            found[os.path.relpath(os.path.join(top, d), WORK)] = "dir"
        for f in files:
            p = os.path.join(top, f)
            data = Path(p).read_bytes()
            found[os.path.relpath(p, WORK)] = (hashlib.sha1(data).hexdigest(), os.stat(p).st_mode)
    return found


@contextmanager
def _in_work():
    old = os.getcwd()
    os.chdir(WORK)
    try:
        yield
    finally:
        os.chdir(old)


def run_checked(*args: str, may_diverge: bool = False) -> int:
    """Run one command in WORK; check the exit code, the output and (on failure) that nothing changed.

    ``may_diverge``: a training step that makes the loss grow is a failure at run
    time (exit 1, the best kernel kept), not a bad value: allowed where asked.
    """
    with _in_work():
        before = _snapshot()
        result = runner.invoke(app, list(args))
        after = _snapshot()
    output = result.output
    diverged = may_diverge and result.exit_code == 1 and ("too large for this" in output or "smaller --lr" in output)
    assert result.exit_code in (0, 2) or diverged, f"{args}: exit {result.exit_code}\n{output}"
    assert "internal error" not in output and "Traceback" not in output, f"{args}\n{output}"
    assert result.exception is None or isinstance(result.exception, SystemExit), f"{args}: {result.exception!r}"
    if result.exit_code == 2:
        assert after == before, f"{args} failed but changed {set(after.items()) ^ set(before.items())}"
    return result.exit_code


# Values.

special_numbers = st.sampled_from(
    ["1e999", "-1e999", "inf", "nan", "-0", "1e-300", "1e300", "1e308", "1e39", "3.5e38", "0x10", "1_000", ""]
)
floats = st.floats(allow_nan=True, allow_infinity=True).map(repr)
huge_ints = st.one_of(st.integers(2**62, 2**80), st.integers(-(2**80), -(2**62))).map(str)
numbers = st.one_of(special_numbers, floats, huge_ints, st.integers(-10, 40).map(str))
SPEC_ALPHABET = "0123456789.,;: -+eExnaifbolsgpr"
specs = st.one_of(
    st.text(alphabet=SPEC_ALPHABET, max_size=30),
    st.builds(lambda name, n: f"{name}:{n}", st.sampled_from(["box", "gaussian", "log", "sobel-x"]), numbers),
    st.builds(lambda n, s: f"gaussian:{n},{s}", st.sampled_from(["3", "5", "1025"]), numbers),
    st.builds(lambda w, body: f"{w}: {body}", st.one_of(huge_ints, st.sampled_from(["1", "2", "3x1"])), numbers),
    st.sampled_from(["k.json", "./k.json", "img.png", "sub", "edge", "./sub", "-"]),
)
#: File names in WORK (folders and missing folders are other, exit-1 cases): markup, spaces, unicode, existing files.
NAME_ALPHABET = "ab[]/ _-.é✓"
names = st.one_of(
    st.text(alphabet=NAME_ALPHABET.replace("/", ""), min_size=1, max_size=12).filter(lambda s: s.strip(".") != ""),
    st.sampled_from(["img.png", "col.png", "k.json", "ro.png", "[red]x[/].png", "a b.png", "out.PNG", "x.xyz"]),
).filter(lambda s: not s.startswith("-"))


# detect.


@FUZZ
@given(st.sampled_from(["--sigma", "--threshold", "--canny", "--batch-size", "--max-pixels", "--bit-depth"]), numbers)
def test_detect_numbers(option, value):
    extra = ["--canny", "0.1,0.2"] if option == "--sigma" else []
    run_checked("detect", "img.png", option, value, *extra, "-o", "out_num.png", "-q")


@FUZZ
@given(specs)
def test_detect_kernel_specs(spec):
    run_checked("detect", "img.png", "-k", spec, "-o", "out_spec.npy", "-q")


@FUZZ
@given(specs, st.booleans())
def test_detect_default_names_never_replace_files(spec, overwrite):
    run_checked("detect", "img.png", "-k", spec, "-q", *(["--overwrite"] if overwrite else []))


@FUZZ
@given(names, st.sampled_from([["img.png"], ["sub"], ["*.png"], ["img.png", "col.png"]]))
def test_detect_output_paths(name, inputs):
    run_checked("detect", *inputs, "-k", "k.json", "-o", name, "-q")


@FUZZ
@given(names)
def test_detect_angle_paths(name):
    run_checked("detect", "img.png", "--magnitude", "--angle", name, "-o", "angle_out.npy", "-q")


# learn.

epochs = st.one_of(st.integers(-5, 30), st.integers(2**63, 2**70)).map(str)
sizes = st.one_of(
    st.builds(lambda h, w: f"{h}x{w}", st.integers(-2, 40), st.integers(-2, 40)),
    st.builds(lambda h, w: f"{h}x{w}", huge_ints, st.integers(1, 3)),
    st.text(alphabet="0123456789xX -", max_size=10),
)


@FUZZ
@given(
    st.sampled_from(["--lr", "--seed", "--epochs", "--kernel-size"]),
    st.one_of(numbers, epochs, sizes),
    st.sampled_from(["sgd", "lstsq", "adam", "lbfgs"]),
)
def test_learn_numbers(option, value, solver):
    budget = [] if option == "--epochs" else ["--epochs", "3"]
    pair = ["-i", "img.png", "-t", "img.png"] if option == "--kernel-size" else []
    run_checked("learn", *pair, "--solver", solver, option, value, *budget, "-q", may_diverge=option == "--lr")


@FUZZ
@given(names, st.one_of(st.none(), names), st.one_of(st.none(), specs))
def test_learn_output_paths(output, plot, reference):
    args = ["learn", "-i", "img.png", "-t", "img.png", "--solver", "lstsq", "-o", output, "-q"]
    args += [] if plot is None else ["--plot", plot]
    args += [] if reference is None else ["--reference", reference, "--kernel-size", "1x2"]
    run_checked(*args)


# synth.

sides = st.one_of(st.integers(-3, 40), st.integers(2**28, 2**70)).map(str)


@FUZZ
@given(st.sampled_from(["--height", "--width", "--cell", "--seed", "--stripe"]), st.one_of(numbers, sides))
def test_synth_numbers(option, value):
    run_checked("synth", "synth_out.png", "-p", "noise" if option == "--seed" else "checker", option, value, "-q")


@FUZZ
@given(names, st.one_of(st.none(), names), st.one_of(st.none(), specs))
def test_synth_output_paths(output, target, kernel):
    args = ["synth", output, "-q"]
    args += [] if target is None else ["--target", target]
    args += [] if kernel is None else ["-k", kernel]
    run_checked(*args)


# Streams and environment (issue 24): exit 0, 1 or 2, never a traceback, and no file changed by a failure.

#: torchrun's variables, set at random: unset, empty, good or bad. The wait for peers is kept short.
_TORCHRUN = {
    "WORLD_SIZE": [None, "", "1", "2", "abc", "0", "-1", " 2", "1e3", "99999999999"],
    "RANK": [None, "", "0", "1", "x", "-1", "7"],
    "LOCAL_RANK": [None, "0", "z", "-2"],
    "MASTER_ADDR": [None, "", "127.0.0.1"],
    "MASTER_PORT": [None, "", "0", "http", "70000", "1"],
    "CONVLEARN_RENDEZVOUS_TIMEOUT": ["1", "abc", "0", "-3", "nan"],
}
torchrun_envs = st.fixed_dictionaries({k: st.sampled_from(v) for k, v in _TORCHRUN.items()})


def _check_result(args, code: int, output: str, before: dict, after: dict, made: str | None = None) -> None:
    """Exit 0, 1 or 2 without a traceback; a failure changed no file, and made none but ``made`` (written whole
    before the failure to print its report)."""
    assert code in (0, 1, 2), f"{args}: exit {code}\n{output}"
    assert "internal error" not in output and "Traceback" not in output, f"{args}\n{output}"
    if code != 0:
        after = {k: v for k, v in after.items() if k != made or k in before}
        assert after == before, f"{args} failed but changed {set(after.items()) ^ set(before.items())}"


@FUZZ
@given(torchrun_envs)
def test_torchrun_variables(env):
    environ = {k: v for k, v in env.items() if v is not None}
    unset = {k: None for k, v in env.items() if v is None}  # the runner removes these
    args = ["detect", "img.png", "-o", "env_out.png", "-q", "--device", "cpu"]
    with _in_work():
        before = _snapshot()
        result = runner.invoke(app, args, env={**environ, **unset})
        after = _snapshot()
    _check_result(args, result.exit_code, result.output, before, after)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)


#: Commands that write to stdout, or read stdin.
_STREAM_COMMANDS = [
    ["kernels", "box:3"],
    ["kernels", "sobel-x", "--json"],
    ["export", "sobel-x", "--to", "scipy"],
    ["detect", "img.png", "-o", "-"],
    ["detect", "img.png", "-o", "-", "-f", "npy"],
    ["detect", "img.png", "--print", "-q", "-o", "stream_out.png"],
    ["detect", "-", "-o", "-"],
    ["--version"],
    ["--help"],
]
_STDOUT = ["closed", "full", "reader-leaves", "size-limit", "file"]
_STDIN = ["closed", "devnull", "image"]


def _run_with_streams(args: list[str], stdout: str, stdin: str, scratch: Path) -> tuple[int, str]:
    """The installed script with stdout and stdin as named; its exit code and stderr."""
    from conftest import cli_exe

    def prepare():
        if stdout == "closed":
            os.close(1)
        if stdin == "closed":
            os.close(0)
        if stdout == "size-limit":
            resource.setrlimit(resource.RLIMIT_FSIZE, (300, 300))

    out = {"full": "/dev/full", "size-limit": scratch / "out", "file": scratch / "out"}.get(stdout)
    source = {"devnull": os.devnull, "image": WORK / "img.png"}.get(stdin)
    with contextlib.ExitStack() as stack:
        out_file = None if out is None else stack.enter_context(open(out, "wb"))
        in_file = None if source is None else stack.enter_context(open(source, "rb"))
        run = subprocess.Popen(
            [*cli_exe(), *args],
            cwd=WORK,
            stdin=in_file,
            stdout=subprocess.PIPE if stdout == "reader-leaves" else out_file,
            stderr=subprocess.PIPE,
            preexec_fn=prepare,
        )
        if stdout == "reader-leaves":
            run.stdout.read(1)
            run.stdout.close()
        err = run.stderr.read().decode()
        return run.wait(timeout=120), err


@settings(max_examples=min(EXAMPLES, 6), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_STREAM_COMMANDS), st.sampled_from(_STDOUT), st.sampled_from(_STDIN))
def test_closed_and_full_streams(args, stdout, stdin):
    scratch = Path(tempfile.mkdtemp(prefix="convlearn-fuzz-streams-"))
    (WORK / "stream_out.png").unlink(missing_ok=True)
    before = _snapshot()
    code, err = _run_with_streams(args, stdout, stdin, scratch)
    _check_result(args, code, err, before, _snapshot(), made="stream_out.png")
    made = WORK / "stream_out.png"
    if made.exists():  # written whole, or not at all (a file-size limit may stop it)
        Image.open(made).load()  # a complete PNG
    if stdout == "reader-leaves" and args[1:2] != ["-"]:
        assert err == "", err  # | head: quiet
