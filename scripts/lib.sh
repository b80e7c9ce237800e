# Shared shell for scripts/ (sourced, never run): packages, the cache, and the static dependencies.
# shellcheck shell=bash

PGINIT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Everything that survives between runs, keyed by the version it holds; git-ignored.
PGINIT_CACHE="${PGINIT_CACHE:-$PGINIT_ROOT/.cache}"

say() { printf 'pginit: %s\n' "$*" >&2; }

# ctest in build directory DIR with the suite's settings, and any further ctest arguments.
# ctest shows no passing test's output: the skips pytest reports (-rs), each with its reason, are printed
# after it from its JUnit report, so that an absent optional input is a visible line, not a silent pass.
run_ctest() {
  local report status=0
  report="$(mktemp --tmpdir pginit-ctest-XXXXXX.xml)"
  (cd "$1" && ctest -j2 --output-on-failure --timeout 1800 --output-junit "$report" "${@:2}") || status=$?
  grep -o "SKIPPED \[.*" "$report" | sed 's#</system-out>.*##; s/&quot;/"/g; s/&apos;/'"'"'/g; s/&lt;/</g; s/&gt;/>/g; s/&amp;/\&/g' |
    sort -u || true
  rm -f "$report"
  return "$status"
}

# Installs the Debian packages that are missing (apt-get update first, as a fresh machine needs).
ensure_packages() {
  local missing=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  ((${#missing[@]})) || return 0
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  update_package_lists
  # Without a sync after every file, as Debian's own container images install: 25% less time for the
  # test dependencies (221 s -> 166 s measured). A crash meanwhile needs a reinstall, not a repair.
  apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-unsafe-io "${missing[@]}" >/dev/null
}

# apt-get update, unless it was done here in the last hour: scripts/test installs in two steps, the
# second beside a build that reads the lists. The stamp lies beside the lists, so that it goes with
# them (an image's build removes them) and never travels with the tree (.cache is part of an image's
# build context); the next update removes it as a file it does not know.
APT_UPDATED_STAMP=/var/lib/apt/lists/pginit-updated
update_package_lists() {
  [[ -n $(find "$APT_UPDATED_STAMP" -mmin -60 2>/dev/null) ]] && return 0
  apt-get update -qq
  touch "$APT_UPDATED_STAMP"
}

# The Debian mirror apt uses (the first URIs: line), for deb-src entries and debootstrap.
debian_mirror() {
  awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null ||
    echo "http://deb.debian.org/debian"
}

# deb-src entries for every suite apt already knows, so that `apt-get source` works.
enable_source_packages() {
  local list=/etc/apt/sources.list.d/pginit-src.sources
  if [[ ! -f $list ]]; then
    sed -e 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > "$list"
  elif apt-cache showsrc postgresql-15 >/dev/null 2>&1; then
    return 0
  fi
  # New deb-src entries, or an image whose lists were removed: the lists are read again.
  rm -f "$APT_UPDATED_STAMP"
  update_package_lists
}

# Downloads and unpacks (with Debian's patches) source package NAME at the first VERSION that the
# mirror really serves (the security suite lists sources it does not always hold). Prints the
# unpacked directory; the downloads stay in $PGINIT_CACHE/src.
fetch_source_package() {
  local name=$1 version; shift
  mkdir -p "$PGINIT_CACHE/src"
  for version in "$@"; do
    local upstream=${version#*:}; upstream=${upstream%-*}
    local dir="$PGINIT_CACHE/src/$name-$upstream"
    if [[ ! -f $dir/.unpacked-$version ]]; then
      (cd "$PGINIT_CACHE/src" && apt-get source -qq --download-only "$name=$version" >/dev/null 2>&1) || continue
      rm -rf "$dir"
      (cd "$PGINIT_CACHE/src" && dpkg-source -x "${name}_${version#*:}.dsc" "$dir" >/dev/null)
      touch "$dir/.unpacked-$version"
    fi
    echo "$dir"
    return 0
  done
  say "no source of $name could be downloaded (tried: $*)"
  return 1
}

# Every version of source package NAME that apt lists, those of suite "bookworm" first.
source_versions() {
  apt-cache madison "$1" | awk -F'|' '$3 ~ /Sources/ {gsub(/ /, "", $2); print ($3 ~ / bookworm\// ? 0 : 1), $2}' |
    sort -k1,1n -s | awk '{print $2}'
}

# The architecture this machine runs, in Debian's names (amd64, arm64, ...).
host_architecture() { dpkg --print-architecture; }

# The GNU triplet of a Debian architecture: aarch64-linux-gnu for arm64, and so on.
gnu_triplet() { dpkg-architecture -a "$1" -qDEB_HOST_GNU_TYPE 2>/dev/null; }

# Architectures scripts/build-static knows, and what each needs: OpenSSL's Configure target and
# the qemu-user emulator that runs its binaries here.
openssl_target() {
  case $1 in
    amd64) echo linux-x86_64 ;; arm64) echo linux-aarch64 ;; s390x) echo linux64-s390x ;;
    armhf) echo linux-armv4 ;; ppc64el) echo linux-ppc64le ;; *) return 1 ;;
  esac
}
# Exits 64 with a one-line error unless ARCH is one of the names above.
require_known_architecture() {
  openssl_target "$1" >/dev/null || { say "unknown architecture '$1' (known: amd64 arm64 s390x armhf ppc64el)"; exit 64; }
}
qemu_emulator() {
  case $1 in
    amd64) echo qemu-x86_64-static ;; arm64) echo qemu-aarch64-static ;; s390x) echo qemu-s390x-static ;;
    armhf) echo qemu-arm-static ;; ppc64el) echo qemu-ppc64le-static ;; *) return 1 ;;
  esac
}

