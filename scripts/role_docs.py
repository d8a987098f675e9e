#!/usr/bin/env python3
"""Render the collection's reference into README.md, each part between its markers.

- role variables, from every role's meta/argument_specs.yml;
- modules, from the DOCUMENTATION, EXAMPLES and RETURN strings of plugins/modules/*.py
  (read with ast: nothing is imported) and the doc fragments they extend.

scripts/role_docs.py          rewrite the sections between the markers
scripts/role_docs.py --check  exit 1 when README.md is out of date
"""

import ast
import importlib.util
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
COLLECTION = "jupyter_edge.deploy"

# Ansible documentation markup -> Markdown. Text in O(), V(), RV() may carry a
# plugin prefix (O(ignore:mode), O(ns.coll.module#module:opt)), which is dropped.
MACRO = re.compile(r"(?<![A-Za-z0-9_])(HORIZONTALLINE|RV|[BCEILMOPRUV])\(")
CODE = {"C", "E", "M", "O", "P", "RV", "V"}


def _markup_arg(name: str, arg: str) -> str:
    if name in ("O", "RV"):
        arg = arg.split(":", 1)[1] if re.match(r"^[\w.#]+:", arg) else arg
    if name == "P":
        arg = arg.split("#", 1)[0]
    if name in CODE:
        return f"`{arg}`"
    if name == "B":
        return f"**{arg}**"
    if name == "I":
        return f"*{arg}*"
    if name == "L":
        text, _, url = arg.rpartition(",")
        return f"[{text.strip()}]({url.strip()})"
    if name == "R":
        return arg.rpartition(",")[0].strip()
    return arg  # U(url): GitHub links bare URLs


def markup(text: str) -> str:
    """Converts B() C() I() L() M() O() P() R() RV() U() V() E(); parentheses nest."""
    out, pos = [], 0
    for match in MACRO.finditer(text):
        if match.start() < pos:
            continue
        if match.group(1) == "HORIZONTALLINE":
            out += [text[pos : match.start()], "---"]
            pos = match.end() - 1  # the "(" is not part of it
            continue
        depth, end = 1, match.end()
        while end < len(text) and depth:
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            end += 1
        if depth:
            continue  # unbalanced: leave it as written
        out += [text[pos : match.start()], _markup_arg(match.group(1), text[match.end() : end - 1])]
        pos = end
    out.append(text[pos:])
    # Outside code spans, a "<word" would be taken for an HTML tag.
    parts = "".join(out).split("`")
    return "`".join(part if i % 2 else re.sub(r"<(?=[A-Za-z/!?])", "&lt;", part) for i, part in enumerate(parts))


def literal(value) -> str:
    return "`" + yaml.safe_dump(value, default_flow_style=True, width=10**6).strip().removesuffix("...").strip() + "`"


def cell(text) -> str:
    text = " ".join(text) if isinstance(text, list) else str(text)
    return markup(text).replace("|", "\\|").replace("\n", " ").strip()


def type_of(entry: dict, default: str = "") -> str:
    return entry.get("type", default) + (f" of {entry['elements']}" if entry.get("elements") else "")


def options_table(options: dict, label: str) -> list[str]:
    """One row per option: name, type (with elements and choices), default or (required), description."""
    lines = [f"| {label} | Type | Default | Description |", "|---|---|---|---|"]
    for name, option in options.items():
        default = literal(option["default"]) if "default" in option else ""
        if option.get("required"):
            default = "(required)"
        kind = type_of(option, "str")
        if option.get("choices"):
            kind += " (" + ", ".join(map(str, option["choices"])) + ")"
        description = cell(option.get("description", ""))
        if option.get("aliases"):
            description += " Aliases: " + ", ".join(f"`{alias}`" for alias in option["aliases"]) + "."
        lines.append(f"| `{name}` | {kind} | {cell(default)} | {description} |")
    return lines


