"""HTTP content codings, streamed: request bodies in, responses out.

The names are the ones ClickHouse's HTTP interface accepts in ``Content-Encoding`` and
``Accept-Encoding``: gzip, deflate (zlib stream), br, zstd, lz4 (LZ4 frame), xz, bz2.

Decoders are strict and bounded:

- ``feed(data)`` yields the decoded bytes in pieces of at most ``PIECE`` bytes, so a
  small compressed body that expands enormously (a "zip bomb") never sits in memory
  whole: the caller counts what it receives and stops when it has had enough;
- ``finish()`` raises :class:`TruncatedStream` unless the input ended exactly at the end
  of a complete stream (every member/frame closed, nothing after it). Bytes after a
  finished stream must be another complete stream of the same coding (clients may send
  one per block), otherwise the decoder raises :class:`CorruptStream`.
"""

from __future__ import annotations

import bz2
import lzma
import zlib
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import brotli
import lz4.frame
import zstandard

# The largest piece of decoded output produced at once.
PIECE = 1 << 20
# zstd's decoder cannot bound its output; it is fed input slices small enough that one
# slice cannot expand beyond a few MiB (a zstd block of 128 KiB can be a few bytes).
_ZSTD_SLICE = 64


class Decoder(Protocol):
    def feed(self, data: bytes) -> Iterator[bytes]: ...
    def finish(self) -> None: ...


class Encoder(Protocol):
    def compress(self, data: bytes) -> bytes: ...
    def flush(self) -> bytes: ...


class UnsupportedEncoding(ValueError):
    pass


class CorruptStream(ValueError):
    """The body is not valid data of its declared coding."""


class TruncatedStream(CorruptStream):
    """The body ended before its compressed stream did."""


class _Identity:
    def feed(self, data: bytes) -> Iterator[bytes]:
        for start in range(0, len(data), PIECE):
            yield data[start : start + PIECE]

    def finish(self) -> None:
        pass

    def compress(self, data: bytes) -> bytes:
        return data

    def flush(self) -> bytes:
        return b""


