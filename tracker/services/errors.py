class DomainError(Exception):
    """A business rule refused the action; the message is shown to the user (Chinese)."""


class PermissionDenied(DomainError):
    def __init__(self, message: str = "您没有权限执行此操作。"):
        super().__init__(message)


class NotFound(DomainError):
    def __init__(self, message: str = "找不到该记录。"):
        super().__init__(message)


class Conflict(DomainError):
    """What was asked to be made exists already."""
