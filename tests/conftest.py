"""Make `ansible_collections.jupyter_edge.deploy` importable from this tree.

The collection's Python code imports its own helpers by fully qualified name,
as Ansible does at run time; a symlink under .build/ gives it that name.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINK = ROOT / ".build" / "ansible_collections" / "jupyter_edge" / "deploy"

if not LINK.exists():
    LINK.parent.mkdir(parents=True, exist_ok=True)
    LINK.symlink_to(ROOT, target_is_directory=True)
