"""A throwaway certificate authority and server certificate, made by the openssl command line."""
import os
import pwd
import subprocess


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_ca(directory, name):
    """DIRECTORY/NAME.pem and NAME.key: a self-signed CA (EC P-256, valid 2 days). Returns the .pem path."""
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
             "-keyout", f"{name}.key", "-out", f"{name}.pem", "-subj", f"/CN={name}", cwd=directory)
    return os.path.join(directory, f"{name}.pem")


def make_server_certificate(directory, ca_pem, dns_name, owner="postgres", owner_ids=None):
    """server.crt and server.key in DIRECTORY, signed by the CA at CA_PEM (its key beside it) for
    DNS_NAME, readable only by OWNER (the server checks), or by the uid and gid OWNER_IDS (a server in a
    root has its own)."""
    ca_key = ca_pem[:-len(".pem")] + ".key"
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "server.key",
             "-out", "server.csr", "-subj", f"/CN={dns_name}", cwd=directory)
    with open(os.path.join(directory, "san.ext"), "w") as ext:
        ext.write(f"subjectAltName=DNS:{dns_name}\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", ca_pem, "-CAkey", ca_key, "-CAcreateserial",
             "-days", "2", "-extfile", "san.ext", "-out", "server.crt", cwd=directory)
    if owner_ids is None:
        user = pwd.getpwnam(owner)
        owner_ids = (user.pw_uid, user.pw_gid)
    for name in ("server.crt", "server.key"):
        os.chown(os.path.join(directory, name), *owner_ids)
    os.chmod(os.path.join(directory, "server.key"), 0o600)
    return os.path.join(directory, "server.crt"), os.path.join(directory, "server.key")
