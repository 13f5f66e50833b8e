"""python-telegram-bot's HTTP layer on the hub's one aiohttp session.

PTB's :class:`telegram.request.BaseRequest` keeps the Bot API protocol (status codes → its
exceptions, ``{"ok": ..., "result": ...}``); this class only moves bytes. It sends what PTB's
own ``HTTPXRequest`` sends: an ``application/x-www-form-urlencoded`` body whose non-string
values are JSON strings. File uploads are not supported (the adapter sends photos by URL).
"""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import BaseRequest, RequestData


class AiohttpRequest(BaseRequest):
    """Bot API requests through ``session()`` (read at each call: the hub opens its session
    after the channels are set up). ``redact`` (the bot token, which is part of every URL) is
    removed from error messages."""

    __slots__ = ("_redact", "_session", "_timeout")

    def __init__(
        self, session: Callable[[], aiohttp.ClientSession], timeout: float, redact: str
    ) -> None:
        self._session = session
        self._timeout = timeout
        self._redact = redact

    @property
    def read_timeout(self) -> float | None:
        return self._timeout

    async def initialize(self) -> None:
        """Nothing to open: the hub owns the session."""

    async def shutdown(self) -> None:
        """Nothing to close: the hub owns the session."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """One HTTP request → (status, body); transport failures → PTB's ``TimedOut`` /
        ``NetworkError``, as its ``HTTPXRequest`` does."""
        if request_data is not None and request_data.multipart_data:
            raise TelegramError("file uploads are not supported; send files by URL")
        data = request_data.json_parameters if request_data is not None else None
        del write_timeout  # aiohttp has none; the read timeout covers a stalled exchange
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=self._seconds(pool_timeout),
            sock_connect=self._seconds(connect_timeout),
            sock_read=self._seconds(read_timeout),
        )
        try:
            async with self._session().request(
                method,
                url,
                data=data,
                headers={"User-Agent": self.USER_AGENT},
                timeout=timeout,
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut(f"Bot API request timed out: {self._clean(exc)}") from None
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {self._clean(exc)}") from None

    def _seconds(self, value: object) -> float | None:
        if value is BaseRequest.DEFAULT_NONE:
            return self._timeout
        if isinstance(value, int | float):
            return float(value)
        return None

    def _clean(self, exc: BaseException) -> str:
        return str(exc).replace(self._redact, "<token>") if self._redact else str(exc)
