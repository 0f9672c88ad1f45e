"""An expert's and a consultation group member's pages: their assignments and meetings, reading a
case (each read checked and audited by consent), writing a statement. (To come.)"""
from __future__ import annotations

from flask import Flask

from . import PageContext


def register(app: Flask, ctx: PageContext) -> None:
    pass
