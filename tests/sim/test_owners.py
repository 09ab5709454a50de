"""The owner table: every accepted order id's session, 4 bytes an id, in fixed blocks."""

from __future__ import annotations

from lobsim.sim.owners import BLOCK, Owners


def test_owners_are_found_across_blocks_and_unset_ids_have_none():
    owners = Owners()
    ids = [1, 2, BLOCK - 1, BLOCK, 3 * BLOCK + 5]
    for k, order_id in enumerate(ids):
        owners.set(order_id, k)
    assert [owners.get(order_id) for order_id in ids] == list(range(len(ids)))
    assert len(owners) == 4 * BLOCK  # blocks up to the largest id, none beyond
    # never accepted: in flight or refused (inside a block), or past the last block
    assert [owners.get(order_id) for order_id in (3, BLOCK + 1, 4 * BLOCK, 10**30, 0, -1)] == [-1] * 6


def test_a_lookup_matches_what_a_dict_of_ids_would_find():
    owners, by_id = Owners(), {1: 7, 2: 8}
    for order_id, index in by_id.items():
        owners.set(order_id, index)
    for key in (True, 1.0, 2.0, 1.5, "1", b"1", None, float("nan"), float("inf"), 2**80,
                -1.0, 10**5000):
        assert owners.get(key) == by_id.get(key, -1), key
    assert owners.get([1]) == -1  # unhashable: the exchange answers unknown_id
