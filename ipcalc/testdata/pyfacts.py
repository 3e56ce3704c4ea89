# Reads one address or prefix per line and prints, per line, a JSON object
# of what Python's ipaddress module says about it: the reference for
# ipcalc's differential test.
import ipaddress
import json
import sys

for line in sys.stdin:
    s = line.strip()
    out = {"input": s}
    try:
        if "/" in s:
            n = ipaddress.ip_network(s, strict=False)
            out["network"] = str(n.network_address)
            out["last_address"] = str(n[-1])
            out["netmask"] = str(n.netmask)
            out["hostmask"] = str(n.hostmask)
            out["total"] = str(n.num_addresses)
            out["first_host"] = str(next(iter(n.hosts())))
            out["prefix"] = n.with_prefixlen
        else:
            a = ipaddress.ip_address(s)
            out["address"] = str(a)
            out["integer"] = str(int(a))
            out["reverse"] = a.reverse_pointer + "."
            if a.version == 6:
                out["mapped"] = str(a.ipv4_mapped) if a.ipv4_mapped else None
                out["sixtofour"] = str(a.sixtofour) if a.sixtofour else None
                t = a.teredo
                out["teredo"] = [str(t[0]), str(t[1])] if t else None
    except ValueError as e:
        out["error"] = str(e)
    print(json.dumps(out), flush=True)
