"""Privacy by design (issue 19): a member's data exported or erased on request, and retention.

The declarations live next to each module's tables (`storage/privacy.py`); this package reads
them: `tables.py` turns them into SQL, `erasure.py` and `export.py` are the durable jobs that
`jobs.py` runs, `retention.py` is the scheduled run.
"""
