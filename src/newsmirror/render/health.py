"""indexes/health.md (``mirror.health_page = true``): which sources are current, for
readers and co-operators.

It is dated by the newest article, never by the clock or by the last check, and
it names no error text (an error can hold a proxy's or a server's address): so it
changes only when a source's state or its articles change, and a run that
fetched nothing new still makes no commit.
"""

from __future__ import annotations

from datetime import datetime

from newsmirror.config import Config
from newsmirror.render.labels import labels_for
from newsmirror.render.templating import render_template
from newsmirror.status import RATE_DAYS, feed_health
from newsmirror.store import Store


def render_health(config: Config, store: Store, newest: datetime | None) -> str:
    names = {(s.id, c.id): (s.name, c.name) for s in config.sites for c in s.channels}
    rows = []
    for feed in feed_health(config, store, newest) if newest else []:
        site_name, channel_name = names[(feed.site, feed.channel)]
        rows.append(
            {
                "source": f"{site_name} · {channel_name}",
                "failing": feed.failing,
                "never": feed.last_success is None,
                "last_success": feed.last_success,
                "per_day": feed.items_per_day,
                "stored": feed.stored,
                "warnings": feed.warnings,
            }
        )
    return render_template(
        "health.md.j2",
        L=labels_for(config.mirror.language),
        rows=rows,
        newest=newest,
        days=RATE_DAYS,
        mirrors=config.mirror.mirrors,
    )
