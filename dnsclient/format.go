package dnsclient

import (
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// RData is a record's data in presentation format, without the owner
// name, TTL, class and type: what dig +short prints.
func RData(rr dns.RR) string {
	return strings.TrimSpace(strings.TrimPrefix(rr.String(), rr.Header().String()))
}

// Records returns the data of the answer section, a record per string.
func (a *Answer) Records() []string {
	out := make([]string, 0, len(a.Msg.Answer))
	for _, rr := range a.Msg.Answer {
		out = append(out, RData(rr))
	}
	return out
}

// Rcode names the answer's response code: "NOERROR", "NXDOMAIN", ...
func (a *Answer) Rcode() string { return dns.RcodeToString[a.Msg.Rcode] }

// WriteDig writes the answer to q as dig prints it: the header and flags,
// every section, EDNS, the query time, the server and the size.
func (a *Answer) WriteDig(w io.Writer, q Query) error {
	var b strings.Builder
	fmt.Fprintf(&b, "; <<>> netkit dns lookup <<>> %s @%s\n", q, a.Server)
	if a.Retried {
		b.WriteString(";; Truncated, retrying in TCP mode.\n")
	}
	b.WriteString(";; Got answer:\n")
	b.WriteString(a.Msg.String())
	fmt.Fprintf(&b, "\n;; Query time: %d msec\n", a.RTT.Milliseconds())
	fmt.Fprintf(&b, ";; SERVER: %s(%s)\n", strings.Replace(a.Server.Addr, ":", "#", 1), a.Transport)
	fmt.Fprintf(&b, ";; WHEN: %s\n", time.Now().Format("Mon Jan 02 15:04:05 MST 2006"))
	fmt.Fprintf(&b, ";; MSG SIZE  rcvd: %d\n\n", a.Size)
	_, err := io.WriteString(w, b.String())
	return err
}

// RFC8427 returns the answer as a JSON object in the shape of RFC 8427
// (DNS messages in JSON), with the server, transport, query time and size
// beside the message.
func (a *Answer) RFC8427() map[string]any {
	m := a.Msg
	b := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	doc := map[string]any{
		"ID": m.Id, "QR": b(m.Response), "Opcode": m.Opcode, "AA": b(m.Authoritative), "TC": b(m.Truncated),
		"RD": b(m.RecursionDesired), "RA": b(m.RecursionAvailable), "AD": b(m.AuthenticatedData), "CD": b(m.CheckingDisabled),
		"RCODE": m.Rcode, "QDCOUNT": len(m.Question), "ANCOUNT": len(m.Answer), "NSCOUNT": len(m.Ns), "ARCOUNT": len(m.Extra),
		"rcodeName":  dns.RcodeToString[m.Rcode],
		"dateString": time.Now().UTC().Format(time.RFC3339), "server": a.Server.String(), "transport": a.Transport,
		"queryTimeMs": a.RTT.Milliseconds(), "msgSize": a.Size,
	}
	if len(m.Question) > 0 {
		doc["QNAME"], doc["QTYPE"], doc["QCLASS"] = m.Question[0].Name, m.Question[0].Qtype, m.Question[0].Qclass
		doc["QTYPEname"] = dns.TypeToString[m.Question[0].Qtype]
	}
	doc["answerRRs"], doc["authorityRRs"], doc["additionalRRs"] = rrsJSON(m.Answer), rrsJSON(m.Ns), rrsJSON(m.Extra)
	if opt := m.IsEdns0(); opt != nil {
		e := map[string]any{"version": opt.Version(), "udpSize": opt.UDPSize(), "DO": b(opt.Do())}
		for _, o := range opt.Option {
			switch v := o.(type) {
			case *dns.EDNS0_NSID:
				id, _ := hex.DecodeString(v.Nsid)
				e["NSID"] = string(id)
			case *dns.EDNS0_COOKIE:
				e["COOKIE"] = v.Cookie
			case *dns.EDNS0_SUBNET:
				e["ECS"] = fmt.Sprintf("%s/%d/%d", v.Address, v.SourceNetmask, v.SourceScope)
			}
		}
		doc["EDNS"] = e
	}
	return doc
}

// rrsJSON renders a section as RFC 8427 resource records; the OPT
// pseudo-record is left out (it is "EDNS").
func rrsJSON(list []dns.RR) []map[string]any {
	out := []map[string]any{}
	for _, rr := range list {
		h := rr.Header()
		if h.Rrtype == dns.TypeOPT {
			continue
		}
		e := map[string]any{"NAME": h.Name, "TYPE": h.Rrtype, "TYPEname": dns.TypeToString[h.Rrtype], "CLASS": h.Class, "TTL": h.Ttl}
		if name, ok := dns.TypeToString[h.Rrtype]; ok {
			e["rdata"+name] = RData(rr)
		} else {
			buf := make([]byte, dns.Len(rr))
			n, err := dns.PackRR(rr, buf, 0, nil, false)
			if err == nil {
				e["RDATAHEX"] = strings.ToUpper(hex.EncodeToString(buf[n-int(h.Rdlength) : n]))
			}
		}
		out = append(out, e)
	}
	return out
}