# Makes sure binaries of ARCH run here: the host's run natively, others under qemu-user through
# binfmt_misc (mounted and enabled here when the machine has not done it). Every step that runs a
# foreign binary calls it itself (a fresh machine has binfmt_misc not even mounted): the container
# tests' debootstrap, the multi-arch images, tests/cross, scripts/test-architectures. One caller at a
# time, whatever the process (scripts/test runs several phases at once, and this may install packages).
ensure_emulation() {
  local arch=$1 emulator lock
  [[ $arch == "$(host_architecture)" ]] && return 0
  emulator="$(qemu_emulator "$arch")"
  emulation_enabled "$emulator" && return 0
  exec {lock}>/var/lib/dpkg/pginit-emulation.lock
  flock "$lock"
  ensure_packages qemu-user-static binfmt-support
  [[ -e /proc/sys/fs/binfmt_misc/register ]] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  emulation_enabled "$emulator" || update-binfmts --enable "${emulator%-static}" >/dev/null
  exec {lock}>&-
}
# Whether binfmt_misc runs EMULATOR's binaries now (an entry may be registered but disabled).
emulation_enabled() { grep -qx enabled "/proc/sys/fs/binfmt_misc/${1%-static}" 2>/dev/null; }

# The cross compiler for ARCH (nothing for the host's own). Package names have no "_": amd64's
# compiler, for an arm64 build machine, is g++-x86-64-linux-gnu.
ensure_cross_compiler() {
  local triplet
  triplet="$(gnu_triplet "$1")"
  [[ $1 == "$(host_architecture)" ]] || ensure_packages "g++-${triplet//_/-}"
}

# Size flags for the C libraries: -Os, a section per function for the linker's GC, and no unwind
# tables (C code throws nothing; pginit's own C++ keeps its tables).
STATIC_CFLAGS="-Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables"

# OpenSSL for ARCH with what libpq does not use switched off: TLS 1.2/1.3, X.509 verification, RSA/EC/
# Ed25519, AES/ChaCha20 (with their assembly), SHA-1/2 and MD5 (SCRAM and md5 auth) stay.
build_openssl() {
  local source=$1 prefix=$2 arch=$3 build cross=()
  [[ $arch == "$(host_architecture)" ]] || cross=(--cross-compile-prefix="$(gnu_triplet "$arch")-")
  build="$(mktemp -d)"
  (cd "$build" && "$source/Configure" "$(openssl_target "$arch")" "${cross[@]}" --prefix="$prefix" \
      --openssldir=/usr/lib/ssl --libdir=lib \
      no-shared no-pinshared no-engine no-dso no-module no-legacy no-comp no-ssl3 no-tls1 no-tls1_1 no-dtls \
      no-srp no-ct no-ocsp no-srtp no-sctp no-ts no-cms no-cmp no-async no-nextprotoneg no-idea no-camellia \
      no-seed no-bf no-cast no-rc2 no-rc4 no-rc5 no-md2 no-md4 no-mdc2 no-rmd160 no-whirlpool no-aria no-sm2 \
      no-sm3 no-sm4 no-siphash no-scrypt no-gost no-ec2m no-dsa no-ui-console no-tests no-autoload-config \
      no-multiblock $STATIC_CFLAGS >/dev/null &&
    make -j"$(nproc)" build_libs >/dev/null && make install_dev >/dev/null)
  rm -rf "$build"
}

