#!/usr/bin/env python3
"""Render every role's variables from its meta/argument_specs.yml into README.md.

scripts/role_docs.py          rewrite the section between the markers
scripts/role_docs.py --check  exit 1 when README.md is out of date
"""

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BEGIN = "<!-- BEGIN ROLE VARIABLES (scripts/role_docs.py) -->"
END = "<!-- END ROLE VARIABLES -->"


def literal(value) -> str:
    return "`" + yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip() + "`"


def cell(text) -> str:
    text = " ".join(text) if isinstance(text, list) else str(text)
    return text.replace("|", "\\|").replace("\n", " ").strip()


def role_section(role_dir: Path) -> str:
    spec = yaml.safe_load((role_dir / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]
    lines = [f"### Role `{role_dir.name}`", "", cell(spec.get("short_description", "")), ""]
    lines += ["| Variable | Type | Default | Description |", "|---|---|---|---|"]
    for name, option in spec.get("options", {}).items():
        default = "(required)" if option.get("required") else literal(option.get("default"))
        kind = option.get("type", "str") + (f" of {option['elements']}" if option.get("elements") else "")
        if option.get("choices"):
            kind += " (" + ", ".join(map(str, option["choices"])) + ")"
        lines.append(f"| `{name}` | {kind} | {cell(default)} | {cell(option.get('description', ''))} |")
    return "\n".join(lines)


def render() -> str:
    roles = sorted(p for p in (ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").exists())
    return "\n\n".join(role_section(r) for r in roles)


def main() -> int:
    text = README.read_text()
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{BEGIN}\n\n{render()}\n\n{END}{tail}"
    if "--check" in sys.argv:
        if new != text:
            print("README.md role variables are out of date: run scripts/role_docs.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
