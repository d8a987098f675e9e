"""Hub steps the probe has no check for, run inside the login container with the probe's HubSession.

  start-progress USER   log in, ask for the server, read the spawn's progress events to their end
  stop USER             log in (or reuse the cookie jar), stop the server as the Stop button does

Password from $PROBE_PW; JSON on stdout.
"""

import importlib.machinery
import importlib.util
import json
import os
import sys
import time

PROBE = "/usr/local/bin/jupyter-edge-probe"


def load_probe():
    loader = importlib.machinery.SourceFileLoader("jupyter_edge_probe", PROBE)
    spec = importlib.util.spec_from_loader("jupyter_edge_probe", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def main() -> int:
    action, user, url, jar = sys.argv[1:5]
    probe = load_probe()
    hub = probe.HubSession(url, password=os.environ.get("PROBE_PW"), user=user, cookie_jar=jar, timeout=120)
    out = {"login": hub.hub_login()}
    api = f"hub/api/users/{user}/server"
    if action == "start-progress":
        start = hub.request("POST", api, body=b"{}", headers={"Content-Type": "application/json"})
        began = time.monotonic()
        progress = hub.request("GET", f"{api}/progress", headers={"Accept": "text/event-stream"})
        events = [
            json.loads(line[len("data:") :])
            for line in progress.body.decode("utf-8", "replace").splitlines()
            if line.startswith("data:")
        ]
        out |= {"start_status": start.status, "progress_status": progress.status, "events": events}
        out["seconds"] = round(time.monotonic() - began, 1)
    elif action == "stop":
        stop = hub.request("DELETE", api)
        began = time.monotonic()
        while time.monotonic() - began < 60:
            model = hub.request("GET", f"hub/api/users/{user}").json()
            if not (model.get("servers") or {}).get(""):
                break
            time.sleep(0.5)
        out |= {"stop_status": stop.status, "seconds": round(time.monotonic() - began, 1)}
        out["stopped"] = not (model.get("servers") or {}).get("")
    hub.save_jar()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
