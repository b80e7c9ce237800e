"""The one harness for container tests: a real dockerd of the test's own (temp dir, overlay2 or vfs,
host networking only), base images without a registry, and the clearly labelled stand-ins.

Stand-ins (no registry is reachable here; the Dockerfiles and compose file target the real images):
- debian:bookworm and debian:bookworm-slim: debootstrap of Debian's own mirror, shaped like the
  official image (deb822 sources with updates and security, apt's docker-clean, no docs);
- alpine:3.20: Debian's busybox-static and musl in an empty root (musl, busybox, no glibc);
- postgres:15: Debian's PostgreSQL 15 with an entrypoint honouring POSTGRES_* and PGDATA.
Base images are cached in .cache/images, keyed by the Debian point release they hold."""
import glob
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CACHE = os.environ.get("PGINIT_CACHE", os.path.join(ROOT, ".cache"))
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from elf import HOST  # noqa: E402


def readme_build_commands(builder, multi_platform=False):
    """README's image-building lines for `builder` ("docker" or "podman"), as written in its code
    blocks, each split into words: the single-platform ones, or with `multi_platform` those with
    --platform. The container tests run these very lines, so that README's commands are the tested ones."""
    commands, in_block = [], False
    for line in open(os.path.join(ROOT, "README.md")):
        if line.startswith("```"):
            in_block = not in_block
        elif in_block and line.startswith(f"{builder} build ") and ("--platform" in line) == multi_platform:
            if line.split() not in commands:
                commands.append(line.split())
    return commands


def with_host_network(command):
    """`command` (a docker or podman build) with --network host: the only network our engines have."""
    return [*command[:2], "--network", "host", *command[2:]]


# Debian's docker.io client, the one its engine comes with: a machine may have another docker first on
# its PATH (one here has Docker 28's, whose BuildKit needs a buildx plugin Debian 12 does not have).
DOCKER = "/usr/bin/docker"


def run(argv, **kwargs):
    kwargs.setdefault("check", True)
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)


class Engine:
    """dockerd with everything in a temp dir; stop() ends it by pid and removes its data. overlay2
    where the kernel and file system allow it (several times faster), else vfs."""

    def __init__(self):
        for driver in ("overlay2", "vfs"):
            self.dir = tempfile.mkdtemp(prefix="pginit-docker-")
            self.host = f"unix://{self.dir}/docker.sock"
            self.env = dict(os.environ, DOCKER_HOST=self.host)
            self.log = open(os.path.join(self.dir, "dockerd.log"), "w")
            self.proc = subprocess.Popen(
                ["dockerd", "--data-root", f"{self.dir}/data", "--exec-root", f"{self.dir}/exec", "-H", self.host,
                 "--pidfile", f"{self.dir}/dockerd.pid", "--storage-driver", driver, "--iptables=false",
                 "--ip6tables=false", "--bridge=none", "--default-ulimit", "nofile=1024:1024"],
                stdout=self.log, stderr=subprocess.STDOUT)
            if self._ready():
                self.storage_driver = driver
                return
            log = open(os.path.join(self.dir, "dockerd.log")).read()
            self.stop()
        raise RuntimeError("dockerd did not start: " + log)

    def _ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while subprocess.run([DOCKER, "info"], env=self.env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL).returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                return False
            time.sleep(0.3)
        return True

    def docker(self, *args, check=True, timeout=900, env_update=None, **kwargs):
        return subprocess.run([DOCKER, *args], env=dict(self.env, **(env_update or {})), check=check,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout, **kwargs)

    def compose(self, *args, check=True, timeout=900):
        return subprocess.run(["docker-compose", *args], env=self.env, check=check, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=timeout, cwd=ROOT)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # stops every container, and its containerd
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        # dockerd leaves mounts behind (its network namespace, the data root): deepest first.
        mounts = [line.split()[1] for line in open("/proc/mounts") if line.split()[1].startswith(self.dir + "/")]
        for mount in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", mount], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)


def debian_point_release():
    """The point release apt's bookworm index names (e.g. 12.15): the cache key of the base image."""
    for path in glob.glob("/var/lib/apt/lists/*_dists_bookworm_InRelease"):
        for line in open(path, errors="replace"):
            if line.startswith("Version:"):
                return line.split()[1]
    return "unknown"


def debian_mirror():
    with open("/etc/apt/sources.list.d/debian.sources") as f:
        for line in f:
            if line.startswith("URIs:"):
                return line.split()[1]
    return "http://deb.debian.org/debian"


