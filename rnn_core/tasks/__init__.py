"""Task presets: one module per gallery tab, each with ``train``, ``evaluate``,
a predictor class and ``bench``. `TASKS` maps a task name to its module."""
import importlib

TASK_NAMES = ("sentiment", "textgen", "melody", "speech")


def get_task(name: str):
    """The module implementing task ``name``."""
    if name not in TASK_NAMES:
        raise ValueError(f"unknown task {name!r}; choose one of {', '.join(TASK_NAMES)}")
    return importlib.import_module(f"{__name__}.{name}")
