"""What the Hugging Face unit models share at run time: their config and the helpers that
place, cast and guard a forward pass.

:mod:`bench.backbones.hf` (the factories ``hf`` / ``hf-seq2seq`` and checkpoint loading)
builds :class:`~bench.backbones.hf_encoder.EncoderUnits` or
:class:`~bench.backbones.seq2seq.Seq2SeqUnits`; both unit models import only this module,
so the factories and the models do not import each other.

Importing this module is cheap: torch is imported inside functions.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, Literal

from bench.configcheck import Checked, ConfigError, bounded
from bench.errors import XlbenchError

if TYPE_CHECKING:  # pragma: no cover
    import torch


class DeviceOOM(XlbenchError):
    """The accelerator ran out of memory. The runner records the cell with status ``oom``."""


@dataclass(frozen=True)
class HFConfig(Checked):
    """How to load and run a transformers checkpoint. Every field has a default."""

    model: str = "xlm-roberta-base"  # hub id or local directory (save_pretrained layout)
    revision: str = "main"  # hub revision; pin a commit sha for reproducible runs
    max_length: int = bounded(384, ge=16, le=1_000_000)  # tokens per input sequence (QA: per context window)
    stride: int | None = bounded(None, ge=0)  # QA: tokens shared by consecutive windows; None: max_length // 3
    max_target_length: int = bounded(64, ge=1, le=1_000_000)  # seq2seq: summary tokens (teacher forcing and generation)
    pooling: Literal["cls", "mean"] = "cls"  # classification: sequence -> one unit
    freeze_embeddings: bool = False  # True: embedding tables learn in no inner loop
    dropout: bool = False  # keep the checkpoint's dropout (False: deterministic trunk)
    gradient_checkpointing: bool = False  # recompute activations; plain autograd only (not torch.func: MAML/Reptile)
    attention: Literal["eager", "sdpa"] = "eager"  # eager supports double backward everywhere
    device: str = "auto"  # "auto" (cuda if available, else cpu), "cpu", "cuda", "cuda:1", ...
    dtype: Literal["auto", "float32", "bfloat16"] = "auto"  # autocast; auto: bf16 on CUDA only
    offline: bool | None = None  # never contact the hub; None: HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE
    generative: bool | None = None  # seq2seq model; None: read is_encoder_decoder in config.json
    num_beams: int = bounded(1, ge=1, le=64)  # seq2seq generation: 1 = greedy, >1 = beam search

    def __post_init__(self) -> None:
        super().__post_init__()  # the declared ranges and choices
        if self.stride is not None and not self.stride < self.max_length // 2:
            raise ConfigError(
                f"hf: stride (overlap of QA windows) must be in [0, max_length/2), got {self.stride} "
                f"with max_length {self.max_length}; e.g. max_length 384, stride 128 (or leave it unset)"
            )
        if not (self.device in ("auto", "cpu", "cuda") or re.fullmatch(r"cuda:[0-9]+", self.device)):
            raise ConfigError(f"hf: device {self.device!r}: use auto, cpu, cuda or cuda:<index>")


def qa_stride(config: HFConfig) -> int:
    """The overlap of consecutive QA windows, in tokens."""
    return config.max_length // 3 if config.stride is None else config.stride


def adapted_names(module: "torch.nn.Module", freeze_embeddings: bool) -> tuple[str, ...]:
    """Names of the parameters an inner loop adapts: all of them, or all but the token
    embedding tables (every ``nn.Embedding``) when ``freeze_embeddings`` is set."""
    from torch import nn

    frozen: set[str] = set()
    if freeze_embeddings:
        for mod_name, mod in module.named_modules():
            if isinstance(mod, nn.Embedding):
                frozen.update(f"{mod_name}.{p}" for p, _ in mod.named_parameters())
    return tuple(n for n, _ in module.named_parameters() if n not in frozen)


def additive_mask(attention: "torch.Tensor") -> "torch.Tensor":
    """``[B, T]`` 0/1 padding mask -> ``[B, 1, 1, T]`` additive float mask.

    transformers passes a 4-D mask through unchanged; building it here keeps the forward
    free of data-dependent branches (its own mask builder checks ``mask.all()``), so the
    trunk works under ``torch.func.vmap``. A fully padded row stays finite (uniform attention).
    """
    return (1.0 - attention[:, None, None, :].float()) * -1e30


def resolve_device(name: str) -> str:
    """``auto`` -> ``cuda`` when available, else ``cpu``; a CUDA name without CUDA is an error."""
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise XlbenchError(f"device {name!r} requested but CUDA is not available; use --device cpu or auto")
    return name


def autocast(device: "torch.device", dtype: str) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA under ``dtype=auto``; ``bfloat16`` forces it, ``float32`` never."""
    import torch

    use = dtype == "bfloat16" or (dtype == "auto" and device.type == "cuda")
    if not use:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


@contextlib.contextmanager
def oom_guard(model: str, device: "torch.device", shape: tuple[int, ...], checkpointing: bool = False) -> Iterator[None]:
    """Turn an accelerator out-of-memory error into :class:`DeviceOOM` with what to try.

    Also explains the one known incompatibility: activation checkpointing calls
    ``requires_grad_`` inside the forward, which torch.func transforms forbid.
    """
    import torch

    try:
        yield
    except RuntimeError as e:
        if not isinstance(e, torch.OutOfMemoryError):
            if checkpointing and "functorch transform" in str(e):
                raise XlbenchError(
                    f"hf: {model} with gradient_checkpointing cannot run inside torch.func transforms "
                    "(the inner loops of maml/reptile); set gradient_checkpointing: false for those "
                    "methods (finetune, logreg and protonet use plain autograd and support it)"
                ) from e
            raise
        if device.type == "cuda":
            torch.cuda.empty_cache()
        raise DeviceOOM(
            f"hf: {model} ran out of memory on {device} for inputs of shape {tuple(shape)}. "
            "Try a smaller max_length, smaller meta_batch/batch_size, dtype: bfloat16, or "
            "gradient_checkpointing: true (finetune/logreg/protonet); the cell is recorded as 'oom'."
        ) from e