DEBIAN_SOURCES = """Types: deb
URIs: {mirror}
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: {security}
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""

# The official images' environment and command.
DEBIAN_CHANGES = ["--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                  "--change", 'CMD ["bash"]']
ALPINE_CHANGES = ["--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                  "--change", 'CMD ["/bin/sh"]']

# The official image's dpkg and apt settings (debuerreotype's): no sync after every file, as an
# image's build does not survive a power cut anyway, and no package cache kept in layers.
DOCKER_APT_SPEEDUP = "force-unsafe-io\n"
DOCKER_CLEAN = """DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
"""


# Debian's architecture names -> the kernel's (musl's loader and triplets use these).
MACHINES = {"amd64": "x86_64", "arm64": "aarch64", "s390x": "s390x"}


# One debootstrap per architecture at a time: start_debian_tarball's thread and a test may both ask.
TARBALL_LOCKS = {}


def ensure_emulation(arch):
    """Binaries of ARCH run here (qemu-user through binfmt_misc): scripts/lib.sh's ensure_emulation,
    which mounts and enables it on a fresh machine, serialised with every other caller."""
    if arch != HOST:
        run(["bash", "-c", 'source "$0/scripts/lib.sh" && ensure_emulation "$1"', ROOT, arch])


def start_debian_tarball(arch):
    """Builds ARCH's tarball in a thread, for a test that comes later; that test's debian_tarball()
    waits for it (and, should the thread have failed, tries again and reports why)."""
    threading.Thread(target=lambda: debian_tarball(arch), daemon=True).start()


def debian_tarball(arch=HOST):
    """A debootstrap of bookworm (minbase) shaped like debian:bookworm-slim, built once per point release
    and architecture. Another architecture's second stage runs under qemu-user (binfmt_misc); it also
    brings that architecture's busybox-static and musl for the alpine stand-in, taken out of the image."""
    with TARBALL_LOCKS.setdefault(arch, threading.Lock()):
        return build_debian_tarball(arch)


def build_debian_tarball(arch):
    suffix = "" if arch == HOST else f"-{arch}"
    path = os.path.join(CACHE, "images", f"debian-bookworm-{debian_point_release()}{suffix}.tar")
    if os.path.exists(path):
        return path
    os.makedirs(os.path.dirname(path), exist_ok=True)
    mirror = debian_mirror()
    with tempfile.TemporaryDirectory(prefix="pginit-debootstrap-") as work:
        root = os.path.join(work, "root")
        foreign = [] if arch == HOST else [f"--arch={arch}", "--include=busybox-static,musl"]
        ensure_emulation(arch)  # the second stage runs ARCH's binaries
        run(["debootstrap", *foreign, "--variant=minbase", "bookworm", root, mirror], timeout=1800)
        if foreign:
            keep_alpine_payload(root, arch)
            run(["chroot", root, "dpkg", "--purge", "busybox-static", "musl"])
        os.unlink(os.path.join(root, "etc/apt/sources.list"))
        security = mirror.replace("/debian", "/debian-security") if mirror.endswith("/debian") else mirror
        with open(os.path.join(root, "etc/apt/sources.list.d/debian.sources"), "w") as f:
            f.write(DEBIAN_SOURCES.format(mirror=mirror, security=security))
        with open(os.path.join(root, "etc/apt/apt.conf.d/docker-clean"), "w") as f:
            f.write(DOCKER_CLEAN)
        with open(os.path.join(root, "etc/dpkg/dpkg.cfg.d/docker-apt-speedup"), "w") as f:
            f.write(DOCKER_APT_SPEEDUP)
        for directory in ("usr/share/doc", "usr/share/man", "usr/share/locale"):
            shutil.rmtree(os.path.join(root, directory), ignore_errors=True)
            os.makedirs(os.path.join(root, directory))
        leftovers = glob.glob(os.path.join(root, "var/cache/apt/archives/*.deb"))
        leftovers += glob.glob(os.path.join(root, "var/lib/apt/lists/*_*"))
        for path_to_remove in leftovers:
            os.unlink(path_to_remove)
        run(["tar", "-C", root, "-cf", path + ".part", "."])
        os.rename(path + ".part", path)
    return path


def alpine_payload(arch):
    """(busybox, musl's libc.so) of ARCH: the host's own packages, or those debootstrap brought."""
    if arch == HOST:
        return "/bin/busybox", f"/lib/{MACHINES[arch]}-linux-musl/libc.so"
    directory = os.path.join(CACHE, "images", f"alpine-payload-{arch}")
    if not os.path.exists(os.path.join(directory, "libc.so")):
        debian_tarball(arch)
    return os.path.join(directory, "busybox"), os.path.join(directory, "libc.so")


def keep_alpine_payload(root, arch):
    directory = os.path.join(CACHE, "images", f"alpine-payload-{arch}")
    os.makedirs(directory, exist_ok=True)
    shutil.copy(os.path.join(root, "bin/busybox"), os.path.join(directory, "busybox"))
    shutil.copy(glob.glob(os.path.join(root, f"usr/lib/{MACHINES[arch]}-linux-musl*/libc.so"))[0],
                os.path.join(directory, "libc.so"))


