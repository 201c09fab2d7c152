"""Products: the account's other offerings that draw on its one quota pool (Q3, Q4)."""

from __future__ import annotations

from enum import StrEnum


class Product(StrEnum):
    SITE = "site"
    MALL = "mall"
    LITE = "lite"
    EDU = "edu"
    INTERACTIVE = "interactive"
    FLYER = "flyer"
    MINIAPP = "miniapp"
