"""storage: the SQLite workspace through sqlite-utils (see DESIGN.md).

:class:`Store` opens (creating and migrating) ``workspace.sqlite`` with WAL
and foreign keys on; :meth:`Store.transaction` is one use case. Tables:
users, settings, accounts, signatories, reference_signatures, cheques,
decisions, and the append-only, hash-chained audit log (``audit``).
"""

from chequeverify.storage.audit import ChainCheck, check_chain, format_anchor, parse_anchor
from chequeverify.storage.migrations import MIGRATIONS, SCHEMA_VERSION, migrate
from chequeverify.storage.store import DB_NAME, BackupCopy, Store, utc_now

__all__ = ["DB_NAME", "BackupCopy", "MIGRATIONS", "SCHEMA_VERSION", "ChainCheck", "Store", "check_chain", "format_anchor", "migrate",
           "parse_anchor", "utc_now"]
