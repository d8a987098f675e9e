"""Certificates by ACME from Pebble, for nginx (notebook.acme.test) and Apache (lab.acme.test).

Pebble validated HTTP-01 through each proxy during the converge; molecule's idempotence
step converged a second time before these tests. Every HTTPS check verifies the served
chain against Pebble's root (fetched from its management API): no --insecure.

The last test switches lab.acme.test to DNS-01 on Cloudflare: certbot's dns-cloudflare
plugin against the fake Cloudflare API in Pebble's container, whose TXT records a second
Pebble resolves through pebble-challtestsrv (prepare.yml); then back to HTTP-01.
"""

import json

import pytest
from e2e.proxy_suite import converge_host, run_output
from e2e.verify import Probe, container, docker, journal, main_pid, record_counts, wait_until

testinfra_hosts = ["docker://notebook.acme.test", "docker://lab.acme.test"]

PASSWORD = "correct-horse-battery"
ROOTS = "/root/pebble-root.pem"
SERVICE = {"notebook.acme.test": "nginx", "lab.acme.test": "apache2"}
PREFIX = {"notebook.acme.test": "nginx_proxy", "lab.acme.test": "apache_proxy"}
WEBROOT = "/var/lib/jupyter-edge/acme"
PEBBLE_CA = ["--cacert", "/etc/pebble/ca.crt"]
CLOUDFLARE_TOKEN = "jupyter-edge-acme-dns01-token"  # noqa: S105 (the fake's, prepare.yml)
CLOUDFLARE_API = "http://pebble:8080/client/v4"
CREDENTIALS = "/etc/letsencrypt/jupyter-edge-cloudflare.ini"
DNS01 = {
    "acme_challenge": "dns-01",
    "acme_directory": "https://pebble:14001/dir",
    "acme_cloudflare_api_token": CLOUDFLARE_TOKEN,
    "acme_cloudflare_api_url": CLOUDFLARE_API,
    "acme_dns_propagation_seconds": 1,
}


def pebble(*args: str) -> str:
    """A command in Pebble's container (another machine than the proxy, as the CA is)."""
    return docker("exec", "pebble", *args).stdout.decode()


@pytest.fixture(scope="module")
def name(host):
    return container(host)


@pytest.fixture(scope="module")
def probe(host, name):
    # Pebble makes its issuing root at start: the one to trust is what its management API says.
    root = pebble("curl", "-sf", *PEBBLE_CA, "https://localhost:15000/roots/0")
    assert "BEGIN CERTIFICATE" in root
    docker("exec", "-i", name, "sh", "-c", f"cat > {ROOTS}", stdin=root.encode())
    return Probe(host, f"https://{name}/", password=PASSWORD, cafile=ROOTS)


def served_fingerprint(host, name) -> str:
    return host.check_output(
        f"echo | openssl s_client -connect 127.0.0.1:443 -servername {name} 2>/dev/null"
        " | openssl x509 -noout -fingerprint -sha256"
    )


def live_fingerprint(host, name) -> str:
    return host.check_output(f"openssl x509 -noout -fingerprint -sha256 -in /etc/letsencrypt/live/{name}/cert.pem")


def test_the_site_serves_pebbles_certificate_for_its_name(host, name, probe):
    assert served_fingerprint(host, name) == live_fingerprint(host, name)
    names = host.check_output(f"openssl x509 -noout -ext subjectAltName -in /etc/letsencrypt/live/{name}/cert.pem")
    assert names.split("\n", 1)[1].strip() == f"DNS:{name}", names
    issuer = host.check_output(f"openssl x509 -noout -issuer -in /etc/letsencrypt/live/{name}/cert.pem")
    assert "Pebble" in issuer, issuer
    # Verified against Pebble's root (the probe gets --cafile, never --insecure).
    assert probe.run("login")["logged_in"]
    seen = probe.run("kernel", "--code", "import socket; print(6*7, socket.gethostname())")
    assert seen["ws_status"] == 101 and seen["stdout"] == f"42 {name}\n", seen


def test_a_second_converge_did_not_ask_again(host, name):
    """molecule's idempotence step converged again: still the one certificate of the first order."""
    issued = host.check_output(f"ls /etc/letsencrypt/archive/{name}")
    assert issued.split() == ["cert1.pem", "chain1.pem", "fullchain1.pem", "privkey1.pem"], issued


