"""Numbers in paths and queries the catalog can hold: one out of range is a 4xx, not a crash."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

# Record ids are INTEGER columns: 32-bit in PostgreSQL, so larger numbers name nothing.
MAX_ID = 2**31 - 1
RecordId = Annotated[int, Path(ge=1, le=MAX_ID, description="a record's number")]

# OFFSET is a 64-bit number in SQLite and PostgreSQL; SQLite's driver cannot even send more.
MAX_OFFSET = 2**63 - 1
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="rows to skip")]
