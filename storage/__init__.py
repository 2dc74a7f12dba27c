"""Storage: every query the application makes lives in this package, one module per aggregate.

Callers outside it never build SQL. The service gets ``storage.repositories.Repository`` (or
``storage.writer.QueuedRepository``, the same with every write going through the single
writer), one object made of these repositories:

- ``storage.sessions``: sessions and what they capture. Every capture is written by
  ``storage._batch.apply_batch``, and every reply, whatever path it came by, by
  ``storage._replies.store_replies`` (sealed, kept out if its message was handled or erased,
  idempotent by its unique key, and itself its message's handled mark).
- ``storage.people``: consent, a person's data (subject access) and its erasure.
- ``storage.groups``: registered groups, their names and facilitators.
- ``storage.standing``: invitations, a person's latest group, session leads.
- ``storage.audit``: the audit, and the erasures it records.

Beside it, repositories the service does not need, each given its engine by ``bot.app``:
``storage.cycles`` (cycles, scheduled sessions, the scheduler's lease), ``storage.jobstore``
(the scheduler's jobs), ``storage.cursors`` (each group's catch-up cursor), ``storage.datasets``
with ``storage.heard``, ``storage.reach`` and ``storage.direct`` (reads for exports and
reports, and each export's record), ``storage.retention`` (the retention purge) and
``storage.backups`` (whole-database copies). ``storage.keystore`` keeps each person's key in
a file of its own, outside the database. Modules whose name starts with ``_`` are the queries
these share.
"""
