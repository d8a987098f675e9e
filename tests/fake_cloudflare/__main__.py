"""Run the fake Cloudflare API in the foreground: python -m fake_cloudflare --port N."""

import argparse
import json
import os
import signal
import sys

from .server import FakeCloudflare


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m fake_cloudflare", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="TCP port (0: any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--token", default="test-token", help="API token the fake accepts")
    parser.add_argument("--zone", action="append", default=[], help="zone to create at start (repeatable)")
    parser.add_argument("--per-page-max", type=int, default=None, help="largest per_page of list calls")
    parser.add_argument(
        "--publish-txt",
        metavar="URL",
        help="test hook: mirror the zones' TXT records to pebble-challtestsrv's management API at URL",
    )
    parser.add_argument("--state-file", help="write port, pid, url and token as JSON here once listening")
    args = parser.parse_args(argv)

    fake = FakeCloudflare(
        port=args.port, token=args.token, per_page_max=args.per_page_max, host=args.host, publish_txt=args.publish_txt
    )
    for zone in args.zone:
        fake.add_zone(zone)
    fake.start()
    if args.state_file:
        state = {"port": fake.port, "pid": os.getpid(), "url": fake.url, "token": args.token}
        tmp = args.state_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(state, handle)
        os.replace(tmp, args.state_file)
    print(f"fake Cloudflare API listening on {fake.url}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        fake._thread.join()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        fake.stop()
        if args.state_file and os.path.exists(args.state_file):
            os.remove(args.state_file)


if __name__ == "__main__":
    main()
