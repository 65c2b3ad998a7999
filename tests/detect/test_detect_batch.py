"""The batch runner behind run_detect: per-file failures, a single file's own error, Ctrl-C, stacking."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convlearn.detect import BatchInterrupted, DetectConfig, detect_image, run_detect
from convlearn.detect import batch as batch_module
from convlearn.errors import ImageReadError, Interrupted
from convlearn.files import collect_inputs
from convlearn.images import read_image
from convlearn.kernels import parse_kernel


def _write_png(path: Path, seed: int, shape=(12, 15)) -> np.ndarray:
    levels = np.random.default_rng(seed).integers(0, 256, shape).astype(np.uint8)
    Image.fromarray(levels).save(path)
    return levels.astype(np.float32) / 255


def test_batch_with_one_broken_file(tmp_path):
    images = {}
    for i, name in enumerate(["a", "b", "d", "e"]):
        images[name] = _write_png(tmp_path / f"{name}.png", i, (10, 12) if name != "e" else (7, 9))
    (tmp_path / "c.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    sources = collect_inputs([str(tmp_path)])
    seen = []
    K = parse_kernel("sobel-x")
    cfg = DetectConfig(device="cpu", batch_size=2)
    report = run_detect(
        inputs=[str(tmp_path)],
        output=tmp_path / "out",
        kernel="sobel-x",
        fmt="npy",
        device="cpu",
        batch_size=2,
        on_result=lambda r, v: seen.append(r.source),
    ).report
    assert seen == [s.path for s in sources]  # in input order
    assert [Path(r.source).name for r in report.failed] == ["c.png"]
    assert "c.png: not an image Pillow can read" in report.failed[0].error
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.npy", "b.npy", "d.npy", "e.npy"]
    for name, X in images.items():
        expected = detect_image(X, K, cfg).values.numpy()
        np.testing.assert_array_equal(read_image(tmp_path / "out" / f"{name}.npy"), expected)
    done = {Path(r.source).name: r for r in report.done}
    assert done["e.png"].shape == (5, 7) and done["a.png"].shape == (8, 10)
    assert done["a.png"].seconds > 0 and done["a.png"].mean == pytest.approx(float(images["a"].mean()), abs=10)


def test_a_file_too_small_for_the_kernel_fails_alone(tmp_path):
    _write_png(tmp_path / "big.png", 0, (12, 12))
    _write_png(tmp_path / "tiny.png", 1, (2, 2))
    report = run_detect(inputs=[str(tmp_path)], kernel="box:5", keep_values=True, device="cpu").report
    assert [Path(r.source).name for r in report.done] == ["big.png"]
    assert "Kernel 5x5 is larger than the image 2x2" in report.failed[0].error


def test_single_input_raises_its_own_error(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(ImageReadError, match="broken.png.*not an image Pillow can read"):
        run_detect(inputs=[str(tmp_path / "broken.png")], keep_values=True, device="cpu")


def test_ctrl_c_in_the_middle_leaves_only_complete_files(tmp_path, monkeypatch):
    for i in range(6):
        _write_png(tmp_path / f"im{i}.png", i)
    sources = collect_inputs([str(tmp_path)])
    real_read = batch_module.read_input

    def read(path, **kwargs):
        if Path(path).name == "im3.png":
            raise KeyboardInterrupt
        return real_read(path, **kwargs)

    monkeypatch.setattr(batch_module, "read_input", read)
    with pytest.raises(Interrupted) as info:
        run_detect(inputs=[str(tmp_path)], output=tmp_path / "out", device="cpu", batch_size=1, workers=0)
    message = str(info.value)
    assert message.startswith("Interrupted after 3 of 6 files; not done: ")
    assert all(f"im{i}.png" in message for i in (3, 4, 5)) and "im0.png" not in message
    assert info.value.exit_code == 130 and isinstance(info.value, BatchInterrupted)
    assert info.value.report.not_done == [s.path for s in sources[3:]]
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["im0.png", "im1.png", "im2.png"]  # no half-written or temporary files
    for name in written:
        assert read_image(tmp_path / "out" / name).shape == (12, 14)


def test_ctrl_c_during_a_write_leaves_no_partial_file(tmp_path, monkeypatch):
    for i in range(3):
        _write_png(tmp_path / f"im{i}.png", i)
    import convlearn.files.atomic as files

    real_replace = files.os.replace

    def replace(src, dst):
        if Path(dst).name == "im1.png":
            raise KeyboardInterrupt  # the second file is fully written to its temporary name, not yet in place
        return real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", replace)
    with pytest.raises(Interrupted, match="after 1 of 3 files; not done: .*im1.png"):
        run_detect(inputs=[str(tmp_path)], output=tmp_path / "out", device="cpu", batch_size=4)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["im0.png"]


@pytest.mark.parametrize(("batch_size", "workers"), [(3, 2), (1, 2), (8, 0)])
def test_pipelined_batch_equals_one_by_one(tmp_path, batch_size, workers):
    (tmp_path / "in").mkdir()  # apart from the outputs written alone below
    for i in range(7):
        _write_png(tmp_path / "in" / f"im{i}.png", i, (20, 24) if i != 4 else (16, 18))
    sources = collect_inputs([str(tmp_path / "in")])
    settings = {"device": "cpu", "batch_size": batch_size, "workers": workers, "canny": "0.1,0.3"}
    seen = []
    outcome = run_detect(
        inputs=[str(tmp_path / "in")], output=tmp_path / "out", on_result=lambda r, v: seen.append(r.source), **settings
    )
    assert seen == [s.path for s in sources] and len(outcome.report.done) == 7
    for s in sources:
        alone = tmp_path / f"alone_{Path(s.path).name}"
        run_detect(inputs=[s.path], output=alone, **settings)
        got = np.asarray(Image.open(tmp_path / "out" / Path(s.path).name))
        np.testing.assert_array_equal(got, np.asarray(Image.open(alone)))


def test_the_cpu_stacks_only_small_images(tmp_path, monkeypatch):
    for i in range(4):
        _write_png(tmp_path / f"im{i}.png", i, (20, 24))
    sources = collect_inputs([str(tmp_path)])
    sizes = []
    real = batch_module.detect_stack

    def spy(images, *args):
        sizes.append(len(images))
        return real(images, *args)

    monkeypatch.setattr(batch_module, "detect_stack", spy)
    run_detect(inputs=[str(tmp_path)], output=tmp_path / "a", device="cpu", batch_size=4)
    assert sizes == [4]  # 4 x 480 pixels: one stack
    sizes.clear()
    monkeypatch.setattr(batch_module, "CPU_BATCH_PIXELS", 479)  # as if each image were large
    run_detect(inputs=[str(tmp_path)], output=tmp_path / "b", device="cpu", batch_size=4)
    assert sizes == [1, 1, 1, 1]
    for s in sources:
        name = Path(s.path).name
        np.testing.assert_array_equal(
            np.asarray(Image.open(tmp_path / "a" / name)), np.asarray(Image.open(tmp_path / "b" / name))
        )
