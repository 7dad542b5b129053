"""Engagement pods: groups of accounts that repeatedly comment together, within minutes, on the
posts of several creators (docs/guide/audit-pods.md, docs/decisions/0028-engagement-pods.md).

Pure: comments in, `types.Pod` out. The work is vectorised (numpy) so that every creator's
comments the service holds (millions) are read in seconds:

1. Authors who commented on fewer than `min_posts` posts or on the posts of fewer than
   `min_creators` creators can take part in no link: their comments are dropped first (most
   organic commenters comment once).
2. The rest are sorted by post and time; a sliding window pairs every comment with the later
   comments on the same post at most `window` after it (two authors "co-comment" on that post;
   times are compared in whole seconds). Posts with more than `crowd_limit` comments are
   skipped: meeting someone in a crowd of thousands says nothing about coordination, and it
   bounds the quadratic cost.
3. A link joins two authors who co-commented on at least `min_posts` distinct posts of at least
   `min_creators` creators, and on at least `min_together` of the posts they both commented on
   (accounts who comment on the same posts at independent times, such as two fans of the same
   creators, are not linked: they meet on the post, not in the minute). And their meetings must
   not be chance: among the posts they both commented on, they met within the window more often
   than the binomial tail allows at the data's own rate `q` (the share of all pairs of commenters
   of one post, over the eligible authors, who commented within the window of each other), with
   a Bonferroni correction over the candidate links, so that a whole run reports on average at
   most `false_links` links by chance. Very active accounts meet everyone now and then: this is
   what keeps them out.
4. The reciprocal pattern: when the accounts of creators are known (`creator_handles`), two
   creators whose accounts each commented on at least `min_posts` posts of the other are linked
   too, even if they never met on a third post.
5. Pods are the dense groups of that graph: the (min_size - 1)-core (every member linked to at
   least min_size - 1 others), split into Louvain communities (seeded, so deterministic), each
   cut to its own core again, so two pods joined by a stray link stay apart.

Comments without a time (`commented_at` None) are ignored: "within minutes" cannot be judged.
"""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import attrgetter, itemgetter
from typing import NamedTuple

import networkx as nx
import numpy as np
from scipy import sparse, stats

from services.audit.engine.types import Pod

# Pod members answer the same "drop" (a post shared in the pod's group chat) and comment within
# minutes of each other; chance meetings grow linearly with the window, so it is the shortest
# that still pairs members answering one drop (ADR 0028).
WINDOW = timedelta(minutes=10)
MIN_POSTS = 3  # once is chance, twice a coincidence: a link needs three distinct posts
MIN_CREATORS = 2  # fans of one creator commenting together on every post are fans, not a pod
MIN_SIZE = 3  # a pod is a group: two accounts are a pair of friends
MIN_TOGETHER = 0.5  # share of the posts both commented on where they commented within the window
CROWD_LIMIT = 1_000  # posts with more comments than this do not pair commenters
FALSE_LINKS = 0.01  # expected chance links in a whole run (family-wise error of the binomial tests)
# The chance rate is estimated from the data; a data set that is mostly one pod would estimate it
# near 1 and hide the pod, so it is capped: organic comments spread over hours (ADR 0028).
MAX_CHANCE_RATE = 0.5
LOUVAIN_SEED = 0


class CommentEvent(NamedTuple):
    """One comment as pod detection reads it (any 4-tuple in this order is accepted)."""

    creator_id: uuid.UUID
    post_id: uuid.UUID
    author: str
    commented_at: datetime | None


@dataclass(frozen=True)
class CommentColumns:
    """Comments as columns, one row per comment: what `find_pods` builds from events, and what a
    caller holding millions of comments can build directly (e.g. from a database cursor) to skip
    the per-comment Python conversion. Codes index the name tables; a post code belongs to one
    creator (`post_creator[post]`)."""

    authors: np.ndarray  # int64 code per comment -> author_names
    posts: np.ndarray  # int64 code per comment
    times: np.ndarray  # float64 seconds since the epoch per comment (finite)
    post_creator: np.ndarray  # int64 creator code per post code -> creator_ids
    author_names: Sequence[str]
    creator_ids: Sequence[uuid.UUID]


