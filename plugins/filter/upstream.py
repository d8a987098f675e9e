# Where the single-user Jupyter server listens: one rule for the jupyter role, the proxy roles and the doctor.
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``jupyter_socket | jupyter_edge.deploy.jupyter_socket(inventory_hostname, groups, jupyter_ip)``,
``path | jupyter_edge.deploy.jupyter_upstream(jupyter_port)``,
``jupyter_ip | jupyter_edge.deploy.jupyter_local_url(port)``.

A unix socket instead of TCP when nginx or Apache runs on the same host as Jupyter: no
TCP port at all, so no Nagle and no delayed ACK on the proxy's side, and nothing but
the proxy's group can reach the server.
"""

from __future__ import annotations

from ansible_collections.jupyter_edge.deploy.plugins.test.validators import ip_address, loopback

# The jupyter role's socket when jupyter_socket is auto or true. The directory is persistent
# (not /run), so that every supervisor (systemd, upstart, cron @reboot) finds it after a reboot.
DEFAULT_SOCKET = "/var/lib/jupyter-edge/sockets/jupyter.sock"
_OFF = ("", "false", "no", "off", "0", "none")
_ON = ("true", "yes", "on", "1")


def jupyter_socket(setting, hostname: str = "", groups: dict | None = None, jupyter_ip: str = "127.0.0.1") -> str:
    """The socket path Jupyter listens on, or '' for TCP.

    auto: a socket when this host is in both inventory groups jupyter and proxy (site.yml's
    single-host topology: the front proxy beside Jupyter) and jupyter_ip is loopback (a
    Jupyter put on the network for other hosts stays on TCP). true: the default socket;
    false: TCP; an absolute path: that socket.
    """
    groups = groups or {}
    value = setting if isinstance(setting, str) else ("true" if setting is True else "false" if not setting else "")
    text = value.strip()
    if text.lower() == "auto":
        beside = hostname in groups.get("jupyter", []) and hostname in groups.get("proxy", [])
        return DEFAULT_SOCKET if beside and loopback(jupyter_ip or "127.0.0.1") else ""
    if text.lower() in _OFF:
        return ""
    if text.lower() in _ON:
        return DEFAULT_SOCKET
    if text.startswith("/") and not text.endswith("/") and " " not in text and len(text) < 100:
        return text
    # A plain ValueError: Ansible reports it as the filter's failure, with this message.
    raise ValueError(
        f"jupyter_socket is {setting!r}: use auto (a unix socket when the front proxy runs on the same host), "
        f"false (TCP on jupyter_ip:jupyter_port), true ({DEFAULT_SOCKET}) or an absolute path of under 100 characters."
    )


def jupyter_upstream(socket_path: str, port=8888) -> str:
    """The proxy roles' upstream for the Jupyter on this host: unix:<path>, or http://127.0.0.1:<port>."""
    return f"unix:{socket_path}" if socket_path else f"http://127.0.0.1:{int(port)}"


def jupyter_local_url(jupyter_ip: str = "127.0.0.1", port=8888) -> str:
    """Where a client on Jupyter's own host reaches it over TCP (a wildcard address by loopback)."""
    address = jupyter_ip if jupyter_ip and jupyter_ip not in ("0.0.0.0", "::") else "127.0.0.1"  # noqa: S104
    if ip_address(address) and ":" in address:
        address = f"[{address}]"
    return f"http://{address}:{int(port)}"


class FilterModule:
    def filters(self):
        return {
            "jupyter_socket": jupyter_socket,
            "jupyter_upstream": jupyter_upstream,
            "jupyter_local_url": jupyter_local_url,
        }
