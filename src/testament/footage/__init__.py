"""Footage in the catalog: stored fingerprints, the persisted hash index, links and groups.

`testament.fingerprint` knows how to hash and match media; this package ties it to the
store: what is fingerprinted at ingest, how the index follows the catalog, and how
matches become footage groups.
"""
