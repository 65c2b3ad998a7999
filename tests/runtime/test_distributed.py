"""convlearn.runtime.distributed, and learn / detect under torchrun (2 local gloo processes) against one process."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import runner
from hypothesis import given, settings
from hypothesis import strategies as st

from convlearn.cli import app
from convlearn.corr import corr2d
from convlearn.runtime import distributed
from convlearn.runtime.distributed import Dist, shard
from convlearn.synth import make_image

#: The kernel behind the training pairs: asymmetric, so a flipped or shifted fit shows.
KERNEL = torch.tensor([[0.1, 0.2, -0.3], [0.5, -1.0, 0.25], [0.0, 0.3, -0.1]])
N_PAIRS = 5  # odd: the two ranks hold 3 and 2 pairs


# --- the functions, in one process ----------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(n=st.integers(0, 30), world=st.integers(1, 5))
def test_shards_are_disjoint_and_cover_the_list(n: int, world: int) -> None:
    items = list(range(n))
    shares = [shard(items, Dist(rank, world)) for rank in range(world)]
    assert sorted(x for share in shares for x in share) == items
    assert all(share == sorted(share) for share in shares)
    assert max(len(s) for s in shares) - min(len(s) for s in shares) <= 1


def test_single_process_is_rank_0_of_1_and_every_helper_is_a_no_op(monkeypatch) -> None:
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    where = distributed.setup("cpu")
    assert (where.rank, where.world_size, where.is_main, where.active) == (0, 1, True, False)
    assert distributed.current() == where
    assert shard([3, 1, 2]) == [3, 1, 2]
    t = torch.arange(3.0)
    distributed.all_reduce_sum(t)
    assert t.tolist() == [0.0, 1.0, 2.0]
    assert distributed.all_gather_objects({"a": 1}) == [{"a": 1}]
    distributed.barrier()
    distributed.teardown()  # nothing joined: nothing to leave


def test_a_lazy_sequence_is_sharded_without_reading_the_other_items() -> None:
    read = []

    class Lazy(list):
        def __getitem__(self, i):
            read.append(i)
            return super().__getitem__(i)

    share = list(distributed.iter_shard(Lazy("abcde"), Dist(1, 2)))
    assert share == ["b", "d"] and read == [1, 3]


# --- under torchrun -----------------------------------------------------------------------------


def _torchrun(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    exe = shutil.which("torchrun", path=str(Path(sys.executable).parent)) or shutil.which("torchrun")
    launcher = [exe] if exe else [sys.executable, "-m", "torch.distributed.run"]
    cmd = [*launcher, "--standalone", "--nproc-per-node", "2", "-m", "convlearn", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """N_PAIRS noise pairs (inputs/, targets/) and as many images, as .npy."""
    root = tmp_path_factory.mktemp("dist")
    for side in ("pairs/inputs", "pairs/targets", "images"):
        (root / side).mkdir(parents=True)
    for i in range(N_PAIRS):
        X = make_image(pattern="noise", height=40, width=48, seed=i)  # (40, 48)
        np.save(root / f"pairs/inputs/p{i}.npy", X.numpy())
        np.save(root / f"pairs/targets/p{i}.npy", corr2d(X, KERNEL).numpy())  # (38, 46)
        np.save(root / f"images/im{i}.npy", make_image(pattern="noise", height=30, width=36, seed=100 + i).numpy())
    return root


def _learn_once(data: Path, out: Path, *args: str):
    """The single-process run: (stdout, the JSON record)."""
    result = runner.invoke(app, ["learn", "--pairs", str(data / "pairs"), "-o", str(out), "--device", "cpu", *args])
    assert result.exit_code == 0, result.output
    return result.output, json.loads(out.read_text())


def _losses(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"^epoch \d+, loss (\S+)$", text, flags=re.M)]


@pytest.mark.slow
def test_lstsq_under_torchrun_equals_one_process(data: Path, tmp_path: Path) -> None:
    args = ["--kernel-size", "3x3", "--solver", "lstsq", "--bias"]
    _, one = _learn_once(data, tmp_path / "one.json", *args)
    run = _torchrun("learn", "--pairs", str(data / "pairs"), "-o", "two.json", "--device", "cpu", *args, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    two = json.loads((tmp_path / "two.json").read_text())
    k1 = torch.tensor(one["kernel"], dtype=torch.float64)
    k2 = torch.tensor(two["kernel"], dtype=torch.float64)
    assert float((k1 - k2).abs().max()) <= 1e-9 * float(k1.abs().max())
    assert two["bias"] == pytest.approx(one["bias"], abs=1e-9 * float(k1.abs().max()))
    assert (two["pairs"], two["pixels"], two["inputs"]) == (one["pairs"], one["pixels"], one["inputs"])
    assert two["r2"] == pytest.approx(one["r2"], rel=1e-12)
    assert run.stdout.count("learned kernel") == 1  # rank 0 alone prints
    assert run.stdout.count("wrote two.json") == 1


@pytest.mark.slow
def test_sgd_under_torchrun_follows_the_same_loss_curve(data: Path, tmp_path: Path) -> None:
    args = ["--kernel-size", "3x3", "--solver", "sgd", "--epochs", "20"]
    text, one = _learn_once(data, tmp_path / "one.json", *args)
    run = _torchrun("learn", "--pairs", str(data / "pairs"), "-o", "two.json", "--device", "cpu", *args, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    two = json.loads((tmp_path / "two.json").read_text())
    l1, l2 = _losses(text), _losses(run.stdout)
    assert len(l1) == len(l2) == 20  # printed once, by rank 0
    # float32 sums in another order: equal to float32 rounding of the first loss
    assert max(abs(a - b) for a, b in zip(l1, l2, strict=True)) <= 1e-5 * l1[0]
    assert two["step"] == pytest.approx(one["step"], rel=1e-12)  # the safe step, from the summed Gram
    assert np.allclose(two["kernel"], one["kernel"], rtol=0, atol=1e-5)
    assert two["stopped"] == one["stopped"]


@pytest.mark.slow
def test_lbfgs_float64_under_torchrun_follows_the_same_loss_curve(data: Path, tmp_path: Path) -> None:
    args = ["--kernel-size", "3x3", "--solver", "lbfgs", "--dtype", "float64"]
    text, one = _learn_once(data, tmp_path / "one.json", *args)
    run = _torchrun("learn", "--pairs", str(data / "pairs"), "-o", "two.json", "--device", "cpu", *args, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    two = json.loads((tmp_path / "two.json").read_text())
    l1, l2 = _losses(text), _losses(run.stdout)
    assert len(l1) == len(l2) > 5  # every rank stopped at the same iteration
    assert max(abs(a - b) for a, b in zip(l1, l2, strict=True)) <= 1e-9 * l1[0]
    assert (two["stopped"], two["epochs"]) == (one["stopped"], one["epochs"])
    assert np.allclose(two["kernel"], one["kernel"], rtol=0, atol=1e-9)


@pytest.mark.slow
def test_detect_under_torchrun_writes_each_output_once_and_rank_0_tells(data: Path, tmp_path: Path) -> None:
    images = tmp_path / "images"
    shutil.copytree(data / "images", images)
    (images / "zz-broken.png").write_bytes(b"not an image")  # fails on whichever rank holds it
    one = runner.invoke(app, ["detect", str(images), "-o", str(tmp_path / "one"), "-k", "sobel-x", "--device", "cpu"])
    assert one.exit_code == 1
    run = _torchrun("detect", "images", "-o", "two", "-k", "sobel-x", "--device", "cpu", "--json", cwd=tmp_path)
    assert run.returncode != 0  # a file failed on one rank: the job fails
    assert (tmp_path / "two").is_dir(), run.stdout + run.stderr  # it failed for that file, not before the work
    made = sorted(p.name for p in (tmp_path / "two").iterdir())
    assert made == sorted(p.name for p in (tmp_path / "one").iterdir()) and len(made) == N_PAIRS
    for name in made:
        assert (tmp_path / "two" / name).read_bytes() == (tmp_path / "one" / name).read_bytes()
    records = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    sources = sorted(r["input"] for r in records)
    assert sources == sorted({r["input"] for r in records}) and len(sources) == N_PAIRS + 1  # each file once
    assert run.stderr.count(f"wrote {N_PAIRS} of {N_PAIRS + 1} files") == 1  # the summary, once, by rank 0
    assert run.stderr.count("failed: ") == 1


def test_gather_shards_puts_every_rank_s_share_back_in_order(monkeypatch) -> None:
    items = list("abcdefg")
    shares = [shard(items, Dist(rank, 3)) for rank in range(3)]
    monkeypatch.setattr(distributed, "all_gather_objects", lambda obj: shares)
    assert distributed.gather_shards(shares[1], Dist(1, 3)) == items
    assert distributed.gather_shards(["x"]) == ["x"]  # one process: its share is the whole list


@pytest.mark.parametrize(("code", "kind"), [(2, "InputError"), (130, "Interrupted"), (1, "ConvlearnError")])
def test_fail_together_raises_another_rank_s_failure_with_its_exit_code(monkeypatch, code, kind) -> None:
    monkeypatch.setattr(distributed, "all_gather_objects", lambda told: [told, ("bad input", code)])
    with pytest.raises(Exception) as caught:
        distributed.fail_together(lambda: 1, Dist(0, 2))
    assert type(caught.value).__name__ == kind
    assert str(caught.value) == "rank 1: bad input" and caught.value.exit_code == code
    assert distributed.fail_together(lambda: 7) == 7  # one process: just the call


def test_summed_in_one_process_gives_copies_of_each_shape() -> None:
    a, b = torch.arange(6.0).reshape(2, 3), torch.tensor(2.0)
    sa, sb = distributed.summed(a, b)
    assert torch.equal(sa, a) and torch.equal(sb, b) and sa.shape == (2, 3) and sb.shape == ()
    assert sa.data_ptr() != a.data_ptr()


@pytest.fixture(scope="module")
def colour_pairs(tmp_path_factory) -> Path:
    """N_PAIRS RGB noise pairs (inputs/, targets/): R, G and B filtered by KERNEL, -KERNEL and KERNEL.T."""
    root = tmp_path_factory.mktemp("dist_colour")
    for side in ("inputs", "targets"):
        (root / side).mkdir()
    planes = [KERNEL, -KERNEL, KERNEL.T.contiguous()]
    for i in range(N_PAIRS):
        X = torch.stack([make_image(pattern="noise", height=40, width=48, seed=10 * i + c) for c in range(3)])
        Y = torch.stack([corr2d(X[c], planes[c]) for c in range(3)])  # (3, 38, 46)
        np.save(root / f"inputs/p{i}.npy", X.permute(1, 2, 0).numpy())  # (H, W, 3)
        np.save(root / f"targets/p{i}.npy", Y.permute(1, 2, 0).numpy())
    return root


@pytest.mark.slow
@pytest.mark.parametrize("channels", ["each", "full"])
def test_colour_lstsq_under_torchrun_equals_one_process(colour_pairs: Path, tmp_path: Path, channels: str) -> None:
    args = ["--pairs", str(colour_pairs), "--kernel-size", "3x3", "--solver", "lstsq", "--channels", channels]
    one = runner.invoke(app, ["learn", *args, "-o", str(tmp_path / "one.json"), "--device", "cpu"])
    assert one.exit_code == 0, one.output
    run = _torchrun("learn", *args, "-o", "two.json", "--device", "cpu", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    k1 = torch.tensor(json.loads((tmp_path / "one.json").read_text())["kernel"], dtype=torch.float64)
    two = json.loads((tmp_path / "two.json").read_text())
    k2 = torch.tensor(two["kernel"], dtype=torch.float64)
    assert tuple(k2.shape) == ((3, 3, 3) if channels == "each" else (3, 3, 3, 3))
    assert float((k1 - k2).abs().max()) <= 1e-9 * float(k1.abs().max())
    assert two["pairs"] == N_PAIRS and two["channels"] == channels
    assert run.stdout.count("learned kernel, R") == (1 if channels == "each" else 3)  # rank 0 alone prints
    assert run.stdout.count("wrote two.json") == 1
