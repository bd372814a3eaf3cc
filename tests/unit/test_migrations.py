import pytest

from powercast.db.migrate import default_sql_dir, discover
from powercast.errors import PowercastError


def test_repository_migrations_are_numbered_in_order():
    migrations = discover(default_sql_dir())
    assert migrations and migrations[0].version == 1
    assert [m.version for m in migrations] == sorted({m.version for m in migrations})


def test_duplicate_numbers_are_refused(tmp_path):
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0001_b.sql").write_text("SELECT 1;")
    with pytest.raises(PowercastError, match="share a number"):
        discover(tmp_path)


def test_non_migration_files_are_ignored(tmp_path):
    (tmp_path / "0002_second.sql").write_text("SELECT 2;")
    (tmp_path / "0001_first.sql").write_text("SELECT 1;")
    (tmp_path / "README.md").write_text("notes")
    assert [m.name for m in discover(tmp_path)] == ["first", "second"]
