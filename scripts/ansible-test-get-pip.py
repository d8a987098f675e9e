"""Stand-in for ansible-test's pip bootstrap script, used by scripts/sanity.sh.

ansible-test downloads get-pip from ci-files.testing.ansible.com, which cannot be
reached from here. This gives the new virtual environment pip from the interpreter's own
ensurepip, then the pip version ansible-test asks for, from the package index (get-pip's
--no-setuptools and --no-wheel are dropped: ensurepip's setuptools stays). pip trusts
Debian's CA bundle, which holds the host's extra CAs (a TLS-intercepting egress).
"""

import ensurepip
import os
import subprocess
import sys

BUNDLE = "/etc/ssl/certs/ca-certificates.crt"

ensurepip.bootstrap()
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
cert = ["--cert", BUNDLE] if os.path.exists(BUNDLE) else []
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--upgrade", *cert, *args]))
