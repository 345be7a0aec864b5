"""A model summary, like the ``model.summary()`` Keras guides print: every layer of a
network, its output shape and its parameters, with the totals.

It is read off the module itself: one forward pass (no gradients, eval mode) over
arguments the caller gives, for a head its own ``example_batch()``, with a hook on
every layer to record what it returned. So the table cannot drift from the network
it describes, and one function serves every head without code of its own.

A *layer* is a module without children (Embedding, Linear, Dropout, LayerNorm,
Conv1d...) or one torch runs as a whole (an RNN, multi-head attention). A parameter
held by a module that is not a layer (Seq2Seq's output bias) gets a row of its own,
so the rows add up to the total; a weight two layers share counts once, at the first.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import torch
import torch.nn as nn
from torch.nn.utils.rnn import PackedSequence

# modules torch runs as one unit: their insides are not layers of their own
_ATOMIC = (nn.RNNBase, nn.MultiheadAttention)
# modules that only hold others (no forward of their own)
_CONTAINERS = (nn.ModuleList, nn.ModuleDict, nn.Sequential)
NO_SHAPE = "—"


@dataclass(frozen=True)
class Row:
    """One layer: its attribute path (``encoder``, ``members.0.rnn``), its type with its
    key sizes, its output shape (the batch dimension as ``"B"``; None for a bare
    parameter, or a layer the forward pass did not call) and the parameters it holds."""

    name: str
    kind: str
    shape: tuple | None
    params: int


@dataclass(frozen=True)
class Summary:
    """A network's rows and totals; ``example`` names the inputs the shapes are for."""

    model: str
    rows: tuple[Row, ...]
    total: int
    trainable: int
    bytes: int
    dtypes: tuple[str, ...]
    example: str

    @property
    def size_mb(self) -> float:
        """The parameters' size in memory at their stored dtype, in MB (10^6 bytes)."""
        return self.bytes / 1e6


def model_summary(module: nn.Module, *args, **kwargs) -> Summary:
    """Summarise ``module`` by calling ``module(*args, **kwargs)`` once, e.g.
    ``model_summary(head, **head.example_batch())``. Tensors are moved to the module's
    device; the module's train/eval modes are restored afterwards."""
    layers = _layers(module)
    batch = _batch_size(args, kwargs)
    shapes = _forward_shapes(module, layers, args, kwargs)
    seen: set[int] = set()
    rows = [Row(name or "(model)", _kind(m), _shape(shapes.get(id(m)), batch), _own(m.parameters(), seen))
            for name, m in layers]
    for owner, m in module.named_modules():  # parameters no layer holds, e.g. Seq2Seq.out_bias
        if not _is_layer(m) and not _inside_atomic(owner, layers):
            for pname, p in m.named_parameters(recurse=False):
                path = f"{owner}.{pname}" if owner else pname
                rows.append(Row(path, f"Parameter({_dims(p.shape)})", None, _own([p], seen)))
    params = list(module.parameters())  # torch lists a shared weight once
    example = ", ".join(f"{k} {shape_text(_shape(tuple(v.shape), batch))}" for k, v in kwargs.items()
                        if isinstance(v, torch.Tensor))
    return Summary(type(module).__name__, tuple(rows), sum(p.numel() for p in params),
                   sum(p.numel() for p in params if p.requires_grad),
                   sum(p.numel() * p.element_size() for p in params),
                   tuple(sorted({str(p.dtype).removeprefix("torch.") for p in params})), example)


def _is_layer(m: nn.Module) -> bool:
    return isinstance(m, _ATOMIC) or (not any(m.children()) and not isinstance(m, _CONTAINERS))


def _layers(module: nn.Module) -> list[tuple[str, nn.Module]]:
    """(path, module) of every layer, in the order the network registered them; the
    insides of an atomic module are left out."""
    out: list[tuple[str, nn.Module]] = []
    for name, m in module.named_modules():
        if _is_layer(m) and not _inside_atomic(name, out):
            out.append((name, m))
    return out


def _inside_atomic(name: str, layers: list[tuple[str, nn.Module]]) -> bool:
    return any(isinstance(m, _ATOMIC) and name.startswith(f"{path}.") for path, m in layers if path)


def _own(params, seen: set[int]) -> int:
    """Parameters not counted at an earlier row (a shared weight counts once)."""
    fresh = [p for p in params if id(p) not in seen]
    seen.update(id(p) for p in fresh)
    return sum(p.numel() for p in fresh)


def _forward_shapes(module: nn.Module, layers, args, kwargs) -> dict[int, tuple]:
    """id(layer) -> the shape of its first call's output, from one forward pass."""
    shapes: dict[int, tuple] = {}
    me = threading.get_ident()

    def record(m, _inputs, output):
        # a shipped model is shared: a visitor's call from another thread must not count
        if threading.get_ident() == me and id(m) not in shapes:
            shapes[id(m)] = _output_shape(output)

    modes = {m: m.training for m in module.modules()}
    hooks = [m.register_forward_hook(record) for _, m in layers]
    device = next(module.parameters(), torch.empty(0)).device
    try:
        module.eval()
        with torch.no_grad():
            module(*_to(args, device), **_to(kwargs, device))
    finally:
        for h in hooks:
            h.remove()
        for m, training in modes.items():
            m.training = training
    return shapes


