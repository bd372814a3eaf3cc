"""Applies the numbered SQL migrations in `sql/` in order, once each, recorded in `schema_migrations`."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from powercast.db.connection import connect
from powercast.errors import PowercastError
from powercast.names import MIGRATIONS_TABLE

MIGRATION_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LOCK_KEY = 7_422_614_001  # pg_advisory_lock key: one migrator at a time


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def default_sql_dir() -> Path:
    """`sql/` at the repository root (the package lives in `src/powercast`)."""
    return Path(__file__).resolve().parents[3] / "sql"


def discover(sql_dir: Path) -> list[Migration]:
    if not sql_dir.is_dir():
        raise PowercastError(f"migrations folder {sql_dir} not found", "set POWERCAST_SQL_DIR to the sql/ folder")
    migrations = []
    for path in sorted(sql_dir.iterdir()):
        match = MIGRATION_FILE.match(path.name)
        if match:
            migrations.append(Migration(int(match.group(1)), match.group(2), path))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise PowercastError(f"two migrations in {sql_dir} share a number", "renumber one of them")
    return migrations


def migrate(url: str, sql_dir: Path | None = None) -> list[Migration]:
    """Apply pending migrations; return those applied now. Safe to run again and from several processes."""
    migrations = discover(sql_dir or default_sql_dir())
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
            cur.execute(f"""CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (
                version integer PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now())""")
            conn.commit()
            cur.execute(f"SELECT version, checksum FROM {MIGRATIONS_TABLE}")  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
            applied = dict(cur.fetchall())
        done = []
        for migration in migrations:
            if migration.version in applied:
                if applied[migration.version] != migration.checksum:
                    raise PowercastError(
                        f"migration {migration.path.name} changed after it was applied",
                        "restore its original text and put the change in a new, higher-numbered migration",
                    )
                continue
            with conn.cursor() as cur:
                cur.execute(migration.sql)
                cur.execute(
                    f"INSERT INTO {MIGRATIONS_TABLE} (version, name, checksum) VALUES (%s, %s, %s)",  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
                    (migration.version, migration.name, migration.checksum),
                )
            conn.commit()
            done.append(migration)
        return done
    except Exception:
        conn.rollback()
        raise
    finally:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock_all()")
        conn.commit()
        conn.close()
