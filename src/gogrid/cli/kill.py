"""`gogrid kill RUN [--node PATH]`: stop a live run (or one node of it) in whichever process owns
the database, through its local channel. Everything inside stops; the record says who and why."""

from __future__ import annotations

import argparse
import getpass

from gogrid.cli._store import add_db_argument
from gogrid.cli.common import db_path, fail
from gogrid.store.client import NoOwner, RemoteError, request

COMMAND = "kill"
HELP = "kill a live run, or one node of it, from another terminal"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", metavar="RUN", help="run id (a unique prefix is enough)")
    p.add_argument("--node", metavar="PATH", help="kill only this node: its path below the run, or its name")
    p.add_argument("--reason", metavar="TEXT", default="killed from the command line", help="why (recorded)")
    add_db_argument(p)


def main(args: argparse.Namespace) -> int:
    db = db_path(args.db)
    try:
        reply = request(db, "kill", timeout=10.0, run=args.run, node=args.node, reason=args.reason, actor=f"cli:{_user()}")
    except NoOwner:
        return fail(f"no process owns {db}, so no run there is live (nothing to kill)", 1)
    except RemoteError as e:
        return fail(str(e), 1)
    if not reply.get("killed"):
        return fail(str(reply.get("message") or "nothing matched"), 1)
    print(f"killed {reply['killed']} (run {reply['run_id']}); ${reply.get('spent_usd', 0.0):.6f} spent so far")
    return 0


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"
