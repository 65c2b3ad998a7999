"""detect's head start: the first input decodes while torch imports, and the batch uses that decode."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import convlearn.detect.batch as batch_module
import convlearn.detect.run as run_module
from convlearn.detect import run_detect
from convlearn.images import read_image

SAMPLES = Path(__file__).resolve().parents[2] / "sample_images"


def test_the_first_input_is_decoded_before_the_batch_starts(tmp_path, monkeypatch):
    def no_second_decode(path, **kwargs):
        raise AssertionError(f"{path} decoded again by the batch")

    monkeypatch.setattr(batch_module, "read_input", no_second_decode)
    run_detect(inputs=[SAMPLES / "shapes.png"], canny="0.1,0.3", output=tmp_path / "a.png", device="cpu")
    assert read_image(tmp_path / "a.png").shape == (128, 128)


def test_a_failed_head_start_decode_is_the_files_own_error(tmp_path, monkeypatch):
    from convlearn.errors import InputError

    def broken(path, **kwargs):
        raise InputError(f"Cannot read {path}: broken on purpose")

    monkeypatch.setattr(run_module, "read_input", broken)
    with pytest.raises(InputError, match="broken on purpose"):
        run_detect(inputs=[SAMPLES / "shapes.png"], output=tmp_path / "a.png", device="cpu")
    # In a batch the first file fails alone and the others are written.
    outcome = run_detect(inputs=[SAMPLES / "shapes.png", SAMPLES / "noise.png"], output=tmp_path, device="cpu")
    assert len(outcome.failed) == 1 and "broken on purpose" in outcome.failed[0]
    assert [Path(w).name for w in outcome.written] == ["noise.png"]


def test_decoding_overlaps_the_torch_import(tmp_path):
    # In a fresh process: the first input is decoded while torch is not yet fully imported.
    code = f"""
import sys, threading
import convlearn.detect.run as run
seen = []
real = run.read_input
def spy(path, **kw):
    batch = sys.modules.get('convlearn.detect.batch')  # listed as soon as its import starts
    seen.append((threading.current_thread().name, hasattr(batch, 'run_batch')))  # set when it ends
    return real(path, **kw)
run.read_input = spy
run.run_detect(inputs=[{str(SAMPLES / "shapes.png")!r}], output={str(tmp_path / "a.png")!r}, device="cpu")
print(seen)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[('MainThread', False)]"
    assert np.asarray(read_image(tmp_path / "a.png")).shape == (128, 127)  # the 1x2 "edge" kernel, valid
