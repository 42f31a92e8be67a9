"""Render the emulator's stand-in for a Kling clip: the input image, slowly moving, as a real MP4.

The clip has what clients can check on a real result (H.264, yuv420p, 24 fps, exactly 5 or 10 s,
the input's aspect), at a modest size so it renders in about a second. The motion follows
``camera_control``: zoom zooms (positive in), horizontal/pan pans (positive to the right),
vertical/tilt pans vertically (positive up), roll turns (positive clockwise); the four preset
types combine a zoom with a move; without a camera the view zooms gently in. With an end frame
(``tail_image_url`` / ``last_image_url``) the last second crossfades into that image, so the clip
really ends on it; with ``generate_audio`` the clip carries a quiet AAC tone.

av, pillow and numpy (the ``demo`` extra) are imported only when a clip is rendered, so the
emulator serves without them and says in the generation's error what to install.
"""

from __future__ import annotations

import importlib
import io
import math
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ._source import MAX_IMAGE_BYTES, ImageRejected
from ._validation import CameraControl

if TYPE_CHECKING:
    import av
    import numpy as np
    from PIL import Image

__all__ = [
    "FPS",
    "INSTALL_DEMO",
    "Motion",
    "RenderUnavailable",
    "missing_demo_module",
    "motion_for",
    "output_size",
    "render_clip",
]

FPS = 24
#: What to run when rendering is unavailable.
INSTALL_DEMO = "pip install 'kling_notebook[demo]'"
MIN_SIDE = 300  # Kling's limits for the input image
MAX_ASPECT = 2.5
ACCEPTED_FORMATS = ("JPEG", "PNG")
ROLL_DEGREES = 10.0  # a full-strength (10) roll turns this far over the clip
AUDIO_RATE = 48000
AUDIO_FRAME = 1024  # samples per AAC frame
TONE_HZ = 440.0
PAN_ZOOM = 1.25  # a pan needs room to move: the view is this much narrower than the image


class RenderUnavailable(Exception):
    """No clip can be rendered here: the rendering dependencies are missing, or the interpreter
    is exiting and starts no more render threads."""


@dataclass(frozen=True)
class Motion:
    """The view over a clip: zoom at start and end (1 = whole image), the view centre at start
    and end in units of the room there is to move (-1..1, +x right, +y down), and the roll in
    degrees reached at the end."""

    zoom: tuple[float, float] = (1.0, 1.15)
    start: tuple[float, float] = (0.0, 0.0)
    end: tuple[float, float] = (0.0, 0.0)
    roll: float = 0.0


_PRESETS = {
    "down_back": Motion(zoom=(1.35, 1.1), start=(0.0, -0.9), end=(0.0, 0.9)),
    "forward_up": Motion(zoom=(1.05, 1.35), start=(0.0, 0.6), end=(0.0, -0.9)),
    "right_turn_forward": Motion(zoom=(1.05, 1.35), end=(0.9, 0.0)),
    "left_turn_forward": Motion(zoom=(1.05, 1.35), end=(-0.9, 0.0)),
}


def motion_for(camera: CameraControl | None) -> Motion:
    """The view's motion for a validated ``camera_control`` (None: a gentle zoom-in)."""
    if camera is None:
        return Motion()
    if camera.type != "simple":
        return _PRESETS[camera.type]
    axis, value = camera.axes[0]
    strength = value / 10
    if axis == "zoom":
        far = 1 + 0.3 * abs(strength)
        return Motion(zoom=(1.0, far) if strength > 0 else (far, 1.0))
    if axis in ("horizontal", "pan"):
        return Motion(zoom=(PAN_ZOOM, PAN_ZOOM), start=(-strength, 0.0), end=(strength, 0.0))
    if axis in ("vertical", "tilt"):
        return Motion(zoom=(PAN_ZOOM, PAN_ZOOM), start=(0.0, strength), end=(0.0, -strength))
    return Motion(zoom=(1.0, 1.0), roll=ROLL_DEGREES * strength)


def output_size(image_size: tuple[int, int], width: int) -> tuple[int, int]:
    """``width`` x the height keeping the input's aspect, both even (yuv420p needs it)."""
    image_width, image_height = image_size
    return width, max(2, round(width * image_height / image_width / 2) * 2)


def _cover(degrees: float, aspect: float) -> float:
    """The least zoom at which a view turned by ``degrees`` shows no corner outside the image."""
    angle = math.radians(abs(degrees))
    return math.cos(angle) + max(aspect, 1 / aspect) * math.sin(angle)


@dataclass(frozen=True)
class _View:
    zoom: float
    centre: tuple[float, float]  # fractions of the image
    roll: float


