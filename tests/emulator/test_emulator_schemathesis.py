"""Schemathesis, a tool nobody here wrote, against the emulator with both published schemas.

For every operation of the universal and the legacy endpoint pair, Schemathesis draws requests
from the schema (valid ones, and ones that break it) and the emulator must answer each: never with
a server error, never with a response that breaks the schema (status, content type, body), and
never by refusing a schema-valid request unless a rule of Kling's or the gateway's that the
published material documents says so (:data:`DOCUMENTED_REFUSALS`, each with its source).

Bounded: a fixed number of examples per operation (a quarter of them under ``--quick``),
no example database, and requests only to loopback: every http(s) image URL Schemathesis draws is
pointed at a local image host first (the emulator fetches the first frame; see :func:`aimed`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import schemathesis
from emulated import EMULATOR_DEFAULTS
from hypothesis import HealthCheck, settings
from loopback import loopback_server
from owned import image, schema
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
)
from schemathesis.core.failures import FailureGroup
from thorough import examples

from kling_notebook.emulator import Emulator

pytestmark = pytest.mark.slow
KEY = "sk-schemathesis-0123456789"
UNIVERSAL = schemathesis.openapi.from_dict(schema("universal-endpoint.openapi.json"))
LEGACY = schemathesis.openapi.from_dict(schema("legacy-kling-endpoint.openapi.json"))
EXAMPLES = examples(120)  # per operation
BOUNDED = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance,
          response_headers_conformance]

#: Why a schema-valid request may still be refused, by the field a 400's issue names (or the
#: status alone): each a documented rule of Kling (its API reference) or of the gateway (its docs,
#: the schema's own descriptions), as FACTS records them. Nothing else may refuse a valid body.
DOCUMENTED_REFUSALS: dict[str, str] = {
    # The schema's description of both image fields: "a direct link to an online image or a
    # Base64-encoded local image"; the universal schema's format: uri takes data URIs.
    "image_url": "an http(s) URL of an image, or an image as base64 / a data:image URI",
    "static_mask": "the mask is an image URL (its description), like image_url",
    # Kling: with type simple exactly one config value is non-zero; other types take no config.
    "camera_control.config": "Kling's camera rules (simple: one axis; presets: no config)",
    # Kling: masks, camera control and an end frame cannot be combined.
    "camera_control": "Kling: masks and camera control cannot be combined",
    "dynamic_masks": "Kling: masks and camera control cannot be combined",
    "masks": "Kling: masks and camera control cannot be combined",
    # Kling: prompt and negative_prompt at most 2500 characters each.
    "prompt": "Kling: at most 2500 characters",
    "negative_prompt": "Kling: at most 2500 characters",
    # The description lists the values: auto, kling (alias klingai), fal; case-insensitive.
    "provider": "one of auto, kling, klingai, fal (its description)",
}
#: A status read of an id that was never created: the gateway documents 404 (400 naming the
#: parameter for an empty one).
UNKNOWN_ID = 404


@pytest.fixture(scope="module")
def frame_url() -> Iterator[str]:
    """A loopback image host: the first frame every drawn http(s) image URL is pointed at."""
    jpeg = image("mushroom.jpg")
    with loopback_server(lambda _request: (200, {"Content-Type": "image/jpeg"}, jpeg)) as base:
        yield f"{base}/frame.jpg"


@pytest.fixture(scope="module")
def gateway(frame_url: str) -> Iterator[Emulator]:
    """The emulator under test, holding two finished generations from the start, so status reads
    can ask for ids that exist whichever operation runs first."""
    with Emulator(**{**EMULATOR_DEFAULTS, "api_key": KEY}) as emulator:
        for path in ("/v2/video/generations", "/v2/generate/video/kling/generation"):
            body = {"model": "klingai/v2.1-master-image-to-video", "image_url": frame_url}
            httpx.post(emulator.base_url + path, json=body,
                       headers={"Authorization": f"Bearer {KEY}"}).raise_for_status()
        emulator.complete_all_now()
        yield emulator


def _even(value: Any) -> bool:
    """A stable coin for ``value``: half of the drawn requests go one way, half the other."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).digest()[0] % 2 == 0


