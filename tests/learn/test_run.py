"""run_learn (convlearn.learn.run) from Python: the checks, the kernel file, the callbacks, a stopped run."""

import json

import numpy as np
import pytest
import torch
from learn_data import K3, noise

from convlearn.corr import corr2d
from convlearn.errors import InputError
from convlearn.kernels import kernel_to_json
from convlearn.learn import LearnRun, TrainingDiverged, TrainingInterrupted, TrainingStart, parse_size, run_learn


def write_pair(folder, name="a", size=24, seed=1):
    X = noise(size, seed)
    x, y = folder / f"{name}.npy", folder / f"{name}_target.npy"
    np.save(x, X.numpy())
    np.save(y, corr2d(X.double(), K3).float().numpy())
    return x, y


def test_lstsq_from_files_writes_the_kernel_file_it_returns(tmp_path):
    x, y = write_pair(tmp_path)
    out = tmp_path / "k.json"
    run = run_learn(inputs=[x], targets=[y], kernel_size="3x3", solver="lstsq", output=out, device="cpu")
    assert isinstance(run, LearnRun) and run.main and not run.notebook and run.notes == []
    assert out.read_text() == run.text == kernel_to_json(run.result.kernel, **run.record)
    data = json.loads(run.text)
    assert data["inputs"] == [str(x)] and data["stopped"] == "solved"
    assert np.abs(np.array(data["kernel"]) - K3.numpy()).max() < 1e-5


def test_the_notebook_run_and_its_callbacks():
    starts, epochs = [], []
    run = run_learn(device="cpu", on_step=starts.append, on_epoch=lambda i, loss: epochs.append(i))
    assert run.notebook and run.result.solver == "sgd" and epochs == list(range(10))
    assert starts == [TrainingStart("sgd", 0.03, starts[0].how, 10, True)]
    adam = []
    run_learn(solver="adam", epochs=3, lr=0.05, device="cpu", on_step=adam.append)
    assert adam == [TrainingStart("adam", 0.05, "given by --lr", 3, False)]


def test_a_size_as_a_tuple_and_a_reference(tmp_path):
    x, y = write_pair(tmp_path)
    spec = ";".join(",".join(str(v) for v in row) for row in K3.tolist())
    run = run_learn(inputs=[x], targets=[y], kernel_size=(3, 3), solver="lstsq", reference=spec, device="cpu")
    assert run.reference_diff < 1e-5 and run.record["reference"] == {"spec": spec, "max_abs_diff": run.reference_diff}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"solver": "newton"}, "Invalid solver 'newton'. Expected one of: sgd, lstsq, adam, lbfgs"),
        ({"dtype": "half"}, "Invalid dtype 'half'. Expected one of: float32, float64"),
        ({"inputs": ["a.png"]}, "Got 1 --input and 0 --target; give one target per input"),
        ({"kernel_size": "3by3"}, "Invalid kernel size '3by3'. Expected HxW, height first, for example 3x5"),
        ({"kernel_size": "0x2"}, "Invalid kernel size '0x2'; both sides must be at least 1"),
        ({"kernel_size": (0, 2)}, "Invalid kernel size 0x2; both sides must be at least 1"),
        ({"kernel_size": "3x3", "reference": "edge"}, "--reference 'edge' is 1x2, but --kernel-size is 3x3"),
        ({"pairs_dir": "nowhere"}, "--pairs 'nowhere' is not a directory"),
        ({"lr": 0.0}, "Invalid step 0.0; --lr must be a positive number"),
    ],
)
def test_bad_settings_are_refused_before_any_work(tmp_path, monkeypatch, kwargs, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as caught:
        run_learn(device="cpu", **kwargs)
    assert str(caught.value).startswith(message)


def test_an_output_over_an_input_is_refused(tmp_path):
    x, y = write_pair(tmp_path)
    for where in ({"output": y}, {"other_outputs": [x]}):
        with pytest.raises(InputError, match="is also an input"):
            run_learn(inputs=[x], targets=[y], device="cpu", **where)


def test_divergence_writes_the_best_kernel_and_says_where(tmp_path):
    x, y = write_pair(tmp_path)
    out = tmp_path / "k.json"
    with pytest.raises(TrainingDiverged) as caught:
        run_learn(inputs=[x], targets=[y], kernel_size="3x3", lr=1.0, epochs=500, output=out, device="cpu")
    assert str(caught.value).endswith(f"; it was written to {out}") and caught.value.exit_code == 1
    assert json.loads(out.read_text())["stopped"] == caught.value.result.stopped == "diverged"


def test_ctrl_c_writes_the_kernel_reached(tmp_path):
    x, y = write_pair(tmp_path)
    out = tmp_path / "k.json"

    def on_epoch(epoch, loss):
        if epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted) as caught:
        run_learn(inputs=[x], targets=[y], kernel_size="3x3", epochs=50, output=out, device="cpu", on_epoch=on_epoch)
    message = "Interrupted at epoch 3 of 50; the kernel reached so far was kept and written to"
    assert str(caught.value).startswith(message) and caught.value.exit_code == 130
    assert json.loads(out.read_text())["epochs"] == 3
    with pytest.raises(TrainingInterrupted, match=r"kept \(give --output to keep it\)$"):
        run_learn(inputs=[x], targets=[y], kernel_size="3x3", epochs=50, device="cpu", on_epoch=on_epoch)


def test_parse_size():
    assert parse_size("3x5") == (3, 5) and parse_size("2X2") == (2, 2)
    with pytest.raises(InputError, match="Expected HxW"):
        parse_size("3x3x3")


def test_iterative_results_keep_the_pairs_names(tmp_path):
    x, y = write_pair(tmp_path)
    run = run_learn(inputs=[x], targets=[y], kernel_size="3x3", solver="lbfgs", device="cpu")
    assert run.result.inputs == [str(x)] and run.result.targets == [str(y)]
    assert torch.allclose(run.result.weight.double(), K3, atol=1e-3)
