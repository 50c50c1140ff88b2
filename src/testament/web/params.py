"""Path parameters that the catalog can hold: a number out of range is a 4xx, not a crash."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

# Record ids are INTEGER columns: 32-bit in PostgreSQL, so larger numbers name nothing.
MAX_ID = 2**31 - 1
RecordId = Annotated[int, Path(ge=1, le=MAX_ID, description="a record's number")]
