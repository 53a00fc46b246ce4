"""The demo mirror (`newsmirror demo`): a config and a local bare remote for the sample sites, in one folder.

DEMO/newsmirror.toml   the config, pointing at the sample sites being served
DEMO/newsmirror.db     the store
DEMO/mirror/           the output tree
DEMO/remote.git        the bare repository it is published to (the stand-in for GitHub)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from newsmirror.config import DEFAULT_CONFIG, Config, parse_config
from newsmirror.demosite.server import DemoSite
from newsmirror.publish import init_bare
from newsmirror.signing import generate_key


@dataclass(frozen=True, slots=True)
class DemoMirror:
    folder: Path
    config_path: Path
    config: Config
    remote: Path

    @property
    def home(self) -> Path:
        """The output tree's home page: where a reader starts."""
        return self.config.output_dir / "README.md"


# What the demo turns on beyond the defaults, to show it: the HTML site with its search, the copy in
# traditional script, and the offline bundles (ZIM, EPUBs) of both in the tree.
SHOWCASE = """\
html = true
search = true
variants = ["zh-Hant"]
bundles = ["zim", "epub"]
"""


def prepare_demo(site: DemoSite, folder: Path) -> DemoMirror:
    """The demo's folder with its config (rewritten only when it changes, so a second demo run
    changes nothing) and its bare remote, ready for a sync, build and publish."""
    folder = folder.resolve()
    remote = folder / "remote.git"
    text = site.config_toml(output="mirror", store="newsmirror.db").replace("[mirror]\n", f"[mirror]\n{SHOWCASE}", 1)
    text += f'\n[[remote]]\nname = "local"\nurl = "{remote.as_posix()}"\n'
    config_path = folder / DEFAULT_CONFIG
    config = parse_config(text, str(config_path), folder)
    folder.mkdir(parents=True, exist_ok=True)
    if not config_path.exists() or config_path.read_text("utf-8") != text:
        config_path.write_text(text, "utf-8")
    init_bare(remote, config.mirror.branch)
    if not config.signing_key_path.exists():  # the demo mirror is signed too, with its own key beside its config
        generate_key(config.signing_key_path, "newsmirror demo")
    return DemoMirror(folder, config_path, config, remote)
