"""The queue's review index: filtered, searched, sorted and paged in SQL, visible only to whom it is routed; on each
store (a SQLite file, PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from graphs.review_index import IndexRow, QueueQuery, ReviewIndex


def _row(n: int, **changes) -> IndexRow:
    values = dict(thread_id=f"t{n:03d}", name=f"contract_{n:03d}", short_id=f"{n:08x}", contract_type="msa",
                  counterparty=f"Vendor {n}", risk="medium", findings=1, suggestions=2, pending=1, functions=["legal"],
                  owners=["legal"], status="awaiting review",
                  created_at=(datetime.now(timezone.utc) - timedelta(days=n)).isoformat())
    return IndexRow(**{**values, **changes})


def test_the_queue_pages_filters_and_shows_only_what_is_routed_to_the_reader(tmp_path, store):
    index = ReviewIndex(store.audit_store(tmp_path))
    rows = [_row(n) for n in range(120)]
    rows[5] = _row(5, risk="critical", counterparty="Orion 100%_Consulting")
    rows[6] = _row(6, status="finalised")
    rows[7] = _row(7, functions=["security"], owners=["security"])
    rows[8] = _row(8, functions=["security"], owners=["legal"], status="escalated", notice_deadline="2027-01-15")
    index.upsert_many(rows)
    legal = index.page(QueueQuery(per_page=50), visible_functions=["legal"])
    assert legal.total == 118 and legal.pages == 3 and len(legal.rows) == 50  # not the finalised one nor security's
    assert legal.rows[0].thread_id == "t005"  # riskiest first
    assert "t008" in {r.thread_id for r in index.page(QueueQuery(status="escalated"), visible_functions=["legal"]).rows}
    assert index.page(QueueQuery(status="finalised"), visible_functions=["legal"]).total == 1
    assert index.page(QueueQuery(), visible_functions=["security"]).total == 2
    assert index.page(QueueQuery(), visible_functions=None).total == 119
    # search takes % and _ literally
    found = index.page(QueueQuery(search="100%_c"), visible_functions=["legal"])
    assert [r.thread_id for r in found.rows] == ["t005"]
    assert index.page(QueueQuery(search="%"), visible_functions=["legal"]).total == 1
    last = index.page(QueueQuery(page=3, per_page=50), visible_functions=["legal"])
    assert len(last.rows) == 18
    assert index.page(QueueQuery(sort="deadline"), visible_functions=None).rows[0].thread_id == "t008"
    # assignment survives a later update of the row, and is counted as waiting
    assert index.assign("t010", "lee")
    index.upsert(_row(10, pending=0))
    assert index.assigned_to("t010") == "lee" and index.waiting_for("lee") == 1
    assert [r.thread_id for r in index.page(QueueQuery(assigned_to="lee"), visible_functions=["legal"]).rows] == ["t010"]


def test_rows_behind_the_decision_log_are_found(tmp_path, store):
    from agents.schema import Decision
    from graphs.audit_log import AuditLog

    path = store.audit_store(tmp_path)
    audit, index = AuditLog(path), ReviewIndex(path)
    index.upsert(_row(1))
    assert index.stale() == []
    # a process killed after committing a decision, before updating the index
    audit.record_decisions("t001", [Decision(suggestion_id="S01", action="approve", reviewer="lee",
                                             decided_at=datetime.now(timezone.utc))])
    changed, marks = index.changed_since_caught_up()
    assert changed == ["t001"]
    index.upsert(_row(1, version=1, pending=0))  # the catch-up indexes it from the log, then moves the watermark
    index.advance(marks)
    assert index.stale() == []
    index.upsert(_row(2))
    audit.record_decisions("t002", [Decision(suggestion_id="S01", action="reject", reviewer="lee",
                                             decided_at=datetime.now(timezone.utc))])
    assert index.stale() == ["t002"]  # only what changed since the watermark, not every row against the log
    index.advance((0, 0))  # the watermark never moves back
    assert index.stale() == ["t002"]


def test_clauses_are_written_with_their_row_and_replaced_not_doubled(tmp_path, store):
    index = ReviewIndex(store.audit_store(tmp_path))
    clauses = [("liability_cap", 10, 80, "Supplier's aggregate liability shall not exceed the fees paid.")]
    index.upsert(_row(1), clauses)
    index.upsert(_row(2), [("governing_law", 0, 40, "Governed by the laws of England.")])
    index.upsert(_row(1, pending=0), clauses)  # a later re-index of the same review
    hits = index.search("aggregate liability", QueueQuery(status="all"), visible_functions=None)
    assert [(h.review.thread_id, h.start, h.end) for h in hits] == [("t001", 10, 80)]
    index.upsert(_row(1), [])  # its clauses replaced by none
    assert index.search("aggregate liability", QueueQuery(status="all"), visible_functions=None) == []
    assert len(index.search("england", QueueQuery(status="all"), visible_functions=None)) == 1
    # stemmed on both stores: "capped liabilities" finds "liability … capped"; the snippet marks the words found
    index.upsert(_row(3), [("liability_cap", 0, 52, "The liability of each party is capped at the fees paid.")])
    hit, = index.search("capped liabilities", QueueQuery(status="all"), visible_functions=None)
    assert hit.review.thread_id == "t003" and "[liability]" in hit.snippet and "[capped]" in hit.snippet
    # search syntax typed by a user is only words
    assert index.search('liability" OR "england', QueueQuery(status="all"), visible_functions=None) == []
