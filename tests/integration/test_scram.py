"""SCRAM-SHA-256 logins for real (issue 28), against the server version under test (PGINIT_SERVER_VERSION:
ctest runs this file on 13, 15, 17 and 18). The static build computes SCRAM's salted password its own way
(scripts/patches/libpq-scram-salted-password.patch): every way a server may ask for it must still log in,
over plain TCP and over TLS with and without channel binding (SCRAM-SHA-256-PLUS), with the default
4096 iterations and with the counts a DBA may set (a secret made elsewhere, or scram_iterations on 16+),
with passwords that SASLprep changes; and a wrong password must still be refused. MD5 logins too (the static
build's libpq hashes with PostgreSQL's own code: scripts/patches/libpq-common-builtin-hashes.patch)."""
import base64
import hashlib
import hmac
import os
import re
import uuid

import pytest

from certs import make_ca, make_server_certificate
from conftest import run_pginit
from pgserver import SECRETS, PgServer, user_ids

# The session's own view: TLS or not, and who logged in.
SSL_IN_USE = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
# Counts a server may store: RFC 7677's minimum (4096, every server's default) and what a DBA may set.
ITERATION_COUNTS = [1, 2, 4095, 4096, 4097, 10000]


def scram_secret(password, iterations):
    """The SCRAM-SHA-256 secret a server stores (RFC 5803's form), made here rather than by the server:
    servers before 16 take such a secret as it is, so every version gets every iteration count."""
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(hashlib.sha256(client_key).digest())}:{b64(server_key)}"


def new_password(prefix="scram-"):
    password = prefix + uuid.uuid4().hex[:12]
    SECRETS.add(password)
    return password


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """ssl = on and log_connections, every TCP login SCRAM (initdb --auth-host=scram-sha-256)."""
    server = PgServer(extra_conf="log_connections = on\n")
    try:
        ca = make_ca(tmp_path_factory.mktemp("scram-ca"), "scram-ca")
        cert, key = make_server_certificate(server.dir, ca, "db.test", owner_ids=user_ids("postgres", server.root))
        with open(f"{server.data}/postgresql.conf", "a") as conf:
            conf.write(f"ssl = on\nssl_cert_file = '{server.inside(cert)}'\nssl_key_file = '{server.inside(key)}'\n")
        server.start()
        server.ca = ca
        server.psql("CREATE DATABASE scramdb")
        yield server
    finally:
        server.destroy()


def role_with_secret(server, password, iterations):
    role = "scram_" + uuid.uuid4().hex[:8]
    server.psql(f"CREATE ROLE {role} LOGIN PASSWORD '{scram_secret(password, iterations)}'")
    return role


def stored_secret(server, role):
    return server.psql(f"SELECT rolpassword FROM pg_authid WHERE rolname = '{role}'")


def check(server, role, password, ready_sql="SELECT 1", **options):
    settings = {"host": "db.test", "hostaddr": "127.0.0.1", "port": server.port, "user": role, "dbname": "scramdb",
                "password": password, "sslmode": "disable", **options}
    dsn = " ".join(f"{key}={value}" for key, value in settings.items())
    return run_pginit(["--dsn", dsn, "--ready-sql", ready_sql, "--timeout", "30s"])


def one_error_line(result):
    errors = [line for line in result.stderr.splitlines() if "(exit" in line]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_every_tcp_login_is_scram(server):
    methods = server.psql("SELECT DISTINCT auth_method FROM pg_hba_file_rules WHERE type = 'host'")
    assert methods == "scram-sha-256"


@pytest.mark.parametrize("iterations", ITERATION_COUNTS)
def test_a_scram_login_with_any_iteration_count(server, iterations):
    password = new_password()
    role = role_with_secret(server, password, iterations)
    assert stored_secret(server, role).startswith(f"SCRAM-SHA-256${iterations}:")
    result = check(server, role, password)
    assert result.returncode == 0, result.stderr
    assert "postgres is ready after" in result.stderr
    if int(server.version) >= 14:  # 13 logs who, not how
        with open(server.log) as log:
            assert re.search(rf'connection authenticated: identity="{role}" method=scram-sha-256', log.read())


