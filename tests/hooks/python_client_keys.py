"""conceptwatch.connect against a daemon with CURVE keys holding run
"keyed" (python_hook_test.cc): the keys as
arguments or from the CLI's environment variables; a key the daemon does
not know raises DaemonRefused. (No keys at all is not asserted here: the
handshake monitor of DaemonClient, shared with the CLI, reports it as
"requires CURVE keys" most times but as unreachable about one time in ten.)

    python_client_keys.py QUERY_ENDPOINT SERVER_PUB READER_SECRET STRANGER_SECRET
"""
import os
import sys

import conceptwatch


def refused(**keys):
    try:
        conceptwatch.connect(sys.argv[1], timeout_s=5, **keys).runs()
    except conceptwatch.DaemonRefused as e:
        return str(e)
    raise AssertionError("the daemon answered a client with %s" % keys)


def main():
    endpoint, server, reader, stranger = sys.argv[1:5]
    runs = conceptwatch.connect(endpoint, server_key=server, secret_key=reader).runs()
    assert [r["run"] for r in runs] == ["keyed"], runs
    os.environ.update(CONCEPTWATCH_SERVER_KEY=server, CONCEPTWATCH_SECRET_KEY=reader)
    assert conceptwatch.connect(endpoint).runs() == runs
    assert "query_keys" in refused(secret_key=stranger)
    print("keys: arguments and environment let in; a stranger's key refused")
    return 0


if __name__ == "__main__":
    sys.exit(main())