def test_port_80_answers_the_challenge_and_redirects_the_rest(host, name, probe):
    token = "jupyter-edge-test-token"
    challenges = f"{WEBROOT}/.well-known/acme-challenge"
    host.run(f"mkdir -p {challenges} && echo {token}-content > {challenges}/{token}")
    try:
        # Fetched as the CA does: from another machine, by the public name, on port 80.
        got = pebble("curl", "-s", "-w", " %{http_code}", f"http://{name}/.well-known/acme-challenge/{token}")
        assert got == f"{token}-content\n 200", got
    finally:
        host.run(f"rm -f {challenges}/{token}")
    seen = probe.run("headers", "--path", "lab?x=1", url=f"http://{name}/")
    assert seen["status"] == 301 and seen["location"] == f"https://{name}/lab?x=1", seen


def test_keys_are_root_only_and_renewal_is_certbots_timer(host, name):
    key = host.file(f"/etc/ssl/jupyter-edge/acme/{name}.key")
    assert (key.user, key.group, key.mode) == ("root", "root", 0o600)
    archived = host.file(f"/etc/letsencrypt/archive/{name}/privkey1.pem")
    assert archived.user == "root" and archived.mode & 0o077 == 0
    timer = host.service("certbot.timer")
    assert timer.is_enabled and timer.is_running
    # The timer's certbot trusts the ACME server's CA (acme_ca_bundle) and runs the deploy hook.
    env = host.check_output("systemctl show -p Environment --value certbot.service")
    assert "REQUESTS_CA_BUNDLE=/etc/jupyter-edge/acme-ca-bundle.pem" in env, env
    renewal = host.file(f"/etc/letsencrypt/renewal/{name}.conf").content_string
    assert f"renew_hook = /usr/local/lib/jupyter-edge/acme-deploy-hook {SERVICE[name]}" in renewal, renewal
    assert "server = https://pebble:14000/dir" in renewal


def test_a_renewal_swaps_the_certificate_live(host, name, probe):
    """certbot renew (as the timer runs it, forced): new certificate served, same main PID, websockets kept."""
    release = "/root/.acme-renewal-release"
    host.run(f"rm -f {release} {release}.held")
    sessions = probe.start("sessions", "--count", "3", "--until", release, "--seconds", "240")
    try:
        wait_until(host, f"test -e {release}.held", 180)
        before, pid = served_fingerprint(host, name), main_pid(host, SERVICE[name])
        renew = host.run(
            "REQUESTS_CA_BUNDLE=/etc/jupyter-edge/acme-ca-bundle.pem"
            f" certbot renew --non-interactive --no-random-sleep-on-renew --force-renewal --cert-name {name}"
        )
        assert renew.rc == 0, renew.stdout + renew.stderr
        after = served_fingerprint(host, name)
        assert after != before and after == live_fingerprint(host, name)
        assert main_pid(host, SERVICE[name]) == pid, journal(host, SERVICE[name])
    finally:
        host.run(f"touch {release}")
    seen = Probe.finish(sessions)
    record_counts(
        f"acme renewal ({SERVICE[name]})",
        f"{seen.get('sessions')} sessions, {seen.get('executions')} executions ({seen.get('failed')} failed), "
        f"{seen.get('dropped')} dropped",
    )
    assert (seen["opened"], seen["dropped"], seen["failed"]) == (3, 0, 0), seen
    assert probe.run("kernel")["stdout"] == "42\n"


BAD = [
    ("notebook.acme.test", {"acme_email": ""}, "acme_email is '': nginx_proxy_tls_acme asks a CA"),
    ("notebook.acme.test", {"nginx_proxy_http_port": 8080}, "but nginx_proxy_http_port is 8080: the CA fetches"),
    (
        "notebook.acme.test",
        {"acme_challenge": "dns-01", "acme_cloudflare_api_token": ""},
        "acme_challenge is dns-01, but acme_cloudflare_api_token is empty",
    ),
    ("notebook.acme.test", {"acme_challenge": "tls-alpn-01"}, "acme_challenge"),
    ("lab.acme.test", {"acme_names": ["other.acme.test"]}, "The certificate would name other.acme.test (acme_names)"),
    ("lab.acme.test", {"apache_proxy_tls": False}, "apache_proxy_tls_acme asks a CA for the site's certificate"),
    ("lab.acme.test", {"acme_ca_bundle": "/nonexistent/ca.pem"}, "acme_ca_bundle is '/nonexistent/ca.pem'"),
]


