"""The task contract: every registered task fulfils `TaskSpec` (as every registered
model is tested in test_models.py), so a new task is checked the day it is added;
and the command line built from the specs refuses what a task does not have."""
import dataclasses
import inspect
import random
import subprocess
import sys
import typing

import pytest

from rnn_core.__main__ import build_parser, main
from rnn_core.data import SOURCES
from rnn_core.metrics import Metric
from rnn_core.predictor import Predictor
from rnn_core.tasks import TASK_NAMES, TASKS
from rnn_core.tasks.spec import make_recipe
from tests.conftest import link_data, shipped_loaders

FLAG_TYPES = (bool, int, float, str)


def test_registry_is_the_task_names():
    assert list(TASKS) == list(TASK_NAMES) and len(TASKS) == len(TASK_NAMES)
    with pytest.raises(KeyError, match="unknown task"):
        TASKS["weather"]


@pytest.mark.parametrize("name", TASK_NAMES)
def test_every_task_fulfils_the_contract(name):
    spec = TASKS[name]
    assert spec.name == name and spec.data_source in SOURCES
    assert issubclass(spec.predictor, Predictor) and spec.predictor.task == name
    # the recipe: a dataclass whose every field has a default and a type a flag can parse
    assert dataclasses.is_dataclass(spec.recipe)
    hints = typing.get_type_hints(spec.recipe)
    for f in dataclasses.fields(spec.recipe):
        assert f.default is not dataclasses.MISSING, f.name
        kinds = [k for k in typing.get_args(hints[f.name]) if k is not type(None)] or [hints[f.name]]
        assert len(kinds) == 1 and kinds[0] in FLAG_TYPES, (f.name, hints[f.name])
    # train / evaluate / bench take what the CLI, the training process and the report pass
    assert {"options", "data_dir", "out_dir", "on_progress", "stop", "runtime"} <= \
        set(inspect.signature(spec.train).parameters)
    assert {"weights", "data_dir", "split", "device"} <= set(inspect.signature(spec.evaluate).parameters)
    assert {"weights", "repeats", "data_dir"} <= set(inspect.signature(spec.bench).parameters)
    assert isinstance(spec.metric, Metric) and isinstance(spec.quality, Metric)
    assert spec.splits and "dev" in spec.splits
    # a visitor's retrain: bounded recipe fields, with the fixed values on top
    fields = {f.name for f in dataclasses.fields(spec.recipe)}
    assert set(spec.retrain_bounds) <= fields and set(spec.retrain_fixed) <= fields
    options, notes = spec.retrain_options({})
    assert notes == [] and make_recipe(spec.recipe, options)
    assert spec.api.api_name.startswith(f"/{name}_") and isinstance(spec.api.args(random.Random(0)), tuple)


def test_make_recipe_refuses_unknown_settings():
    recipe = TASKS["textgen"].recipe
    assert make_recipe(recipe, {"hidden": 8}).hidden == 8
    with pytest.raises(ValueError, match="no setting bidirectional"):
        make_recipe(recipe, {"bidirectional": True})


@pytest.mark.parametrize("name", TASK_NAMES)
def test_cli_takes_each_task_flags_and_splits(name):
    spec, parser = TASKS[name], build_parser()
    for f in dataclasses.fields(spec.recipe):
        args = parser.parse_args(["train", name, f"--{f.name.replace('_', '-')}", _text(f.default)])
        assert getattr(args, f.name) == f.default, f.name
    for split in spec.splits:
        assert parser.parse_args(["evaluate", name, "--split", split]).split == split


def _text(value) -> str:
    return "none" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


@pytest.mark.parametrize("argv, says", [
    (["train", "textgen", "--bidirectional", "true"], "does not take --bidirectional"),
    (["evaluate", "melody", "--split", "speakers"], "invalid choice: 'speakers'"),
    (["evaluate", "sentiment", "--split", "speakers"], "invalid choice: 'speakers'"),
    (["train", "speech", "--held-out"], "expected one argument"),
    (["bench", "weather"], "invalid choice: 'weather'"),
])
def test_cli_refuses_what_a_task_lacks_in_one_line(argv, says, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and says in err and err.count("\n") == 1, err


def test_core_never_imports_gradio():
    """No module of rnn_core imports gradio or gradio_client when imported (the
    server benchmark imports gradio_client only when it runs)."""
    code = ("import pkgutil, importlib, sys, rnn_core\n"
            "for m in pkgutil.walk_packages(rnn_core.__path__, 'rnn_core.'):\n"
            "    importlib.import_module(m.name)\n"
            "print(sorted(n for n in sys.modules if n.split('.')[0] in ('gradio', 'gradio_client')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_api_examples_fit_the_tabs():
    """Each spec's API example (what the load test sends) names an endpoint of the
    gallery built on the shipped checkpoints and gives one value per visible input."""
    import gradio as gr

    import app

    for loader in shipped_loaders():
        loader.cache_clear()
    fns = {fn.api_name: fn for fn in app.build_demo().fns.values()}
    for name in TASK_NAMES:
        api = TASKS[name].api
        fn = fns[api.api_name.lstrip("/")]
        visible = [c for c in fn.inputs if not isinstance(c, gr.State)]
        assert len(api.args(random.Random(0))) == len(visible), name


def test_warm_up_answers_every_tab_with_its_api_example(timeseries_dir, tmp_path, monkeypatch):
    """The server's warm-up sends each spec's example to the tab's handler in-process;
    on the shipped models every tab answers (so the example is a real request). The
    forecasting tab reads its series at answer time: the tiny ones here."""
    import app

    monkeypatch.setenv("RNN_GALLERY_DATA", str(link_data(tmp_path / "data", [timeseries_dir])))

    for loader in shipped_loaders():
        loader.cache_clear()
    assert app.warm_up(app.build_demo()) == {name: "ok" for name in TASK_NAMES}
