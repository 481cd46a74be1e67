"""HTTP content codings of the warehouse server: streamed round trips and multi-frame bodies."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os

import brotli
import lz4.frame
import pytest
import zstandard
from content_codings import COMPRESS, DECOMPRESS

from classpulse.warehouse.codecs import (
    PIECE,
    RESPONSE_ENCODINGS,
    CorruptStream,
    TruncatedStream,
    UnsupportedEncoding,
    choose_response_encoding,
    codec,
    decode_all,
)

ALL_NAMES = [
    "",
    "identity",
    "none",
    "gzip",
    "x-gzip",
    "deflate",
    "br",
    "zstd",
    "lz4",
    "xz",
    "lzma",
    "bz2",
    "bzip2",
]

# What other programs produce for each coding (clients compress with these).
FOREIGN = {
    **COMPRESS,
    "x-gzip": gzip.compress,
    "lzma": lzma.compress,
    "bzip2": bz2.compress,
}

# ...and how they read what the server sends.
FOREIGN_DECODE = DECOMPRESS

PAYLOAD = b"".join(
    b"%d\tlesson %d\t\xe8\xaf\xbe\xe5\xa0\x82\n" % (i, i) for i in range(20000)
) + os.urandom(4096)


def pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def encode(name: str, data: bytes, piece: int = 7000) -> bytes:
    encoder = codec(name)
    return b"".join(encoder.compress(part) for part in pieces(data, piece)) + encoder.flush()


def decode(name: str, data: bytes, piece: int = 1000) -> bytes:
    return decode_all(name, pieces(data, piece))


@pytest.mark.parametrize("name", ALL_NAMES)
def test_round_trip_in_pieces(name):
    compressed = encode(name, PAYLOAD)
    if name not in ("", "identity", "none"):
        assert len(compressed) < len(PAYLOAD)
    assert decode(name, compressed) == PAYLOAD
    assert decode(name, compressed, piece=13) == PAYLOAD


@pytest.mark.parametrize("name", ALL_NAMES)
def test_empty_input(name):
    assert decode(name, encode(name, b"")) == b""


@pytest.mark.parametrize("name", sorted(FOREIGN))
def test_decodes_what_clients_send(name):
    assert decode(name, FOREIGN[name](PAYLOAD)) == PAYLOAD


@pytest.mark.parametrize("name", RESPONSE_ENCODINGS)
def test_clients_decode_what_the_server_sends(name):
    assert FOREIGN_DECODE[name](encode(name, PAYLOAD)) == PAYLOAD


@pytest.mark.parametrize(
    ("name", "compress"),
    [
        ("gzip", gzip.compress),
        ("zstd", lambda data: zstandard.ZstdCompressor().compress(data)),
        ("lz4", lz4.frame.compress),
    ],
)
@pytest.mark.parametrize("piece", [1, 17, 4096, 1 << 20])
def test_concatenated_frames_decode_as_one_body(name, compress, piece):
    # Clients compress block by block: one gzip member / zstd frame / LZ4 frame each.
    blocks = pieces(PAYLOAD, 30000)
    body = b"".join(compress(block) for block in blocks)
    assert decode(name, body, piece=piece) == PAYLOAD


def test_concatenated_brotli_streams_one_per_piece():
    blocks = pieces(PAYLOAD, 30000)
    assert decode_all("br", [brotli.compress(block) for block in blocks]) == PAYLOAD


def test_concatenated_encoder_output_of_two_server_codecs():
    first, second = encode("gzip", b"first\n"), encode("gzip", b"second\n")
    assert decode("gzip", first + second) == b"first\nsecond\n"


def test_corrupt_input_raises():
    with pytest.raises(CorruptStream):
        decode_all("gzip", [b"\x1f\x8b\x08\x00garbage-garbage-garbage"])


COMPRESSED = sorted(set(FOREIGN) - {"x-gzip", "lzma", "bzip2"})


@pytest.mark.parametrize("name", COMPRESSED)
@pytest.mark.parametrize("cut", [1, 5, 100])
def test_a_truncated_stream_is_an_error(name, cut):
    body = FOREIGN[name](PAYLOAD)
    with pytest.raises(TruncatedStream):
        decode(name, body[:-cut])


@pytest.mark.parametrize("name", COMPRESSED)
def test_trailing_garbage_is_an_error(name):
    body = FOREIGN[name](PAYLOAD)
    with pytest.raises(CorruptStream):
        decode(name, body + b"trailing garbage after the stream")
    with pytest.raises(CorruptStream):
        decode_all(name, [body, b"trailing garbage in a piece of its own"])


@pytest.mark.parametrize("name", COMPRESSED)
def test_output_comes_in_bounded_pieces(name):
    # A small body that expands a thousandfold never comes out in one piece.
    bomb = FOREIGN[name](bytes(16 * PIECE))
    assert len(bomb) < 2 * PIECE
    decoder = codec(name)
    largest = total = 0
    for piece in pieces(bomb, 1 << 16):
        for out in decoder.feed(piece):
            largest = max(largest, len(out))
            total += len(out)
    decoder.finish()
    assert total == 16 * PIECE
    assert largest <= 4 * PIECE


def test_decode_all_stops_at_its_limit():
    with pytest.raises(OverflowError):
        decode_all("gzip", [gzip.compress(bytes(10 * PIECE))], limit=PIECE)


def test_unknown_coding():
    with pytest.raises(UnsupportedEncoding):
        codec("snappy-ish")


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        ("gzip", "gzip"),
        ("gzip, deflate, br", "gzip"),
        ("br;q=1.0, gzip;q=0.8", "br"),
        ("x-gzip", "gzip"),
        ("  ZSTD  ", "zstd"),
        ("identity, lz4", "lz4"),
        ("identity", None),
        ("", None),
        ("compress, snappy", None),
    ],
)
def test_choose_response_encoding(accept, chosen):
    assert choose_response_encoding(accept) == chosen
