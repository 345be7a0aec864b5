"""The gallery's tasks, one package each (``rnn_core/tasks/<name>/``), registered by
name: ``TASKS[name]`` is that task's `TaskSpec` (see `rnn_core.tasks.spec`).

A task's package is imported when its spec is first asked for, so a process that
serves or trains one task does not pay for the others' imports.
"""
from __future__ import annotations

import importlib
from collections.abc import Mapping

from .spec import TaskSpec

TASK_NAMES = ("sentiment", "textgen", "melody", "speech", "forecast", "translation")


class _Registry(Mapping):
    """name -> `TaskSpec`, importing ``rnn_core.tasks.<name>`` on first use."""

    def __getitem__(self, name: str) -> TaskSpec:
        if name not in TASK_NAMES:
            raise KeyError(f"unknown task {name!r}; choose one of {', '.join(TASK_NAMES)}")
        return importlib.import_module(f"{__name__}.{name}").SPEC

    def __iter__(self):
        return iter(TASK_NAMES)

    def __len__(self) -> int:
        return len(TASK_NAMES)


TASKS: Mapping[str, TaskSpec] = _Registry()