def columns(comments: Iterable[tuple[uuid.UUID, uuid.UUID, str, datetime | None]]) -> CommentColumns:
    """Comment events to columns. A comment with no time is dropped. Post ids are UUIDs, unique
    across creators: a post belongs to the creator of its comments. Every per-comment step is a
    C-level map over a column, never a Python statement per comment (UUIDs are keyed by their
    integer: hashing a UUID object runs Python code)."""
    rows = [row for row in comments if row[3] is not None]
    n = len(rows)
    if not n:
        return CommentColumns(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64),
                              np.zeros(0, np.int64), [], [])
    uuid_int = attrgetter("int")
    post_col = list(map(uuid_int, map(itemgetter(1), rows)))
    creator_of_post = dict(zip(post_col, map(itemgetter(0), rows)))
    author_col = list(map(itemgetter(2), rows))
    author_code = _codes(author_col)
    post_code = _codes(post_col)
    creator_code = _codes(map(uuid_int, creator_of_post.values()))
    creator_ids = {creator.int: creator for creator in creator_of_post.values()}
    return CommentColumns(
        authors=np.fromiter(map(author_code.__getitem__, author_col), np.int64, n),
        posts=np.fromiter(map(post_code.__getitem__, post_col), np.int64, n),
        times=np.fromiter(map(datetime.timestamp, map(itemgetter(3), rows)), np.float64, n),
        post_creator=np.fromiter(
            (creator_code[creator_of_post[post].int] for post in post_code), np.int64, len(post_code),
        ),
        author_names=list(author_code),
        creator_ids=[creator_ids[key] for key in creator_code],
    )


def _codes(values: Iterable) -> dict:
    """Each distinct value -> 0, 1, ... in order of first appearance."""
    codes = dict.fromkeys(values)
    for i, key in enumerate(codes):
        codes[key] = i
    return codes


def find_pods(
    comments: Iterable[tuple[uuid.UUID, uuid.UUID, str, datetime | None]] | CommentColumns,
    *,
    window: timedelta = WINDOW,
    min_posts: int = MIN_POSTS,
    min_creators: int = MIN_CREATORS,
    min_size: int = MIN_SIZE,
    min_together: float = MIN_TOGETHER,
    crowd_limit: int = CROWD_LIMIT,
    false_links: float = FALSE_LINKS,
    creator_handles: Mapping[str, uuid.UUID] | None = None,
) -> list[Pod]:
    """Every engagement pod in these comments (`CommentEvent`s or 4-tuples, any order, or
    `CommentColumns`), largest activity first. `creator_handles` (an account handle, lower-cased
    without '@', -> the creator it belongs to) enables the reciprocal pattern."""
    if min_posts < 1 or min_creators < 1 or min_size < 2 or window.total_seconds() < 0:
        raise ValueError("min_posts and min_creators must be >= 1, min_size >= 2, window >= 0")
    cols = comments if isinstance(comments, CommentColumns) else columns(comments)
    return _Detection(cols, window.total_seconds(), min_posts, min_creators, min_size, min_together,
                      crowd_limit, false_links, creator_handles or {}).pods()


def _unique_rows(a: np.ndarray, b: np.ndarray, b_size: int) -> np.ndarray:
    """Indices of one row of each distinct (a, b), in (a, b) order. One int64 sort of a combined
    key (several times faster than a lexsort on two columns); lexsort only if it could overflow."""
    if a.size == 0:
        return np.zeros(0, dtype=np.int64)
    if int(a.max()) < (2**62) // max(b_size, 1):
        key = a * np.int64(b_size) + b
        order = np.argsort(key)
        key = key[order]
        first = np.ones(key.size, dtype=bool)
        first[1:] = key[1:] != key[:-1]
        return order[first]
    order = np.lexsort((b, a))
    first = np.ones(order.size, dtype=bool)
    first[1:] = (a[order][1:] != a[order][:-1]) | (b[order][1:] != b[order][:-1])
    return order[first]


def _starts(sorted_keys: np.ndarray) -> np.ndarray:
    """Where each run of equal values starts in a sorted array."""
    first = np.ones(sorted_keys.size, dtype=bool)
    first[1:] = sorted_keys[1:] != sorted_keys[:-1]
    return np.flatnonzero(first)


