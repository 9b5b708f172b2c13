"""Domain time of the project-group commands at the club's target scale (no homeserver).

    .venv/bin/python -m bench.projects [--groups 500] [--members 5000] [--progress 20000]
                                       [--n 300] [--database-url postgresql+asyncpg://…]

Seeds a fresh database (SQLite in a temporary folder by default), then times each command from
parsing to reply inside its database transaction, as the dispatcher runs it (the homeserver's
part is measured by ``bench.latency``). Prints p50 / p95 / p99 in milliseconds; the goal is a p99
under 20 ms for ``!projet liste`` and ``!projet info`` on SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from commands import build_registry
from commands.context import Club, Context
from commands.dispatch import prepare, run
from commands.i18n import Translator
from commands.roles import Role
from commands.text import fold
from commands.vocabulary import STATUSES, TERRITORIES, THEMES
from storage.db import Database

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")
WORDS = ("atelier", "vélo", "jardin", "compost", "énergie", "solaire", "ciné", "club", "réseau",
         "tiers-lieu", "zéro", "déchet", "liste", "courses", "mobilité", "covoiturage", "hydro",
         "biodiversité", "nichoirs", "mégots", "repair", "café", "marché", "local", "école")


def group_name(rng: random.Random, number: int) -> str:
    return " ".join(rng.sample(WORDS, 3)).capitalize() + f" {number}"


async def seed(db: Database, groups: int, members: int, progress: int,
               rng: random.Random) -> list[str]:
    """Creates the groups, members and progress entries; returns the groups' names."""
    names = []
    async with db.transaction() as repos:
        for number in range(1, groups + 1):
            name = group_name(rng, number)
            names.append(name)
            await repos.groups.create(
                name=name, name_key=" ".join(fold(name).split()), slug=f"groupe-{number}",
                description="Un groupe de démonstration " * 3, theme=rng.choice(THEMES.keys),
                territory=rng.choice(TERRITORIES.keys), status=rng.choice(STATUSES.keys),
                created_by="@p0:cct.example", at=T0)
        for index in range(members):
            group_id = index % groups + 1
            await repos.groups.add_member(group_id, f"@p{index}:cct.example",
                                          T0 + timedelta(minutes=index), tz=PARIS,
                                          referent=index < groups)
        for index in range(progress):
            await repos.groups.add_progress(index % groups + 1, f"@p{index % members}:cct.example",
                                            f"Étape {index} : on avance bien.",
                                            T0 + timedelta(minutes=index))
    return names


async def measure(db: Database, line: str, n: int, sender: str) -> list[float]:
    registry = build_registry()
    club = Club("CCT", "!", "fr", "Europe/Paris", "", "", "bench")
    t = Translator("fr")
    times = []
    for _ in range(n):
        start = time.perf_counter()
        async with db.transaction() as repos:
            now = datetime.now(UTC)
            ctx = Context(sender, "!bench:cct.example", "$e", now, now, Role.PARTICIPANT, club, t,
                          repos=repos)
            await run(await prepare(registry, line, ctx), ctx)
        times.append((time.perf_counter() - start) * 1000)
    return times


def row(label: str, times: list[float]) -> str:
    ordered = sorted(times)

    def p(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return (f"| {label:<32} | {statistics.median(ordered):6.2f} | {p(0.95):6.2f} | {p(0.99):6.2f} |")


async def main(args: argparse.Namespace) -> None:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        db = Database(url)
        await db.upgrade()
        started = time.perf_counter()
        names = await seed(db, args.groups, args.members, args.progress, rng)
        print(f"seeded {args.groups} groups, {args.members} members, {args.progress} progress "
              f"entries in {time.perf_counter() - started:.1f} s ({url.split(':')[0]})\n")
        print("| command                          | p50 ms | p95 ms | p99 ms |")
        print("|----------------------------------|--------|--------|--------|")
        some = rng.randrange(1, args.groups + 1)
        cases = [("!projet liste", "@p1:cct.example"),
                 ("!projet liste énergie", "@p1:cct.example"),
                 ("!projet liste --page 5", "@p1:cct.example"),
                 (f"!projet info {some}", "@p1:cct.example"),
                 (f"!projet info groupe-{some}", "@p1:cct.example"),
                 (f"!projet info {fold(names[some - 1]).split(' ', 1)[1]}", "@p1:cct.example"),
                 (f"!projet membres {some}", "@p1:cct.example"),
                 ("!mesprojets", "@p1:cct.example")]
        for line, sender in cases:
            await measure(db, line[1:], 10, sender)  # warm-up
            print(row(line, await measure(db, line[1:], args.n, sender)))
        await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=500)
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--progress", type=int, default=20000)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--database-url", default="")
    asyncio.run(main(parser.parse_args()))