def aimed(case: schemathesis.Case, gateway: Emulator, frame_url: str) -> None:
    """Point ``case`` at things that exist here: an http(s) image URL on another host at the local
    image host (nothing leaves the machine); half of the bodies take that image whatever was
    drawn (the other half keep theirs, so the image rule is tested too), so their other fields
    reach the rules after it; half of the status reads ask for a generation that exists, so its
    real answers are checked against the schema too."""
    body = case.body
    if isinstance(body, dict) and "image_url" in body:
        drawn = body["image_url"]
        parts = urlsplit(drawn) if isinstance(drawn, str) else None
        elsewhere = parts is not None and parts.scheme.lower() in ("http", "https") and parts.hostname != "127.0.0.1"
        if elsewhere or _even(body):
            case.body = {**body, "image_url": frame_url}
    created = list(gateway.generations())
    if case.method == "GET" and created and isinstance(case.query, dict) and _even(case.query):
        case.query = {**case.query, "generation_id": created[len(created) // 2]}


def refusal_fields(response: Any) -> list[str]:
    """The fields a 400 "Body validation error" names."""
    try:
        details = response.json().get("errors") or []
    except ValueError:
        return []
    return [str(issue.get("path", "")) for issue in details if isinstance(issue, dict)]


def exercise(case: schemathesis.Case, gateway: Emulator, frame_url: str) -> None:
    aimed(case, gateway, frame_url)
    response = case.call(base_url=gateway.base_url, headers={"Authorization": f"Bearer {KEY}"},
                         timeout=30)
    case.validate_response(response, checks=CHECKS)
    positive = case.meta is None or case.meta.generation.mode == GenerationMode.POSITIVE
    if not positive or response.status_code < 400:
        return
    if case.method == "GET":  # no generation has a drawn id; the empty one is not even an id
        named = response.status_code == 400 and refusal_fields(response) == ["generation_id"]
        assert response.status_code == UNKNOWN_ID or named, response.text
        return
    assert response.status_code == 400, f"a schema-valid body refused: {response.text[:500]}"
    fields = refusal_fields(response)
    undocumented = [f for f in fields if f not in DOCUMENTED_REFUSALS]
    assert fields and not undocumented, f"refused for no documented rule: {response.text[:800]}"


@UNIVERSAL.parametrize()
@BOUNDED
def test_universal_endpoint(case: schemathesis.Case, gateway: Emulator, frame_url: str) -> None:
    exercise(case, gateway, frame_url)


@LEGACY.parametrize()
@BOUNDED
def test_legacy_endpoint(case: schemathesis.Case, gateway: Emulator, frame_url: str) -> None:
    exercise(case, gateway, frame_url)


def test_the_allowlist_names_only_rules_the_emulator_applies() -> None:
    """Every documented refusal is one the emulator can give: a body breaking that rule alone
    is refused naming that field (so the list cannot hide a field it never checks)."""
    from kling_notebook.emulator._validation import BodyInvalid, validate

    base = {"model": "klingai/v2.1-master-image-to-video", "image_url": "https://cdn.test/a.jpg"}
    breaking: dict[str, dict[str, Any]] = {
        "image_url": {"image_url": "not an image"},
        "static_mask": {"static_mask": "urn:x"},
        "camera_control.config": {"camera_control": {"type": "simple", "config": {}}},
        "camera_control": {"camera_control": {"type": "down_back"},
                           "dynamic_masks": [{"mask": "m", "trajectories": [{"x": 1, "y": 1}] * 2}]},
        "prompt": {"prompt": "x" * 2501},
        "negative_prompt": {"negative_prompt": "x" * 2501},
        "provider": {"provider": "elsewhere"},
    }
    for field, change in breaking.items():
        with pytest.raises(BodyInvalid) as refused:
            validate({**base, **change}, "universal")
        assert field in [issue.path for issue in refused.value.issues], (field, refused.value)


def test_the_checks_fail_a_response_that_breaks_the_schema() -> None:
    """The run would prove nothing with checks that pass anything."""
    operation = UNIVERSAL["/v2/video/generations"]["POST"]
    case = operation.Case(body={"model": "klingai/v2.1-master-image-to-video", "image_url": "https://a.test/x.jpg"})
    request = httpx.Request("POST", "http://127.0.0.1/v2/video/generations", json=case.body)
    broken = httpx.Response(200, json={"id": 5, "status": "nope"}, request=request)
    broken.read()
    broken.elapsed = timedelta(milliseconds=1)
    with pytest.raises(FailureGroup, match="Response violates schema"):
        case.validate_response(broken, checks=CHECKS)


def test_a_schema_valid_body_is_accepted_and_its_answers_conform(gateway: Emulator, frame_url: str) -> None:
    """One valid body end to end: accepted, and the create and status answers pass the checks."""
    create = UNIVERSAL["/v2/video/generations"]["POST"].Case(
        body={"model": "klingai/v2.1-master-image-to-video", "image_url": frame_url, "duration": 5}
    )
    auth = {"Authorization": f"Bearer {KEY}"}
    created = create.call(base_url=gateway.base_url, headers=auth)
    create.validate_response(created, checks=CHECKS)
    assert created.status_code == 200
    gateway.complete_all_now()
    read = UNIVERSAL["/v2/video/generations"]["GET"].Case(query={"generation_id": created.json()["id"]})
    answer = read.call(base_url=gateway.base_url, headers=auth)
    read.validate_response(answer, checks=CHECKS)
    assert answer.json()["status"] == "completed"
