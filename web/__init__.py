"""The bot's public web server: calendar feeds, a JSON API and pages of the club's programme,
groups and panorama; read-only, serving nothing personal (``web.public`` is what it may read).

``bot/`` starts and stops it (``web.server.WebServer``); each module of routes (``web.feeds``,
``web.api``) exposes ``ROUTES``, composed in ``web.server.ROUTES``. No nio, no SQLAlchemy here.
"""
