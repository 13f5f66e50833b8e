"""Citizens' files: downloaded at once, checked, stored by content hash, served by the hub.

Only these kinds are kept, recognised by their first bytes (the provider's MIME type is not
trusted): images JPEG / PNG / WebP / HEIC, audio Ogg / MPEG / AMR / MP4, PDF documents. A file
over ``TAWASUL_MEDIA_MAX_BYTES`` or of another kind is skipped (logged and counted; the turn
goes on without it). Files are named ``<sha256>.<ext>`` under ``TAWASUL_MEDIA_DIR`` and reach
Rasa (and the ticket) as ``<TAWASUL_PUBLIC_URL>/media/<name>``; ``GET /media/{name}`` serves
exactly such names, so no path can leave the directory.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from bot.errors import MediaError

__all__ = ["KINDS", "MediaStore", "StoredMedia", "sniff"]


@dataclass(frozen=True, slots=True)
class Kind:
    ext: str
    mime: str
    type: str  # the attachment type Rasa gets: image / audio / document


KINDS = {
    "jpg": Kind("jpg", "image/jpeg", "image"),
    "png": Kind("png", "image/png", "image"),
    "webp": Kind("webp", "image/webp", "image"),
    "heic": Kind("heic", "image/heic", "image"),
    "ogg": Kind("ogg", "audio/ogg", "audio"),
    "mp3": Kind("mp3", "audio/mpeg", "audio"),
    "amr": Kind("amr", "audio/amr", "audio"),
    "m4a": Kind("m4a", "audio/mp4", "audio"),
    "pdf": Kind("pdf", "application/pdf", "document"),
}
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_MP4_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"mp42", b"isom", b"mp41", b"dash", b"3gp4", b"3gp5"}
NAME = re.compile(r"^[0-9a-f]{64}\.(?:" + "|".join(KINDS) + r")$")


def sniff(data: bytes) -> Kind | None:
    """The kind of a file by its magic bytes; None when it is none we keep."""
    if data.startswith(b"\xff\xd8\xff"):
        return KINDS["jpg"]
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return KINDS["png"]
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return KINDS["webp"]
    if data.startswith(b"%PDF-"):
        return KINDS["pdf"]
    if data.startswith(b"OggS"):
        return KINDS["ogg"]
    if data.startswith(b"#!AMR"):
        return KINDS["amr"]
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in _HEIF_BRANDS:
            return KINDS["heic"]
        if brand in _MP4_AUDIO_BRANDS:
            return KINDS["m4a"]
        return None
    if data.startswith(b"ID3") or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return KINDS["mp3"]
    return None


@dataclass(frozen=True, slots=True)
class StoredMedia:
    name: str
    url: str
    kind: Kind
    size: int


class MediaStore:
    def __init__(self, directory: Path, max_bytes: int, public_url: str) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.public_url = public_url.rstrip("/")

    def decode_inline(self, b64: str) -> bytes:
        """Bytes of an attachment carried in the message (e-mail), within the size limit."""
        if len(b64) > (self.max_bytes * 4) // 3 + 8:
            raise MediaError(f"over the limit of {self.max_bytes} bytes")
        try:
            return base64.b64decode(b64, validate=False)
        except (binascii.Error, ValueError) as exc:
            raise MediaError(f"not base64: {exc}") from exc

    async def store(self, data: bytes) -> StoredMedia:
        """Check and keep a file; raises :class:`MediaError` when over the limits."""
        if len(data) > self.max_bytes:
            raise MediaError(f"{len(data)} bytes is over the limit of {self.max_bytes}")
        if not data:
            raise MediaError("empty file")
        kind = sniff(data)
        if kind is None:
            raise MediaError("not a kind of file we keep (image, audio or PDF)")
        name = f"{hashlib.sha256(data).hexdigest()}.{kind.ext}"
        await asyncio.to_thread(self._write, name, data)
        return StoredMedia(name, f"{self.public_url}/media/{name}", kind, len(data))

    def _write(self, name: str, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / name
        if target.exists():
            return  # same hash, same bytes
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    async def serve(self, request: web.Request) -> web.StreamResponse:
        """``GET /media/{name}``: only ``<sha256>.<ext>`` names, with their own type."""
        name = request.match_info.get("name", "")
        if not NAME.match(name):
            raise web.HTTPNotFound()
        path = self.directory / name
        if not path.is_file():
            raise web.HTTPNotFound()
        kind = KINDS[name.rsplit(".", 1)[1]]
        return web.FileResponse(
            path,
            headers={
                "Content-Type": kind.mime,
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'; sandbox",
                "Cache-Control": "private, max-age=86400, immutable",
            },
        )
