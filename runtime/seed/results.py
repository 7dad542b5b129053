"""What a seed made (`Loaded`: the platform's ids by the world's keys, counts) and what is written
from it: the summary table, the ground truth beside the seed and the brands' keys."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from rich.table import Table

from runtime.seed.plan import World


@dataclass
class Loaded:
    """What the seed made: ids by the world's keys, and counts for the summary."""

    creator_ids: dict[str, str] = field(default_factory=dict)
    brand_keys: list[dict] = field(default_factory=list)  # {"name", "tenant_id", "key"}
    campaign_ids: list[list[str]] = field(default_factory=list)
    click_ids: dict[int, str] = field(default_factory=dict)
    slugs: dict[tuple[int, int, str], str] = field(default_factory=dict)  # (brand, campaign, creator key) → slug
    last_click: float = 0.0
    audits: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n


def summary(world: World, loaded: Loaded) -> Table:
    table = Table(title=f"Limelight demo world (seed {world.seed})")
    table.add_column("what")
    table.add_column("count", justify="right")
    for name, count in loaded.counts.items():
        if not name.startswith("_"):
            table.add_row(name, f"{count:,}")
    truth = world.truth()
    for kind, keys in truth["creator_fraud"].items():
        table.add_row(f"planted: {kind.replace('_', ' ')} (creators)", f"{len(keys):,}")
    for kind, numbers in truth["order_fraud"].items():
        table.add_row(f"planted: {kind.replace('_', ' ')} (orders)", f"{len(numbers):,}")
    return table


def write_truth(world: World, loaded: Loaded, path: Path) -> None:
    """The ground truth, with the ids the platform gave (keys are not in it: see write_keys)."""
    truth = world.truth()
    truth["creator_ids"] = loaded.creator_ids
    truth["campaign_ids"] = loaded.campaign_ids
    truth["workspaces"] = [{"name": b["name"], "tenant_id": b["tenant_id"]} for b in loaded.brand_keys]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(truth, indent=1, sort_keys=True, default=str) + "\n")


def write_keys(loaded: Loaded, path: Path) -> None:
    """The brands' API keys, readable by this user only (they are secrets)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(loaded.brand_keys, out, indent=1)
        out.write("\n")
