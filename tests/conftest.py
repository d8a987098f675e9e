"""Make `ansible_collections.jupyter_edge.deploy` importable from this tree.

The collection's Python code imports its own helpers by fully qualified name,
as Ansible does at run time; a symlink under .build/ gives it that name.
"""

import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINK = ROOT / ".build" / "ansible_collections" / "jupyter_edge" / "deploy"

if not LINK.exists():
    LINK.parent.mkdir(parents=True, exist_ok=True)
    LINK.symlink_to(ROOT, target_is_directory=True)
    # pytest put .build on sys.path (pyproject.toml) before it existed, and the import
    # system remembered that it found nothing there: forget it, so a fresh clone works.
    sys.path_importer_cache.pop(str(ROOT / ".build"), None)
    importlib.invalidate_caches()
