#!/usr/bin/env bash
# ansible-test sanity (validate-modules, pylint, yamllint, compile, import, ansible-doc,
# runtime-metadata, ...) on what the collection ships: plugins/, roles/, meta/, playbooks/.
# The harness (tests/, molecule/, bench/, scripts/) is linted by ruff and yamllint instead.
# ansible-test wants the collection at ansible_collections/<namespace>/<name>/: the tracked
# files are copied there, outside this clone (inside it, ansible-test would list the files
# with git, which ignores .build/). Its test environments stay under ~/.ansible/test as usual.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(mktemp -d /var/tmp/jupyter-edge-sanity.XXXXXX)
trap 'rm -rf "$root"' EXIT
dest=$root/ansible_collections/jupyter_edge/deploy
mkdir -p "$dest"
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$dest"
# Its pip bootstrap script comes from a host that cannot be reached here (see the script).
bootstrap=$(python3 -c 'import os; print(os.path.expanduser("~/.ansible/test/cache"))')
mkdir -p "$bootstrap"
for version in 24.2; do
  [ -f "$bootstrap/get_pip_${version//./_}.py" ] || cp scripts/ansible-test-get-pip.py "$bootstrap/get_pip_${version//./_}.py"
done
cd "$dest"
ansible-test sanity --python "$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')" --local \
  plugins/ roles/ meta/ playbooks/ 2>&1 | grep -v -e '^WARNING: Location' -e '^Looking in' -e 'Using locale'
