"""Names folded for search, so that one spelling finds the others across scripts.

`anyascii` romanises Armenian, Cyrillic and Azerbaijani Latin; `skeleton` then drops
what transliterations disagree on (vowels, h and kh, y and j as a glide, g and k, doubled
letters) and merges digraphs, so "Şəhriyar Əliyev", "Шәһријар Әлијев", "Шахрияр
Алиев" and "Shahriyar Aliyev" share one key.
"""

from __future__ import annotations

import re
import unicodedata

from anyascii import anyascii

# Letters whose presence marks Azerbaijani Latin, where c, q and x sound as j, g and kh.
AZERBAIJANI_LATIN = set("əƏğĞıİşŞçÇ")
AZERBAIJANI_LETTERS = str.maketrans(
    {"c": "j", "C": "J", "x": "kh", "X": "Kh", "ç": "ch", "Ç": "Ch", "ğ": "gh", "Ğ": "Gh"}
)
# Azerbaijani Cyrillic je is a glide, as y, and che with descender is j (anyascii: j, c).
CYRILLIC_JE = str.maketrans({"ј": "y", "Ј": "Y", "ҹ": "j", "Ҹ": "J"})
DIGRAPHS = (
    ("dzh", "j"),
    ("tch", "c"),
    ("zh", "j"),
    ("kh", "h"),
    ("gh", "h"),
    ("sh", "s"),
    ("ch", "c"),
    ("ts", "c"),
    ("ph", "f"),
    ("w", "v"),
    ("x", "h"),
    ("q", "k"),
    ("g", "k"),
)
DROPPED = re.compile(r"[aeiouyh]")
DOUBLED = re.compile(r"([a-z])\1+")  # letters only: "4999" stays a number
NOT_WORD = re.compile(r"[^0-9a-z]+")


def plain(text: str) -> str:
    """Romanised, case-folded words separated by single spaces."""
    text = unicodedata.normalize("NFKC", text).translate(CYRILLIC_JE)
    if AZERBAIJANI_LATIN & set(text):
        text = text.translate(AZERBAIJANI_LETTERS)
    return " ".join(NOT_WORD.split(anyascii(text).casefold())).strip()


def skeleton(text: str) -> str:
    """The consonants that every transliteration of a name keeps, word by word."""
    words = []
    for word in plain(text).split():
        for digraph, single in DIGRAPHS:
            word = word.replace(digraph, single)
        kept = DOUBLED.sub(r"\1", DROPPED.sub("", word))
        words.append(kept or word[:1])
    return " ".join(words)


def search_key(names: list[str]) -> str:
    """What the catalog stores for an actor: every name, plain and as a skeleton."""
    parts = []
    for name in names:
        parts.extend((plain(name), skeleton(name)))
    return " | " + " | ".join(p for p in parts if p) + " | "


def query_words(query: str) -> tuple[list[str], list[str]]:
    """A query's plain words and skeleton words, for matching against `search_key`."""
    return plain(query).split(), skeleton(query).split()