def alpine_standin_tarball(arch, path):
    """alpine:3.20 STAND-IN for ARCH: busybox (static) and musl, nothing else; enough for a static binary."""
    busybox, musl = alpine_payload(arch)
    loader = f"ld-musl-{MACHINES[arch]}.so.1"
    with tempfile.TemporaryDirectory(prefix="pginit-alpine-") as root:
        os.chmod(root, 0o755)  # the image's / : every user must get through it
        for directory in ("bin", "lib", "etc", "tmp", "usr/local/bin", "root"):
            os.makedirs(os.path.join(root, directory))
        shutil.copy(busybox, os.path.join(root, "bin/busybox"))
        for applet in ("sh", "ls", "cat", "echo", "sleep", "id", "env", "ps", "true", "false", "wget", "uname"):
            os.symlink("busybox", os.path.join(root, "bin", applet))
        shutil.copy(musl, os.path.join(root, "lib", loader))
        os.symlink(loader, os.path.join(root, f"lib/libc.musl-{MACHINES[arch]}.so.1"))
        os.chmod(os.path.join(root, "tmp"), 0o1777)
        with open(os.path.join(root, "etc/os-release"), "w") as f:
            f.write('NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.0\n'
                    'PRETTY_NAME="pginit test STAND-IN for alpine:3.20 (Debian busybox-static + musl)"\n')
        with open(os.path.join(root, "etc/passwd"), "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n")
        with open(os.path.join(root, "etc/group"), "w") as f:
            f.write("root:x:0:\nnobody:x:65534:\n")
        run(["tar", "-C", root, "-cf", path, "."])
    return path


def alpine_standin(engine):
    with tempfile.TemporaryDirectory(prefix="pginit-alpine-tar-") as work:
        tarball = alpine_standin_tarball(HOST, os.path.join(work, "alpine.tar"))
        engine.docker("import", *ALPINE_CHANGES, tarball, "alpine:3.20")


def build_cached(engine, tag, context):
    """docker build of `context`, or docker load of the image saved when it was last built from the
    same files on the same base image."""
    digest = hashlib.sha256(debian_point_release().encode())
    for path in sorted(glob.glob(os.path.join(context, "**"), recursive=True)):
        if os.path.isfile(path):
            digest.update(path.encode() + open(path, "rb").read())
    saved = os.path.join(CACHE, "images", f"{tag.replace(':', '-')}-{digest.hexdigest()[:12]}.tar")
    if os.path.exists(saved):
        engine.docker("load", "-i", saved)
        return
    engine.docker("build", "--network", "host", "-t", tag, context)
    engine.docker("save", "-o", saved + ".part", tag)
    os.rename(saved + ".part", saved)


def prepare_base_images(engine):
    """debian:bookworm(-slim), alpine:3.20 and postgres:15, the last three of them stand-ins."""
    engine.docker("import", *DEBIAN_CHANGES, debian_tarball(), "debian:bookworm-slim")
    engine.docker("tag", "debian:bookworm-slim", "debian:bookworm")
    alpine_standin(engine)
    build_cached(engine, "postgres:15", os.path.join(HERE, "postgres-standin"))


CONTAINERS_CONF = """[containers]
netns = "host"
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "{dir}/tmp"
volume_path = "{dir}/volumes"
"""
STORAGE_CONF = """[storage]
driver = "{driver}"
graphroot = "{dir}/graph"
runroot = "{dir}/run"
"""


class Podman:
    """podman with its configuration, storage and state in a temp dir; close() removes it all."""

    def __init__(self, driver):
        self.dir = tempfile.mkdtemp(prefix="pginit-podman-")
        for name, text in (("containers.conf", CONTAINERS_CONF), ("storage.conf", STORAGE_CONF)):
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(text.format(dir=self.dir, driver="overlay" if driver == "overlay2" else "vfs"))
        self.env = dict(os.environ, CONTAINERS_CONF=os.path.join(self.dir, "containers.conf"),
                        CONTAINERS_STORAGE_CONF=os.path.join(self.dir, "storage.conf"))

    def __call__(self, *args, check=True, timeout=600):
        # In the project's root, where README's commands are run (a context of ".").
        return subprocess.run(["podman", *args], env=self.env, check=check, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=timeout, cwd=ROOT)

    def load_from(self, engine, *images):
        saved = subprocess.Popen([DOCKER, "save", *images], env=engine.env, stdout=subprocess.PIPE)
        subprocess.run(["podman", "load"], env=self.env, stdin=saved.stdout, check=True, stdout=subprocess.DEVNULL)
        assert saved.wait() == 0

    def close(self):
        self("pod", "rm", "--all", "--force", check=False)
        self("rm", "--all", "--force", check=False)
        mounts = [line.split()[1] for line in open("/proc/mounts") if line.split()[1].startswith(self.dir + "/")]
        for mount in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", mount], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)
