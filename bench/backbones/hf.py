"""The Hugging Face backbone ``hf:<hub id or local path>``: pretrained multilingual encoders.

An encoder checkpoint (XLM-R, mBERT, ...; Conneau et al., ACL 2020, "Unsupervised
Cross-lingual Representation Learning at Scale") becomes a :class:`~bench.backbones.base.UnitModel`
for every task kind (:mod:`bench.backbones.hf_encoder`); an encoder-decoder checkpoint (mT5,
mBART; Xue et al., NAACL 2021) becomes a generative model for abstractive summarization
(:mod:`bench.backbones.seq2seq`). Which one is read from the checkpoint's ``config.json``
(``is_encoder_decoder``), or forced with ``Config.generative`` (``hf-seq2seq`` always loads the
encoder-decoder family). This module holds the factories and checkpoint loading; the config
and the run-time helpers the unit models share live in :mod:`bench.backbones.hf_runtime`.

Importing this module is cheap: torch and transformers are imported inside functions.
Nothing is downloaded unless the user allows it: with ``offline`` (or ``HF_HUB_OFFLINE=1``)
only local directories and the local hub cache are read, and a missing checkpoint is one
:class:`~bench.errors.XlbenchError` that says how to pre-download it.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from bench.backbones.hf_runtime import HFConfig, resolve_device
from bench.errors import XlbenchError
from bench.seeding import derive_seed
from bench.types import TaskInfo

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from bench.backbones.base import UnitModel

#: Hub-id hints of model families, used only while config.json is not available locally.
_GENERATIVE_HINTS = ("t5", "mt0", "bart", "pegasus", "m2m", "nllb", "marian")
_ENCODER_HINTS = ("bert", "roberta", "xlm", "electra", "labse", "minilm", "e5-", "glot500", "serengeti", "afro-xlmr")


@dataclass(frozen=True)
class Preflight:
    """What :meth:`HFBackbone.validate` found, without loading any weights."""

    model: str
    location: Literal["path", "cache", "pending"]  # pending: the hub download has not happened
    generative: bool | None  # None: unknown until the checkpoint is available
    detail: str


def download_hint(model: str, revision: str) -> str:
    return (
        f"pre-download it on a machine with internet: `hf download {model} --revision {revision}` "
        f"(older huggingface_hub: `huggingface-cli download {model} --revision {revision}`), "
        "then run with HF_HUB_OFFLINE=1; or pass a local directory written by save_pretrained "
        "as the model (`hf:/path/to/model`)"
    )


class HFBackbone:
    """Backbone factory: ``build(info, seed)`` returns a fresh model for one (task, method, seed).

    Every method of a cell gets the same weights: the pretrained checkpoint plus heads
    initialised from ``derive_seed("hf-heads", info.name, seed)``. The loaded checkpoint is
    kept on this object (on CPU) so later builds copy it instead of reading the disk again.
    """

    Config = HFConfig
    generative_only: bool | None = None  # subclasses force the model family

    def __init__(self, config: HFConfig = HFConfig()) -> None:
        self.config = config
        self._loaded: tuple[Any, Any] | None = None  # (module, tokenizer) once read

    # -- checks that load nothing ------------------------------------------------------

    def validate(self) -> Preflight:
        """Check the config and locate the checkpoint without loading weights or using the network."""
        c = self.config  # its ranges, choices, stride and device hold: HFConfig checks them when built
        config_file = self._local_config_file()
        if config_file is not None:
            location: Literal["path", "cache"] = "path" if Path(c.model).expanduser().is_dir() else "cache"
            generative = self._generative_from(config_file)
            return Preflight(c.model, location, generative, f"config at {config_file}")
        return Preflight(
            c.model,
            "pending",
            self._generative_guess(),
            f"{c.model}@{c.revision} is not in the local hub cache; {download_hint(c.model, c.revision)}",
        )

    def is_generative(self) -> bool:
        """Whether build() returns a seq2seq model (then only gradient-based methods apply)."""
        pre = self.validate()
        return bool(pre.generative)

    def _local_config_file(self) -> Path | None:
        c = self.config
        path = Path(c.model).expanduser()
        if path.is_dir():
            if not (path / "config.json").is_file():
                raise XlbenchError(
                    f"hf: {path} has no config.json; it must be a directory written by "
                    "model.save_pretrained() and tokenizer.save_pretrained()"
                )
            return path / "config.json"
        if c.model.startswith(("/", "./", "../", "~")) or path.exists():
            raise XlbenchError(f"hf: local model path {c.model!r} is not a directory")
        from huggingface_hub import try_to_load_from_cache
        from huggingface_hub.errors import HFValidationError

        try:
            found = try_to_load_from_cache(c.model, "config.json", revision=c.revision)
        except HFValidationError as e:
            raise XlbenchError(f"hf: {c.model!r} is neither a directory nor a valid hub id ({e})") from e
        return Path(found) if isinstance(found, str) else None

    def _generative_from(self, config_file: Path) -> bool:
        if self.generative_only is not None:
            return self.generative_only
        if self.config.generative is not None:
            return self.config.generative
        import json

        return bool(json.loads(config_file.read_text()).get("is_encoder_decoder", False))

    def _generative_guess(self) -> bool | None:
        if self.generative_only is not None:
            return self.generative_only
        if self.config.generative is not None:
            return self.config.generative
        name = self.config.model.lower().rsplit("/", 1)[-1]
        if any(h in name for h in _GENERATIVE_HINTS):
            return True
        return False if any(h in name for h in _ENCODER_HINTS) else None

    # -- building ------------------------------------------------------------------------

    def build(self, info: TaskInfo, seed: int) -> "UnitModel":
        """A fresh model for ``info``: pretrained weights + heads from ``seed``, on the device."""
        pre = self.validate()
        module, tokenizer = self._load(bool(pre.generative))
        limit = int(getattr(tokenizer, "model_max_length", 0) or 0)
        if 0 < limit < 1_000_000 and self.config.max_length > limit:
            raise XlbenchError(
                f"hf: max_length {self.config.max_length} exceeds {self.config.model}'s limit of {limit} "
                f"tokens; set max_length <= {limit} (QA contexts are windowed with stride anyway)"
            )
        module = copy.deepcopy(module)
        device = resolve_device(self.config.device)
        head_seed = derive_seed("hf-heads", info.name, info.kind, seed)
        if pre.generative:
            from bench.backbones.seq2seq import Seq2SeqUnits

            if info.kind != "summarization":
                raise XlbenchError(
                    f"hf: {self.config.model} is an encoder-decoder (generative) model; it serves "
                    f"abstractive summarization only, not {info.kind} task {info.name!r}. Use an "
                    "encoder checkpoint (e.g. hf:xlm-roberta-base) for this task."
                )
            model: UnitModel = Seq2SeqUnits(self.config, info, module, tokenizer)
        else:
            from bench.backbones.hf_encoder import EncoderUnits

            model = EncoderUnits(self.config, info, module, tokenizer, head_seed)
        return model.to(device)

    def _load(self, generative: bool) -> tuple[Any, Any]:
        if self._loaded is None:
            self._loaded = load_pretrained(self.config, generative)
        return self._loaded


def offline_mode(config: HFConfig) -> bool:
    if config.offline is not None:
        return config.offline
    return any(os.environ.get(k, "").lower() in ("1", "true", "yes") for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def load_pretrained(config: HFConfig, generative: bool) -> tuple[Any, Any]:
    """(module, tokenizer) from a local directory or the hub; one helpful error if unreachable."""
    from transformers import AutoModel, AutoModelForSeq2SeqLM, AutoTokenizer

    local = Path(config.model).expanduser().is_dir()
    kwargs: dict[str, Any] = {"local_files_only": local or offline_mode(config), "trust_remote_code": False}
    if not local:
        kwargs["revision"] = config.revision
    source = str(Path(config.model).expanduser()) if local else config.model
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
        auto = AutoModelForSeq2SeqLM if generative else AutoModel
        module = auto.from_pretrained(source, attn_implementation=config.attention, **kwargs)
    except (OSError, ValueError) as e:
        where = "directory" if local else f"hub id (revision {config.revision})"
        raise XlbenchError(
            f"hf: cannot load {config.model} ({where}): {type(e).__name__}: {e}\n"
            f"To fix: {download_hint(config.model, config.revision)}"
        ) from e
    if not getattr(tokenizer, "is_fast", False):
        raise XlbenchError(f"hf: {config.model} has no fast tokenizer (tokenizer.json); offsets need one")
    if not generative and getattr(module, "pooler", None) is not None:
        module.pooler = None  # unused by every head here; its parameters would get no gradient
    if not config.dropout:
        zero_dropout(module)
    if config.gradient_checkpointing:
        if not getattr(module, "supports_gradient_checkpointing", False):
            raise XlbenchError(f"hf: {config.model} does not support gradient_checkpointing; set it to false")
        if hasattr(module, "activation_checkpointing_enable"):  # transformers >= 5.x
            module.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
        else:
            module.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        module.train()  # transformers checkpoints only in training mode; dropout is already 0
    else:
        module.eval()
    return module, tokenizer


def zero_dropout(module: "torch.nn.Module") -> None:
    """Make the trunk deterministic in train mode too: every dropout probability becomes 0."""
    from torch import nn

    for sub in module.modules():
        if isinstance(sub, nn.Dropout):
            sub.p = 0.0
        for name, value in list(vars(sub).items()):
            if "dropout" in name and isinstance(value, float):
                setattr(sub, name, 0.0)
    cfg = getattr(module, "config", None)
    if cfg is not None:
        for name in ("hidden_dropout_prob", "attention_probs_dropout_prob", "dropout_rate", "dropout", "attention_dropout", "activation_dropout", "classifier_dropout"):
            if isinstance(getattr(cfg, name, None), float):
                setattr(cfg, name, 0.0)


class Seq2SeqBackbone(HFBackbone):
    """``hf-seq2seq``: like ``hf`` but always loads ``AutoModelForSeq2SeqLM`` (e.g. google/mt5-small).

    Plain ``hf:<id>`` already picks this family when config.json says ``is_encoder_decoder``.
    """

    generative_only = True
