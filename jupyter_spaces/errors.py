"""The one error type the API turns into an HTTP answer."""

from tornado.web import HTTPError


class SpacesError(HTTPError):
    """A request that cannot be done; ``status_code`` is the HTTP code, ``message`` says why."""

    def __init__(self, status: int, message: str) -> None:
        # tornado %-formats log_message when it logs; keep a literal '%' literal.
        super().__init__(status, message.replace("%", "%%"))
        self.message = message

    def __str__(self) -> str:
        return self.message
