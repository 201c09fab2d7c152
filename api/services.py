"""What the routes depend on, each as a narrow, typed FastAPI dependency.

The dependencies only pick a service off the application, so they are ``async``: FastAPI
runs a plain ``def`` dependency in its thread pool, a hop each that a busy route would pay
several times per request.

``create_app`` puts one ``ApiServices`` on the application; a route names only what it uses
(``bus: Bus``, ``sends: SendViews``), never the container. Reads go to the read models'
queries; writes go through the command bus.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from ..commands.accounts import AccountsApp
from ..commands.bus import CommandBus
from ..commands.quota import QuotaApp
from ..commands.recipient_sources import RecipientSheets
from ..commands.simulation import SimulatedTime
from ..commands.templates import TemplatesApp
from ..commands.webhooks import WebhooksApp
from ..infra.bootstrap import Container
from ..infra.health import HealthCheck
from ..projections.account_directory import AccountDirectory
from ..projections.alerts import AlertQueries
from ..projections.audience import AudienceQueries
from ..projections.message_records import MessageRecords
from ..projections.message_statistics import MessageStatistics
from ..projections.quota_ledger import QuotaLedgerQueries
from ..projections.send_queries import SendQueries
from ..projections.templates import TemplateQueries
from ..projections.webhook_deliveries import DeliveryQueries


@dataclass(frozen=True)
class Tokens:
    operator: str
    carrier: str | None


@dataclass(frozen=True)
class ApiServices:
    bus: CommandBus
    tokens: Tokens
    accounts: AccountsApp  # reads of one account (final, from the event store)
    templates: TemplatesApp  # reads of one template
    quota: QuotaApp  # reads of one send
    sends: SendQueries
    ledger: QuotaLedgerQueries
    alerts: AlertQueries
    template_views: TemplateQueries
    audience_views: AudienceQueries
    sheets: RecipientSheets
    health: HealthCheck
    simulation: SimulatedTime | None  # only with SMS_SIMULATION=1
    webhooks: WebhooksApp  # reads of endpoints
    deliveries: DeliveryQueries  # reads of the delivery log
    records: MessageRecords  # an account's messages, filtered, in keyset order
    statistics: MessageStatistics
    directory: AccountDirectory  # the operator's list of accounts

    @classmethod
    def of(cls, c: Container) -> ApiServices:
        simulation = SimulatedTime(c.stepper.clock, c.stepper) if c.stepper else None
        return cls(
            bus=c.bus,
            tokens=Tokens(c.operator_token, c.carrier_token),
            accounts=c.accounts,
            templates=c.templates,
            quota=c.quota,
            sends=c.send_views,
            ledger=c.ledger,
            alerts=c.alerts,
            template_views=c.template_views,
            audience_views=c.audience_views,
            sheets=c.sheets,
            health=c.health,
            simulation=simulation,
            webhooks=c.webhooks,
            deliveries=c.webhook_deliveries,
            records=MessageRecords(c.db),
            statistics=MessageStatistics(c.db),
            directory=AccountDirectory(c.db),
        )


def _of(request: Request) -> ApiServices:
    found: ApiServices = request.app.state.services
    return found


async def services(request: Request) -> ApiServices:
    return _of(request)


async def _bus(request: Request) -> CommandBus:
    return _of(request).bus


async def _accounts(request: Request) -> AccountsApp:
    return _of(request).accounts


async def _templates(request: Request) -> TemplatesApp:
    return _of(request).templates


async def _quota(request: Request) -> QuotaApp:
    return _of(request).quota


async def _sends(request: Request) -> SendQueries:
    return _of(request).sends


async def _ledger(request: Request) -> QuotaLedgerQueries:
    return _of(request).ledger


async def _alerts(request: Request) -> AlertQueries:
    return _of(request).alerts


async def _template_views(request: Request) -> TemplateQueries:
    return _of(request).template_views


async def _audience_views(request: Request) -> AudienceQueries:
    return _of(request).audience_views


async def _sheets(request: Request) -> RecipientSheets:
    return _of(request).sheets


async def _health(request: Request) -> HealthCheck:
    return _of(request).health


async def _simulation(request: Request) -> SimulatedTime | None:
    return _of(request).simulation


async def _webhooks(request: Request) -> WebhooksApp:
    return _of(request).webhooks


async def _deliveries(request: Request) -> DeliveryQueries:
    return _of(request).deliveries


async def _records(request: Request) -> MessageRecords:
    return _of(request).records


async def _statistics(request: Request) -> MessageStatistics:
    return _of(request).statistics


async def _directory(request: Request) -> AccountDirectory:
    return _of(request).directory


Bus = Annotated[CommandBus, Depends(_bus)]
Accounts = Annotated[AccountsApp, Depends(_accounts)]
Templates = Annotated[TemplatesApp, Depends(_templates)]
Quota = Annotated[QuotaApp, Depends(_quota)]
SendViews = Annotated[SendQueries, Depends(_sends)]
Ledger = Annotated[QuotaLedgerQueries, Depends(_ledger)]
Alerts = Annotated[AlertQueries, Depends(_alerts)]
TemplateViews = Annotated[TemplateQueries, Depends(_template_views)]
AudienceViews = Annotated[AudienceQueries, Depends(_audience_views)]
Sheets = Annotated[RecipientSheets, Depends(_sheets)]
Health = Annotated[HealthCheck, Depends(_health)]
Simulation = Annotated[SimulatedTime | None, Depends(_simulation)]
Webhooks = Annotated[WebhooksApp, Depends(_webhooks)]
WebhookDeliveries = Annotated[DeliveryQueries, Depends(_deliveries)]
RecordViews = Annotated[MessageRecords, Depends(_records)]
StatisticsViews = Annotated[MessageStatistics, Depends(_statistics)]
Directory = Annotated[AccountDirectory, Depends(_directory)]