@pytest.mark.parametrize(("platform", "bad", "message"), BAD, ids=[
    "no-email", "port-80-closed", "dns-01-no-token", "unknown-challenge", "foreign-name", "no-tls",
    "no-ca-bundle"])  # fmt: skip
def test_bad_input_fails_before_any_change(host, name, platform, bad, message):
    if name != platform:
        pytest.skip(f"runs on {platform}")
    before, pid = served_fingerprint(host, name), main_pid(host, SERVICE[name])
    run = converge_host(host, bad, tags=PREFIX[name])
    out = run_output(run)
    assert run.returncode != 0
    assert message in " ".join(out.split()), out[-3000:]
    assert "changed=0" in out, out[-3000:]
    assert served_fingerprint(host, name) == before and main_pid(host, SERVICE[name]) == pid


def renewal_params(host, name) -> dict:
    conf = host.file(f"/etc/letsencrypt/renewal/{name}.conf").content_string
    return dict(line.split(" = ", 1) for line in conf.splitlines() if " = " in line)


# Last: it changes the lineage the tests above look at.
def test_dns01_on_cloudflare_and_back(host, name):
    """dns-01: the TXT record goes through the (fake) Cloudflare API and is removed after; the DNS-01
    Pebble issues the certificate served; the token stays in a root-only file, out of the output."""
    if name != "lab.acme.test":
        pytest.skip("runs on lab.acme.test")
    run = converge_host(host, DNS01, tags=PREFIX[name])
    out = run_output(run)
    assert run.returncode == 0, out[-3000:]
    assert CLOUDFLARE_TOKEN not in out
    try:
        params = renewal_params(host, name)
        assert (params["authenticator"], params["server"]) == ("dns-cloudflare", DNS01["acme_directory"]), params
        assert params["dns_cloudflare_credentials"] == CREDENTIALS, params
        credentials = host.file(CREDENTIALS)
        assert (credentials.user, credentials.group, credentials.mode) == ("root", "root", 0o600)
        assert credentials.content_string.strip().endswith(f"dns_cloudflare_api_token = {CLOUDFLARE_TOKEN}")
        env = host.check_output("systemctl show -p Environment --value certbot.service")
        assert f"CLOUDFLARE_API_URL={CLOUDFLARE_API}" in env, env
        # Served, and verified against the DNS-01 Pebble's own root.
        root = pebble("curl", "-sf", *PEBBLE_CA, "https://localhost:15001/roots/0")
        docker("exec", "-i", name, "sh", "-c", "cat > /root/pebble-dns-root.pem", stdin=root.encode())
        served = host.run(
            f"echo | openssl s_client -connect 127.0.0.1:443 -servername {name} -verify_hostname {name}"
            " -CAfile /root/pebble-dns-root.pem -verify_return_error"
        )
        assert "Verify return code: 0 (ok)" in served.stdout, served.stdout + served.stderr
        assert served_fingerprint(host, name) == live_fingerprint(host, name)
        # certbot created the TXT record and deleted it through the API: none is left.
        state = json.loads(pebble("curl", "-sf", "http://127.0.0.1:8080/__fake__/state"))
        assert [r for r in state["records"]["acme.test"] if r["name"].startswith("_acme-challenge.")] == []
        writes = [(r["method"], r["status"]) for r in state["requests"] if "/dns_records" in r["path"]]
        assert ("POST", 200) in writes and ("DELETE", 200) in writes, writes
    finally:
        back = converge_host(host, {}, tags=PREFIX[name])
    assert back.returncode == 0, run_output(back)[-3000:]
    # Back to HTTP-01 by the first Pebble: a new order, and the token is gone from the host.
    params = renewal_params(host, name)
    assert (params["authenticator"], params["server"]) == ("webroot", "https://pebble:14000/dir"), params
    assert not host.file(CREDENTIALS).exists
    assert served_fingerprint(host, name) == live_fingerprint(host, name)
