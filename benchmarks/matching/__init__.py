"""Footage-matching benchmark: transform suite, evaluation and the vPDQ baseline."""
