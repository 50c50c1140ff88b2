"""Helpers the templates use to show values to people."""

from __future__ import annotations

from testament.web.pages import plain


def test_plain_shows_changed_records_without_python_syntax() -> None:
    perpetrators = [
        {"party": "Party A", "unit": "", "confidence": "probable", "basis": ["uniform", "speech"]},
        {"party": "Party B"},
    ]
    assert plain(perpetrators) == (
        "party Party A, confidence probable, basis uniform / speech; party Party B"
    )
    assert plain(None) == plain([]) == "—"
    assert plain(3) == "3"