def _to(obj, device):
    if isinstance(obj, torch.Tensor):
        return obj.to(device)
    if isinstance(obj, dict):
        return {k: _to(v, device) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to(v, device) for v in obj)
    return obj


def _output_shape(output) -> tuple | None:
    """The shape of a layer's output: its first tensor (an LSTM's ``(output, (h, c))``
    gives the output's); a packed sequence as the padded (B, T, ...) it stands for."""
    if isinstance(output, PackedSequence):
        return (int(output.batch_sizes[0]), len(output.batch_sizes), *output.data.shape[1:])
    if isinstance(output, torch.Tensor):
        return tuple(output.shape)
    if isinstance(output, (tuple, list)):
        return next((s for s in map(_output_shape, output) if s is not None), None)
    return None


def _batch_size(args, kwargs) -> int | None:
    first = next((v for v in (*args, *kwargs.values()) if isinstance(v, torch.Tensor) and v.dim()), None)
    return None if first is None else first.shape[0]


def _shape(shape: tuple | None, batch: int | None) -> tuple | None:
    """``shape`` with its leading batch dimension written as ``"B"`` (as Keras writes None)."""
    if not shape or shape[0] != batch:
        return shape
    return ("B", *shape[1:])


def _kind(m: nn.Module) -> str:
    """The layer's class with its key sizes, e.g. ``LSTM(256→512, 2 layers, bidirectional)``."""
    name = type(m).__name__
    if isinstance(m, nn.RNNBase):
        extras = [f"{m.num_layers} layers"] if m.num_layers > 1 else []
        extras += ["bidirectional"] if m.bidirectional else []
        return f"{name}({', '.join([f'{m.input_size}→{m.hidden_size}', *extras])})"
    if isinstance(m, nn.Embedding):
        return f"{name}({m.num_embeddings:,}→{m.embedding_dim})"
    if isinstance(m, nn.Linear):
        return f"{name}({m.in_features}→{m.out_features}{'' if m.bias is not None else ', no bias'})"
    if isinstance(m, nn.modules.conv._ConvNd):
        return f"{name}({m.in_channels}→{m.out_channels}, kernel {_dims(m.kernel_size)}, stride {_dims(m.stride)})"
    if isinstance(m, nn.LayerNorm):
        return f"{name}({_dims(m.normalized_shape)})"
    if isinstance(m, nn.modules.dropout._DropoutNd):
        return f"{name}({m.p:g})"
    if isinstance(m, nn.MultiheadAttention):
        return f"{name}({m.embed_dim}, {m.num_heads} heads)"
    return name


def _dims(sizes) -> str:
    """``(5,)`` as 5, ``(3, 3)`` as 3×3."""
    return "×".join(map(str, sizes))


def shape_text(shape: tuple | None) -> str:
    """An output shape as the tables print it: ``(B, 8, 64)``, or a dash for none."""
    return NO_SHAPE if shape is None else f"({', '.join(map(str, shape))})"


def _totals(s: Summary) -> list[str]:
    dtype = "/".join(s.dtypes) or "no parameters"
    return [f"Total params: {s.total:,} ({s.size_mb:.2f} MB, {dtype})",
            f"Trainable params: {s.trainable:,}", f"Non-trainable params: {s.total - s.trainable:,}"]


def summary_table_md(s: Summary) -> str:
    """The summary as a Markdown table (for a model card), the totals under it."""
    lines = ["| layer | type | output shape | parameters |", "|---|---|---|---:|"]
    lines += [f"| `{r.name}` | {r.kind} | {shape_text(r.shape)} | {r.params:,} |" for r in s.rows]
    lines += ["", " · ".join(_totals(s)) + "."]
    if s.example:
        lines.append(f"Output shapes for an example batch of B sequences: {s.example}.")
    return "\n".join(lines)


def _columns(cells: tuple[str, str, str], widths: list[int]) -> str:
    """One line of the plain-text table: name and shape left, count right-aligned."""
    return f"{cells[0]:<{widths[0]}}{cells[1]:<{widths[1]}}{cells[2]:>{widths[2] - 2}}"


def summary_text(s: Summary) -> str:
    """The summary as plain text in Keras's layout (for the command line)."""
    cells = [(f"{r.name} ({r.kind})", shape_text(r.shape), f"{r.params:,}") for r in s.rows]
    heads = ("Layer (type)", "Output Shape", "Param #")
    w = [max(len(c[i]) for c in [heads, *cells]) + 2 for i in range(3)]
    rule = sum(w) - 2
    out = [f'Model: "{s.model}"', "_" * rule, _columns(heads, w), "=" * rule]
    out += [_columns(c, w) for c in cells]
    out += ["=" * rule, *_totals(s)]
    if s.example:
        out.append(f"Output shapes for an example batch of B sequences: {s.example}")
    return "\n".join(out)
