"""The envelope every hub request shares; subsystems outside the hub build on it too."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

RequestId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class Request(BaseModel):
    """Strict, and unknown fields are refused: a typo is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: RequestId
