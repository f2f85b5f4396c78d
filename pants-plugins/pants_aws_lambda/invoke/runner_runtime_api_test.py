"""The runner's Lambda Runtime API (`runner_runtime_api.py`), spoken to over HTTP as the runtime
client does."""

from __future__ import annotations

import http.client
import json
import threading
import time

from pants_aws_lambda.invoke.runner_runtime_api import RuntimeApi


def test_runtime_api_answers_as_the_real_one() -> None:
    """HTTP/1.1, `Content-Length` on every response, every header of `next`: what awslambdaric
    needs (it crashes on less)."""
    api = RuntimeApi("arn:aws:lambda:r:1:function:f")
    api.offer('{"k": 1}', "req-1", timeout=3)
    with api:
        host, port = api.address.split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("GET", "/2018-06-01/runtime/invocation/next")
        response = conn.getresponse()
        assert response.version == 11 and response.status == 200
        assert response.read() == b'{"k": 1}'
        assert response.getheader("Content-Length") == "8"
        assert response.getheader("Lambda-Runtime-Aws-Request-Id") == "req-1"
        assert (
            response.getheader("Lambda-Runtime-Invoked-Function-Arn")
            == "arn:aws:lambda:r:1:function:f"
        )
        assert response.getheader("Lambda-Runtime-Trace-Id")
        assert response.getheader("Content-Type") == "application/json"
        deadline = int(response.getheader("Lambda-Runtime-Deadline-Ms", ""))
        assert 0 < deadline - time.time() * 1000 <= 3000
        # The same connection: keep-alive.
        conn.request("POST", "/2018-06-01/runtime/invocation/req-1/response", body=b'{"ok": true}')
        posted = conn.getresponse()
        assert posted.status == 202 and posted.getheader("Content-Length") == str(
            len(posted.read())
        )
        # Set once the reply is written, so that the client has it before it is stopped.
        assert api.done.wait(5)
        assert api.outcome == (True, b'{"ok": true}', "application/json")


def test_runtime_api_records_errors_and_reports_them_as_the_direct_child() -> None:
    """An error or an initialisation error is kept as posted and reported as `run_child` reports
    the direct child's outcome; an unknown path is a 404 and leaves the invocation open."""

    def post(api: RuntimeApi, path: str, body: bytes, content_type: str) -> int:
        host, port = api.address.split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request(
            "POST", f"/2018-06-01/runtime/{path}", body=body, headers={"Content-Type": content_type}
        )
        response = conn.getresponse()
        response.read()
        conn.close()
        return response.status

    error = b'{"errorMessage": "bad", "errorType": "ValueError"}'
    with RuntimeApi("arn") as api:
        api.offer("{}", "req-1", timeout=3)
        assert post(api, "invocation/req-2/error", error, "application/json") == 404
        assert not api.done.is_set()
        assert post(api, "invocation/req-1/error", error, "application/json") == 202
        assert api.done.wait(5)
        assert json.loads(api.report()) == {"ok": False, "payload": error.decode()}
    with RuntimeApi("arn") as api:
        api.offer("{}", "req-1", timeout=3)
        assert (
            post(api, "invocation/req-1/response", b"\xff\x00", "application/octet-stream") == 202
        )
        assert json.loads(api.report()) == {"ok": True, "bytes": "/wA="}
    with RuntimeApi("arn") as api:
        api.offer("{}", "req-1", timeout=3)
        assert post(api, "init/error", error, "application/json") == 202
        # Marked, so that the parent ends the execution environment after it.
        assert json.loads(api.report()) == {
            "ok": False,
            "payload": error.decode(),
            "init_error": True,
        }


def test_a_poll_waits_for_an_offer() -> None:
    """The client's first poll says the handler is imported (`polled`); it is answered only once
    an invocation is offered, so that the runner can log `START` before the handler runs."""
    with RuntimeApi("arn") as api:
        host, port = api.address.split(":")
        answers: list[bytes] = []

        def poll() -> None:
            conn = http.client.HTTPConnection(host, int(port), timeout=10)
            conn.request("GET", "/2018-06-01/runtime/invocation/next")
            answers.append(conn.getresponse().read())
            conn.close()

        poller = threading.Thread(target=poll)
        poller.start()
        assert api.polled.wait(5) and api.first_polled_at is not None
        poller.join(0.3)
        assert poller.is_alive() and answers == [] and api.served_at is None
        api.offer('{"n": 2}', "req-2", timeout=3)
        poller.join(5)
        assert answers == [b'{"n": 2}'] and api.served_at is not None
