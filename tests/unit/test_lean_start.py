"""What the bot loads to start: the report's writers (matplotlib, odfpy) and the web server
(aiohttp's server, the page templates) only when they are used, so the bot of a club without
[web] and between two reports stays small (bench.club_scale: RSS ≤ 150 MB)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("matplotlib", "odf", "jinja2", "web.server", "web.pages")


def test_the_bot_starts_without_the_report_writers_or_the_web_server() -> None:
    code = ("import json, sys; import bot.cli, bot.app, bot.running, commands.reports.handlers; "
            f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout
    assert json.loads(loaded) == []


def test_a_report_loads_its_writers() -> None:
    code = ("import json, sys; from commands.reports.document import ReportDocument; "
            "from commands.reports.files import report_files; "
            "report_files(ReportDocument('bilan-test', 'Bilan', 'Club', '2026', ())); "
            "print(json.dumps([m for m in ('matplotlib', 'odf') if m in sys.modules]))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout
    assert json.loads(loaded) == ["matplotlib", "odf"]
