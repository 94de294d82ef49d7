"""Least privilege on PostgreSQL: the owner migrates, the application's role only reads and writes.

`app.py db migrate` connects as the owner (CLAUSEFLOW_DATABASE_OWNER_URL), applies the numbered migrations and
LangGraph's checkpoint tables, then grants the application's role (the user in CLAUSEFLOW_DATABASE_URL) exactly what
the application does: SELECT and INSERT everywhere, UPDATE and DELETE only where no trigger refuses them, nothing on
the migration bookkeeping but SELECT. It owns nothing, so ALTER TABLE (disabling a trigger), DROP and TRUNCATE are
refused by PostgreSQL itself, and as no superuser it cannot SET session_replication_role to skip triggers.
"""

from __future__ import annotations

from pydantic import BaseModel

from graphs.database import apply_migrations, describe, migration_files

# pg_trigger.tgtype bits (PostgreSQL's trigger.h)
_ON_DELETE, _ON_UPDATE = 1 << 3, 1 << 4
_BOOKKEEPING = {"schema_migrations", "checkpoint_migrations"}


class MigrationResult(BaseModel):
    database: str
    schema_version: int
    applied_now: list[int]
    application_role: str | None
    read_only_tables: list[str] = []
    insert_only_tables: list[str] = []


def migrate(owner_url: str, application_role: str | None) -> MigrationResult:
    import psycopg

    with psycopg.connect(owner_url, autocommit=True, connect_timeout=10) as connection:
        applied = apply_migrations(connection)
        _checkpoint_tables(connection)
        result = MigrationResult(database=describe(owner_url), schema_version=len(migration_files()),
                                 applied_now=applied, application_role=None)
        if application_role and application_role != connection.info.user:
            grants = grant_application_role(connection, application_role)
            result = result.model_copy(update={"application_role": application_role, **grants})
    return result


def _checkpoint_tables(connection) -> None:
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row, tuple_row

    connection.row_factory = dict_row  # what the saver reads rows as
    try:
        PostgresSaver(connection).setup()  # its own migrations table; CREATE INDEX CONCURRENTLY needs autocommit
    finally:
        connection.row_factory = tuple_row


def grant_application_role(connection, role: str) -> dict[str, list[str]]:
    """Re-grant from nothing on every table, so a table a later migration added, or one whose triggers changed, gets
    exactly what it should. Returns which tables the role may only read, or only read and add to."""
    from psycopg import sql

    tables = [row[0] for row in connection.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")]
    refused: dict[str, int] = {}
    for table, kinds in connection.execute(
            "SELECT c.relname, t.tgtype FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_proc p ON p.oid = t.tgfoid WHERE p.proname = 'clauseflow_refuse_change' AND NOT t.tgisinternal"):
        refused[table] = refused.get(table, 0) | kinds
    who = sql.Identifier(role)
    schema = sql.Identifier(connection.execute("SELECT current_schema()").fetchone()[0])
    read_only, insert_only = [], []
    with connection.transaction():
        connection.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, who))
        for table in tables:
            name = sql.Identifier(table)
            connection.execute(sql.SQL("REVOKE ALL ON {} FROM {}").format(name, who))
            if table in _BOOKKEEPING:
                privileges = ["SELECT"]
                read_only.append(table)
            else:
                privileges = ["SELECT", "INSERT"]
                if not refused.get(table, 0) & _ON_UPDATE:
                    privileges.append("UPDATE")
                if not refused.get(table, 0) & _ON_DELETE:
                    privileges.append("DELETE")
                if privileges == ["SELECT", "INSERT"]:
                    insert_only.append(table)
            connection.execute(sql.SQL("GRANT {} ON {} TO {}").format(
                sql.SQL(", ").join(sql.SQL(p) for p in privileges), name, who))
        connection.execute(sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(schema, who))
    return {"read_only_tables": read_only, "insert_only_tables": insert_only}
