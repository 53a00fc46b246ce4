"""indexes/health.md (``mirror.health_page = true``): which sources are current, for
readers and co-operators.

It is dated by the newest article, never by the clock or by the last check, and
it names no error text (an error can hold a proxy's or a server's address): so it
changes only when a source's state or its articles change, and a run that
fetched nothing new still makes no commit.
"""

from __future__ import annotations

from datetime import datetime

from newsmirror import layout
from newsmirror.config import Config
from newsmirror.render.archive import key_line
from newsmirror.render.labels import Labels, labels_for
from newsmirror.render.templating import render_template
from newsmirror.status import RATE_DAYS, SHORT_BODY, BodyWarning, feed_health
from newsmirror.store import Store


def render_health(config: Config, store: Store, newest: datetime | None, *, fingerprint: str = "") -> str:
    labels = labels_for(config.mirror.language)
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
                "warnings": [body_warning(labels, warning) for warning in feed.warnings],
            }
        )
    return render_template(
        "health.md.j2",
        L=labels,
        rows=rows,
        newest=newest,
        days=RATE_DAYS,
        mirrors=config.mirror.mirrors,
        key_line=key_line(fingerprint, config.mirror.language, layout.root(layout.HEALTH)),
    )


def body_warning(labels: Labels, warning: BodyWarning) -> str:
    """A warning about a source's bodies in the page's language."""
    words = {
        "empty": labels.health_empty,
        "short": labels.health_short,
        "links": labels.health_links,
        "shrank": labels.health_shrank,
    }[warning.kind]
    return words.format(
        count=warning.count, of=warning.of, median=warning.median, before=warning.before, chars=SHORT_BODY
    )
