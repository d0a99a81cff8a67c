"""The envelope every hub request shares; subsystems outside the hub build on it too."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

RequestId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
# Row ids and change numbers are INTEGER columns: a larger number would reach the database
# and fail there (found by tests/fuzz/hub_json.py).
INT_MAX = 2**31 - 1
RowId = Annotated[int, Field(ge=1, le=INT_MAX)]
# A stream's change number, and the last one a client holds (0: none yet).
Seq = Annotated[int, Field(ge=1, le=INT_MAX)]
Since = Annotated[int, Field(ge=0, le=INT_MAX)]


class Request(BaseModel):
    """Strict, and unknown fields are refused: a typo is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: RequestId
