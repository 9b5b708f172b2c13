"""Screenshots of each public page at a phone's width (390 px) and a desktop's (1280 px), into
docs/web/ (PNG), shown in docs/web.md. The pages show the sample club (devtools.sample_site)
on a throwaway SQLite database, on a fixed day, so that the images change only when the pages
do. Needs Chromium and Playwright, as the browser tests (scripts/bootstrap.sh installs them).

    PYTHONPATH=. .venv/bin/python scripts/screenshots.py [--out docs/web]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bot.clock import FakeClock
from devtools.browser import DESKTOP, PHONE, chromium, missing, opened
from devtools.sample_site import served_site
from storage.db import Database

ROOT = Path(__file__).resolve().parents[1]
DAY = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)
PAGES = {  # file name: address
    "accueil": "/",
    "programme": "/programme",
    "programme-filtre": "/programme?territoire=nord",
    "evenement": "/programme/{webinaire}",
    "groupes": "/groupes",
    "groupe": "/groupes/velo",
    "initiatives": "/initiatives?q=jardin",
    "initiative": "/initiatives/{epicerie}",
}
WIDTHS = {"telephone": PHONE, "ordinateur": DESKTOP}


async def shoot(out: Path) -> list[Path]:
    made = []
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite+aiosqlite:///{folder}/site.db")
        await db.upgrade()
        try:
            async with served_site(db, FakeClock(DAY).now) as (base, ids), chromium() as browser:
                for width_name, viewport in WIDTHS.items():
                    async with opened(browser, viewport) as page:
                        for name, path in PAGES.items():
                            await page.goto(base + path.format(**ids))
                            target = out / f"{name}-{width_name}.png"
                            await page.screenshot(path=str(target), full_page=True)
                            made.append(target)
        finally:
            await db.dispose()
    return made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "web")
    args = parser.parse_args()
    why = missing()
    if why is not None:
        print(why, file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for path in asyncio.run(shoot(args.out)):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
