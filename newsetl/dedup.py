"""Near-duplicate articles (one story re-posted with small edits): MinHash signatures and LSH bands.

Each distinct cleaned body gets a MinHash signature of its word shingles once, stored with its
band hashes. A new body is compared only with the bodies that share a band with it (stored or
earlier in the same batch) and becomes a near-duplicate of the most similar one at or above
the threshold, pointing at that body's root, so every cluster is a star around its first body.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from newsetl.clean import is_heading

SIGNATURE_SCHEMA = {
    "body_sha": pl.String, "first_article_id": pl.String, "shingles": pl.Int32,
    "signature": pl.List(pl.UInt32), "bands": pl.List(pl.Int64),
    "near_duplicate_of_sha": pl.String, "similarity": pl.Float64,
}
MIN_SHINGLES = 8  # a body shorter than this many shingles is matched exactly only
_BUCKET_CAP = 200  # a band value shared by more bodies than this is boilerplate, not a story


@dataclass(frozen=True)
class Params:
    permutations: int = 128
    bands: int = 32
    shingle_words: int = 3
    threshold: float = 0.45

    @property
    def rows(self) -> int:
        return self.permutations // self.bands


def shingle_hashes(body: str, words: int, cache: dict[str, int]) -> np.ndarray:
    """Distinct 32-bit hashes of the body's word n-grams (a short body: its one n-gram is the whole body).

    Token hashes are CRC-32 of the UTF-8 token, the same on every machine and in every run (Python's
    hash() is salted per process), combined by a polynomial mod 2^64 and folded to 32 bits.
    """
    tokens = " ".join(ln for ln in body.split("\n") if not is_heading(ln)).split()
    if not tokens:
        return np.zeros(0, dtype=np.uint64)
    try:
        ids = np.fromiter(map(cache.__getitem__, tokens), dtype=np.uint64, count=len(tokens))
    except KeyError:  # new words: hash them once, for every later body too
        cache.update((t, zlib.crc32(t.encode("utf-8"))) for t in tokens if t not in cache)
        ids = np.fromiter(map(cache.__getitem__, tokens), dtype=np.uint64, count=len(tokens))
    span = min(words, len(ids))
    acc = np.zeros(len(ids) - span + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for i in range(span):
            acc = acc * np.uint64(0x100000001B3) + ids[i: len(ids) - span + 1 + i]
    return np.unique((acc ^ (acc >> np.uint64(32))) & np.uint64(0xFFFFFFFF))


def signatures(bodies: Sequence[str], params: Params) -> tuple[np.ndarray, np.ndarray]:
    """(MinHash signatures as uint32 [n, permutations], distinct shingle counts [n]).

    Each of the permutations is h -> a * fmix32(h) + b mod 2^32: datasketch's MinHash (2.0, scheme
    'affine32', seed 1), which computed them before, gives the same values, so the signatures stored by
    earlier runs stay comparable. Done here with numpy, without datasketch's import (~0.6 s: its LSH
    classes import scipy.integrate) and its per-body copies; a body with no shingles keeps 2^32 - 1.
    """
    a, b = _permutations(params.permutations)
    sigs = np.full((len(bodies), params.permutations), np.uint32(0xFFFFFFFF), dtype=np.uint32)
    counts = np.zeros(len(bodies), dtype=np.int32)
    cache: dict[str, int] = {}
    for i, body in enumerate(bodies):
        hashes = shingle_hashes(body, params.shingle_words, cache)
        counts[i] = len(hashes)
        if len(hashes):
            sigs[i] = (_fmix32(hashes.astype(np.uint32))[:, None] * a + b).min(axis=0)  # wraps mod 2^32
    return sigs, counts


@functools.lru_cache(maxsize=4)
def _permutations(count: int) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) of each permutation: odd multipliers a, so that every one is a bijection of 32-bit values."""
    gen = np.random.RandomState(1)  # the legacy generator: the same draws in every numpy version
    a = gen.randint(0, 1 << 31, count, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, count, dtype=np.uint32)
    return a, b


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's finalizer: spreads structured hash values before the affine permutations."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def band_hashes(sigs: np.ndarray, params: Params) -> np.ndarray:
    """One int64 per band of rows: FNV-style mixing of the band's values, the same on every machine."""
    n = sigs.shape[0]
    rows = sigs[:, : params.bands * params.rows].reshape(n, params.bands, params.rows).astype(np.uint64)
    acc = np.full((n, params.bands), 1469598103934665603, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for r in range(params.rows):
            acc = (acc ^ rows[:, :, r]) * np.uint64(1099511628211)
    return acc.view(np.int64)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures: the share of equal minima."""
    return float(np.mean(a == b))


Lookup = Callable[[pl.DataFrame], pl.DataFrame]
"""Stored bodies sharing a band with new ones: given (idx, band, hash) rows of new bodies, the rows
(idx, body_sha, signature, near_duplicate_of_sha) of every stored body with an equal band."""

CANDIDATE_SCHEMA = {"idx": pl.Int64, "body_sha": pl.String, "signature": pl.List(pl.UInt32),
                    "near_duplicate_of_sha": pl.String}


def band_rows(bands: np.ndarray, ok: np.ndarray) -> pl.DataFrame:
    """(idx, band, hash) of the bodies that take part (`ok`): the LSH index entries."""
    idx = np.flatnonzero(ok).astype(np.int64)
    return pl.DataFrame({"idx": np.repeat(idx, bands.shape[1]),
                         "band": np.tile(np.arange(bands.shape[1], dtype=np.int32), len(idx)),
                         "hash": bands[ok].reshape(-1)})


def frame_lookup(stored: pl.DataFrame) -> Lookup:
    """A Lookup over stored signature rows in memory (body_sha, signature, bands, near_duplicate_of_sha)."""
    index = (stored.filter(pl.col("bands").is_not_null())
             .with_columns(pl.int_ranges(pl.col("bands").list.len()).alias("band"))
             .explode("bands", "band").rename({"bands": "hash"})
             .with_columns(pl.col("band").cast(pl.Int32)))

    def lookup(rows: pl.DataFrame) -> pl.DataFrame:
        found = rows.join(index, on=["band", "hash"])
        return found.select(list(CANDIDATE_SCHEMA)).unique(["idx", "body_sha"])
    return lookup


def _within_batch(rows: pl.DataFrame) -> list[tuple[int, int]]:
    """(later, earlier) pairs of new bodies that share a band."""
    buckets = (rows.group_by("band", "hash").agg(pl.col("idx").sort())
               .filter((pl.col("idx").list.len() > 1) & (pl.col("idx").list.len() <= _BUCKET_CAP)))
    pairs: set[tuple[int, int]] = set()
    for members in buckets["idx"].to_list():
        for j, later in enumerate(members):
            pairs.update((later, earlier) for earlier in members[:j])
    return sorted(pairs)


def match(new_sha: list[str], sigs: np.ndarray, counts: np.ndarray, lookup: Lookup | None,
          params: Params) -> list[tuple[str | None, float | None]]:
    """(near_duplicate_of_sha, similarity) for each new body, in the order given (earliest first).

    A body's candidates are the stored bodies and the earlier new ones that share a band with it;
    the most similar at or above the threshold wins (the earlier one on a tie), and the body joins
    that one's cluster.
    """
    rows = band_rows(band_hashes(sigs, params), counts >= MIN_SHINGLES)
    candidates: dict[int, list[tuple[np.ndarray, str | None, int | None]]] = {}  # (signature, root, new index)
    if lookup is not None and rows.height:
        for idx, sha, signature, root in lookup(rows).iter_rows():
            candidates.setdefault(idx, []).append((np.asarray(signature, dtype=np.uint32), root or sha, None))
    for later, earlier in _within_batch(rows):
        candidates.setdefault(later, []).append((sigs[earlier], None, earlier))
    roots: list[str | None] = [None] * len(new_sha)
    result: list[tuple[str | None, float | None]] = [(None, None)] * len(new_sha)
    for i in sorted(candidates):
        best, best_sim = None, params.threshold
        for signature, root, earlier in candidates[i]:  # stored ones come first: they were seen earlier
            sim = similarity(sigs[i], signature)
            if sim > best_sim or (best is None and sim >= best_sim):
                best, best_sim = (root, earlier), sim
        if best is None:
            continue
        root, earlier = best
        roots[i] = root if earlier is None else roots[earlier] or new_sha[earlier]
        result[i] = (roots[i], round(best_sim, 4))
    return result


def sign_and_match(new: pl.DataFrame, lookup: Lookup | None, params: Params) -> pl.DataFrame:
    """Signature rows (SIGNATURE_SCHEMA) for new bodies (body_sha, article_id, body; earliest first)."""
    if new.height == 0:
        return pl.DataFrame(schema=SIGNATURE_SCHEMA)
    sigs, counts = signatures(new["body"].to_list(), params)
    shas = new["body_sha"].to_list()
    matches = match(shas, sigs, counts, lookup, params)
    bands = band_hashes(sigs, params)
    signed = counts >= MIN_SHINGLES
    return pl.DataFrame({
        "body_sha": shas, "first_article_id": new["article_id"].to_list(), "shingles": counts.tolist(),
        "signature": [sigs[i].tolist() if signed[i] else None for i in range(len(shas))],
        "bands": [bands[i].tolist() if signed[i] else None for i in range(len(shas))],
        "near_duplicate_of_sha": [m[0] for m in matches], "similarity": [m[1] for m in matches],
    }, schema=SIGNATURE_SCHEMA)


def warehouse_lookup(con: duckdb.DuckDBPyConnection, table: str) -> Lookup:
    """A Lookup over the signature table: the join of new band rows with the stored ones runs in DuckDB,
    so only the candidates' signatures come back to Python."""

    def lookup(rows: pl.DataFrame) -> pl.DataFrame:
        con.register("_new_bands", rows.to_arrow())
        try:
            return con.sql(f"""
                with stored as (
                    select body_sha, near_duplicate_of_sha, signature,
                           unnest(bands) as hash, generate_subscripts(bands, 1) - 1 as band
                    from {table}
                    where bands is not null
                ),

                hits as (
                    select new.idx, new.band, stored.body_sha, stored.signature, stored.near_duplicate_of_sha
                    from _new_bands as new
                    inner join stored on new.band = stored.band and new.hash = stored.hash
                    qualify count(*) over (partition by new.idx, new.band) <= {_BUCKET_CAP}
                )

                select idx, body_sha, any_value(signature) as signature,
                       any_value(near_duplicate_of_sha) as near_duplicate_of_sha
                from hits
                group by idx, body_sha
                order by idx, body_sha
            """).pl().cast(CANDIDATE_SCHEMA)
        finally:
            con.unregister("_new_bands")
    return lookup