def _view(motion: Motion, t: float, aspect: float) -> _View:
    eased = t * t * (3 - 2 * t)
    roll = motion.roll * eased
    zoom = motion.zoom[0] + (motion.zoom[1] - motion.zoom[0]) * eased
    zoom = max(zoom, _cover(roll, aspect))
    room = (1 - 1 / zoom) / 2
    x, y = (a + (b - a) * eased for a, b in zip(motion.start, motion.end, strict=True))
    return _View(zoom, (0.5 + x * room, 0.5 + y * room), roll)


def _load(image: bytes, max_bytes: int = MAX_IMAGE_BYTES) -> Image.Image:
    """Decode the input and apply Kling's limits to it; :class:`ImageRejected` if it fails."""
    from PIL import Image, ImageOps

    if len(image) > max_bytes:
        raise ImageRejected(f"the image is larger than {max_bytes} bytes")
    try:
        decoded = Image.open(io.BytesIO(image))
        decoded.load()
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise ImageRejected(f"the image cannot be decoded: {error}") from None
    if decoded.format not in ACCEPTED_FORMATS:
        raise ImageRejected(f"the image must be JPEG or PNG, not {decoded.format}")
    picture = ImageOps.exif_transpose(decoded).convert("RGB")
    width, height = picture.size
    if min(width, height) < MIN_SIDE:
        raise ImageRejected(f"the image is {width}x{height}; both sides must be >= {MIN_SIDE} px")
    if not 1 / MAX_ASPECT <= width / height <= MAX_ASPECT:
        raise ImageRejected(f"the image's aspect {width}x{height} is outside 1:2.5..2.5:1")
    return picture


def _frames(
    picture: Image.Image, motion: Motion, size: tuple[int, int], count: int
) -> Iterator[av.VideoFrame]:
    """Each frame as yuv420p: a crop scaled by libswscale, or an affine warp when rolling."""
    import av
    import numpy as np
    from PIL import Image

    width, height = size
    aspect = height / width
    views = [_view(motion, i / (count - 1), aspect) for i in range(count)]
    largest = max(view.zoom for view in views)
    work = picture.resize(
        (math.ceil(width * largest), math.ceil(height * largest)), Image.Resampling.LANCZOS
    )
    pixels = np.asarray(work)
    for view in views:
        crop_width, crop_height = work.width / view.zoom, work.height / view.zoom
        centre_x, centre_y = view.centre[0] * work.width, view.centre[1] * work.height
        if view.roll:
            scale = crop_width / width
            cos = scale * math.cos(math.radians(view.roll))
            sin = scale * math.sin(math.radians(view.roll))
            coefficients = (
                *(cos, -sin, centre_x - cos * width / 2 + sin * height / 2),
                *(sin, cos, centre_y - sin * width / 2 - cos * height / 2),
            )
            warped = work.transform(
                size, Image.Transform.AFFINE, coefficients, Image.Resampling.BILINEAR
            )
            frame = av.VideoFrame.from_ndarray(np.asarray(warped), format="rgb24")
            yield frame.reformat(format="yuv420p")
            continue
        left = min(max(round(centre_x - crop_width / 2), 0), work.width - round(crop_width))
        top = min(max(round(centre_y - crop_height / 2), 0), work.height - round(crop_height))
        crop = pixels[top : top + round(crop_height), left : left + round(crop_width)]
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(crop), format="rgb24")
        yield frame.reformat(width, height, "yuv420p", interpolation="BILINEAR")


