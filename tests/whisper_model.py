"""A tiny, randomly initialised multilingual Whisper model in CTranslate2's format.

faster-whisper loads it exactly as it loads a real one (model.bin, config.json,
vocabulary, tokenizer.json, preprocessor_config.json), so the tests run the real loading,
voice-activity, language-detection and decoding path; only the words are meaningless.
The layout of the vocabulary is Whisper's: text tokens, then <|endoftext|>,
<|startoftranscript|>, the 99 language tokens, the task and control tokens, and the 1,501
timestamp tokens; CTranslate2 treats a model with 51,865 tokens as multilingual.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np

# Whisper's language tokens, in its order (large-v3's "yue" comes after these 99).
LANGUAGES = [
    "en",
    "zh",
    "de",
    "es",
    "ru",
    "ko",
    "fr",
    "ja",
    "pt",
    "tr",
    "pl",
    "ca",
    "nl",
    "ar",
    "sv",
    "it",
    "id",
    "hi",
    "fi",
    "vi",
    "he",
    "uk",
    "el",
    "ms",
    "cs",
    "ro",
    "da",
    "hu",
    "ta",
    "no",
    "th",
    "ur",
    "hr",
    "bg",
    "lt",
    "la",
    "mi",
    "ml",
    "cy",
    "sk",
    "te",
    "fa",
    "lv",
    "bn",
    "sr",
    "az",
    "sl",
    "kn",
    "et",
    "mk",
    "br",
    "eu",
    "is",
    "hy",
    "ne",
    "mn",
    "bs",
    "kk",
    "sq",
    "sw",
    "gl",
    "mr",
    "pa",
    "si",
    "km",
    "sn",
    "yo",
    "so",
    "af",
    "oc",
    "ka",
    "be",
    "tg",
    "sd",
    "gu",
    "am",
    "yi",
    "lo",
    "uz",
    "fo",
    "ht",
    "ps",
    "tk",
    "nn",
    "mt",
    "sa",
    "lb",
    "my",
    "bo",
    "tl",
    "mg",
    "as",
    "tt",
    "haw",
    "ln",
    "ha",
    "ba",
    "jw",
    "su",
]
TEXT_TOKENS = 50257
TIMESTAMPS = 1501
N_MELS = 80
AUDIO_POSITIONS = 1500  # 30 s of audio after the two convolutions
TEXT_POSITIONS = 448
WIDTH = 64
HEADS = 2
LAYERS = 2


def words(count: int) -> list[str]:
    """Distinct pronounceable words (ba, be, ..., baba, ...) for the text tokens."""
    syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
    found: list[str] = []
    for length in itertools.count(1):
        for parts in itertools.product(syllables, repeat=length):
            found.append("".join(parts))
            if len(found) == count:
                return found
    raise AssertionError("unreachable")


def special_tokens() -> list[str]:
    control = [
        "<|endoftext|>",
        "<|startoftranscript|>",
        *(f"<|{code}|>" for code in LANGUAGES),
        "<|translate|>",
        "<|transcribe|>",
        "<|startoflm|>",
        "<|startofprev|>",
        "<|nocaptions|>",
        "<|notimestamps|>",
    ]
    return control + [f"<|{i * 0.02:.2f}|>" for i in range(TIMESTAMPS)]


def _tokenizer(folder: Path, text: list[str]) -> None:
    """tokenizer.json: one token a word, the special tokens after them, in id order."""
    from tokenizers import AddedToken, Tokenizer, models, pre_tokenizers

    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(text)}, unk_token=text[0]))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.add_special_tokens([AddedToken(t, special=True) for t in special_tokens()])
    tokenizer.save(str(folder / "tokenizer.json"))


def _weights(spec: object, rng: np.random.Generator) -> None:
    """Every weight the spec declares, at a shape from the model's sizes."""
    from ctranslate2.specs import model_spec

    vocabulary = TEXT_TOKENS + len(special_tokens())

    def normal(*shape: int) -> np.ndarray:
        return (0.05 * rng.standard_normal(shape)).astype(np.float32)

    def fill(layer: object, name: str, value: object) -> None:
        scope, attr = name.rsplit("/", 1)
        if value is not None and not (attr == "encodings" and isinstance(value, str)):
            return
        parts = scope.split("/")
        if attr == "gamma":
            array = np.ones(WIDTH, np.float32)
        elif attr == "beta":
            array = np.zeros(WIDTH, np.float32)
        elif attr == "encodings":
            array = normal(AUDIO_POSITIONS if parts[0] == "encoder" else TEXT_POSITIONS, WIDTH)
        elif parts[-1] == "conv1":
            array = normal(WIDTH, N_MELS, 3)
        elif parts[-1] == "conv2":
            array = normal(WIDTH, WIDTH, 3)
        elif parts[-1] in ("embeddings", "projection"):
            array = normal(vocabulary, WIDTH)
        elif parts[-2] == "ffn":
            array = (
                normal(4 * WIDTH, WIDTH) if parts[-1] == "linear_0" else normal(WIDTH, 4 * WIDTH)
            )
        elif parts[-2] == "self_attention":
            array = normal(3 * WIDTH, WIDTH) if parts[-1] == "linear_0" else normal(WIDTH, WIDTH)
        elif parts[-2] == "attention":  # cross-attention: queries, fused keys and values, out
            array = normal(2 * WIDTH, WIDTH) if parts[-1] == "linear_1" else normal(WIDTH, WIDTH)
        else:
            raise AssertionError(f"no shape known for {name}")
        setattr(layer, attr, array)

    model_spec.visit_spec(spec, fill)
    # The convolutions' biases are optional in the spec; Whisper has them.
    for conv in (spec.encoder.conv1, spec.encoder.conv2):  # type: ignore[attr-defined]
        conv.bias = np.zeros(WIDTH, np.float32)


def build(folder: Path, seed: int = 0) -> Path:
    """Write the model to `folder` (created) and return it."""
    from ctranslate2.specs import whisper_spec

    folder.mkdir(parents=True, exist_ok=True)
    text = words(TEXT_TOKENS)
    spec = whisper_spec.WhisperSpec(LAYERS, HEADS, LAYERS, HEADS)
    _weights(spec, np.random.default_rng(seed))
    vocabulary = text + special_tokens()
    spec.register_vocabulary(vocabulary)
    first_language = TEXT_TOKENS + 2
    spec.config.suppress_ids = []
    spec.config.suppress_ids_begin = [TEXT_TOKENS]  # <|endoftext|> never first
    spec.config.lang_ids = list(range(first_language, first_language + len(LANGUAGES)))
    spec.config.alignment_heads = [(LAYERS - 1, h) for h in range(HEADS)]
    spec.validate()
    spec.optimize(quantization="float32")
    spec.save(str(folder))
    _tokenizer(folder, text)
    preprocessor = {"feature_size": N_MELS, "sampling_rate": 16000, "hop_length": 160}
    (folder / "preprocessor_config.json").write_text(json.dumps(preprocessor))
    return folder
