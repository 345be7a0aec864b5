"""The gradient lab: a long-range memory task trained live to show vanishing and
exploding gradients, gates and clipping (the Gradients tab, ``bench gradients``).

task.py (data), model.py (the network, its weight scale), probe.py (the gradient at
every step, the gates), lab.py (`train_lab`, the verdict), presets.py, bench.py.
"""
from .lab import SETTINGS, explain, settings_from, train_lab
from .presets import PRESETS, preset

__all__ = ["SETTINGS", "PRESETS", "explain", "preset", "settings_from", "train_lab"]
