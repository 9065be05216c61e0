"""What every client script shares: its arguments, paging and its output.

A client script acquires a token with one Microsoft library, calls each API
named on its command line and follows @odata.nextLink through every page,
as a script using that library would. It prints one JSON object on stdout:
{"library": ..., "apis": {NAME: {"pages": [{"url", "status", "body"}]}}}
(a page that could not be fetched has status 0 and "error" instead of a body),
or {"library": ..., "error": ...} and exits 1. It never prints a token.

Arguments: --authority-host https://HOST:PORT --tenant T --client-id ID
and one --api NAME SCOPE URL per API. The client secret is read from the
environment variable XDRPROXY_INTEROP_CLIENT_SECRET, so that it does not
show in the process list. The CA to trust comes from REQUESTS_CA_BUNDLE,
as for any script built on requests.
"""

import argparse
import json
import os
import sys

import requests

# MAX_PAGES bounds a paging loop that a wrong link would make endless.
MAX_PAGES = 100


def parse_args():
    """Returns the command line's settings and the client secret."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--authority-host", required=True)
    p.add_argument("--tenant", required=True)
    p.add_argument("--client-id", required=True)
    p.add_argument("--api", nargs=3, action="append", required=True,
                   metavar=("NAME", "SCOPE", "URL"))
    args = p.parse_args()
    secret = os.environ.get("XDRPROXY_INTEROP_CLIENT_SECRET", "")
    if not secret:
        p.error("XDRPROXY_INTEROP_CLIENT_SECRET is not set")
    return args, secret


def follow(first_url, token):
    """Gets first_url with the bearer token, then each @odata.nextLink as
    the server wrote it, and returns the pages."""
    pages, url = [], first_url
    with requests.Session() as s:
        while url and len(pages) < MAX_PAGES:
            try:
                r = s.get(url, headers={"Authorization": "Bearer " + token}, timeout=30)
            except requests.RequestException as e:
                pages.append({"url": url, "status": 0, "error": "%s: %s" % (type(e).__name__, e)})
                break
            try:
                body = r.json()
            except ValueError:
                body = r.text
            pages.append({"url": url, "status": r.status_code, "body": body})
            if r.status_code != 200 or not isinstance(body, dict):
                break
            url = body.get("@odata.nextLink")
    return pages


def run(library, get_token):
    """Runs a client: get_token(args, secret, scope) returns an access
    token or raises; each API is then paged through with it."""
    args, secret = parse_args()
    out = {"library": library, "apis": {}}
    try:
        for name, scope, url in args.api:
            token = get_token(args, secret, scope)
            out["apis"][name] = {"pages": follow(url, token)}
    except Exception as e:  # report any library failure as JSON
        json.dump({"library": library, "error": "%s: %s" % (type(e).__name__, e)}, sys.stdout)
        sys.exit(1)
    json.dump(out, sys.stdout)
