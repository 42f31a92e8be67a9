"""Every HTTP client the package opens shares one TLS context: building one loads the whole CA
bundle (about 50 ms), and a client opens two HTTP clients per event loop."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
from emulated import client_for

from kling_notebook import errors
from kling_notebook.emulator import Emulator
from kling_notebook.gateway.keys import ManagementClient
from kling_notebook.gateway.tls import tls_context


async def test_clients_load_the_ca_bundle_once(emulator: Emulator, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[Any] = []
    load = ssl.SSLContext.load_verify_locations

    def counted(context: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loads.append(args or kwargs)
        load(context, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted)
    tls_context.cache_clear()
    for index in range(3):
        async with client_for(emulator, tmp_path / str(index)) as client:
            with pytest.raises(errors.NotFoundError):  # both HTTP clients of this loop open
                await client.get("no-such-generation")
        async with ManagementClient("management-key", emulator.base_url):
            pass
    assert len(loads) == 1
    assert tls_context().verify_mode is ssl.CERT_REQUIRED and tls_context().check_hostname
