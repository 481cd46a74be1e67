"""HTTP content codings, streamed: request bodies in, responses out.

The names are the ones ClickHouse's HTTP interface accepts in ``Content-Encoding`` and
``Accept-Encoding``: gzip, deflate (zlib stream), br, zstd, lz4 (LZ4 frame), xz, bz2.
"""

from __future__ import annotations

import bz2
import lzma
import zlib
from typing import Protocol

import brotli
import lz4.frame
import zstandard


class Decoder(Protocol):
    def decompress(self, data: bytes) -> bytes: ...


class Encoder(Protocol):
    def compress(self, data: bytes) -> bytes: ...
    def flush(self) -> bytes: ...


class UnsupportedEncoding(ValueError):
    pass


class _Identity:
    def decompress(self, data: bytes) -> bytes:
        return data

    def compress(self, data: bytes) -> bytes:
        return data

    def flush(self) -> bytes:
        return b""


class _Brotli:
    def __init__(self, quality: int = 4) -> None:
        self._decoder = brotli.Decompressor()
        self._encoder = brotli.Compressor(quality=quality)

    def decompress(self, data: bytes) -> bytes:
        # Clients may send one brotli stream per block. The decoder cannot report unused
        # input, so a new stream is expected to start at a new piece of input (clients
        # send each block as its own HTTP chunk).
        if self._decoder.is_finished():
            self._decoder = brotli.Decompressor()
        return self._decoder.process(data)

    def compress(self, data: bytes) -> bytes:
        return self._encoder.process(data)

    def flush(self) -> bytes:
        return self._encoder.finish()


class _Lz4:
    def __init__(self) -> None:
        self._decoder = lz4.frame.LZ4FrameDecompressor()
        self._encoder = lz4.frame.LZ4FrameCompressor()
        self._started = False

    def decompress(self, data: bytes) -> bytes:
        # Clients send one LZ4 frame per block: restart at each frame's end.
        out = []
        while data:
            if self._decoder.eof:
                self._decoder = lz4.frame.LZ4FrameDecompressor()
            out.append(self._decoder.decompress(data))
            data = self._decoder.unused_data if self._decoder.eof else b""
        return b"".join(out)

    def compress(self, data: bytes) -> bytes:
        head = b""
        if not self._started:
            head = self._encoder.begin()
            self._started = True
        return head + self._encoder.compress(data)

    def flush(self) -> bytes:
        head = b"" if self._started else self._encoder.begin()
        self._started = True
        return head + self._encoder.flush()


class _Zstd:
    def __init__(self, level: int = 3) -> None:
        self._decoder = zstandard.ZstdDecompressor().decompressobj()
        self._encoder = zstandard.ZstdCompressor(level=level).compressobj()

    def decompress(self, data: bytes) -> bytes:
        # Clients send one zstd frame per block: restart at each frame's end.
        out = []
        while data:
            if self._decoder.eof:
                self._decoder = zstandard.ZstdDecompressor().decompressobj()
            out.append(self._decoder.decompress(data))
            data = self._decoder.unused_data if self._decoder.eof else b""
        return b"".join(out)

    def compress(self, data: bytes) -> bytes:
        return self._encoder.compress(data)

    def flush(self) -> bytes:
        return self._encoder.flush()


class _Zlib:
    def __init__(self, wbits: int, level: int = 3) -> None:
        self._wbits = wbits
        self._decoder = zlib.decompressobj(wbits=wbits if wbits != 15 else 47)
        self._encoder = zlib.compressobj(level, zlib.DEFLATED, wbits)

    def decompress(self, data: bytes) -> bytes:
        # A gzip body may hold several members; restart at each member's end.
        out = []
        while data:
            if self._decoder.eof:
                self._decoder = zlib.decompressobj(wbits=self._wbits if self._wbits != 15 else 47)
            out.append(self._decoder.decompress(data))
            data = self._decoder.unused_data if self._decoder.eof else b""
        return b"".join(out)

    def compress(self, data: bytes) -> bytes:
        return self._encoder.compress(data)

    def flush(self) -> bytes:
        return self._encoder.flush()


class _Stdlib:
    def __init__(self, decoder: object, encoder: object) -> None:
        self._decoder = decoder
        self._encoder = encoder

    def decompress(self, data: bytes) -> bytes:
        return self._decoder.decompress(data)  # type: ignore[attr-defined]

    def compress(self, data: bytes) -> bytes:
        return self._encoder.compress(data)  # type: ignore[attr-defined]

    def flush(self) -> bytes:
        return self._encoder.flush()  # type: ignore[attr-defined]


def codec(name: str, level: int = 3) -> Decoder | Encoder:
    """A fresh streaming codec for an HTTP content-coding name."""
    key = name.strip().lower()
    if key in {"", "identity", "none"}:
        return _Identity()
    if key in {"gzip", "x-gzip"}:
        return _Zlib(wbits=31, level=level)
    if key == "deflate":
        return _Zlib(wbits=15, level=level)
    if key == "br":
        return _Brotli(quality=min(level, 11))
    if key == "zstd":
        return _Zstd(level=level)
    if key == "lz4":
        return _Lz4()
    if key in {"xz", "lzma"}:
        return _Stdlib(lzma.LZMADecompressor(), lzma.LZMACompressor())
    if key in {"bz2", "bzip2"}:
        return _Stdlib(bz2.BZ2Decompressor(), bz2.BZ2Compressor())
    raise UnsupportedEncoding(name)


RESPONSE_ENCODINGS = ("gzip", "deflate", "br", "zstd", "lz4", "xz", "bz2")


def choose_response_encoding(accept_encoding: str) -> str | None:
    """The first encoding in the client's Accept-Encoding list that we can produce."""
    for part in accept_encoding.split(","):
        name = part.split(";")[0].strip().lower()
        if name == "x-gzip":
            name = "gzip"
        if name in RESPONSE_ENCODINGS:
            return name
    return None
