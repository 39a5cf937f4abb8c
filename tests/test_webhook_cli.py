"""`cslint serve` refuses bad startup input with one line and exit code 2, before binding."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

pytest.importorskip("cryptography")

from cslint.cli import main  # noqa: E402
from webhook_tls import issue, make_ca  # noqa: E402


def serve(*args: str):
    return CliRunner().invoke(main, ["serve", "--isolated", "--port", "1", *args])


@pytest.fixture
def pair(tmp_path):
    issue(make_ca(), "cli", tmp_path / "tls.crt", tmp_path / "tls.key")
    return tmp_path / "tls.crt", tmp_path / "tls.key"


def test_missing_certificate_file(tmp_path):
    result = serve("--tls-cert", str(tmp_path / "nope.crt"), "--tls-key", str(tmp_path / "nope.key"))
    assert result.exit_code == 2 and "nope.crt: no such file" in result.output


def test_garbage_certificate(tmp_path):
    (tmp_path / "bad.crt").write_text("not a certificate")
    (tmp_path / "bad.key").write_text("not a key")
    result = serve("--tls-cert", str(tmp_path / "bad.crt"), "--tls-key", str(tmp_path / "bad.key"))
    assert result.exit_code == 2 and "cannot load the TLS certificate/key" in result.output
    assert "Traceback" not in result.output


def test_mismatched_key(tmp_path, pair):
    cert, _ = pair
    other = tmp_path / "other"
    other.mkdir()
    issue(make_ca(), "other", other / "tls.crt", other / "tls.key")
    result = serve("--tls-cert", str(cert), "--tls-key", str(other / "tls.key"))
    assert result.exit_code == 2 and "cannot load the TLS certificate/key" in result.output


def test_invalid_configuration_is_a_usage_error(tmp_path, pair):
    cert, key = pair
    (tmp_path / ".cslint.yaml").write_text("mode: block\n")
    result = CliRunner().invoke(main, ["serve", "--config", str(tmp_path / ".cslint.yaml"), "--tls-cert", str(cert),
                                       "--tls-key", str(key)])
    assert result.exit_code == 2 and "mode" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("how", ["option", "config"])
def test_unknown_update_policy_is_a_usage_error(tmp_path, pair, how):
    cert, key = pair
    (tmp_path / ".cslint.yaml").write_text("update-policy: sometimes\n")
    extra = ["--update-policy", "sometimes"] if how == "option" else ["--config", str(tmp_path / ".cslint.yaml")]
    result = CliRunner().invoke(main, ["serve", *extra, "--tls-cert", str(cert), "--tls-key", str(key)])
    assert result.exit_code == 2 and "sometimes" in result.output and "Traceback" not in result.output


def test_privileged_port_or_busy_port_is_one_line(pair):
    import socket
    cert, key = pair
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "--isolated", "--host", "127.0.0.1", "--port", str(port),
                                           "--tls-cert", str(cert), "--tls-key", str(key)])
    assert result.exit_code != 0 and "Traceback" not in result.output
