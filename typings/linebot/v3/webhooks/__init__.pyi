class UserSource:
    user_id: str | None

class TextMessageContent:
    text: str | None

class Event:
    source: object | None
    reply_token: str | None

class FollowEvent(Event): ...
class UnfollowEvent(Event): ...

class MessageEvent(Event):
    message: object
