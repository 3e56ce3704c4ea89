# The Python contender for aggregation: read a list, collapse it with
# ipaddress.collapse_addresses, print IPv4 then IPv6.
import ipaddress
import sys

v4, v6 = [], []
for line in open(sys.argv[1]):
    line = line.strip()
    if not line:
        continue
    n = ipaddress.ip_network(line, strict=False)
    (v4 if n.version == 4 else v6).append(n)
out = sys.stdout
for nets in (v4, v6):
    for n in ipaddress.collapse_addresses(nets):
        out.write(n.with_prefixlen + "\n")
