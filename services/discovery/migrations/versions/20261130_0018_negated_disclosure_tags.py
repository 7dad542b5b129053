"""posts.sponsored: a disclosure tag right after a negation ("not #ad") no longer counts

Ingest marked a post sponsored when any of its hashtags was a disclosure tag, so "Not #ad, I
bought these myself" counted as a sponsored post in mentions, the `sponsored_only` filter and
brand fit's competitor factor. Ingest now reads the caption as the audit's disclosure scan reads
labels (services/discovery/creator/text.py `is_sponsored`); this migration judges again the
stored posts that could be affected: those marked sponsored by a tag alone whose caption holds a
negation right before a disclosure tag. The rule is copied here as it stood, so that the
migration means the same thing whatever the service's code later becomes.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 08:20:00
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TAGS = frozenset({
    "ad", "ads", "advert", "advertisement", "advertising", "sponsored", "paidpartnership", "paidpartner",
    "werbung", "anzeige", "publicite", "publicité", "publicidad", "pubblicità", "pubblicita", "publi",
    "reklame", "reklama", "partenariat", "collaborationcommerciale", "gesponsert",
})
HASHTAG = re.compile(r"(?<![\w#])#(\w[\w]{0,99})", re.UNICODE)
NEGATION = re.compile(r"(?:\bnot|\bnon|\bnicht|\bkeine?|\bpas|\bno|\bsin)[\s-]+$", re.IGNORECASE)
# What PostgreSQL can pick the candidates with (case-insensitively): a negation word, then a
# hashtag within the rule's 8 characters. Wider than the rule (any character between, not only
# Python's Unicode spaces, which PostgreSQL's [[:space:]] does not all hold, such as U+00A0);
# Python judges each candidate with the rule itself.
CANDIDATE = r"\m(not|non|nicht|keine?|pas|no|sin)[^#]{1,8}#"


def sponsored(tags: list[str], caption: str) -> bool:
    disclosed = {tag for tag in tags if tag in TAGS}
    written: set[str] = set()
    for match in HASHTAG.finditer(caption):
        tag = match.group(1).lower()
        if tag not in disclosed:
            continue
        written.add(tag)
        if not NEGATION.search(caption, max(0, match.start() - 8), match.start()):
            return True
    return bool(disclosed - written)


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, hashtags, caption FROM discovery.posts"
        " WHERE sponsored AND NOT paid_partnership AND caption ~* :candidate"
    ), {"candidate": CANDIDATE}).all()
    taken_back = [row.id for row in rows if not sponsored(list(row.hashtags or ()), row.caption)]
    if taken_back:
        bind.execute(
            sa.text("UPDATE discovery.posts SET sponsored = false WHERE id = ANY(:ids)"), {"ids": taken_back}
        )


def downgrade() -> None:
    # The earlier rule: any disclosure tag among the hashtags, whatever came before it.
    op.execute(
        "UPDATE discovery.posts SET sponsored = true WHERE NOT sponsored AND hashtags && ARRAY["
        + ", ".join(f"'{tag}'" for tag in sorted(TAGS)) + "]::varchar[]"
    )