def role_section(role_dir: Path) -> str:
    spec = yaml.safe_load((role_dir / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]
    lines = [f"### Role `{role_dir.name}`", "", cell(spec.get("short_description", "")), ""]
    return "\n".join(lines + options_table(spec.get("options", {}), "Variable"))


def render_roles() -> str:
    roles = sorted(p for p in (ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").exists())
    return "\n\n".join(role_section(r) for r in roles)


def strings(path: Path) -> dict[str, str]:
    """The string constants assigned in a Python file (DOCUMENTATION, EXAMPLES, RETURN, ...)."""
    found = {}
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            found.update({t.id: node.value.value for t in node.targets if isinstance(t, ast.Name)})
    return found


def fragment(name: str) -> dict:
    """The parsed YAML of a name in extends_documentation_fragment ({} when not found here)."""
    namespace, collection_name, fragment_name, *variable = name.split(".")
    collection, variable = f"{namespace}.{collection_name}", "".join(variable)
    if collection == COLLECTION:
        path = ROOT / "plugins" / "doc_fragments" / f"{fragment_name}.py"
    elif collection in ("ansible.builtin", "ansible.legacy"):
        # ansible-core's own fragments, located without importing ansible.
        path = Path(importlib.util.find_spec("ansible").origin).parent / "plugins" / "doc_fragments"
        path = path / f"{fragment_name}.py"
    else:
        return {}
    return yaml.safe_load(strings(path)[variable.upper() or "DOCUMENTATION"]) or {}


def details(summary: str, body: list[str]) -> list[str]:
    return ["<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>"]


def with_fragments(doc: dict) -> tuple[dict, dict, list[str]]:
    """Options (this collection's fragments merged in), attributes, and ansible-core fragments' option lists."""
    options, attributes, shared = dict(doc.get("options", {})), {}, []
    names = doc.get("extends_documentation_fragment", [])
    for name, extra in [*((n, fragment(n)) for n in names), ("", doc)]:
        for key, value in extra.get("attributes", {}).items():
            attributes[key] = {**attributes.get(key, {}), **value}
        more = {k: v for k, v in extra.get("options", {}).items() if k not in options}
        if name.startswith(COLLECTION + "."):
            options.update(more)
        elif more:
            shared.append(f"`{name}` (" + ", ".join(f"`{k}`" for k in sorted(more)) + ")")
    return options, attributes, shared


def module_section(path: Path) -> str:
    source = strings(path)
    doc = yaml.safe_load(source["DOCUMENTATION"])
    options, attributes, shared = with_fragments(doc)
    fqcn = f"{COLLECTION}.{doc['module']}"
    lines = [f"### Module `{doc['module']}`", "", f"**{cell(doc['short_description'])}**", ""]
    for paragraph in doc.get("description", []):
        lines += [cell(paragraph), ""]
    if doc.get("requirements"):
        lines += ["Requirements: " + "; ".join(cell(r) for r in doc["requirements"]), ""]
    lines += options_table(options, "Option")
    if shared:
        lines += ["", f"Also the common options of {', '.join(shared)}; see `ansible-doc {fqcn}`."]
    if attributes:
        lines += ["", "| Attribute | Support | Details |", "|---|---|---|"]
        for name, attribute in attributes.items():
            platforms = attribute.get("platforms")
            support = ", ".join([platforms] if isinstance(platforms, str) else platforms) if platforms else ""
            support = support or attribute.get("support", "")
            text = attribute.get("details") or attribute.get("description") or ""
            lines.append(f"| {name} | {support} | {cell(text)} |")
    if doc.get("notes"):
        lines += ["", "Notes:", ""] + [f"- {cell(note)}" for note in doc["notes"]]
    if doc.get("seealso"):
        see = []
        for item in doc["seealso"]:
            if "module" in item:
                see.append(f"`{item['module']}`")
            elif "link" in item:
                see.append(f"[{item['name']}]({item['link']})")
        lines += ["", "See also: " + ", ".join(see) + "."]
    lines += [""] + details("Examples", ["```yaml", source["EXAMPLES"].strip("\n"), "```"])
    returned = yaml.safe_load(source.get("RETURN") or "") or {}
    if returned:
        table = ["| Key | Type | Returned | Description |", "|---|---|---|---|"]
        for key, value in returned.items():
            description = cell(value.get("description", ""))
            if "sample" in value:
                description += " Sample: " + cell(literal(value["sample"]))
            table.append(f"| `{key}` | {type_of(value)} | {cell(value.get('returned', ''))} | {description} |")
        lines += [""] + details("Return values", table)
    return "\n".join(lines)


def render_modules() -> str:
    modules = sorted((ROOT / "plugins" / "modules").glob("[!_]*.py"))
    return "\n\n".join(module_section(m) for m in modules)


# Each section sits between <!-- BEGIN <WHAT> (scripts/role_docs.py) --> and <!-- END <WHAT> -->.
SECTIONS = {"role variables": render_roles, "modules": render_modules}


def main() -> int:
    text = new = README.read_text()
    stale = []
    for what, render in SECTIONS.items():
        begin, end = f"<!-- BEGIN {what.upper()} (scripts/role_docs.py) -->", f"<!-- END {what.upper()} -->"
        head, rest = new.split(begin, 1)
        old, tail = rest.split(end, 1)
        body = f"\n\n{render()}\n\n"
        if body != old:
            stale.append(what)
        new = f"{head}{begin}{body}{end}{tail}"
    if "--check" in sys.argv:
        if new != text:
            print(f"README.md {' and '.join(stale)} out of date: run scripts/role_docs.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
