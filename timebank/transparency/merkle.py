"""The Merkle tree of RFC 6962 / RFC 9162, with ``hashlib`` only: hashes, proofs and their
verification, and appending a batch of leaves to a tree known by its right edge.

- leaf = SHA-256(0x00 || data); node = SHA-256(0x01 || left || right);
- the tree of n leaves splits at k, the largest power of two below n (MTH of RFC 9162 2.1.1);
- a *perfect subtree* is the node at (level, index) over leaves [index·2^level, (index+1)·2^level).

Every function here reads the tree through ``node(level, index) -> bytes``, the hash of a
perfect subtree, so the same code serves a tree held in memory (tests, the bench) and the
log stored in the database (stored subtree roots every few levels, leaves read from the
ledger's entries). Nothing here knows a database.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable, Sequence

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
#: the root of the empty tree: SHA-256 of nothing (RFC 9162 2.1.1)
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeReader = Callable[[int, int], bytes]


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(size: int) -> int:
    """k: the largest power of two smaller than ``size`` (size > 1)."""
    return 1 << ((size - 1).bit_length() - 1)


def is_perfect(start: int, end: int) -> bool:
    size = end - start
    return size > 0 and size & (size - 1) == 0 and start % size == 0


def range_hash(start: int, end: int, node: NodeReader) -> bytes:
    """MTH of leaves [start, end), where ``start`` is aligned as RFC 9162's recursion
    leaves it (every range a proof or a root asks for is)."""
    if end <= start:
        return EMPTY_ROOT
    if is_perfect(start, end):
        size = end - start
        return node(size.bit_length() - 1, start // size)
    k = split_point(end - start)
    return node_hash(node(k.bit_length() - 1, start // k), range_hash(start + k, end, node))


def root(size: int, node: NodeReader) -> bytes:
    """The root hash of the first ``size`` leaves."""
    return range_hash(0, size, node)


def inclusion_path(index: int, size: int, node: NodeReader) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``size`` leaves (RFC 9162 2.1.3.1)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            path.append(range_hash(start + k, end, node))
            end = start + k
        else:
            path.append(range_hash(start, start + k, node))
            start += k
    return path[::-1]


def consistency_path(old_size: int, new_size: int, node: NodeReader) -> list[bytes]:
    """The proof that the tree of ``old_size`` leaves is a prefix of the tree of
    ``new_size`` leaves (RFC 9162 2.1.4.1, SUBPROOF)."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from {old_size} to {new_size}")
    if old_size in (0, new_size):
        return []
    path: list[bytes] = []
    m, start, end, complete = old_size, 0, new_size, True
    while m != end - start:
        k = split_point(end - start)
        if m <= k:
            path.append(range_hash(start + k, end, node))
            end = start + k
        else:
            path.append(range_hash(start, start + k, node))
            m, start, complete = m - k, start + k, False
    if not complete:
        path.append(range_hash(start, end, node))
    return path[::-1]


def verify_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], expected_root: bytes
) -> bool:
    """RFC 9162 2.1.3.2: does ``path`` prove ``leaf`` at ``index`` under ``expected_root``?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == expected_root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2: does ``proof`` show the tree of ``old_size`` leaves with
    ``old_root`` to be a prefix of the tree of ``new_size`` leaves with ``new_root``?"""
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


# ---------------------------------------------------------------- appending


def frontier_levels(size: int) -> list[int]:
    """The levels of the perfect subtrees on the right edge of a tree of ``size`` leaves:
    one per bit set in ``size``; the one at level L has index (size >> L) - 1."""
    return [level for level in range(size.bit_length()) if size >> level & 1]


def frontier_root(frontier: dict[int, bytes]) -> bytes:
    """The root of a tree given by its right edge (level -> perfect subtree hash)."""
    result = None
    for level in sorted(frontier):
        result = frontier[level] if result is None else node_hash(frontier[level], result)
    return EMPTY_ROOT if result is None else result


def extend(
    size: int,
    frontier: dict[int, bytes],
    leaves: Sequence[bytes],
    keep: Callable[[int], bool] = lambda level: False,
) -> tuple[dict[int, bytes], list[tuple[int, int, list[bytes]]]]:
    """Append ``leaves`` (leaf hashes) to the tree of ``size`` leaves whose right edge is
    ``frontier``. Returns the new right edge and, for each level ``keep`` names, the
    perfect subtrees the batch completed: ``(level, first index, hashes)``.

    Each new leaf costs one hash for itself and one per level it completes: a batch of b
    leaves costs about 2b hashes, a single leaf about log n.
    """
    sha = hashlib.sha256
    new_frontier: dict[int, bytes] = {}
    completed: list[tuple[int, int, list[bytes]]] = []
    nodes, start, level = list(leaves), size, 0
    while nodes:
        if level and keep(level):
            completed.append((level, start, nodes))
        if start & 1:
            nodes = [frontier[level], *nodes]
            start -= 1
        if len(nodes) & 1:
            new_frontier[level] = nodes[-1]
        nodes = [
            sha(NODE_PREFIX + nodes[i] + nodes[i + 1]).digest() for i in range(0, len(nodes) - 1, 2)
        ]
        start >>= 1
        level += 1
    for old_level, value in frontier.items():
        if old_level >= level:
            new_frontier[old_level] = value
    return new_frontier, completed


def leaves_of_entries(entry_hashes: Iterable[str]) -> list[bytes]:
    """Leaf hashes of entries given by their stored hex SHA-256."""
    sha, prefix = hashlib.sha256, LEAF_PREFIX
    return [sha(prefix + bytes.fromhex(value)).digest() for value in entry_hashes]


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def unb64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)
