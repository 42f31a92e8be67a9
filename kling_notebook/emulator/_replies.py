"""Reply profiles: which of the real gateway's off-schema reply shapes the emulator sends.

By default every reply follows the published schemas. The real gateway (its docs' sample outputs,
its provider package, its SDK) also sends other shapes; a profile turns them on so a client can be
tested against each. A profile is a comma-separated list (spaces ignored; ``""``: schema-exact)::

    profile  := "real" | item ("," item)*
    item     := VARIANT | "ttl=" SECONDS | "seed=" N

Variants, by the part of a reply they change (each generation draws one alternative per part):

``video_list``  ``video`` is a list of objects ``[{url, ...}]`` instead of an object.
``error_detail`` | ``error_string`` | ``error_null``  a failed generation's ``error`` is
    pydantic-style ``{detail: [{loc, msg, type, input}]}``, a plain string, or null
    (instead of ``{name, message}``).
``instant``  the create reply already says ``completed`` with its video (it waits for the clip).
``id_numeric`` | ``id_nanoid``  ids are a numeric Kling id (``789392067490349060``) or a
    21-character nanoid (``gg6lldgKC2tRmvJwBjK7-``) instead of ``<uuid>:<model path>``.
``url_query`` | ``url_signed`` | ``url_kling``  the video URL carries a query string
    (``output.mp4?cacheKey=...&x-kcdn-pid=...``); or is signed on the Kling-CDN-looking path with
    an expiry ``ttl`` seconds out (default 86400; 403 once expired or tampered with; every
    status read signs afresh); or is on the Kling-CDN-looking path unsigned. The file name is
    always the last part of the path.
``tokens_used``  ``meta.usage.tokens_used`` instead of ``credits_used`` on the universal pair.
``status_code_string``  error bodies carry ``statusCode`` as a string (``"429"``).
``old_statuses``  pending generations report ``waiting`` (queued), then ``active`` and
    ``processing`` (the first and second half of generating).

Naming several alternatives of one part draws among them per generation. ``real`` draws every
part per generation among all its alternatives, the schema's included, from the seeded RNG
(``seed=`` or the emulator's seed), so a run is repeatable.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["VARIANTS", "ReplyProfile", "ReplyShape", "Replies", "parse_replies"]

#: Each part of a reply: its schema-exact shape first, then the variants that replace it.
PARTS: dict[str, tuple[str, ...]] = {
    "video": ("video_object", "video_list"),
    "error": ("error_name_message", "error_detail", "error_string", "error_null"),
    "create": ("create_pending", "instant"),
    "id": ("id_uuid", "id_numeric", "id_nanoid"),
    "url": ("url_plain", "url_query", "url_signed", "url_kling"),
    "usage": ("credits_used", "tokens_used"),
    "status_code": ("status_code_number", "status_code_string"),
    "statuses": ("current_statuses", "old_statuses"),
}
VARIANTS: dict[str, str] = {
    variant: part for part, shapes in PARTS.items() for variant in shapes[1:]
}
DEFAULT_TTL = 86400.0  # "signed with an expiry about a day out"


@dataclass(frozen=True)
class ReplyShape:
    """The shapes one generation's replies take (drawn once, so its replies agree)."""

    video: str = "video_object"
    error: str = "error_name_message"
    create: str = "create_pending"
    id: str = "id_uuid"
    url: str = "url_plain"
    usage: str = "credits_used"
    statuses: str = "current_statuses"


@dataclass(frozen=True)
class ReplyProfile:
    """A parsed profile: the alternatives each part may take, the URL lifetime, the seed."""

    choices: dict[str, tuple[str, ...]]
    ttl: float = DEFAULT_TTL
    seed: int | None = None
    text: str = ""

    @property
    def exact(self) -> bool:
        return not self.choices


def parse_replies(profile: str) -> ReplyProfile:
    """Parse a profile (grammar in the module docstring); ValueError says what is wrong."""
    items = [item for item in profile.replace(" ", "").split(",") if item]
    names = [item for item in items if "=" not in item]
    if "real" in names and len(names) > 1:
        raise ValueError("reply profile: 'real' already mixes every variant; name no others")
    chosen: dict[str, list[str]] = {}
    settings: dict[str, float] = {}
    for item in items:
        name, equals, value = item.partition("=")
        if equals:
            if name not in ("ttl", "seed"):
                raise ValueError(f"reply profile: unknown setting {name!r} in {item!r}")
            try:
                settings[name] = float(value) if name == "ttl" else int(value)
            except ValueError:
                raise ValueError(f"reply profile: {name} must be a number, got {value!r}") from None
            if settings[name] < 0 or (name == "ttl" and not settings[name]):
                raise ValueError(f"reply profile: {name} must be positive, got {value!r}")
        elif item == "real":
            chosen.update({part: list(shapes) for part, shapes in PARTS.items()})
        elif item in VARIANTS:
            chosen.setdefault(VARIANTS[item], []).append(item)
        else:
            raise ValueError(
                f"reply profile: unknown variant {item!r}; use 'real' or {sorted(VARIANTS)}"
            )
    return ReplyProfile(
        choices={part: tuple(dict.fromkeys(shapes)) for part, shapes in chosen.items()},
        ttl=settings.get("ttl", DEFAULT_TTL),
        seed=None if "seed" not in settings else int(settings["seed"]),
        text=",".join(items),
    )


class Replies:
    """Draws each new generation's :class:`ReplyShape` and each error body's ``statusCode``."""

    def __init__(self, profile: ReplyProfile, seed: int | None) -> None:
        self.profile = profile
        self._rng = random.Random(profile.seed if profile.seed is not None else seed)

    def _draw(self, part: str) -> str:
        shapes = self.profile.choices.get(part)
        if not shapes:
            return PARTS[part][0]
        return shapes[0] if len(shapes) == 1 else self._rng.choice(shapes)

    def shape(self) -> ReplyShape:
        if self.profile.exact:
            return ReplyShape()
        return ReplyShape(**{part: self._draw(part) for part in PARTS if part != "status_code"})

    def status_code(self, status: int) -> int | str:
        """``statusCode`` of an error body: a number as the schema says, or its string."""
        if self._draw("status_code") == "status_code_string":
            return str(status)
        return status
