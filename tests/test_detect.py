"""The detect library: the pipeline on arrays, colour, and batches of files."""

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import cuda
from PIL import Image

from convlearn.corr import filter2d
from convlearn.detect import DetectConfig, apply_kernel, check_config, detect_files, detect_image
from convlearn.detect import pipeline as detect_module
from convlearn.errors import ImageReadError, InputError, Interrupted
from convlearn.images import read_image, write_image
from convlearn.images.batch import Source, collect_inputs, group_batches, plan_outputs, prefetch
from convlearn.kernels import parse_kernel

CPU = DetectConfig(device="cpu")


def _rgb(seed: int, shape=(12, 15)) -> np.ndarray:
    return np.random.default_rng(seed).random((*shape, 3)).astype(np.float32)


def _write_png(path: Path, seed: int, shape=(12, 15)) -> np.ndarray:
    levels = np.random.default_rng(seed).integers(0, 256, shape).astype(np.uint8)
    Image.fromarray(levels).save(path)
    return levels.astype(np.float32) / 255


# The pipeline on arrays.


def test_apply_kernel_is_corr2d():
    X = torch.rand(9, 10)
    K = parse_kernel("sobel-x")
    expected = filter2d(X, torch.from_numpy(K.weight).float())
    torch.testing.assert_close(apply_kernel(X, K, CPU), expected)


def test_bias_is_added():
    from convlearn.kernels import Kernel

    K = Kernel(np.array([[1.0, -1.0]]), 0.5)
    assert apply_kernel(torch.tensor([[0.0, 1.0]]), K, CPU).tolist() == [[-0.5]]


def test_magnitude_of_the_sobel_pair():
    X = np.random.default_rng(0).random((16, 18)).astype(np.float32)
    out = detect_image(X, parse_kernel("sobel-y"), DetectConfig(device="cpu", magnitude=True, mode="same"))
    gx = filter2d(torch.from_numpy(X), torch.from_numpy(parse_kernel("sobel-x").weight).float(), mode="same")
    gy = filter2d(torch.from_numpy(X), torch.from_numpy(parse_kernel("sobel-y").weight).float(), mode="same")
    torch.testing.assert_close(out.values, torch.sqrt(gx**2 + gy**2))


def test_magnitude_of_edge_pair_in_valid_mode_is_cut_to_the_common_part():
    X = torch.tensor([[0.0, 1.0, 1.0], [0.0, 1.0, 3.0], [0.0, 0.0, 0.0]])
    out = detect_image(X.numpy(), parse_kernel("edge"), DetectConfig(device="cpu", magnitude=True, angle=True))
    # gx = X[i, j] - X[i, j+1], gy = X[i, j] - X[i+1, j], both on the top-left 2x2.
    gx = X[:2, :2] - X[:2, 1:3]
    gy = X[:2, :2] - X[1:3, :2]
    torch.testing.assert_close(out.values, torch.hypot(gx, gy))
    torch.testing.assert_close(out.angle, torch.atan2(gy, gx))


def test_threshold_after_magnitude():
    X = np.zeros((8, 8), np.float32)
    X[:, 4:] = 1
    cfg = DetectConfig(device="cpu", magnitude=True, threshold=2.0, mode="same", border="replicate")
    out = detect_image(X, parse_kernel("sobel-x"), cfg)
    assert set(out.values.unique().tolist()) == {0.0, 1.0}
    assert out.values[:, 3:5].all() and out.values[:, :3].sum() == 0
    assert out.threshold.tolist() == [2.0]


def test_canny_through_detect():
    from convlearn.edges import canny

    X = np.random.default_rng(1).random((20, 20)).astype(np.float32)
    out = detect_image(X, parse_kernel("edge"), DetectConfig(device="cpu", canny=(0.2, 0.5), angle=True))
    assert torch.equal(out.values, canny(torch.from_numpy(X), 0.2, 0.5, 1.0))
    assert out.angle.shape == (20, 20)


