"""TLS against a real server with ssl=on (issues 8 and 11): verify-full connects, and every
certificate problem is fatal (78, one line naming it, no retry loop)."""
import pytest

from certs import make_ca, make_server_certificate
from conftest import APP_PASSWORD, run_pginit
from pgserver import PgServer

SSL_IN_USE = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tls")
    server = PgServer()
    try:
        ca = make_ca(directory, "test-ca")
        make_ca(directory, "other-ca")
        cert, key = make_server_certificate(server.dir, ca, "db.test")
        with open(f"{server.data}/postgresql.conf", "a") as conf:
            conf.write(f"ssl = on\nssl_cert_file = '{cert}'\nssl_key_file = '{key}'\n")
        server.start()
        server.ca, server.other_ca = ca, str(directory / "other-ca.pem")
        yield server
    finally:
        server.destroy()


def dsn(server, **options):
    settings = {"host": "db.test", "hostaddr": "127.0.0.1", "port": server.port, "user": "app", "dbname": "appdb",
                "password": APP_PASSWORD, **options}
    return " ".join(f"{key}={value}" for key, value in settings.items())


def one_error_line(result):
    errors = [line for line in result.stderr.splitlines() if "(exit" in line]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_verify_full_with_the_right_ca_connects_over_tls(tls_server):
    result = run_pginit(["--dsn", dsn(tls_server, sslmode="verify-full", sslrootcert=tls_server.ca),
                         "--ready-sql", SSL_IN_USE, "--timeout", "10s"])
    assert result.returncode == 0, result.stderr
    assert "postgres is ready after" in result.stderr


def test_a_certificate_from_another_ca_is_fatal_at_once(tls_server):
    result = run_pginit(["--dsn", dsn(tls_server, sslmode="verify-full", sslrootcert=tls_server.other_ca),
                         "--timeout", "30s"])
    assert result.returncode == 78, result.stderr
    line = one_error_line(result)
    assert "certificate verify failed" in line and "attempts=1" in line


def test_a_certificate_for_another_host_name_is_fatal_at_once(tls_server):
    result = run_pginit(["--dsn", dsn(tls_server, host="other.test", sslmode="verify-full",
                                      sslrootcert=tls_server.ca), "--timeout", "30s"])
    assert result.returncode == 78, result.stderr
    line = one_error_line(result)
    assert 'server certificate for "db.test" does not match host name "other.test"' in line
    assert "attempts=1" in line


def test_a_missing_root_certificate_file_is_fatal(tls_server, tmp_path):
    result = run_pginit(["--dsn", dsn(tls_server, sslmode="verify-full", sslrootcert=tmp_path / "nope.pem")])
    assert result.returncode == 78, result.stderr
    assert "root certificate file" in one_error_line(result)


def test_require_against_a_server_without_tls_is_fatal(pg):
    result = run_pginit(["--dsn", pg.dsn() + "?sslmode=require", "--timeout", "30s"])
    assert result.returncode == 78, result.stderr
    assert "server does not support SSL" in one_error_line(result)


def test_pgsslmode_and_pgsslrootcert_from_the_environment_are_honoured(tls_server):
    plain = dsn(tls_server)
    result = run_pginit(["--dsn", plain, "--ready-sql", SSL_IN_USE, "--timeout", "10s"],
                        env={"PGSSLMODE": "verify-full", "PGSSLROOTCERT": tls_server.ca})
    assert result.returncode == 0, result.stderr
    refused = run_pginit(["--dsn", plain, "--timeout", "10s"],
                         env={"PGSSLMODE": "verify-full", "PGSSLROOTCERT": tls_server.other_ca})
    assert refused.returncode == 78, refused.stderr