class _MemberDecoder:
    """A coding whose body is one or more complete members (streams, frames) in a row.

    Subclasses make a decoder for one member (``_new``) and run one bounded step
    (``_step``: at most ``PIECE`` bytes out, returns (output, input left over)).
    """

    name = ""

    def __init__(self) -> None:
        self._decoder = self._new()
        self._fed = False  # the current member has received input

    def _new(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _step(self, data: bytes) -> tuple[bytes, bytes]:  # pragma: no cover - abstract
        raise NotImplementedError

    # encoding: subclasses set ``self._encoder``, an incremental compressor
    def compress(self, data: bytes) -> bytes:
        return self._encoder.compress(data)

    def flush(self) -> bytes:
        return self._encoder.flush()

    def _at_end(self) -> bool:
        return bool(self._decoder.eof)

    def _unused(self) -> bytes:
        return self._decoder.unused_data or b""

    def feed(self, data: bytes) -> Iterator[bytes]:
        while True:
            if self._at_end():
                rest = self._unused() + data
                if not rest:
                    return
                self._decoder = self._new()  # the next member
                self._fed = False
                data = rest
                continue
            if not data and not self._has_more_output():
                return
            try:
                out, data = self._step(data)
            except Exception as exc:
                raise CorruptStream(f"invalid {self.name} data: {exc}") from None
            self._fed = True
            if out:
                yield out

    def _has_more_output(self) -> bool:
        return False

    def finish(self) -> None:
        if self._fed and not self._at_end():
            raise TruncatedStream(
                f"the {self.name} stream ends before its end marker: the body was cut short "
                "(send the whole compressed body)"
            )


class _Zlib(_MemberDecoder):
    def __init__(self, wbits: int, level: int = 3) -> None:
        self._wbits = wbits
        self.name = "gzip" if wbits == 31 else "deflate"
        super().__init__()
        self._encoder = zlib.compressobj(level, zlib.DEFLATED, wbits)

    def _new(self):
        # deflate: a zlib stream (or gzip, auto-detected, as ClickHouse accepts both).
        return zlib.decompressobj(wbits=self._wbits if self._wbits != 15 else 47)

    def _step(self, data: bytes) -> tuple[bytes, bytes]:
        out = self._decoder.decompress(data, PIECE)
        return out, self._decoder.unconsumed_tail


class _Bounded(_MemberDecoder):
    """Decoders with ``decompress(data, max_length)`` and ``needs_input`` (lzma, bz2, lz4)."""

    def _step(self, data: bytes) -> tuple[bytes, bytes]:
        out = self._decoder.decompress(data, max_length=PIECE)
        return out, b""

    def _has_more_output(self) -> bool:
        return not self._decoder.eof and not self._decoder.needs_input


class _Library(_Bounded):
    """xz and bz2: the standard library's incremental compressor and decompressor."""

    def __init__(
        self, name: str, compressor: Callable[[], Any], decompressor: Callable[[], Any]
    ) -> None:
        self.name = name
        self._decompressor = decompressor
        super().__init__()
        self._encoder = compressor()

    def _new(self):
        return self._decompressor()


class _Lz4(_Bounded):
    name = "lz4"

    def __init__(self) -> None:
        super().__init__()
        self._encoder = lz4.frame.LZ4FrameCompressor()
        self._started = False

    def _new(self):
        return lz4.frame.LZ4FrameDecompressor()

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


class _Zstd(_MemberDecoder):
    name = "zstd"

    def __init__(self, level: int = 3) -> None:
        super().__init__()
        self._encoder = zstandard.ZstdCompressor(level=level).compressobj()

    def _new(self):
        return zstandard.ZstdDecompressor().decompressobj()

    def _step(self, data: bytes) -> tuple[bytes, bytes]:
        return self._decoder.decompress(data[:_ZSTD_SLICE]), data[_ZSTD_SLICE:]

    def feed(self, data: bytes) -> Iterator[bytes]:
        for out in super().feed(data):
            for start in range(0, len(out), PIECE):
                yield out[start : start + PIECE]


class _Brotli:
    """Brotli: one stream, or one stream per HTTP chunk (the decoder cannot tell where a
    stream ended inside a piece of input, so a new one must start with a new piece)."""

    name = "br"

    def __init__(self, quality: int = 4) -> None:
        self._decoder = brotli.Decompressor()
        self._fed = False
        self._encoder = brotli.Compressor(quality=quality)

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not data:
            return
        if self._decoder.is_finished():
            self._decoder = brotli.Decompressor()
            self._fed = False
        try:
            out = self._decoder.process(data, output_buffer_limit=PIECE)
            self._fed = True
            if out:
                yield out
            # The limit bounds each call's output; what is left comes from calls
            # without input.
            while not self._decoder.is_finished():
                out = self._decoder.process(b"", output_buffer_limit=PIECE)
                if not out:
                    break
                yield out
        except brotli.error as exc:
            raise CorruptStream(f"invalid br data: {exc}") from None

    def finish(self) -> None:
        if self._fed and not self._decoder.is_finished():
            raise TruncatedStream(
                "the br stream ends before its end marker: the body was cut short "
                "(send the whole compressed body)"
            )

    def compress(self, data: bytes) -> bytes:
        return self._encoder.process(data)

    def flush(self) -> bytes:
        return self._encoder.finish()


def codec(name: str, level: int = 3):
    """A fresh streaming codec (decoder and encoder) for an HTTP content-coding name."""
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
        return _Library("xz", lzma.LZMACompressor, lzma.LZMADecompressor)
    if key in {"bz2", "bzip2"}:
        return _Library("bz2", bz2.BZ2Compressor, bz2.BZ2Decompressor)
    raise UnsupportedEncoding(name)


def decode_all(name: str, pieces: list[bytes], limit: int | None = None) -> bytes:
    """Decode a whole body given as pieces (as they came off the wire); strict.

    Raises :class:`CorruptStream` / :class:`TruncatedStream`, and ``OverflowError`` once
    more than ``limit`` decoded bytes were produced.
    """
    decoder = codec(name)
    out: list[bytes] = []
    size = 0
    for piece in pieces:
        for data in decoder.feed(piece):
            size += len(data)
            if limit is not None and size > limit:
                raise OverflowError(f"more than {limit} decoded bytes")
            out.append(data)
    decoder.finish()
    return b"".join(out)


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
