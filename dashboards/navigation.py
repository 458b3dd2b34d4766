"""The pages of the marketers' app in menu order. To add a page, write ``dashboards/views/<name>.py``
(a ``render()`` function, run under ``if __name__ == "__main__"``) and add one line here.

The folder is not called ``pages``: Streamlit would take a ``pages`` folder beside the app for its
older multipage mode and open a page without the app's navigation when its address is typed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

VIEWS_DIR = Path(__file__).parent / "views"


@dataclass(frozen=True)
class PageSpec:
    """A page: its file under ``dashboards/views/``, menu title, Material icon and menu section."""

    script: str
    title: str
    icon: str
    section: str

    @property
    def path(self) -> Path:
        return VIEWS_DIR / self.script

    @property
    def url_path(self) -> str:
        """The page's address under the app's root, e.g. ``zones`` for ``/zones``."""
        return Path(self.script).stem


PAGES: tuple[PageSpec, ...] = (
    PageSpec("overview.py", "Overview", ":material/monitoring:", "Stores"),
    PageSpec("zones.py", "Zone heatmap", ":material/grid_on:", "Stores"),
    PageSpec("demographics.py", "Demographics", ":material/groups:", "Shoppers"),
    PageSpec("inventory.py", "Inventory", ":material/inventory_2:", "Products"),
    PageSpec("ads.py", "Ads", ":material/campaign:", "Products"),
    PageSpec("live.py", "Live", ":material/sensors:", "Right now"),
)