# libpq for ARCH and the two support libraries it needs, without GSSAPI, LDAP, readline, ICU and zlib,
# against the OpenSSL in PREFIX, with the project's patches (scripts/patches/libpq-*.patch: each says
# why) applied to copies of the files they change in the build tree, where make finds them before the
# pristine source's. The configured tree stays in PREFIX/pgbuild (the psql scanner is built there).
# --build is given even for the host: with binfmt_misc, configure could run a foreign test program and
# decide that it is not cross-compiling. PREFIX/lib/libscram_pristine.a is the pristine SCRAM code under
# other names (pristine_scram_*), for the unit test that compares the patched code with it.
build_libpq() {
  local source=$1 prefix=$2 arch=$3 build="$2/pgbuild" patches patch file triplet renamed=() name
  triplet="$(gnu_triplet "$arch")"
  mkdir -p "$build" "$prefix/lib" "$prefix/include"
  (cd "$build" && "$source/configure" --host="$triplet" --build="$(gnu_triplet "$(host_architecture)")" \
      --without-gssapi --without-ldap --without-readline --without-icu \
      --without-zlib --with-openssl CFLAGS="$STATIC_CFLAGS" \
      CPPFLAGS="-I$prefix/include" LDFLAGS="-L$prefix/lib" LIBS="-lpthread" >"$prefix/configure.log" 2>&1)
  mapfile -t patches < <(libpq_patches)
  for patch in "${patches[@]}"; do
    file="$(sed -n 's|^+++ b/||p' "$patch")"
    cp --remove-destination "$source/$file" "$build/$file"  # configure links the Makefiles to the source's
    patch --quiet --forward "$build/$file" "$patch"
  done
  (cd "$build" && make -s -j"$(nproc)" -C src/port >/dev/null && make -s -j"$(nproc)" -C src/common >/dev/null &&
    make -s -j"$(nproc)" -C src/interfaces/libpq >/dev/null)
  if ((${#patches[@]})); then
    "$triplet-nm" "$build/src/common/scram-common_shlib.o" | grep -q SHA256_Final &&
      ! "$triplet-nm" "$build/src/common/libpgcommon_shlib.a" | grep -q ' U EVP_' ||
      { say "the static libpq's SCRAM still goes through OpenSSL's EVP: were scripts/patches applied?"; return 1; }
  fi
  for name in scram_SaltedPassword scram_H scram_ClientKey scram_ServerKey scram_build_secret; do
    renamed+=("-D$name=pristine_$name")
  done
  "$triplet-gcc" $STATIC_CFLAGS -DFRONTEND -I"$build/src/include" -I"$source/src/include" -I"$prefix/include" \
    "${renamed[@]}" -c "$source/src/common/scram-common.c" -o "$build/scram-common-pristine.o"
  rm -f "$prefix/lib/libscram_pristine.a"
  "$triplet-ar" rcs "$prefix/lib/libscram_pristine.a" "$build/scram-common-pristine.o"
  cp "$build"/src/interfaces/libpq/libpq.a "$build"/src/common/libpgcommon_shlib.a \
     "$build"/src/port/libpgport_shlib.a "$prefix/lib/"
  cp "$source"/src/interfaces/libpq/libpq-fe.h "$source"/src/interfaces/libpq/libpq-events.h \
     "$source"/src/include/postgres_ext.h "$build"/src/include/pg_config_ext.h "$prefix/include/"
}

# The patches build_libpq applies: all of scripts/patches/libpq-*.patch, or none with
# PGINIT_LIBPQ_PATCHES=none (libpq as Debian's source has it: the benchmarks' "before issue 28").
libpq_patches() {
  [[ ${PGINIT_LIBPQ_PATCHES:-all} == none ]] || printf '%s\n' "$PGINIT_ROOT"/scripts/patches/libpq-*.patch
}

# Downloads and unpacks the sources of the static libpq and OpenSSL (once: cached), and prints
# their two directories, libpq's first: the libpq version is the installed libpq-dev's (or
# PGINIT_LIBPQ_VERSION), OpenSSL is bookworm's.
static_sources() {
  ensure_packages dpkg-dev perl make gcc patch
  [[ -n ${PGINIT_LIBPQ_VERSION:-} ]] || ensure_packages libpq-dev
  local libpq_version openssl_versions lock
  # Builds for several architectures may run at once (scripts/test): one at a time touches apt's
  # sources and the downloads; each then builds into a prefix of its own.
  mkdir -p "$PGINIT_CACHE"
  exec {lock}>"$PGINIT_CACHE/.sources.lock"
  flock "$lock"
  enable_source_packages
  libpq_version="${PGINIT_LIBPQ_VERSION:-$(dpkg-query -W -f='${Version}' libpq-dev)}"
  fetch_source_package postgresql-15 "$libpq_version" $(source_versions postgresql-15)
  mapfile -t openssl_versions < <(source_versions openssl)
  fetch_source_package openssl "${openssl_versions[@]}"
  exec {lock}>&-
}

# Prints the prefix holding a static libpq + OpenSSL for ARCH (default: this machine's) in lib/ and
# include/, building each once from static_sources; each key also covers its recipe (and libpq's, the
# patches). OpenSSL is cached on its own and copied in, so that a new patch rebuilds libpq alone. Every
# architecture builds from the same sources.
static_dependencies() {
  local arch=${1:-$(host_architecture)}
  ensure_cross_compiler "$arch"
  local sources pg_source ssl_source ssl_key ssl_prefix key prefix patches
  sources="$(static_sources)"
  mapfile -t patches < <(libpq_patches)
  pg_source=${sources%%$'\n'*} ssl_source=${sources#*$'\n'}
  ssl_key="$(printf '%s\n' "$STATIC_CFLAGS" "$(declare -f build_openssl)" | sha256sum | cut -c1-8)"
  ssl_prefix="$PGINIT_CACHE/static/openssl-${ssl_source##*-}_${arch}_$ssl_key"
  key="$(printf '%s\n' "$ssl_key" "$(declare -f build_libpq)" | cat - "${patches[@]}" | sha256sum | cut -c1-8)"
  key="libpq-${pg_source##*-}${PGINIT_LIBPQ_PATCHES:+-$PGINIT_LIBPQ_PATCHES}_openssl-${ssl_source##*-}_${arch}_$key"
  prefix="$PGINIT_CACHE/static/$key"
  if [[ ! -f $prefix/.complete ]]; then
    if [[ ! -f $ssl_prefix/.complete ]]; then
      say "building OpenSSL ${ssl_source##*-} for $arch from Debian's sources (once; cached in $ssl_prefix)"
      rm -rf "$ssl_prefix"
      build_openssl "$ssl_source" "$ssl_prefix" "$arch"
      touch "$ssl_prefix/.complete"
    fi
    say "building libpq ${pg_source##*-} for $arch from Debian's sources (once; cached in $prefix)"
    rm -rf "$prefix"
    mkdir -p "$prefix"
    cp -a "$ssl_prefix/lib" "$ssl_prefix/include" "$prefix/"
    build_libpq "$pg_source" "$prefix" "$arch"
    touch "$prefix/.complete"
  fi
  echo "$prefix"
}

# The PostgreSQL source tree that the configured build PREFIX/pgbuild was made from.
postgres_source_of() {
  awk -F' = ' '/^abs_top_srcdir/ {print $2; exit}' "$1/pgbuild/src/Makefile.global"
}

# The PostgreSQL major versions the suite runs besides bookworm's own 15, each from the Debian suite
# that has it (14 and 16 are in none): 13 (bullseye), 17 (trixie, with PgBouncer 1.24), 18 (sid).
SERVER_VERSIONS="13 17 18"
server_suite() {
  case $1 in 13) echo bullseye ;; 17) echo trixie ;; 18) echo sid ;; *) return 1 ;; esac
}

