"""run_detect from Python, as a notebook would call it: plain values in, an outcome back."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from convlearn.detect import DetectConfig, DetectOutcome, detect_image, run_detect
from convlearn.errors import ImageReadError, InputError, KernelSpecError
from convlearn.images import read_image
from convlearn.kernels import parse_kernel

SAMPLES = Path(__file__).resolve().parents[2] / "sample_images"


def test_default_outputs_are_named_for_what_was_computed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    outcome = run_detect(inputs=[SAMPLES / "stripes.png"], kernel="sobel-x", magnitude=True, device="cpu", fmt="npy")
    assert isinstance(outcome, DetectOutcome)
    assert outcome.written == ["stripes_sobel-x-mag.npy"] and outcome.done == 1 and outcome.failed == []
    assert (outcome.job.total, outcome.job.share, outcome.job.is_main, outcome.job.several) == (1, 1, True, False)
    expected = detect_image(read_image(SAMPLES / "stripes.png"), parse_kernel("sobel-x"), DetectConfig(magnitude=True))
    np.testing.assert_array_equal(read_image(tmp_path / "stripes_sobel-x-mag.npy"), expected.values.numpy())


def test_values_go_to_on_result_and_no_file_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    seen = []
    outcome = run_detect(
        inputs=[SAMPLES / "stripes.png"], keep_values=True, on_result=lambda r, v: seen.append((r, v)), device="cpu"
    )
    assert outcome.written == [] and list(tmp_path.iterdir()) == []
    [(result, values)] = seen
    assert result.ok and result.shape == (6, 7) and values[0].tolist() == [0, 1, 0, 0, 0, -1, 0]


def test_a_directory_of_outputs_with_angles_and_every_callback(tmp_path):
    calls = []
    outcome = run_detect(
        inputs=[SAMPLES / "shapes.png", SAMPLES / "checker.png"],
        kernel="sobel-x",
        magnitude=True,
        output=tmp_path / "out",
        angle=tmp_path / "angle",
        fmt="npy",
        device="cpu",
        on_start=lambda job: calls.append(("start", job.total, job.share, job.to_stdout)),
        on_result=lambda r, v: calls.append(("result", Path(r.source).name, v)),
        on_summary=lambda o: calls.append(("summary", o.done)),
    )
    assert calls == [
        ("start", 2, 2, False),
        ("result", "shapes.png", None),
        ("result", "checker.png", None),
        ("summary", 2),
    ]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["checker.npy", "shapes.npy"]
    assert sorted(p.name for p in (tmp_path / "angle").iterdir()) == ["checker.npy", "shapes.npy"]
    assert [r.angle_output for r in outcome.report.results] == [
        str(tmp_path / "angle" / n) for n in ("shapes.npy", "checker.npy")
    ]
    assert outcome.job.several and outcome.seconds > 0


def test_failures_are_reported_not_raised(tmp_path):
    for name in ["a.png", "c.png"]:
        (tmp_path / name).write_bytes((SAMPLES / "checker.png").read_bytes())
    (tmp_path / "b.png").write_bytes(b"not a png")
    outcome = run_detect(inputs=[tmp_path], output=tmp_path / "out", device="cpu")
    assert outcome.done == 2 and len(outcome.written) == 2
    [failure] = outcome.failed
    assert failure.startswith(f"{tmp_path / 'b.png'}: not an image Pillow can read")


@pytest.mark.parametrize(
    ("settings", "error", "message"),
    [
        ({"kernel": "1,,2"}, KernelSpecError, "Empty value in kernel '1,,2'"),
        ({"inputs": ["{tmp}/nope.png"]}, ImageReadError, "does not exist"),
        ({"canny": "0.5,0.1"}, InputError, "0 <= LOW <= HIGH"),
        ({"output": "-", "text_on_stdout": True}, InputError, "would mix text into it"),
        ({"magnitude": True, "output": "{tmp}/same.npy", "angle": "{tmp}/same.npy"}, InputError, "both name"),
    ],
)
def test_bad_settings_fail_before_any_file_is_filtered(tmp_path, settings, error, message):
    def fill(value):
        return [fill(v) for v in value] if isinstance(value, list) else value.format(tmp=tmp_path)

    args = {"inputs": [str(SAMPLES / "stripes.png")], "device": "cpu"}
    args.update({key: fill(value) if isinstance(value, str | list) else value for key, value in settings.items()})
    with pytest.raises(error, match=message):
        run_detect(**args)
    assert not (tmp_path / "same.npy").exists()


def test_the_config_is_checked_and_the_device_chosen_once(tmp_path, monkeypatch):
    import convlearn.detect.batch as batch
    import convlearn.detect.config as config
    import convlearn.detect.pipeline as pipeline
    import convlearn.detect.run as run
    import convlearn.runtime as runtime

    calls = {"check_config": 0, "resolve_device": 0}

    def counted(name, real):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return real(*args, **kwargs)

        return wrapper

    check = counted("check_config", config.check_config)
    device = counted("resolve_device", runtime.resolve_device)
    for module in (config, run, batch, pipeline):
        if hasattr(module, "check_config"):
            monkeypatch.setattr(module, "check_config", check)
    for module in (runtime, batch, pipeline):
        if hasattr(module, "resolve_device"):
            monkeypatch.setattr(module, "resolve_device", device)
    run_detect(inputs=[SAMPLES / "shapes.png", SAMPLES / "noise.png"], canny="0.1,0.3", output=tmp_path, device="cpu")
    assert calls == {"check_config": 1, "resolve_device": 1}


def test_a_bad_kernel_or_a_missing_file_fails_before_torch_is_imported(tmp_path):
    code = (
        "import sys\n"
        "from convlearn.detect import run_detect\n"
        "for args in [dict(inputs=[sys.argv[1]]), dict(inputs=[sys.argv[2]], kernel='nope')]:\n"
        "    try:\n"
        "        run_detect(**args)\n"
        "    except Exception as e:\n"
        "        print(type(e).__name__)\n"
        "print('torch' in sys.modules)\n"
    )
    args = [str(tmp_path / "gone.png"), str(SAMPLES / "stripes.png")]
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["ImageReadError", "KernelSpecError", "False"]


def test_a_bad_output_path_fails_before_torch_is_imported(tmp_path):
    """Every check of run_detect, the outputs' among them, comes before torch loads."""
    (tmp_path / "file").write_text("a file, not a directory")
    code = (
        "import sys\n"
        "from convlearn.detect import run_detect\n"
        "from convlearn.errors import ConvlearnError\n"
        "for args in [dict(output=sys.argv[2] + '/file/out.png'), dict(output=sys.argv[2] + '/out.gif'),\n"
        "             dict(device='gpu'), dict(output=sys.argv[1])]:\n"
        "    try:\n"
        "        run_detect(inputs=[sys.argv[1]], **args)\n"
        "    except ConvlearnError as e:\n"
        "        print(type(e).__name__, 'torch' in sys.modules)\n"
    )
    args = [str(SAMPLES / "stripes.png"), str(tmp_path)]
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == [
        "OutputError False",  # a folder that is a file
        "InputError False",  # a format convlearn does not write
        "InputError False",  # a device name torch would not read
        "InputError False",  # the output is the input
    ], out.stdout + out.stderr
