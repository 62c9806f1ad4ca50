"""Reading and writing the store: one function per thing the service does to it, one
module per subject.

- ``person_records``: reports and found persons (create, upsert, get, list, count),
  their statuses, and which cases are still open.
- ``photos``: photos and their faces, and the faces a face index is built from.
- ``candidate_pairs``: candidate pairs, ranked and listed for review.
- ``reviewer_decisions``: reviewers' decisions, and the pairs decided so far.
- ``same_person_links``: links between found persons who may be one person, and
  reviewers' verdicts on them.
- ``record_erasure``: erasing a record for good (with its candidates and links); the
  closed cases a sweep erases.
- ``audit_log``: the audit log.

Functions take an open ``Session``; the caller owns the transaction. Writes that a
person makes are audited by the caller through ``audit_log.audit``.

A closed case (a report no longer ``OPEN``, a found person ``IDENTIFIED`` or ``CLOSED``:
see ``is_open`` on the status enums) drops out of everything that looks for people:
re-matching (``all_missing``, ``all_found``), the faces to search and candidate lists.
Its rows stay, with their candidates and decisions, for the record.
"""
