from types import TracebackType
from typing import Any

class Configuration:
    def __init__(self, host: str | None = None, access_token: str | None = None, **kwargs: Any) -> None: ...

class ApiClient:
    def __init__(self, configuration: Configuration | None = None, **kwargs: Any) -> None: ...
    def __enter__(self) -> ApiClient: ...
    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...

class ApiException(Exception):
    status: int | None
    reason: str | None
    body: bytes | str | None

class TextMessage:
    def __init__(self, *, text: str, **kwargs: Any) -> None: ...

class PushMessageRequest:
    def __init__(self, *, to: str, messages: list[TextMessage], **kwargs: Any) -> None: ...

class MessagingApi:
    line_base_path: str
    def __init__(self, api_client: ApiClient | None = None) -> None: ...
    def push_message(self, push_message_request: PushMessageRequest, x_line_retry_key: str | None = None,
                     **kwargs: Any) -> Any: ...
