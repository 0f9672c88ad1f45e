"""The data-protection officer's pages: a professional's data export and erasure, the audit trail
(query, verify, export) and purge reports. (To come.)"""
from __future__ import annotations

from flask import Flask

from . import PageContext


def register(app: Flask, ctx: PageContext) -> None:
    pass
