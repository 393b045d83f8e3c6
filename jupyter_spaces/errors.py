"""The one error type the API turns into an HTTP answer."""

import errno
from typing import Any

from tornado.web import HTTPError


class SpacesError(HTTPError):
    """A request that cannot be done; ``status_code`` is the HTTP code, ``message`` says why.

    ``reason`` is a short code a client can act on (``"no_space"``, ``"gone"``, ...); ``details``
    are extra fields of the JSON answer (for example the ``path`` a client may create a space in).
    """

    def __init__(
        self, status: int, message: str, reason: str | None = None, **details: Any
    ) -> None:
        # tornado %-formats log_message when it logs; keep a literal '%' literal.
        super().__init__(status, message.replace("%", "%%"))
        self.message = message
        self.code = reason
        self.details = details

    def __str__(self) -> str:
        return self.message

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message}
        if self.code:
            body["reason"] = self.code
        body.update(self.details)
        return body


_FULL = {errno.ENOSPC, errno.EDQUOT}


def disk_error(e: OSError, what: str) -> SpacesError:
    """A refusal for an OSError while writing: 507 when the disk or quota is full (the client
    can free space and retry), 500 otherwise; the message says what failed and why."""
    status = 507 if e.errno in _FULL else 500
    return SpacesError(status, f"{what}: {e.strerror or e}")
