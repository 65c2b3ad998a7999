"""The method registry (convlearn.learn.solvers): every entry runs through REGISTRY[name].run on one Task."""

import ast
from pathlib import Path

import pytest
import torch
from learn_data import K3, float_pair

import convlearn.learn
from convlearn.learn import REGISTRY, SOLVERS, LearnConfig, LearnHooks, TrainingStart, learn_kernel, normal_equations
from convlearn.learn.config import solver_named
from convlearn.learn.descent import DESCENT_CAP, plan
from convlearn.learn.pairs import align_pair
from convlearn.learn.task import Task

# Each method, the --solver choice that runs it, the epochs (None: its own default) and how close it gets
# (plain SGD, at the safe step, needs about the condition number's epochs: it is only checked to descend).
RUNS = {
    "lstsq": ("lstsq", None, 1e-6),  # the targets are rounded to float32
    "nesterov": ("sgd", None, 1e-5),
    "plain-sgd": ("sgd", 300, None),
    "adam": ("adam", 1000, 1e-4),
    "lbfgs": ("lbfgs", None, 1e-4),
}


def task_for(method):
    pair = float_pair()
    ne = normal_equations([pair], (3, 3))
    kept = [align_pair(pair, (3, 3))] if REGISTRY[method].over_pixels else []
    return Task(ne, [("x", "y")], torch.device("cpu"), notebook=False, pairs=kept)


def test_the_registry_holds_each_method_once():
    assert tuple(REGISTRY) == ("lstsq", "nesterov", "plain-sgd", "adam", "lbfgs") == tuple(RUNS)
    assert all(name == method.name and method.summary for name, method in REGISTRY.items())
    assert [name for name, m in REGISTRY.items() if m.over_pixels] == ["plain-sgd", "adam", "lbfgs"]


@pytest.mark.parametrize("method", list(RUNS))
def test_every_method_runs_from_the_registry_and_recovers_the_kernel(method):
    choice, epochs, tolerance = RUNS[method]
    task = task_for(method)
    lr = task.safe_lr if method == "plain-sgd" else None  # plain SGD over your pairs runs when a step is given
    config = LearnConfig(kernel_size=(3, 3), solver=choice, epochs=epochs, lr=lr)
    starts, epochs_seen = [], []
    hooks = LearnHooks(on_start=starts.append, on_epoch=lambda i, loss: epochs_seen.append(i))
    result = REGISTRY[method].run(task, config, solver_named(choice), hooks)
    assert result.solver == choice and result.inputs == ["x"] and result.targets == ["y"]
    if tolerance is None:
        assert result.losses[-1] < result.losses[0] * 1e-2
    else:
        assert (result.weight.double() - K3).abs().max() < tolerance, method
    assert result.report.gap == pytest.approx(float((result.weight.double() - K3).abs().max()), abs=1e-6)
    if method == "lstsq":
        assert starts == [] and epochs_seen == [] and result.stopped == "solved"
    else:
        (start,) = starts
        assert start.solver == choice and start.step == result.lr and not start.notebook
        assert epochs_seen == list(range(result.epochs_run)) and len(result.losses) == result.epochs_run


def test_sgd_on_pairs_is_nesterov_and_with_a_step_plain_sgd():
    pair = float_pair()
    starts = []
    descent = learn_kernel([pair], LearnConfig(kernel_size=(3, 3)), LearnHooks(on_start=starts.append))
    p = plan(normal_equations([pair], (3, 3)))
    assert descent.lr == p.step and descent.stopped == "converged"
    assert starts == [TrainingStart("sgd", p.step, starts[0].how, DESCENT_CAP, False)]
    assert starts[0].how.startswith("1/λmax of the Jacobi-preconditioned Hessian, with Nesterov momentum")
    config = LearnConfig(kernel_size=(3, 3), lr=1e-5, epochs=4)
    plain = learn_kernel([pair], config)
    direct = REGISTRY["plain-sgd"].run(task_for("plain-sgd"), config, solver_named("sgd"), LearnHooks())
    assert plain.lr == 1e-5 and plain.epochs_run == 4
    assert plain.losses == direct.losses and torch.equal(plain.weight, direct.weight)


def test_the_notebooks_run_is_plain_sgd_at_its_step():
    starts = []
    result = learn_kernel(None, LearnConfig(), LearnHooks(on_start=starts.append))
    assert result.lr == 0.03 and result.epochs_run == 10
    assert [(s.solver, s.step, s.epochs, s.notebook) for s in starts] == [("sgd", 0.03, 10, True)]


def test_no_module_branches_on_a_solver_or_method_name_the_records_say_it():
    names = set(REGISTRY) | set(SOLVERS)
    root = Path(convlearn.learn.__file__).parent
    branches = []
    for path in [*sorted(root.glob("*.py")), root.parent / "cli" / "learn.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):
                constants = [c.value for c in (node.left, *node.comparators) if isinstance(c, ast.Constant)]
                branches += [(path.name, node.lineno) for value in constants if value in names]
    assert branches == []