def test_channels_each_filters_each_plane():
    rgb = _rgb(2)
    K = parse_kernel("laplacian")
    out = detect_image(rgb, K, DetectConfig(device="cpu", channels="each", mode="same", border="reflect"))
    assert out.values.shape == (12, 15, 3)
    for c in range(3):
        plane = detect_image(rgb[..., c], K, DetectConfig(device="cpu", mode="same", border="reflect")).values
        torch.testing.assert_close(out.values[..., c], plane)


def test_channels_each_otsu_is_per_channel():
    rgb = _rgb(3)
    rgb[..., 1] *= 10  # a different range in green
    out = detect_image(rgb, parse_kernel("box"), DetectConfig(device="cpu", channels="each", threshold="otsu"))
    assert out.threshold.shape == (3,)
    assert out.threshold[1] > 3 * out.threshold[0]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"angle": True}, "--angle is the direction of a gradient pair"),
        ({"canny": (0.1, 0.2), "threshold": 0.5}, "--canny already gives a binary edge map"),
        ({"canny": (0.1, 0.2), "magnitude": True}, "--canny computes its own gradient magnitude"),
        ({"canny": (0.3, 0.2)}, "0 <= LOW <= HIGH"),
        ({"channels": "each", "bit_depth": 16}, "--bit-depth 16 writes one plane"),
        ({"channels": "rgb"}, "Invalid channels 'rgb'. Expected one of: luma, each"),
        ({"threshold": "median"}, "Invalid threshold 'median'"),
        ({"fmt": "gif"}, "Invalid format 'gif'"),
    ],
)
def test_bad_configs(overrides, message):
    with pytest.raises(InputError, match=message):
        check_config(DetectConfig(**overrides))


def test_image_shape_must_fit_channels():
    with pytest.raises(InputError, match=r"must be \(H, W, 3\)"):
        detect_image(np.zeros((4, 4)), parse_kernel("edge"), DetectConfig(device="cpu", channels="each"))


# Inputs and outputs of a batch.


def test_collect_inputs_files_dirs_globs(tmp_path):
    (tmp_path / "d" / "sub").mkdir(parents=True)
    for name in ["d/b.png", "d/a.png", "d/notes.txt", "d/.hidden.png", "d/sub/c.npy", "e.png"]:
        (tmp_path / name).write_bytes(b"x")
    found = collect_inputs([str(tmp_path / "d")])
    assert [(Path(s.path).name, str(s.name)) for s in found] == [("a.png", "a.png"), ("b.png", "b.png")]
    found = collect_inputs([str(tmp_path / "d")], recursive=True)
    assert [str(s.name) for s in found] == ["a.png", "b.png", "sub/c.npy"]
    found = collect_inputs([str(tmp_path / "d" / "*.png"), str(tmp_path / "e.png"), str(tmp_path / "d" / "a.png")])
    assert [str(s.name) for s in found] == ["a.png", "b.png", "e.png"]  # each once
    found = collect_inputs([str(tmp_path / "**" / "*.npy")], recursive=True)
    assert [str(s.name) for s in found] == ["d/sub/c.npy"]


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        ([], "No input given"),
        (["-", "a.png"], "'-' \\(stdin\\) must be the only input"),
        (["{tmp}/nothing*.png"], "No files match"),
        (["{tmp}"], "No images .* in directory"),
    ],
)
def test_collect_inputs_errors(tmp_path, specs, message):
    with pytest.raises(InputError, match=message):
        collect_inputs([s.format(tmp=tmp_path) for s in specs])


def test_a_missing_file_is_kept_to_fail_on_its_own(tmp_path):
    assert [s.path for s in collect_inputs([str(tmp_path / "gone.png")])] == [str(tmp_path / "gone.png")]


