"""The JSON API (documented in docs/web.md): the programme, the groups and the panorama, the
same content as the public pages."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

routes = web.RouteTableDef()

ROUTES: Sequence[web.RouteDef] = tuple(r for r in routes if isinstance(r, web.RouteDef))
