from typing import Any

from marshmallow import fields

class Upload(fields.Field[Any]):
    def __init__(self, format: str = "binary", **kwargs: Any) -> None: ...
