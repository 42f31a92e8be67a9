"""The CDN's misbehaviour: how a ``download`` fault turns a proper video response into a bad one.

Each kind is described in the fault spec (``_faults``). Those that break HTTP's framing (a body
without Content-Length, more bytes than announced, silence, a trickle) write the response
themselves through ``Response.raw``; the others are ordinary responses with something wrong.
"""

from __future__ import annotations

import asyncio

from ._http import RawSender, Response, head_bytes

__all__ = ["EXTRA_BYTES", "misbehave"]

EXTRA_BYTES = 4096  # what ``long_body`` sends beyond the announced length


def _head(response: Response, length: int | None) -> bytes:
    headers = dict(response.headers)
    if length is not None:
        headers["Content-Length"] = str(length)
    return head_bytes(response.status, headers)


def _no_length(response: Response) -> RawSender:
    async def send(writer: asyncio.StreamWriter) -> None:
        body = response.body[: len(response.body) // 2]
        writer.write(_head(response, None) + body)

    return send


def _long_body(response: Response) -> RawSender:
    async def send(writer: asyncio.StreamWriter) -> None:
        body = response.body + b"\0" * EXTRA_BYTES
        writer.write(_head(response, len(response.body)) + body)

    return send


def _stall(response: Response) -> RawSender:
    async def send(writer: asyncio.StreamWriter) -> None:
        writer.write(_head(response, len(response.body)))
        await writer.drain()
        await asyncio.Event().wait()  # until the client leaves or the emulator stops

    return send


def _trickle(response: Response, byte_delay: float) -> RawSender:
    async def send(writer: asyncio.StreamWriter) -> None:
        writer.write(_head(response, len(response.body)))
        for index in range(len(response.body)):
            await writer.drain()
            await asyncio.sleep(byte_delay)
            writer.write(response.body[index : index + 1])

    return send


def misbehave(kind: str, response: Response, byte_delay: float) -> Response:
    """``response`` (a 200 or 206 of the video) as the fault ``kind`` spoils it."""
    if kind == "short_length":
        response.body = response.body[: len(response.body) * 3 // 4]
    elif kind in ("reset_once", "changed"):
        response.cut_after = len(response.body) // 2
    elif kind == "no_length":
        response.headers["Connection"] = "close"
        response.raw = _no_length(response)
    elif kind == "long_body":
        response.raw = _long_body(response)
    elif kind == "stall":
        response.raw = _stall(response)
    elif kind == "trickle":
        response.raw = _trickle(response, byte_delay)
    return response
