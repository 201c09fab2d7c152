"""schemathesis over the OpenAPI schema, as two tenants and as the operator (fixed seed).

Every operation gets generated requests (valid and not) three ways: tenant A on its own
resources, tenant A on tenant B's (every id in the path is B's), and the operator. The checks:
never a 5xx, and A never gets a 2xx for anything of B's (object-level authorization). The
trial this guards found 500s on huge offsets, years before 1 and huge clock jumps.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from smsplat.adapters.clock import SimulatedClock
from smsplat.api.app import create_app
from smsplat.commands.command_types import SendMassSend
from smsplat.commands.recipient_sources import Numbers
from smsplat.infra.bootstrap import Container

from tests.conftest import ADMIN_URL, START, _with_db, make_container, settings_for
from tests.ledger_check import assert_ledger_verifies
from tests.support import OPERATOR_TOKEN

EXAMPLES = 30  # per operation and way: about 40 operations x 3 ways x 30 = a few thousand
ID_PARAMETERS = ("account_id", "template_id", "send_id", "message_id", "purchase_id")


@dataclass
class Tenant:
    token: str
    ids: dict[str, str]


class WithoutLifespan:
    """The app, its lifespan left out: the module's fixture owns the container (starting and
    stopping it per schemathesis client would close it under the later tests)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


@dataclass
class World:
    app: WithoutLifespan
    container: Container
    a: Tenant
    b: Tenant


def _tenant(c: Container, n: int) -> Tenant:
    new = c.accounts.create_account(f"shop {n}", f"1380013800{n}", "operator")
    account = new.account_id
    c.accounts.activate_product(account, "site", "operator")
    purchase = c.quota.purchase(account, 1000, f"p-{n}-{uuid.uuid4()}", "operator")
    assert purchase.entry_id
    mass = c.templates.submit(account, {"type": "mass", "kind": "notice", "signature": "花店",
                                        "content": "会员日到店有礼。"}, "account")  # fmt: skip
    c.templates.approve(mass.id, "operator")
    send = c.bus.handle(SendMassSend(account, mass.id, Numbers(["13812340005"]), None, "site", "a"))
    return Tenant(
        new.api_key,
        {
            "account_id": str(account),
            "template_id": str(mass.id),
            "send_id": str(send.send.id),
            "message_id": f"{send.send.id}.0",
            "purchase_id": "p-unknown",
        },
    )


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """One database for the whole module (state accumulates, as in life), verified at the
    end like every test database."""
    name = f"smsplat_fuzz_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _with_db(ADMIN_URL, name)
    container = make_container(url, SimulatedClock(START))
    try:
        a, b = _tenant(container, 1), _tenant(container, 2)
        app = WithoutLifespan(create_app(container, run_projections=False))
        yield World(app, container, a, b)
        container.read_models.catch_up()
        assert_ledger_verifies(url, settings_for(url))
    finally:
        container.close()
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,  # a fixed seed: the same cases on every run
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


def _call(case: Any, token: str, ids: dict[str, str]) -> Any:
    for name in ID_PARAMETERS:
        if case.path_parameters and name in case.path_parameters:
            case.path_parameters[name] = ids[name]
    headers = dict(case.headers or {})
    headers["Authorization"] = f"Bearer {token}"
    return case.call(headers=headers)


def _fuzz(world: World, token: str, ids: dict[str, str],
          check: Callable[[Any, Any, bool], None]) -> Counter[int]:  # fmt: skip
    """Every operation, valid and invalid requests, ``EXAMPLES`` each; ``check(case, response,
    names_an_id)`` on every answer. Returns the statuses seen."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.app)
    statuses: Counter[int] = Counter()
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid schema raises here
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @FUZZ
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: Any) -> None:
                named = any(case.path_parameters and n in case.path_parameters
                            for n in ID_PARAMETERS)  # fmt: skip
                response = _call(case, token, ids)
                statuses[response.status_code] += 1
                check(case, response, named)

            with suppress(Unsatisfiable):  # nothing invalid to say to this operation
                run()
    print(f"\n{sum(statuses.values())} cases, statuses {dict(sorted(statuses.items()))}")
    return statuses


def _no_server_error(case: Any, response: Any, _: bool) -> None:
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}"
    )


def _not_another_tenants(case: Any, response: Any, names_an_id: bool) -> None:
    _no_server_error(case, response, names_an_id)
    if names_an_id:
        assert not 200 <= response.status_code < 300, (
            f"tenant A got {response.status_code} for B's {case.method} {case.formatted_path}"
        )


def test_a_tenant_on_its_own_resources_never_meets_a_5xx(world: World) -> None:
    assert sum(_fuzz(world, world.a.token, world.a.ids, _no_server_error).values()) > 1000


def test_a_tenant_never_reaches_another_tenants_resources(world: World) -> None:
    statuses = _fuzz(world, world.a.token, world.b.ids, _not_another_tenants)
    assert sum(statuses.values()) > 1000


def test_the_operator_never_meets_a_5xx(world: World) -> None:
    assert sum(_fuzz(world, OPERATOR_TOKEN, world.a.ids, _no_server_error).values()) > 1000
