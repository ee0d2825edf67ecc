"""The Merkle tree against RFC 9162's definitions, written out again here independently
(recursion over lists, as the RFC states them), and against the roots Certificate
Transparency's reference test suite publishes for its eight test leaves."""

from __future__ import annotations

import hashlib
import random

import pytest

from timebank.transparency import merkle

# The eight leaf inputs of CT's reference tests (RFC 6962's implementation) and the root of
# each prefix of them, as that suite publishes them.
CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


# ---------------------------------------------------------------- RFC 9162, as written


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def rfc_mth(d: list[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 2.1.1, over leaf *inputs*."""
    if not d:
        return _h(b"")
    if len(d) == 1:
        return _h(b"\x00" + d[0])
    k = _k(len(d))
    return _h(b"\x01" + rfc_mth(d[:k]) + rfc_mth(d[k:]))


def rfc_path(m: int, d: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 2.1.3.1."""
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return rfc_path(m, d[:k]) + [rfc_mth(d[k:])]
    return rfc_path(m - k, d[k:]) + [rfc_mth(d[:k])]


def rfc_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 9162 2.1.4.1."""
    if m == len(d):
        return [] if b else [rfc_mth(d)]
    k = _k(len(d))
    if m <= k:
        return rfc_subproof(m, d[:k], b) + [rfc_mth(d[k:])]
    return rfc_subproof(m - k, d[k:], False) + [rfc_mth(d[:k])]


def reader(inputs: list[bytes]):
    """``node(level, index)`` of a tree held in memory, from the RFC's MTH."""

    def node(level: int, index: int) -> bytes:
        return rfc_mth(inputs[index << level : (index + 1) << level])

    return node


DATA = [f"entry {i}".encode() for i in range(70)]


# ---------------------------------------------------------------- tests


def test_the_roots_are_certificate_transparencys():
    for size, expected in enumerate(CT_ROOTS, start=1):
        assert merkle.root(size, reader(CT_LEAVES)).hex() == expected
        assert rfc_mth(CT_LEAVES[:size]).hex() == expected
    assert merkle.root(0, reader([])) == hashlib.sha256(b"").digest() == merkle.EMPTY_ROOT


@pytest.mark.parametrize("size", range(1, 70))
def test_root_and_every_inclusion_path_match_the_rfc(size):
    node = reader(DATA)
    root = merkle.root(size, node)
    assert root == rfc_mth(DATA[:size])
    for index in range(size):
        path = merkle.inclusion_path(index, size, node)
        assert path == rfc_path(index, DATA[:size])
        leaf = merkle.leaf_hash(DATA[index])
        assert merkle.verify_inclusion(index, size, leaf, path, root)
        # the same proof proves nothing else
        assert not merkle.verify_inclusion(index, size, merkle.leaf_hash(b"forged"), path, root)
        assert not merkle.verify_inclusion(index, index, leaf, path, root)
        if size > 1:
            assert not merkle.verify_inclusion((index + 1) % size, size, leaf, path, root)


@pytest.mark.parametrize("new", range(1, 40))
def test_every_consistency_proof_matches_the_rfc(new):
    node = reader(DATA)
    new_root = rfc_mth(DATA[:new])
    for old in range(1, new + 1):
        proof = merkle.consistency_path(old, new, node)
        assert proof == rfc_subproof(old, DATA[:new], True)
        old_root = rfc_mth(DATA[:old])
        assert merkle.verify_consistency(old, new, old_root, new_root, proof)
        assert not merkle.verify_consistency(old, new, _h(b"other"), new_root, proof)
        assert not merkle.verify_consistency(old, new, old_root, _h(b"other"), proof)
        if proof:
            bent = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
            assert not merkle.verify_consistency(old, new, old_root, new_root, bent)
            assert not merkle.verify_consistency(old, new, old_root, new_root, proof[:-1])


def test_a_rewritten_leaf_breaks_consistency_with_an_earlier_root():
    old_root = rfc_mth(DATA[:13])
    rewritten = list(DATA)
    rewritten[5] = b"entry 5, amount changed"
    proof = merkle.consistency_path(13, 40, reader(rewritten))
    assert not merkle.verify_consistency(13, 40, old_root, rfc_mth(rewritten[:40]), proof)


def test_appending_in_any_batches_gives_the_same_tree_and_stored_nodes():
    leaves = [merkle.leaf_hash(d) for d in DATA[:67]]
    rng = random.Random(4)
    whole_frontier, whole_nodes = merkle.extend(0, {}, leaves, keep=lambda level: level % 2 == 0)
    for _attempt in range(20):
        size, frontier, nodes = 0, {}, []
        while size < len(leaves):
            take = rng.randint(1, 9)
            batch = leaves[size : size + take]
            frontier, done = merkle.extend(size, frontier, batch, keep=lambda lv: lv % 2 == 0)
            nodes += [(lv, first + i, h) for lv, first, hs in done for i, h in enumerate(hs)]
            size += len(batch)
            assert merkle.frontier_root(frontier) == rfc_mth(DATA[:size])
        assert frontier == whole_frontier
        expected = {(lv, first + i, h) for lv, first, hs in whole_nodes for i, h in enumerate(hs)}
        assert set(nodes) == expected
    for level, index, value in expected:
        assert value == rfc_mth(DATA[index << level : (index + 1) << level])


def test_bad_requests_are_refused():
    node = reader(DATA)
    with pytest.raises(ValueError):
        merkle.inclusion_path(5, 5, node)
    with pytest.raises(ValueError):
        merkle.consistency_path(6, 5, node)
    assert merkle.consistency_path(5, 5, node) == []
    assert merkle.verify_consistency(5, 5, b"x", b"x", [])
    assert not merkle.verify_consistency(5, 5, b"x", b"y", [])
    assert not merkle.verify_consistency(6, 5, b"x", b"x", [])
