"""The console as an ASGI application of its own, mounted at ``/console`` by ``api/app.py``:
its own session cookie (path ``/console``) and pages for errors, and the API's services."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import Response

from ...domain.errors import NotFound
from ..problems import ApiProblem
from ..services import ApiServices
from . import (
    accounts_list,
    ledger_page,
    navigation,
    opt_out_page,
    overview,
    record_pages,
    review_queue,
    send_pages,
    sign_in,
    statistics_page,
    template_pages,
    webhook_page,
)
from .access import CsrfRefused, SignInNeeded
from .config import ConsoleConfig
from .rendering import MOUNT, page

SESSION_COOKIE = "smsplat_console"
PAGES = (
    sign_in, navigation, overview, template_pages, send_pages, record_pages, statistics_page,
    ledger_page, opt_out_page, webhook_page, review_queue, accounts_list,
)  # fmt: skip


def console_app(services: ApiServices, config: ConsoleConfig) -> FastAPI:
    console = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    console.state.services = services
    console.state.console_config = config
    console.add_middleware(
        SessionMiddleware,
        secret_key=config.session_secret,
        session_cookie=SESSION_COOKIE,
        max_age=config.session_seconds,
        path=MOUNT,
        same_site="strict",
        https_only=config.secure_cookie,
    )
    static = StaticFiles(directory=Path(__file__).parent / "static")
    console.mount("/static", static, name="static")
    for module in PAGES:
        console.include_router(module.router)
    _install_error_pages(console)
    return console


def _install_error_pages(console: FastAPI) -> None:
    @console.exception_handler(SignInNeeded)
    async def to_sign_in(_: Request, __: SignInNeeded) -> Response:
        return RedirectResponse(f"{MOUNT}/sign-in", status_code=303)

    @console.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, _: CsrfRefused) -> Response:
        return page(request, "refused.html", status=403, reason="csrf")

    @console.exception_handler(ApiProblem)
    async def api_problem(request: Request, problem: ApiProblem) -> Response:
        reason = {404: "not_found", 403: "forbidden"}.get(problem.status, "error")
        return page(request, "refused.html", status=problem.status, reason=reason)

    @console.exception_handler(NotFound)
    async def not_found(request: Request, _: NotFound) -> Response:
        """What the page names does not exist, or is another account's (as in the API)."""
        return page(request, "refused.html", status=404, reason="not_found")

    @console.exception_handler(RequestValidationError)
    async def malformed_path(request: Request, _: RequestValidationError) -> Response:
        """A page address with a malformed part (an account id that is no UUID): no page."""
        return page(request, "refused.html", status=404, reason="not_found")

    @console.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        reason = {404: "not_found", 405: "error"}.get(error.status_code, "error")
        return page(request, "refused.html", status=error.status_code, reason=reason)