# Prints a root holding Debian's postgresql-VERSION (a debootstrap --variant=minbase of its suite, once;
# cached in $PGINIT_CACHE/servers, keyed by suite and version): the tests run its initdb, postgres and
# pg_dump inside it with chroot, on loopback like the host's 15. Trixie's also holds pgbouncer. One
# build at a time (several test phases may ask at once); a failed one leaves nothing behind.
server_root() {
  local version=$1 suite packages root lock
  suite="$(server_suite "$version")" || { say "no Debian suite has postgresql-$version"; return 64; }
  packages="postgresql-$version"
  [[ $suite != trixie ]] || packages+=",pgbouncer"
  root="$PGINIT_CACHE/servers/$suite-postgresql-$version"
  mkdir -p "$PGINIT_CACHE/servers"
  exec {lock}>"$PGINIT_CACHE/servers/.lock-$version"
  flock "$lock"
  if [[ ! -f $root/.complete ]]; then
    ensure_packages debootstrap
    say "debootstrap of $suite with $packages (once; cached in $root)"
    rm -rf "$root" "$root.part"
    debootstrap --variant=minbase --include="$packages" "$suite" "$root.part" "$(debian_mirror)" >"$root.log" 2>&1 ||
      { say "debootstrap of $suite failed; see $root.log"; rm -rf "$root.part"; return 1; }
    chroot "$root.part" dpkg-query -W -f='${Version}' "postgresql-$version" >"$root.part/.complete"
    mv "$root.part" "$root"
  fi
  exec {lock}>&-
  echo "$root"
}

# npm: the machine's own when it has one (a NodeSource nodejs carries it), else Debian's.
ensure_npm() {
  command -v npm >/dev/null 2>&1 || ensure_packages nodejs npm
}
