"""`/readyz` is ready only when a request would get a real answer: a valid, loaded certificate
and a rule set that lints. A failed certificate reload flips it (the old certificate keeps serving)."""
from __future__ import annotations

import datetime
import os
import shutil
import socket

import pytest

pytest.importorskip("httpx")
pytest.importorskip("uvicorn")
pytest.importorskip("starlette")
pytest.importorskip("cryptography")

from cslint.model import Severity  # noqa: E402
from cslint.settings import Settings  # noqa: E402
from cslint.webhook.admission import Admission  # noqa: E402
from cslint.webhook.policy import WebhookPolicy  # noqa: E402
from cslint.webhook.readiness import Readiness, rules_problem  # noqa: E402
from cslint.webhook.tls import CertReloader, certificate_window  # noqa: E402
from webhook_harness import Server  # noqa: E402
from webhook_tls import issue, make_ca  # noqa: E402

UTC = datetime.timezone.utc


def _days(a: float, b: float) -> tuple[datetime.datetime, datetime.datetime]:
    now = datetime.datetime.now(UTC).replace(microsecond=0)
    return now + datetime.timedelta(days=a), now + datetime.timedelta(days=b)


def _peer_cn(server: Server) -> str:
    with server.context().wrap_socket(socket.create_connection(("127.0.0.1", server.port)),
                                      server_hostname="127.0.0.1") as tls:
        return dict(x[0] for x in tls.getpeercert()["subject"])["commonName"]


@pytest.fixture
def make_server(tmp_path):
    servers: list[Server] = []

    def start(*args: str, **options) -> Server:
        home = tmp_path / f"server{len(servers)}"
        home.mkdir()
        servers.append(Server(home, *args, **options))
        return servers[-1]
    yield start
    for srv in servers:
        alive = srv.proc.poll() is None
        srv.stop()
        assert alive and "Traceback" not in (srv.tmp / "server.log").read_text()


# -- the certificate ---------------------------------------------------------------------------------
@pytest.mark.parametrize("window", [_days(-1, 1), _days(-400, -2), (datetime.datetime(1990, 1, 1, tzinfo=UTC),
                                                                    datetime.datetime(2060, 6, 1, tzinfo=UTC))],
                         ids=["current", "expired", "utctime-and-generalizedtime"])
def test_certificate_window_reads_what_cryptography_wrote(tmp_path, window):
    cert = issue(make_ca(), "w", tmp_path / "tls.crt", tmp_path / "tls.key", window=window)
    assert certificate_window(str(tmp_path / "tls.crt")) == (cert.not_valid_before_utc, cert.not_valid_after_utc)


def test_certificate_window_refuses_what_is_not_a_certificate(tmp_path):
    (tmp_path / "x.crt").write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(ValueError, match="validity"):
        certificate_window(str(tmp_path / "x.crt"))
    (tmp_path / "y.crt").write_text("nothing here")
    with pytest.raises(ValueError, match="no PEM certificate"):
        certificate_window(str(tmp_path / "y.crt"))


def test_reloader_problem_follows_expiry_failed_reloads_and_recovery(tmp_path):
    ca, crt, key = make_ca(), tmp_path / "tls.crt", tmp_path / "tls.key"
    issue(ca, "a", crt, key)
    results: list[str] = []
    reloader = CertReloader(str(crt), str(key), on_reload=results.append)
    assert reloader.problem() is None
    later = datetime.datetime.now(UTC) + datetime.timedelta(days=2)
    assert reloader.problem(now=later).startswith("certificate expired at ")
    earlier = datetime.datetime.now(UTC) - datetime.timedelta(hours=1)
    assert reloader.problem(now=earlier).startswith("certificate is not valid before ")
    issue(make_ca(), "other", tmp_path / "o.crt", tmp_path / "o.key")
    shutil.copy(tmp_path / "o.key", key)  # a key that does not match the certificate
    assert reloader.check() is False and results == ["failure"]
    assert reloader.problem().startswith("certificate reload failed (")
    issue(ca, "b", crt, key)
    assert reloader.check() is True and reloader.problem() is None and results == ["failure", "success"]
    os.rename(crt, tmp_path / "away.crt")  # a Secret volume briefly without the file
    reloader.check()
    assert "cannot stat" in reloader.problem()
    os.rename(tmp_path / "away.crt", crt)  # back, unchanged: nothing to reload, ready again
    assert reloader.check() is False and reloader.problem() is None