@pytest.mark.parametrize("iterations", [1, 4096])
def test_a_wrong_password_is_refused_at_once(server, iterations):
    role = role_with_secret(server, new_password(), iterations)
    result = check(server, role, new_password("wrong-"))
    assert result.returncode == 77, result.stderr
    assert "password authentication failed" in one_error_line(result) and "attempts=1" in result.stderr


@pytest.mark.parametrize("channel_binding", ["require", "disable"])
@pytest.mark.parametrize("iterations", [1, 4096, 10000])
def test_a_scram_login_over_tls_with_and_without_channel_binding(server, channel_binding, iterations):
    """channel_binding=require: libpq logs in only by SCRAM-SHA-256-PLUS, bound to the TLS connection;
    disable: SCRAM-SHA-256 over the same TLS."""
    password = new_password()
    role = role_with_secret(server, password, iterations)
    result = check(server, role, password, ready_sql=SSL_IN_USE, sslmode="verify-full", sslrootcert=server.ca,
                   channel_binding=channel_binding)
    assert result.returncode == 0, result.stderr


def test_channel_binding_required_without_tls_is_refused(server):
    password = new_password()
    role = role_with_secret(server, password, 4096)
    result = check(server, role, password, channel_binding="require")
    assert result.returncode == 78, result.stderr
    line = one_error_line(result)
    assert "channel binding required, but SSL not in use" in line and "needs TLS" in line and "attempts=1" in line


def test_an_unknown_channel_binding_value_is_a_configuration_error(server):
    result = check(server, "app", "x", channel_binding="sometimes")
    assert result.returncode == 78, result.stderr
    assert 'invalid channel_binding value: "sometimes"' in one_error_line(result)


def test_a_password_that_saslprep_changes(server):
    """The server hashes a new password after SASLprep (NFKC: the ligature 'ﬁ' is 'fi', 'Ⅸ' is 'IX'; a
    no-break space is a space); libpq prepares the client's the same way before its PBKDF2: either
    spelling logs in."""
    password = new_password("pässwörd-ﬁ-Ⅸ\u00a0-")
    prepared = password.replace("ﬁ", "fi").replace("Ⅸ", "IX").replace("\u00a0", " ")
    SECRETS.add(prepared)
    role = "scram_" + uuid.uuid4().hex[:8]
    server.psql(f"SET password_encryption = 'scram-sha-256'; CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    for spelling in (password, prepared):
        result = check(server, role, f"'{spelling}'")
        assert result.returncode == 0, result.stderr


def test_an_md5_login_still_works(server):
    """The static build hashes with PostgreSQL's own MD5 (scripts/patches/libpq-common-builtin-hashes.patch):
    a role whose password is stored as MD5, under an md5 rule, logs in, and a wrong password does not."""
    password = new_password()
    role = "md5_" + uuid.uuid4().hex[:8]
    stored = "md5" + hashlib.md5((password + role).encode()).hexdigest()
    server.psql(f"CREATE ROLE {role} LOGIN PASSWORD '{stored}'")
    hba = os.path.join(server.data, "pg_hba.conf")
    rules = open(hba).read()
    with open(hba, "w") as f:  # the first matching rule wins
        f.write(f"host scramdb {role} 127.0.0.1/32 md5\n" + rules)
    server.pg_ctl("reload")
    result = check(server, role, password)
    assert result.returncode == 0, result.stderr
    result = check(server, role, new_password("wrong-"))
    assert result.returncode == 77, result.stderr


def test_scram_iterations_set_by_the_server(server):
    """16+: scram_iterations, from 1 up, is what the server itself stores for a new password."""
    if int(server.version) < 16:
        pytest.skip(f"scram_iterations is 16's; PostgreSQL {server.version} stores 4096 (tested above with secrets)")
    for iterations in (1, 4097):
        password = new_password()
        role = "scram_" + uuid.uuid4().hex[:8]
        server.psql(f"SET scram_iterations = {iterations}; CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        assert stored_secret(server, role).startswith(f"SCRAM-SHA-256${iterations}:")
        for channel_binding in ("require", "disable"):
            result = check(server, role, password, sslmode="verify-full", sslrootcert=server.ca,
                           channel_binding=channel_binding)
            assert result.returncode == 0, result.stderr