def test_plan_outputs(tmp_path):
    sources = [Source(str(tmp_path / "in" / "a.jpg"), Path("a.jpg")), Source("x/b.png", Path("sub/b.png"))]
    out = plan_outputs(sources, tmp_path / "out", fmt="npy")
    assert out == [str(tmp_path / "out" / "a.npy"), str(tmp_path / "out" / "sub" / "b.npy")]
    assert (tmp_path / "out" / "sub").is_dir()
    one = [Source("a.png", Path("a.png"))]
    assert plan_outputs(one, None, default_tag="sobel-x") == ["a_sobel-x.png"]
    assert plan_outputs(one, None) == [None]
    assert plan_outputs(one, "-") == ["-"]
    assert plan_outputs(one, tmp_path / "y.png") == [str(tmp_path / "y.png")]


@pytest.mark.parametrize(
    ("names", "output", "message"),
    [
        (["a.png", "a.jpg"], "out", "would both be written to"),
        (["a.png", "b.png"], "-", "writes one image to stdout, but there are 2 inputs"),
    ],
)
def test_plan_outputs_refuses(tmp_path, names, output, message):
    sources = [Source(str(tmp_path / n), Path(n)) for n in names]
    target = output if output == "-" else tmp_path / output
    with pytest.raises(InputError, match=message):
        plan_outputs(sources, target)


def test_plan_outputs_refuses_to_overwrite_an_input(tmp_path):
    src = tmp_path / "a.png"
    src.write_bytes(b"x")
    with pytest.raises(InputError, match="is also an input; refusing to overwrite it"):
        plan_outputs([Source(str(src), Path("a.png"))], tmp_path, as_directory=True)
    assert src.read_bytes() == b"x"


def test_prefetch_keeps_order_and_failures():
    def load(s):
        if s.path == "bad":
            raise ImageReadError("bad: broken")
        return s.path.upper()

    sources = [Source(p, Path(p)) for p in ["a", "bad", "c", "d", "e"]]
    got = list(prefetch(sources, load, workers=3, depth=2))
    assert [x.source.path for x in got] == ["a", "bad", "c", "d", "e"]
    assert [x.value for x in got] == ["A", None, "C", "D", "E"]
    assert isinstance(got[1].error, ImageReadError)


def test_group_batches_by_shape_and_size():
    from convlearn.images.batch import Loaded

    items = [
        Loaded(i, Source(str(i), Path(str(i))), np.zeros(shape), err)
        for i, (shape, err) in enumerate(
            [((2, 2), None), ((2, 2), None), ((2, 2), None), ((3, 3), None), ((1, 1), ValueError()), ((3, 3), None)]
        )
    ]
    groups = list(group_batches(items, max_items=2, max_pixels=100, shape_of=np.shape))
    assert [[x.index for x in g] for g in groups] == [[0, 1], [2], [3], [4], [5]]
    groups = list(group_batches(items[:3], max_items=8, max_pixels=8, shape_of=np.shape))
    assert [[x.index for x in g] for g in groups] == [[0, 1], [2]]


# Batches of files.