def _captioner(text: str, size: tuple[int, int]) -> Callable[[av.VideoFrame], av.VideoFrame]:
    """Burns ``text`` into the luma plane, bottom right, on a darkened box (in place, cheap)."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    width, height = size
    font_size = max(10, height // 24)
    font = ImageFont.load_default(size=font_size)
    pad = font_size // 3
    left, top, right, bottom = (int(edge) for edge in font.getbbox(text))
    mask = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad))
    ImageDraw.Draw(mask).text((pad - left, pad - top), text, fill=255, font=font)
    y0, x0 = max(height - mask.height - pad, 0), max(width - mask.width - pad, 0)
    alpha = np.asarray(mask, dtype=np.float32)[: height - y0, : width - x0] / 255
    box = 0.45  # how much the box behind the text darkens the picture
    scale = (1 - box) * (1 - alpha)
    offset = 16 * box * (1 - alpha) + 235 * alpha  # video-range black and white
    rows, columns = alpha.shape

    def burn(frame: av.VideoFrame) -> av.VideoFrame:
        plane = frame.planes[0]
        luma = np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)
        region = luma[y0 : y0 + rows, x0 : x0 + columns]
        region[:] = region * scale + offset
        return frame

    return burn


def _crossfade(
    frames: Iterator[av.VideoFrame], end: Image.Image, count: int
) -> Iterator[av.VideoFrame]:
    """Blend the last second (at most a third of the clip) into ``end``, reached on the last
    frame."""
    import av
    import numpy as np

    fade = max(1, min(FPS, count // 3))
    target = np.asarray(end, dtype=np.float32)
    for index, frame in enumerate(frames):
        step = index - (count - fade) + 1
        if step <= 0:
            yield frame
            continue
        t = step / fade
        weight = t * t * (3 - 2 * t)
        pixels = frame.to_ndarray(format="rgb24").astype(np.float32)
        blended = (pixels * (1 - weight) + target * weight).round().astype(np.uint8)
        yield av.VideoFrame.from_ndarray(blended, format="rgb24").reformat(format="yuv420p")


def _tone(seconds: int) -> Iterator[tuple[int, np.ndarray]]:
    """(first sample, stereo float samples) of a quiet tone that fades in and out."""
    import numpy as np

    total = seconds * AUDIO_RATE
    for start in range(0, total, AUDIO_FRAME):
        index = np.arange(start, min(start + AUDIO_FRAME, total))
        envelope = np.minimum(1.0, np.minimum(index, total - index) / (AUDIO_RATE / 4))
        wave = (0.1 * envelope * np.sin(2 * np.pi * TONE_HZ * index / AUDIO_RATE)).astype(
            np.float32
        )
        yield start, np.stack([wave, wave])


def _encode(frames: Iterator[av.VideoFrame], size: tuple[int, int], audio_seconds: int) -> bytes:
    """H.264 in MP4 with the index up front (``faststart``), so players can start from a Range;
    ``audio_seconds`` of AAC interleaved with it (none when 0)."""
    import av

    with tempfile.TemporaryDirectory(prefix="kling-emulator-") as folder:
        path = Path(folder) / "output.mp4"
        with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as output:
            stream = output.add_stream("libx264", rate=FPS)
            stream.width, stream.height = size
            stream.pix_fmt = "yuv420p"
            stream.options = {"preset": "superfast", "crf": "26"}
            sound = (
                output.add_stream("aac", rate=AUDIO_RATE, layout="stereo")
                if audio_seconds
                else None
            )
            samples = iter(_tone(audio_seconds))
            pending = next(samples, None)
            for index, frame in enumerate(frames):
                frame.pts = index
                output.mux(stream.encode(frame))
                while sound is not None and pending is not None:  # audio up to this frame's end
                    start, wave = pending
                    if start * FPS >= (index + 1) * AUDIO_RATE:
                        break
                    chunk = av.AudioFrame.from_ndarray(wave, format="fltp", layout="stereo")
                    chunk.sample_rate, chunk.pts = AUDIO_RATE, start
                    output.mux(sound.encode(chunk))
                    pending = next(samples, None)
            output.mux(stream.encode(None))
            if sound is not None:
                output.mux(sound.encode(None))
        return path.read_bytes()


def missing_demo_module() -> str | None:
    """The first module of the ``demo`` extra that cannot be imported, or None when all can.
    Checked up front where demo mode starts, so a missing extra is not reported minutes later as
    a failed generation."""
    for name in ("av", "numpy", "PIL"):
        try:
            importlib.import_module(name)
        except ImportError:
            return name
    return None


def render_clip(
    image: bytes,
    duration: int,
    camera: CameraControl | None,
    width: int,
    caption: str | None,
    *,
    end_image: bytes | None = None,
    audio: bool = False,
    max_image_bytes: int = MAX_IMAGE_BYTES,
) -> bytes:
    """The MP4 bytes of a ``duration``-second clip made from ``image`` (ending on ``end_image``
    when given, with a tone when ``audio``); runs in a worker thread.

    Raises :class:`ImageRejected` for an unusable image and :class:`RenderUnavailable` when the
    ``demo`` extra is not installed.
    """
    from PIL import ImageOps

    missing = missing_demo_module()
    if missing:
        raise RenderUnavailable(
            f"the emulator cannot render videos without the {missing!r} module: {INSTALL_DEMO}"
        )
    picture = _load(image, max_image_bytes)
    size = output_size(picture.size, width)
    count = duration * FPS
    frames = _frames(picture, motion_for(camera), size, count)
    if end_image is not None:
        try:
            last = _load(end_image, max_image_bytes)
        except ImageRejected as error:
            raise ImageRejected(f"the end frame's image: {error}") from None
        frames = _crossfade(frames, ImageOps.fit(last, size), count)
    if caption:
        frames = map(_captioner(caption, size), frames)
    return _encode(frames, size, duration if audio else 0)
