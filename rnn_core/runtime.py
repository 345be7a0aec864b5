"""Where a training run happens: the device, the arithmetic precision, and the
processes that share the work (``torchrun`` + DistributedDataParallel).

One process is the plain path: ``Runtime()`` is the CPU in float32 with a world of
one, and none of its methods makes a distributed call. Under ``torchrun`` (which sets
RANK, LOCAL_RANK and WORLD_SIZE) `start` joins the process group: NCCL between GPUs,
gloo between CPUs. Every rank then builds the same batches from the same seed and
trains on its own rows of each (`Runtime.shard`), so the total batch, and the run,
are the same as one process's; rank 0 decides what depends on the clock (the
learning rate under a time budget, when to stop) and the others follow
(`Runtime.agree`), so no rank waits for one that has left.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

import torch

DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


class DeviceError(ValueError):
    """A device or precision this machine or this run cannot have."""


def resolve_device(name: str = "auto", local_rank: int = 0) -> torch.device:
    """``auto``: CUDA if present, then Apple's MPS, then the CPU; a named device that
    is not there is a `DeviceError` (not a silent fall-back to the CPU)."""
    if name not in DEVICES:
        raise DeviceError(f"unknown device {name!r}; choose {', '.join(DEVICES)}")
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "mps" if mps else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            built = "a CUDA build" if torch.version.cuda else "a CPU-only build"
            raise DeviceError(f"--device cuda: no CUDA device here (torch {torch.__version__} is {built}); "
                              "use --device cpu or auto")
        if local_rank >= torch.cuda.device_count():
            raise DeviceError(f"process {local_rank} has no GPU of its own ({torch.cuda.device_count()} here): "
                              "start at most one process per GPU")
        return torch.device("cuda", local_rank)
    if name == "mps" and not mps:
        raise DeviceError("--device mps: Apple's MPS is not available here; use --device cpu or auto")
    return torch.device(name)


def resolve_precision(name: str, device: torch.device) -> str:
    """``auto``: bf16 on a GPU that has it, else fp16 on CUDA; fp32 on the CPU and MPS
    (where mixed precision buys these small networks little). bf16 may be asked for on
    the CPU too (autocast supports it there; the tests use that)."""
    if name not in PRECISIONS:
        raise DeviceError(f"unknown precision {name!r}; choose {', '.join(PRECISIONS)}")
    if name == "auto":
        if device.type != "cuda":
            return "fp32"
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if name == "fp16" and device.type != "cuda":
        raise DeviceError("fp16 mixed precision needs CUDA (its loss scaling); use bf16 or fp32 here")
    return name


@dataclass(frozen=True)
class Runtime:
    """One process's place in a run. The default is the plain single-process CPU run."""
    device: str = "cpu"
    precision: str = "fp32"       # fp32 | bf16 | fp16 (mixed precision with autocast)
    rank: int = 0
    world_size: int = 1

    @property
    def distributed(self) -> bool:
        """Whether several processes train together."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that validates, prints and writes the checkpoint."""
        return self.rank == 0

    def autocast(self):
        """The forward pass's precision context (nothing in fp32)."""
        if self.precision == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(torch.device(self.device).type, dtype=_DTYPES[self.precision])

    def grad_scaler(self) -> torch.amp.GradScaler | None:
        """fp16 needs its loss scaled (its range is narrow); bf16 and fp32 do not."""
        return torch.amp.GradScaler("cuda") if self.precision == "fp16" else None

    def shard(self, batch: dict) -> dict:
        """This rank's rows of ``batch`` (every ``world_size``-th, from ``rank``): the
        rows of a batch carry on in the same rows of the next (truncated BPTT
        streams), so each rank keeps its own streams."""
        if not self.distributed:
            return batch
        rows = batch["x"].size(0)
        return {k: v[self.rank::self.world_size] if torch.is_tensor(v) and v.dim() and v.size(0) == rows else v
                for k, v in batch.items()}

    def agree(self, values: list[float]) -> list[float]:
        """Rank 0's ``values``, on every rank (one small broadcast)."""
        if not self.distributed:
            return values
        import torch.distributed as dist

        t = torch.tensor(values, dtype=torch.float64, device=self._comm_device)
        dist.broadcast(t, src=0)
        return t.tolist()

    def mean(self, value: float) -> float:
        """The mean of ``value`` over the ranks (e.g. the loss of the whole batch)."""
        return self.sum(value) / self.world_size

    def sum(self, value: float) -> float:
        """The sum of ``value`` over the ranks."""
        if not self.distributed:
            return value
        import torch.distributed as dist

        t = torch.tensor([value], dtype=torch.float64, device=self._comm_device)
        dist.all_reduce(t)
        return float(t[0])

    @property
    def _comm_device(self) -> torch.device:
        # NCCL moves GPU tensors only; gloo CPU ones
        return torch.device(self.device) if torch.device(self.device).type == "cuda" else torch.device("cpu")

    def record(self) -> dict:
        """What a checkpoint's config.json says of where it was trained."""
        return {"device": torch.device(self.device).type, "precision": self.precision, "world_size": self.world_size}


def start(device: str = "auto", precision: str = "auto") -> Runtime:
    """This process's runtime. Under torchrun, join the process group (one GPU per
    local rank with NCCL; gloo on CPUs); alone, no distributed call at all.

    Raises:
        DeviceError: the device or precision asked for is not available.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    dev = resolve_device(device, local if world > 1 else 0)
    prec = resolve_precision(precision, dev)
    if world == 1:
        return Runtime(str(dev), prec)
    if dev.type == "mps":
        raise DeviceError("several processes on MPS are not supported; use --device cpu with torchrun")
    import torch.distributed as dist

    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    return Runtime(str(dev), prec, dist.get_rank(), dist.get_world_size())


def finish(runtime: Runtime) -> None:
    """Leave the process group (nothing to do for one process)."""
    if runtime.distributed:
        import torch.distributed as dist

        dist.barrier()
        dist.destroy_process_group()


def to_device(batch: dict, device) -> dict:
    """``batch`` with its tensors on ``device`` (other values as they are)."""
    return {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}


def device_of(model: torch.nn.Module) -> torch.device:
    """The device ``model``'s weights are on."""
    return next(model.parameters()).device


@contextlib.contextmanager
def evaluating(model: torch.nn.Module):
    """Run the block with ``model`` in eval mode and without gradients, then put the
    model back in the mode it was in (scoring mid-training must not leave dropout off)."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(was_training)
