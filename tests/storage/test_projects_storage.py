"""The repositories of project groups, initiatives and the audit trail, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models import ProjectGroup
from storage.repositories import Repositories

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")


async def make(repos: Repositories, name: str, slug: str, **values: str):  # type: ignore[no-untyped-def]
    defaults = {"description": "", "theme": "energie", "territory": "nord", "status": "idee"}
    defaults.update(values)
    return await repos.groups.create(name=name, name_key=name.lower(), slug=slug,
                                     created_by="@a:x", at=T0, **defaults)


async def test_create_find_and_list_with_member_counts(db: Database) -> None:
    async with db.transaction() as repos:
        velo = await make(repos, "atelier velo", "atelier-velo", status="en-cours", territory="sud")
        hydro = await make(repos, "micro hydro", "micro-hydro")
        await repos.groups.add_member(velo.id, "@a:x", T0, tz=PARIS, referent=True)
        await repos.groups.add_member(velo.id, "@b:x", T0 + timedelta(hours=1), tz=PARIS)
    async with db.transaction() as repos:
        assert (await repos.groups.by_slug("atelier-velo")).id == velo.id  # type: ignore[union-attr]
        assert (await repos.groups.by_name_key("micro hydro")).id == hydro.id  # type: ignore[union-attr]
        assert [g.id for g in await repos.groups.search(["velo"])] == [velo.id]
        assert [g.id for g in await repos.groups.search(["o"])] == [velo.id, hydro.id]
        assert [g.id for g in await repos.groups.search(["hydro", "micro"])] == [hydro.id]
        assert await repos.groups.search(["%"]) == [] and await repos.groups.search(["_"]) == []
        order = ("en-cours", "idee")
        page = await repos.groups.listing(order=order)
        rows, total = page.rows, page.total
        assert [(g.slug, g.members) for g in rows] == [("atelier-velo", 2), ("micro-hydro", 0)]
        assert total == 2
        page = await repos.groups.listing(order=("idee", "en-cours"), limit=1)
        rows, total = page.rows, page.total
        assert [g.slug for g in rows] == ["micro-hydro"] and total == 2
        rows = (await repos.groups.listing(order=("idee", "en-cours"), limit=1, offset=1)).rows
        assert [g.slug for g in rows] == ["atelier-velo"]
        page = await repos.groups.listing(order=order, territory="sud")
        rows, total = page.rows, page.total
        assert [g.slug for g in rows] == ["atelier-velo"] and total == 1
        page = await repos.groups.listing(order=order, theme="energie", territory="nord")
        assert ([g.slug for g in page.rows], page.total) == (["micro-hydro"], 1)
        page = await repos.groups.listing(order=order, theme="mobilite")
        assert (page.rows, page.total) == ([], 0)
        rows = (await repos.groups.listing(order=("idee",))).rows
        assert [g.slug for g in rows] == ["micro-hydro"]
        rows = (await repos.groups.listing(order=("idee",), status="en-cours")).rows
        assert [g.slug for g in rows] == ["atelier-velo"]
        assert await repos.groups.count_by_status() == {"en-cours": 1, "idee": 1}
        past_the_end = await repos.groups.listing(order=order, offset=30)
        assert (past_the_end.rows, past_the_end.total, past_the_end.archived) == ([], 2, 0)
        assert await repos.groups.slugs_like("atelier") == {"atelier-velo"}
        members = await repos.groups.members(velo.id)
        assert [(m.user_id, m.referent) for m in members] == [("@a:x", True), ("@b:x", False)]
        assert [(g.slug, m.referent) for g, m in await repos.groups.groups_of("@b:x")] == [
            ("atelier-velo", False)]


async def test_names_and_slugs_are_unique(db: Database) -> None:
    async with db.transaction() as repos:
        await make(repos, "atelier velo", "atelier-velo")
    with pytest.raises(IntegrityError):
        async with db.transaction() as repos:
            await make(repos, "atelier velo", "autre-slug")
    with pytest.raises(IntegrityError):
        async with db.transaction() as repos:
            await make(repos, "autre nom", "atelier-velo")


async def test_members_progress_and_needs(db: Database) -> None:
    async with db.transaction() as repos:
        group = await make(repos, "atelier velo", "atelier-velo")
        await repos.groups.add_member(group.id, "@a:x", T0, tz=PARIS, referent=True)
        for hours in range(5):
            await repos.groups.add_progress(group.id, "@a:x", f"étape {hours}",
                                            T0 + timedelta(hours=hours))
        first = await repos.groups.add_need(group.id, "materiel", "un pied", "@a:x", T0)
        await repos.groups.add_need(group.id, "competence", "mécanique", "@a:x", T0)
    async with db.transaction() as repos:
        assert [p.text for p in await repos.groups.progress(group.id, 3)] == [
            "étape 4", "étape 3", "étape 2"]
        assert await repos.groups.progress_count(group.id) == 5
        need = await repos.groups.need(group.id, first.id)
        assert need is not None
        need.met_at = T0
        assert await repos.groups.need(group.id + 1, first.id) is None
    async with db.transaction() as repos:
        assert [n.text for n in await repos.groups.open_needs(group.id)] == ["mécanique"]
        await repos.groups.remove_member(group.id, "@a:x")
        assert await repos.groups.membership(group.id, "@a:x") is None


async def test_deleting_a_group_deletes_its_rows(db: Database) -> None:
    async with db.transaction() as repos:
        group = await make(repos, "atelier velo", "atelier-velo")
        await repos.groups.add_member(group.id, "@a:x", T0, tz=PARIS)
        await repos.groups.add_progress(group.id, "@a:x", "x", T0)
    async with db.transaction() as repos:
        await repos.session.execute(delete(ProjectGroup).where(ProjectGroup.id == group.id))
    async with db.transaction() as repos:
        assert await repos.groups.members(group.id) == []
        assert await repos.groups.progress_count(group.id) == 0


async def test_initiatives_a_page_at_a_time(db: Database) -> None:
    async with db.transaction() as repos:
        for number, theme in enumerate(("energie", "mobilite") * 4):
            name = f"initiative {number} velo"
            await repos.initiatives.add(
                name=name, name_key=name, description="", theme=theme, commune="Gap", contact="",
                link="", search_key=name, created_by="@a:x", created_at=T0)
    async with db.transaction() as repos:
        every = [i.name_key for i in await repos.initiatives.listing()]
        assert every == [f"initiative {n} velo" for n in (0, 2, 4, 6, 1, 3, 5, 7)]
        pages = [[i.name_key for i in await repos.initiatives.listing(limit=3, offset=start)]
                 for start in (0, 3, 6, 9)]
        assert pages == [every[:3], every[3:6], every[6:], []]
        assert [i.id for i in await repos.initiatives.listing("mobilite", limit=2, offset=1)] == [
            4, 6]
        found = [i.name_key for i in await repos.initiatives.search(["velo"], limit=5, offset=5)]
        assert found == [f"initiative {n} velo" for n in (5, 6, 7)]
        assert await repos.initiatives.count() == 8 and await repos.initiatives.count("energie") == 4


async def test_initiatives_and_audit(db: Database) -> None:
    async with db.transaction() as repos:
        item = await repos.initiatives.add(
            name="Repair café", name_key="repair cafe", description="", theme="biens-services",
            commune="Briançon", contact="", link="", search_key="repair cafe briancon",
            created_by="@a:x", created_at=T0)
        await repos.audit.record(actor="@a:x", subject="initiative", subject_id=item.id,
                                 action="created", at=T0, name="Repair café")
        await repos.audit.record(actor="@b:x", subject="initiative", subject_id=item.id,
                                 action="removed", at=T0 + timedelta(minutes=1), name="é")
    async with db.transaction() as repos:
        assert [i.name for i in await repos.initiatives.search(["briancon", "repair"])] == [
            "Repair café"]
        assert await repos.initiatives.count_matching(["cafe"]) == 1
        assert await repos.initiatives.search(["gap"]) == []
        assert [i.name for i in await repos.initiatives.listing("biens-services")] == ["Repair café"]
        assert await repos.initiatives.listing("energie") == []
        assert await repos.initiatives.count("biens-services") == await repos.initiatives.count() == 1
        assert await repos.initiatives.count("energie") == 0
        entries = await repos.audit.entries("initiative", item.id)
        assert [(e.actor, e.action, e.details) for e in entries] == [
            ("@b:x", "removed", '{"name": "é"}'), ("@a:x", "created", '{"name": "Repair café"}')]
        assert await repos.audit.count("initiative", item.id) == 2
        assert await repos.audit.count("group", item.id) == 0


async def test_the_listing_reads_the_status_index_not_the_whole_table(tmp_path: Path) -> None:
    """``!projet liste`` at the club's target scale: its counts and its page go through
    ``ix_project_groups_status`` (SQLite's plan; no full scan of the groups)."""
    from sqlalchemy import text
    from sqlalchemy.dialects import sqlite

    from storage.projects import _listing

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cct.db'}")
    await db.upgrade()
    try:
        page, counts = _listing(("en-cours", "idee"), False, False, False)
        values = {"b_limit": 30, "b_offset": 0}
        for statement in (page, counts):
            sql = str(statement.params(**values).compile(
                dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
            async with db.transaction() as repos:
                plan = [row[3] for row in
                        await repos.session.execute(text("EXPLAIN QUERY PLAN " + sql))]
            on_groups = [step for step in plan if "project_groups" in step]
            assert on_groups and all("ix_project_groups_status" in step
                                     for step in on_groups), plan
    finally:
        await db.dispose()