def test_batch_with_one_broken_file(tmp_path):
    images = {}
    for i, name in enumerate(["a", "b", "d", "e"]):
        images[name] = _write_png(tmp_path / f"{name}.png", i, (10, 12) if name != "e" else (7, 9))
    (tmp_path / "c.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    sources = collect_inputs([str(tmp_path)])
    outputs = plan_outputs(sources, tmp_path / "out", fmt="npy")
    seen = []
    K = parse_kernel("sobel-x")
    cfg = DetectConfig(device="cpu", batch_size=2)
    report = detect_files(sources, outputs, K, cfg, on_result=lambda r, v: seen.append(r.source))
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
    sources = collect_inputs([str(tmp_path)])
    report = detect_files(sources, [None, None], parse_kernel("box:5"), CPU)
    assert [Path(r.source).name for r in report.done] == ["big.png"]
    assert "Kernel 5x5 is larger than the image 2x2" in report.failed[0].error


def test_single_input_raises_its_own_error(tmp_path):
    sources = collect_inputs([str(tmp_path / "gone.png")])
    with pytest.raises(ImageReadError, match="does not exist"):
        detect_files(sources, [None], parse_kernel("edge"), CPU)


def test_ctrl_c_in_the_middle_leaves_only_complete_files(tmp_path, monkeypatch):
    for i in range(6):
        _write_png(tmp_path / f"im{i}.png", i)
    sources = collect_inputs([str(tmp_path)])
    outputs = plan_outputs(sources, tmp_path / "out")
    real_read = detect_module.read_input

    def read(path, **kwargs):
        if Path(path).name == "im3.png":
            raise KeyboardInterrupt
        return real_read(path, **kwargs)

    monkeypatch.setattr(detect_module, "read_input", read)
    cfg = DetectConfig(device="cpu", batch_size=1, workers=0)
    with pytest.raises(Interrupted) as info:
        detect_files(sources, outputs, parse_kernel("edge"), cfg)
    message = str(info.value)
    assert message.startswith("Interrupted after 3 of 6 files; not done: ")
    assert all(f"im{i}.png" in message for i in (3, 4, 5)) and "im0.png" not in message
    assert info.value.exit_code == 130
    assert info.value.report.not_done == [s.path for s in sources[3:]]
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["im0.png", "im1.png", "im2.png"]  # no half-written or temporary files
    for name in written:
        assert read_image(tmp_path / "out" / name).shape == (12, 14)


def test_ctrl_c_during_a_write_leaves_no_partial_file(tmp_path, monkeypatch):
    for i in range(3):
        _write_png(tmp_path / f"im{i}.png", i)
    sources = collect_inputs([str(tmp_path)])
    outputs = plan_outputs(sources, tmp_path / "out")
    import convlearn.images.files as files

    real_replace = files.os.replace

    def replace(src, dst):
        if Path(dst).name == "im1.png":
            raise KeyboardInterrupt  # the second file is fully written to its temporary name, not yet in place
        return real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", replace)
    with pytest.raises(Interrupted, match="after 1 of 3 files; not done: .*im1.png"):
        detect_files(sources, outputs, parse_kernel("edge"), DetectConfig(device="cpu", batch_size=4))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["im0.png"]


@pytest.mark.cuda
@cuda
def test_detect_on_cuda_matches_cpu():
    X = np.random.default_rng(5).random((64, 80)).astype(np.float32)
    for cfg in [DetectConfig(magnitude=True, mode="same", border="reflect"), DetectConfig(canny=(0.1, 0.3))]:
        cpu = detect_image(X, parse_kernel("sobel-x"), DetectConfig(**{**cfg.__dict__, "device": "cpu"}))
        gpu = detect_image(X, parse_kernel("sobel-x"), DetectConfig(**{**cfg.__dict__, "device": "cuda"}))
        assert gpu.values.device.type == "cuda"
        same = (cpu.values == gpu.values.cpu()).float().mean()
        assert (cpu.values - gpu.values.cpu()).abs().max() < 1e-5 or same > 0.999


def test_write_image_accepts_detect_output(tmp_path):
    out = detect_image(_rgb(6), parse_kernel("sobel-x"), DetectConfig(device="cpu", channels="each"))
    write_image(tmp_path / "a.png", out.values.numpy())
    with Image.open(tmp_path / "a.png") as image:
        assert image.mode == "RGB" and image.size == (13, 10)


def test_shapes_pattern_has_edges_in_every_direction():
    from convlearn.edges import gradient_angle, sobel_gradients
    from convlearn.synth import make_image

    X = make_image(pattern="shapes", height=64, width=64)
    assert X.shape == (64, 64) and X.dtype == torch.float32
    levels = {round(v, 4) for v in X.unique().tolist()}
    assert {0.2, 0.45, 0.6, 0.75, 0.9} <= levels  # ground, ring, square, triangle, disc
    assert 0.2 <= X.min() and X.max() <= 0.9
    gx, gy = sobel_gradients(X)
    angles = gradient_angle(gx, gy)[torch.hypot(gx, gy) > 0.5]
    hist = torch.histc(angles, bins=8, min=-np.pi, max=np.pi)
    assert (hist > 0).all()  # the disc and ring give every orientation