# -- the rule set ------------------------------------------------------------------------------------
def test_rules_problem_needs_an_object_rule_and_a_self_check_that_passes(monkeypatch):
    assert rules_problem(Admission(Settings(fail_on=Severity.ERROR), WebhookPolicy())) is None
    only_file_rules = Admission(Settings(select=("CS000",)), WebhookPolicy())
    assert "no rule that checks an admitted object" in rules_problem(only_file_rules)
    broken = Admission(Settings(), WebhookPolicy())
    monkeypatch.setattr(broken.linter, "lint_object", lambda obj: 1 / 0)
    assert rules_problem(broken) == "self-check failed: ZeroDivisionError: division by zero"
    assert Readiness(rules="bad", certificate=lambda: None).problem() == "bad"
    assert Readiness(rules=None, certificate=lambda: "expired").problem() == "expired"


# -- against the real server ---------------------------------------------------------------------------
def test_ready_server_reports_ready_and_the_certificate_expiry(make_server):
    srv = make_server()
    reply = srv.client.get("/readyz")
    assert (reply.status_code, reply.text) == (200, "ready")
    not_after = certificate_window(str(srv.cert))[1].timestamp()
    assert f"cslint_webhook_certificate_not_after_timestamp_seconds {not_after:.0f}" in srv.client.get("/metrics").text


def test_failed_reload_flips_readiness_while_the_old_certificate_keeps_serving(make_server, tmp_path):
    srv = make_server()
    issue(make_ca(), "stranger", tmp_path / "other.crt", tmp_path / "other.key")
    shutil.copy(tmp_path / "other.key", srv.tmp / "tls.key.tmp")
    os.replace(srv.tmp / "tls.key.tmp", srv.key)  # a rotation that went wrong: the key does not match
    reply = srv.wait_for(lambda: (r := srv.client.get("/readyz")).status_code == 503 and r)
    assert reply and reply.text.startswith("not ready: certificate reload failed (")
    assert _peer_cn(srv) == "webhook-1"  # still served, still trusted by who trusted it
    assert srv.client.get("/healthz").text == "ok"  # alive: a restart would not help
    assert 'cslint_webhook_certificate_reloads_total{result="failure"} 1' in srv.client.get("/metrics").text
    issue(srv.ca, "webhook-2", srv.cert, srv.key)  # the rotation completes
    assert srv.wait_for(lambda: srv.client.get("/readyz").status_code == 200)
    assert _peer_cn(srv) == "webhook-2"


def test_expired_certificate_is_alive_but_not_ready_until_a_valid_one_arrives(make_server):
    srv = make_server(window=_days(-30, -1), wait="/healthz")
    reply = srv.client.get("/readyz")
    assert reply.status_code == 503 and reply.text.startswith("not ready: certificate expired at ")
    assert srv.client.get("/healthz").text == "ok"
    issue(srv.ca, "webhook-2", srv.cert, srv.key)
    assert srv.wait_for(lambda: srv.client.get("/readyz").status_code == 200)
    with srv.context().wrap_socket(socket.create_connection(("127.0.0.1", srv.port)),
                                   server_hostname="127.0.0.1") as tls:
        assert tls.version() in ("TLSv1.2", "TLSv1.3")  # verifies again: the new one is valid


def test_no_admission_rule_enabled_is_never_ready(make_server):
    srv = make_server("--select", "CS000", wait="/healthz")
    reply = srv.client.get("/readyz")
    assert reply.status_code == 503 and "no rule that checks an admitted object" in reply.text
    assert "not ready: no rule" in srv.output()

