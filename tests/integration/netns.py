"""A private network namespace for fault injection: only its own loopback, and nftables rules that
drop a port's packets on demand. Nothing outside the namespace is touched."""
import subprocess
import uuid


class NetNamespace:
    TABLE = "pginit_faults"

    def __init__(self):
        self.name = "pginit-" + uuid.uuid4().hex[:8]
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        self.prefix = ["ip", "netns", "exec", self.name]
        subprocess.run(self.prefix + ["ip", "link", "set", "lo", "up"], check=True)

    def _nft(self, *args):
        subprocess.run(self.prefix + ["nft", *args], check=True)

    def drop(self, port, both_ways=False):
        """Silently drop TCP packets to `port` (and, both_ways, from it): connects time out and an
        established connection hears nothing, as on a dead link."""
        self._nft("add", "table", "inet", self.TABLE)
        self._nft("add", "chain", "inet", self.TABLE, "input", "{ type filter hook input priority 0; }")
        self._nft("add", "rule", "inet", self.TABLE, "input", "tcp", "dport", str(port), "drop")
        if both_ways:
            self._nft("add", "rule", "inet", self.TABLE, "input", "tcp", "sport", str(port), "drop")

    def accept(self):
        """Remove every drop rule."""
        self._nft("delete", "table", "inet", self.TABLE)

    def destroy(self):
        subprocess.run(["ip", "netns", "del", self.name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
