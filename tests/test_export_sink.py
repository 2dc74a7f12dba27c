"""The sinks hand the writers the same batches whether rows come one by one or as batches."""

import pyarrow as pa

from exporters.schema import GROUPS
from exporters.sink import Sinks
from exporters.writer import Writers


class Taken(Writers):
    """Writers that keep each batch they are handed."""

    def __init__(self) -> None:
        self.batches: list[tuple[str, pa.RecordBatch]] = []

    def rows(self, table: str, batch: pa.RecordBatch) -> None:
        self.batches.append((table, batch))


def _rows(count: int) -> list[tuple[object, ...]]:
    width = len(GROUPS.columns)
    return [(f"g{n}", *(None,) * (width - 1)) for n in range(count)]


def test_batches_are_cut_to_the_rows_a_batch_as_single_rows_are() -> None:
    rows = _rows(10)
    one_by_one, batched = Taken(), Taken()
    sinks = Sinks((GROUPS,), one_by_one, batch=3)
    for row in rows:
        sinks.add("groups", row)
    sinks.flush()
    sinks = Sinks((GROUPS,), batched, batch=3)
    schema = sinks.schema("groups")
    for start, end in ((0, 2), (2, 4), (4, 4), (4, 8), (8, 9), (9, 10)):
        sinks.add_batch(
            "groups",
            pa.RecordBatch.from_pylist(
                [dict(zip(schema.names, row, strict=True)) for row in rows[start:end]], schema
            ),
        )
    sinks.add_batch("votes", pa.RecordBatch.from_pylist([], schema))
    sinks.flush()
    assert [b.num_rows for _, b in batched.batches] == [3, 3, 3, 1]
    assert [(t, b.to_pylist()) for t, b in batched.batches] == [
        (t, b.to_pylist()) for t, b in one_by_one.batches
    ]
    assert all(b.schema == schema for _, b in batched.batches)
