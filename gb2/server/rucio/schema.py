"""SQLite tables of the embedded Rucio catalogue, the root account, the recursive DID
walk its modules share, and Rucio's DID-column vocabulary.

Sized for datasets of 100,000 files: integer DID ids, covering indexes on the
content and replica tables (both directions), ``WITHOUT ROWID`` association
tables, and a partial index to find expired DIDs cheaply.
"""

from __future__ import annotations

SCHEMA = """
CREATE TABLE IF NOT EXISTS rucio_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rucio_scopes (
    scope TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS rucio_rses (
    id INTEGER PRIMARY KEY,
    rse TEXT NOT NULL UNIQUE,
    rse_id TEXT NOT NULL UNIQUE,          -- Rucio's hex uuid
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS rucio_dids (
    id INTEGER PRIMARY KEY,
    scope TEXT NOT NULL,
    name TEXT NOT NULL,
    did_type TEXT NOT NULL,               -- FILE | DATASET | CONTAINER
    account TEXT NOT NULL,
    is_open INTEGER NOT NULL DEFAULT 1,
    monotonic INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER,
    length INTEGER,
    events INTEGER,
    adler32 TEXT,
    md5 TEXT,
    guid TEXT,
    expired_at REAL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    extra TEXT,                           -- other DID-column keys (campaign, datatype, ...) as JSON
    UNIQUE (scope, name)
);
CREATE INDEX IF NOT EXISTS rucio_dids_expired ON rucio_dids(expired_at) WHERE expired_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS rucio_dids_name ON rucio_dids(name);
CREATE TABLE IF NOT EXISTS rucio_deleted_dids (
    scope TEXT NOT NULL,
    name TEXT NOT NULL,
    did_type TEXT NOT NULL,
    account TEXT NOT NULL,
    deleted_at REAL NOT NULL,
    PRIMARY KEY (scope, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rucio_contents (
    parent_id INTEGER NOT NULL REFERENCES rucio_dids(id) ON DELETE CASCADE,
    child_id INTEGER NOT NULL REFERENCES rucio_dids(id) ON DELETE CASCADE,
    created_at REAL NOT NULL,
    PRIMARY KEY (parent_id, child_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rucio_contents_child ON rucio_contents(child_id, parent_id);
CREATE TABLE IF NOT EXISTS rucio_did_meta (
    did_id INTEGER PRIMARY KEY REFERENCES rucio_dids(id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    meta TEXT NOT NULL                    -- generic JSON metadata
);
CREATE INDEX IF NOT EXISTS rucio_did_meta_scope ON rucio_did_meta(scope);
CREATE TABLE IF NOT EXISTS rucio_replicas (
    did_id INTEGER NOT NULL REFERENCES rucio_dids(id) ON DELETE CASCADE,
    rse INTEGER NOT NULL REFERENCES rucio_rses(id),
    state TEXT NOT NULL,                  -- AVAILABLE | UNAVAILABLE | COPYING | BAD
    bytes INTEGER NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (did_id, rse)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rucio_replicas_rse ON rucio_replicas(rse, state, did_id);
CREATE TABLE IF NOT EXISTS rucio_rules (
    id TEXT PRIMARY KEY,
    did_id INTEGER NOT NULL REFERENCES rucio_dids(id) ON DELETE CASCADE,
    account TEXT NOT NULL,
    copies INTEGER NOT NULL,
    rse_expression TEXT NOT NULL,
    grouping TEXT NOT NULL,
    state TEXT NOT NULL,
    locks_ok_cnt INTEGER NOT NULL,
    locks_replicating_cnt INTEGER NOT NULL,
    locks_stuck_cnt INTEGER NOT NULL,
    error TEXT,
    activity TEXT NOT NULL,
    comments TEXT,
    purge_replicas INTEGER NOT NULL,
    expires_at REAL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    UNIQUE (did_id, account, rse_expression, copies)
);
CREATE INDEX IF NOT EXISTS rucio_rules_expires ON rucio_rules(expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS rucio_rules_account ON rucio_rules(account);
CREATE TABLE IF NOT EXISTS rucio_rse_availability (
    rse INTEGER PRIMARY KEY REFERENCES rucio_rses(id),
    availability_read INTEGER NOT NULL DEFAULT 1,
    availability_write INTEGER NOT NULL DEFAULT 1,
    availability_delete INTEGER NOT NULL DEFAULT 1,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS rucio_distances (
    src INTEGER NOT NULL REFERENCES rucio_rses(id),
    dest INTEGER NOT NULL REFERENCES rucio_rses(id),
    distance INTEGER,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (src, dest)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rucio_account_limits (
    account TEXT NOT NULL,
    rse INTEGER NOT NULL REFERENCES rucio_rses(id),
    bytes INTEGER NOT NULL,               -- -1: unlimited (Rucio stores infinity so)
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (account, rse)
) WITHOUT ROWID;
"""

#: The root account: owns the official scopes and may do anything.
ROOT = "root"

#: Recursive walk from one DID down to every descendant (including itself).
TREE_CTE = (
    "WITH RECURSIVE tree(id) AS (SELECT ? UNION "
    "SELECT c.child_id FROM rucio_contents c JOIN tree ON c.parent_id = tree.id) "
)

#: Every column of Rucio's ``dids`` table, in the order ``GET .../meta`` lists them.
DID_COLUMNS: tuple[str, ...] = (
    "name", "complete", "expired_at", "stream_name", "provenance", "created_at", "scope",
    "is_new", "purge_replicas", "phys_group", "transient", "updated_at", "account",
    "availability", "deleted_at", "prod_step", "accessed_at", "did_type", "suppressed",
    "events", "version", "closed_at", "is_open", "bytes", "guid", "campaign", "eol_at",
    "monotonic", "length", "project", "task_id", "is_archive", "hidden", "md5", "datatype",
    "panda_id", "constituent", "obsolete", "adler32", "run_number", "lumiblocknr", "access_cnt",
)

#: Columns the DID-column plugin will not set or filter on (Rucio excludes them too).
_EXCLUDED = frozenset({
    "account", "availability", "complete", "created_at", "did_type", "is_open", "monotonic",
    "obsolete", "scope", "suppressed", "updated_at",
})

#: Keys managed by Rucio's DID-column metadata plugin; every other key goes to the
#: generic JSON plugin.
COLUMN_KEYS: frozenset[str] = frozenset(DID_COLUMNS) - _EXCLUDED | {
    "lifetime", "created_before", "created_after", "type",
}

#: Column keys that are real columns of ``rucio_dids``; the rest live in ``extra``.
NATIVE_COLUMNS: frozenset[str] = frozenset({
    "name", "scope", "did_type", "account", "is_open", "monotonic", "bytes", "length", "events",
    "adler32", "md5", "guid", "expired_at", "created_at", "updated_at",
})

#: Defaults reported for column keys nobody set.
COLUMN_DEFAULTS: dict[str, object] = {
    "is_new": True, "purge_replicas": True, "transient": False, "availability": "AVAILABLE",
    "suppressed": False, "hidden": False, "obsolete": False,
}

DID_TYPES = {"F": "FILE", "D": "DATASET", "C": "CONTAINER", "FILE": "FILE",
             "DATASET": "DATASET", "CONTAINER": "CONTAINER"}