class _Detection:
    def __init__(self, cols: CommentColumns, window: float, min_posts: int, min_creators: int,
                 min_size: int, min_together: float, crowd_limit: int, false_links: float,
                 creator_handles: Mapping[str, uuid.UUID]) -> None:
        self.cols = cols
        self.window = int(window)  # whole seconds: comment times are second-precise
        self.min_posts = min_posts
        self.min_creators = min_creators
        self.min_size = min_size
        self.min_together = min_together
        self.crowd_limit = crowd_limit
        self.false_links = false_links
        self.creator_handles = creator_handles
        self.n_authors = len(cols.author_names)
        self.n_posts = int(cols.post_creator.size)
        self.n_creators = len(cols.creator_ids)
        self.chance_rate = 0.0  # the last run's estimate, for the benchmark and the curious
        # (author, post) of comments by creators' own accounts on other creators' posts.
        self._own_comments = (np.zeros(0, np.int64), np.zeros(0, np.int64))

    def pods(self) -> list[Pod]:
        c = self.cols
        authors, posts, times = c.authors, c.posts, c.times
        finite = np.isfinite(times)
        if not finite.all():
            authors, posts, times = authors[finite], posts[finite], times[finite]
        if authors.size == 0:
            return []
        reciprocal = self._reciprocal(authors, posts)

        # A necessary condition first, in O(n): min_posts comments; then the exact distinct posts
        # and creators per author over what is left (most organic commenters comment once).
        on_post = np.bincount(posts, minlength=self.n_posts)
        busy = np.bincount(authors, minlength=self.n_authors) >= self.min_posts
        keep = busy[authors] & (on_post[posts] <= self.crowd_limit)
        authors, posts, times = authors[keep], posts[keep], times[keep]
        inc = _unique_rows(authors, posts, self.n_posts)
        inc_a, inc_p = authors[inc], posts[inc]
        author_posts = np.bincount(inc_a, minlength=self.n_authors)
        ac = _unique_rows(inc_a, c.post_creator[inc_p], self.n_creators)
        author_creators = np.bincount(inc_a[ac], minlength=self.n_authors)
        eligible = (author_posts >= self.min_posts) & (author_creators >= self.min_creators)

        # Compact codes 0..m-1 for the eligible authors keep every pair key small.
        node_author = np.flatnonzero(eligible)
        code = np.cumsum(eligible) - 1
        keep = eligible[authors]
        keep_inc = eligible[inc_a]
        links, rows = self._co_comment_links(
            code[authors[keep]], posts[keep], times[keep], code[inc_a[keep_inc]], inc_p[keep_inc], node_author.size,
        )
        edges: dict[tuple[int, int], int] = {}
        for a, b, n in links:
            edges[(int(node_author[a]), int(node_author[b]))] = n
        for a, b, n in reciprocal:
            edges[(a, b)] = max(edges.get((a, b), 0), n)
        return self._describe(self._groups(edges), rows, node_author, reciprocal)

    def _co_comment_links(self, a, p, t, inc_a, inc_p, m):
        """Links (a, b, posts together), compact codes a < b, and every meeting they come from
        (lo, hi, post, gap in seconds; a pair meets once per pair of their comments)."""
        none = np.zeros(0, np.int64)
        if a.size < 2:
            return [], (none, none, none, none)
        ti = np.floor(t - t.min()).astype(np.int64)
        span = int(ti.max()) + 1
        if self.n_posts * span < 2**62:
            order = np.argsort(p * np.int64(span) + ti)
        else:
            order = np.lexsort((ti, p))
        # int32 halves the memory traffic of the loop's gathers (codes and seconds fit).
        small = max(m, self.n_posts, span) < 2**31
        a, p, ti = (x[order].astype(np.int32) if small else x[order] for x in (a, p, ti))
        n = a.size
        lo_parts, hi_parts, post_parts, gap_parts = [], [], [], []
        active = np.arange(n - 1, dtype=np.int64)
        k = 1
        # Sorted by time within a post: once comment i + k is out of the post or the window, so
        # is every later one. The active set only shrinks; the work is the number of pairs.
        while active.size:
            active = active[active < n - k]
            j = active + k
            within = (p[j] == p[active]) & (ti[j] - ti[active] <= self.window)
            active, j = active[within], j[within]
            other = a[active] != a[j]
            i2, j2 = active[other], j[other]
            ai, aj = a[i2], a[j2]
            lo_parts.append(np.minimum(ai, aj))
            hi_parts.append(np.maximum(ai, aj))
            post_parts.append(p[i2])
            gap_parts.append(ti[j2] - ti[i2])
            k += 1
        lo, hi = np.concatenate(lo_parts), np.concatenate(hi_parts)
        pp, gap = np.concatenate(post_parts), np.concatenate(gap_parts)
        if lo.size == 0:
            return [], (none, none, none, none)

        meetings = (lo, hi, pp, gap)

        # One row per (pair, post): a plain sort of one int64 key (the gaps are only needed for
        # the pods found, _describe takes them from the meetings).
        pair = lo.astype(np.int64) * np.int64(m) + hi
        if m * m * max(self.n_posts, 1) < 2**62:
            key = np.sort(pair * np.int64(self.n_posts) + pp)
            first = np.ones(key.size, dtype=bool)
            first[1:] = key[1:] != key[:-1]
            key = key[first]
            pair, pp = key // self.n_posts, key % self.n_posts
        else:
            distinct = _unique_rows(pair, pp, self.n_posts)
            pair, pp = pair[distinct], pp[distinct].astype(np.int64)

        # Per pair (rows are sorted by pair): posts together, then creators for the candidates.
        bounds = _starts(pair)
        together = np.diff(np.append(bounds, pair.size))
        cand = together >= self.min_posts
        in_cand = np.repeat(cand, together)
        cand_pairs = pair[bounds[cand]]
        cp, cc = pair[in_cand], self.cols.post_creator[pp[in_cand]]
        distinct = cp[_unique_rows(cp, cc, self.n_creators)]
        spread = np.diff(np.append(_starts(distinct), distinct.size))  # distinct is sorted by pair
        wide = spread >= self.min_creators
        cand_pairs, met = cand_pairs[wide], together[cand][wide]
        if cand_pairs.size == 0:
            return [], meetings

        ca, cb = cand_pairs // m, cand_pairs % m
        both = self._both(ca, cb, inc_a, inc_p, m)
        # The chance rate: distinct (pair, post) meetings within the window over all pairs of
        # distinct eligible commenters of one post.
        per_post = np.bincount(inc_p, minlength=self.n_posts).astype(np.int64)
        possible = float((per_post * (per_post - 1) // 2).sum())
        q = min(MAX_CHANCE_RATE, pair.size / possible) if possible else MAX_CHANCE_RATE
        self.chance_rate = q
        p_value = stats.binom.sf(met - 1, both, q)
        ok = (met >= self.min_together * both) & (p_value <= self.false_links / met.size)
        return list(zip(ca[ok].tolist(), cb[ok].tolist(), met[ok].tolist())), meetings

    def _both(self, ca, cb, inc_a, inc_p, m):
        """Posts on which each candidate pair both commented, at any time: the row-wise
        intersection of their (author x post) incidence rows."""
        incidence = sparse.csr_matrix(
            (np.ones(inc_a.size, dtype=np.int32), (inc_a, inc_p)), shape=(m, max(self.n_posts, 1)),
        )
        return np.asarray(incidence[ca].multiply(incidence[cb]).sum(axis=1)).ravel().astype(np.int64)

    def _reciprocal(self, authors, posts):
        """Links (a, b, posts) between the accounts of two creators who each commented on at
        least min_posts posts of the other (author codes a < b)."""
        if not self.creator_handles:
            return []
        c = self.cols
        creator_index = {cid: i for i, cid in enumerate(c.creator_ids)}
        handles = self.creator_handles
        # One pass over the author names (not the comments) finds the creators' own accounts.
        own = np.full(self.n_authors, -1, dtype=np.int64)
        for i, name in enumerate(c.author_names):
            if name in handles and handles[name] in creator_index:
                own[i] = creator_index[handles[name]]
        src = own[authors]
        mask = src >= 0
        mask[mask] = src[mask] != c.post_creator[posts[mask]]
        if not mask.any():
            return []
        ra, rp = authors[mask], posts[mask]
        inc = _unique_rows(ra, rp, self.n_posts)
        ra, rp = ra[inc], rp[inc]
        self._own_comments = (ra, rp)
        key = own[ra] * np.int64(self.n_creators) + c.post_creator[rp]
        directed, count = np.unique(key, return_counts=True)
        strong = count >= self.min_posts
        posts_of = dict(zip(directed[strong].tolist(), count[strong].tolist()))
        account = {int(ci): i for i, ci in enumerate(own.tolist()) if ci >= 0}
        links = []
        for k, n in posts_of.items():
            x, y = divmod(k, self.n_creators)
            back = posts_of.get(y * self.n_creators + x)
            if back is not None and x < y:
                a, b = sorted((account[x], account[y]))
                links.append((a, b, n + back))
        return links

    def _groups(self, edges: Mapping[tuple[int, int], int]) -> list[list[int]]:
        """Dense groups of the link graph: the (min_size - 1)-core, its components, and the
        Louvain communities of a sparse component. Nodes are names, inserted in sorted order, so
        the result does not depend on the codes the input's order gave them."""
        names = self.cols.author_names
        graph = nx.Graph()
        graph.add_edges_from(sorted(
            (min(names[a], names[b]), max(names[a], names[b]), {"weight": n}) for (a, b), n in edges.items()
        ))
        k = self.min_size - 1
        core = _sorted_graph(nx.k_core(_sorted_graph(graph), k))
        groups: list[list[str]] = []
        for component in sorted(sorted(c) for c in nx.connected_components(core)):
            if len(component) < self.min_size:
                continue
            sub = _sorted_graph(core.subgraph(component))
            # Louvain keeps a clique whole (any split of it lowers the modularity) and cuts two
            # pods joined by a few links apart.
            for community in nx.community.louvain_communities(sub, weight="weight", seed=LOUVAIN_SEED):
                inner = nx.k_core(_sorted_graph(core.subgraph(community)), k)
                groups.extend(sorted(part) for part in nx.connected_components(inner) if len(part) >= self.min_size)
        code = {names[x]: x for pair in edges for x in pair}
        return [[code[name] for name in g] for g in sorted(groups)]

    def _describe(self, groups, meetings, node_author, reciprocal) -> list[Pod]:
        c = self.cols
        pod_of = np.full(self.n_authors, -1, dtype=np.int64)
        for i, members in enumerate(groups):
            pod_of[members] = i
        # The meetings between members of one pod, one per (pair, post) with its smallest gap.
        lo, hi, pp, gap = meetings
        pod_of_node = pod_of[node_author]
        inside = (pod_of_node[lo] >= 0) & (pod_of_node[lo] == pod_of_node[hi])
        lo, hi, pp, gap = lo[inside], hi[inside], pp[inside], gap[inside]
        order = np.lexsort((gap, pp, hi, lo))
        lo, hi, pp, gap = lo[order], hi[order], pp[order], gap[order]
        first = np.ones(lo.size, dtype=bool)
        first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1]) | (pp[1:] != pp[:-1])
        row_pod, row_post, row_gap = pod_of_node[lo[first]], pp[first], gap[first]
        own_a, own_p = self._own_comments
        pods = []
        for i, members in enumerate(groups):
            mine = row_pod == i
            post_set = set(row_post[mine].tolist())
            own_creators = self._own_creators(members)
            own_posts = 0
            if own_creators:
                # Members' comments on the posts of the creators who are members themselves.
                on_own = np.isin(own_a, members) & np.isin(c.post_creator[own_p], sorted(own_creators))
                own_set = set(own_p[on_own].tolist())
                own_posts = len(own_set)
                post_set |= own_set
            post_arr = np.fromiter(post_set, dtype=np.int64, count=len(post_set))
            creators = sorted(c.creator_ids[x] for x in np.unique(c.post_creator[post_arr]).tolist())
            names = sorted(c.author_names[x] for x in members)
            mutual = sum(1 for a, b, _ in reciprocal if pod_of[a] == i and pod_of[b] == i)
            co_comments = int(mine.sum())
            pods.append(Pod(
                members=tuple(names), creators=tuple(creators), co_comments=co_comments, posts=len(post_set),
                evidence=self._evidence(names, creators, co_comments, len(post_set), row_gap[mine],
                                        len(own_creators), own_posts, mutual),
            ))
        pods.sort(key=lambda pod: (-pod.posts, -pod.co_comments, pod.members))
        return pods

    def _own_creators(self, members: list[int]) -> set[int]:
        """Creators (codes) whose own account is a member, when at least two are."""
        if not self.creator_handles:
            return set()
        index = {cid: i for i, cid in enumerate(self.cols.creator_ids)}
        own = {index[cid] for m in members
               if (cid := self.creator_handles.get(self.cols.author_names[m])) is not None and cid in index}
        return own if len(own) >= 2 else set()

    def _evidence(self, names, creators, co_comments, posts, gaps, own, own_posts, mutual) -> str:
        sentence = (
            f"{len(names)} accounts ({', '.join(names)}) commented within {self.window / 60:g} minutes of "
            f"each other on {posts} posts of {len(creators)} creators"
        )
        if gaps.size:
            sentence += f" ({co_comments} co-comments, median gap {np.median(gaps) / 60:.1f} minutes)"
        if own:
            sentence += (
                f"; {own} of them are creators and commented on each other's posts "
                f"({own_posts} posts, {mutual} mutual pairs)"
            )
        return sentence + "."


def _sorted_graph(graph: nx.Graph) -> nx.Graph:
    """The same graph with nodes and edges inserted in sorted order (Louvain and the core walk
    the insertion order, so this makes them independent of the input's order)."""
    out = nx.Graph()
    out.add_nodes_from(sorted(graph.nodes))
    out.add_edges_from(sorted((min(u, v), max(u, v), d) for u, v, d in graph.edges(data=True)))
    return out
