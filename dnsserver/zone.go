package dnsserver

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// Zone is the data of one zone, read from a master file. It is never
// changed after it is loaded, so any number of queries may read it at once;
// a reload builds a new Zone.
type Zone struct {
	// Origin is the zone's apex, lower case and fully qualified.
	Origin string
	// File is the master file the zone was read from.
	File string
	// SOA is the apex's SOA record.
	SOA *dns.SOA

	nodes map[string]*node // by lower-case owner name
	count int              // records, for AXFR and reports
}

// node holds the records of one owner name. A node with no sets is an empty
// non-terminal: the name exists (NODATA, not NXDOMAIN) because names below
// it do.
type node struct {
	sets map[uint16][]dns.RR // by type; RRSIGs are kept apart, by the type they cover
	sigs map[uint16][]dns.RR
}

// LoadZone reads the master file at path (RFC 1035 section 5, with $ORIGIN,
// $TTL, $INCLUDE relative to the including file, and $GENERATE). origin is
// the zone's apex; if empty, the owner of the file's SOA record is used.
// Errors name the file and line.
func LoadZone(path, origin string) (*Zone, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseZone(f, origin, path)
}

// ParseZone reads a zone in master file format from r; file names the
// input in errors and anchors relative $INCLUDE paths.
func ParseZone(r io.Reader, origin, file string) (*Zone, error) {
	if origin != "" {
		origin = dns.CanonicalName(origin)
	}
	zp := dns.NewZoneParser(r, origin, file)
	zp.SetIncludeAllowed(true)
	var rrs []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		return nil, err
	}
	if origin == "" {
		for _, rr := range rrs {
			if rr.Header().Rrtype == dns.TypeSOA {
				origin = dns.CanonicalName(rr.Header().Name)
				break
			}
		}
		if origin == "" {
			return nil, fmt.Errorf("%s: the zone has no SOA record", file)
		}
	}
	z := &Zone{Origin: origin, File: file, nodes: map[string]*node{}}
	for _, rr := range rrs {
		if err := z.add(rr); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
	}
	apex := z.nodes[origin]
	if apex == nil || len(apex.sets[dns.TypeSOA]) != 1 {
		return nil, fmt.Errorf("%s: the zone %s needs exactly one SOA record at its apex", file, origin)
	}
	if len(apex.sets[dns.TypeNS]) == 0 {
		return nil, fmt.Errorf("%s: the zone %s has no NS records at its apex", file, origin)
	}
	z.SOA = apex.sets[dns.TypeSOA][0].(*dns.SOA)
	for name, n := range z.nodes {
		if c := n.sets[dns.TypeCNAME]; len(c) > 0 {
			if len(c) > 1 {
				return nil, fmt.Errorf("%s: %s has %d CNAME records; a name may have only one (RFC 2181 section 10.1)", file, name, len(c))
			}
			for t := range n.sets {
				if t != dns.TypeCNAME && t != dns.TypeNSEC && t != dns.TypeRRSIG {
					return nil, fmt.Errorf("%s: %s has a CNAME and %s records; a CNAME must stand alone (RFC 1034 section 3.6.2)", file, name, dns.TypeToString[t])
				}
			}
		}
	}
	return z, nil
}

func (z *Zone) add(rr dns.RR) error {
	h := rr.Header()
	if h.Class != dns.ClassINET {
		return fmt.Errorf("%s: class %s is not served (only IN)", h.Name, dns.ClassToString[h.Class])
	}
	name := dns.CanonicalName(h.Name)
	if !dns.IsSubDomain(z.Origin, name) {
		return fmt.Errorf("%s is outside the zone %s", h.Name, z.Origin)
	}
	if h.Rrtype == dns.TypeSOA && name != z.Origin {
		return fmt.Errorf("an SOA record at %s, which is not the apex %s", h.Name, z.Origin)
	}
	n := z.nodes[name]
	if n == nil {
		n = &node{sets: map[uint16][]dns.RR{}}
		z.nodes[name] = n
		// The names between this one and the apex exist too.
		for p := parent(name); p != "" && dns.IsSubDomain(z.Origin, p); p = parent(p) {
			if z.nodes[p] != nil {
				break
			}
			z.nodes[p] = &node{sets: map[uint16][]dns.RR{}}
		}
	}
	if sig, ok := rr.(*dns.RRSIG); ok {
		if n.sigs == nil {
			n.sigs = map[uint16][]dns.RR{}
		}
		n.sigs[sig.TypeCovered] = append(n.sigs[sig.TypeCovered], rr)
		z.count++
		return nil
	}
	for _, old := range n.sets[h.Rrtype] {
		if dns.IsDuplicate(old, rr) {
			return nil // RFC 2181 section 5: a set holds no duplicates
		}
	}
	if set := n.sets[h.Rrtype]; len(set) > 0 && set[0].Header().Ttl != h.Ttl {
		// RFC 2181 section 5.2: one TTL per set; the lowest wins.
		t := min(set[0].Header().Ttl, h.Ttl)
		for _, r := range set {
			r.Header().Ttl = t
		}
		h.Ttl = t
	}
	n.sets[h.Rrtype] = append(n.sets[h.Rrtype], rr)
	z.count++
	return nil
}

// parent returns the name with its first label removed, or "" for the root.
func parent(name string) string {
	if name == "." || name == "" {
		return ""
	}
	i, end := dns.NextLabel(name, 0)
	if end {
		return "."
	}
	return name[i:]
}

// Len returns the number of records in the zone.
func (z *Zone) Len() int { return z.count }

// Records returns every record of the zone in canonical order, the SOA
// first, as a zone transfer sends them (without the closing SOA).
func (z *Zone) Records() []dns.RR {
	names := make([]string, 0, len(z.nodes))
	for name := range z.nodes {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool { return canonicalLess(names[i], names[j]) })
	out := []dns.RR{z.SOA}
	for _, name := range names {
		n := z.nodes[name]
		types := make([]int, 0, len(n.sets))
		for t := range n.sets {
			types = append(types, int(t))
		}
		for t := range n.sigs {
			if n.sets[t] == nil {
				types = append(types, int(t))
			}
		}
		sort.Ints(types)
		for _, t := range types {
			for _, rr := range n.sets[uint16(t)] {
				if rr != dns.RR(z.SOA) {
					out = append(out, rr)
				}
			}
			out = append(out, n.sigs[uint16(t)]...)
		}
	}
	return out
}

// canonicalLess orders names as RFC 4034 section 6.1 does: by labels from
// the right.
func canonicalLess(a, b string) bool {
	la, lb := dns.SplitDomainName(a), dns.SplitDomainName(b)
	for i, j := len(la)-1, len(lb)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
		if x, y := strings.ToLower(la[i]), strings.ToLower(lb[j]); x != y {
			return x < y
		}
	}
	return len(la) < len(lb)
}

// result is what a zone says about one question.
type result struct {
	rcode      int
	auth       bool // AA: false for referrals
	answer     []dns.RR
	ns         []dns.RR
	extra      []dns.RR
	referral   bool
	wildcard   bool
	outOfZone  string // a CNAME chain left the zone at this name
	chainLimit bool
}

// maxChain bounds CNAME chains followed inside a zone.
const maxChain = 8

// lookup answers qname/qtype from the zone (RFC 1034 section 4.3.2 step 3,
// with wildcards as RFC 4592 defines them). qname must be in the zone.
func (z *Zone) lookup(qname string, qtype uint16, do bool) result {
	res := result{auth: true}
	name := dns.CanonicalName(qname)
	// Synthesised answers carry the name asked, in lower case, so that
	// every query for it gets the same bytes.
	owner := name
	seen := map[string]bool{}
	for hop := 0; ; hop++ {
		if hop > maxChain || seen[name] {
			res.chainLimit = true
			return res
		}
		seen[name] = true
		if cut := z.cut(name, qtype); cut != "" {
			if hop > 0 {
				// A CNAME pointed below a delegation: the resolver follows it.
				res.outOfZone = name
				return res
			}
			return z.referral(cut, do)
		}
		n, wild := z.nodes[name], false
		if n == nil {
			n = z.wildcard(name)
			wild = n != nil
		}
		if n == nil {
			// RFC 6604: after a CNAME the rcode is that of the last name.
			res.rcode = dns.RcodeNameError
			res.ns = z.negative(do)
			return res
		}
		res.wildcard = res.wildcard || wild
		if set := n.sets[qtype]; len(set) > 0 || qtype == dns.TypeANY && len(n.sets) > 0 {
			if qtype == dns.TypeANY {
				for t, set := range n.sets {
					res.answer = append(res.answer, synth(set, owner, wild)...)
					if do {
						res.answer = append(res.answer, synth(n.sigs[t], owner, wild)...)
					}
				}
			} else {
				res.answer = append(res.answer, synth(set, owner, wild)...)
				if do {
					res.answer = append(res.answer, synth(n.sigs[qtype], owner, wild)...)
				}
			}
			res.extra = z.additional(res.answer)
			return res
		}
		cn := n.sets[dns.TypeCNAME]
		if len(cn) == 0 {
			res.ns = z.negative(do) // NODATA
			return res
		}
		res.answer = append(res.answer, synth(cn, owner, wild)...)
		if do {
			res.answer = append(res.answer, synth(n.sigs[dns.TypeCNAME], owner, wild)...)
		}
		target := dns.CanonicalName(cn[0].(*dns.CNAME).Target)
		if !dns.IsSubDomain(z.Origin, target) {
			res.outOfZone = target
			return res
		}
		name, owner = target, cn[0].(*dns.CNAME).Target
	}
}

// cut returns the delegation point at or above name, below the apex, or "".
// A DS query for the cut itself is answered by the parent, so it does not
// count.
func (z *Zone) cut(name string, qtype uint16) string {
	labels := dns.CountLabel(name) - dns.CountLabel(z.Origin)
	// Walk from just below the apex down to name.
	idx := dns.Split(name)
	for i := labels - 1; i >= 0; i-- {
		p := name[idx[i]:]
		n := z.nodes[p]
		if n == nil {
			return ""
		}
		if len(n.sets[dns.TypeNS]) > 0 && !(i == 0 && qtype == dns.TypeDS) {
			return p
		}
	}
	return ""
}

// wildcard returns the node that synthesises answers for a name that does
// not exist: "*." + its closest encloser, if that exists (RFC 4592 section
// 3.3.1).
func (z *Zone) wildcard(name string) *node {
	for p := parent(name); p != "" && dns.IsSubDomain(z.Origin, p); p = parent(p) {
		if z.nodes[p] != nil {
			return z.nodes["*."+p]
		}
	}
	return nil
}

// referral answers a name at or below a delegation: the NS records in
// authority, and their addresses as glue when the zone holds them.
func (z *Zone) referral(cut string, do bool) result {
	n := z.nodes[cut]
	res := result{referral: true, ns: append([]dns.RR(nil), n.sets[dns.TypeNS]...)}
	if do {
		res.ns = append(res.ns, n.sets[dns.TypeDS]...)
		res.ns = append(res.ns, n.sigs[dns.TypeDS]...)
	}
	res.extra = z.addresses(n.sets[dns.TypeNS], true)
	return res
}

// negative is the authority section of NXDOMAIN and NODATA answers: the SOA,
// with the TTL min(SOA TTL, MINIMUM) (RFC 2308 section 3).
func (z *Zone) negative(do bool) []dns.RR {
	soa := dns.Copy(z.SOA).(*dns.SOA)
	soa.Hdr.Ttl = min(soa.Hdr.Ttl, soa.Minttl)
	out := []dns.RR{soa}
	if do {
		for _, s := range z.nodes[z.Origin].sigs[dns.TypeSOA] {
			s = dns.Copy(s)
			s.Header().Ttl = soa.Hdr.Ttl
			out = append(out, s)
		}
	}
	return out
}

// additional returns the in-zone addresses of the names an answer points to
// (NS, MX and SRV targets), as RFC 1035 section 3.3 suggests.
func (z *Zone) additional(answer []dns.RR) []dns.RR {
	return z.addresses(answer, false)
}

func (z *Zone) addresses(rrs []dns.RR, glue bool) []dns.RR {
	var out []dns.RR
	seen := map[string]bool{}
	for _, rr := range rrs {
		var target string
		switch rr := rr.(type) {
		case *dns.NS:
			target = rr.Ns
		case *dns.MX:
			target = rr.Mx
		case *dns.SRV:
			target = rr.Target
		default:
			continue
		}
		t := dns.CanonicalName(target)
		if seen[t] || !dns.IsSubDomain(z.Origin, t) {
			continue
		}
		seen[t] = true
		if !glue && z.cut(t, dns.TypeA) != "" {
			continue // below a cut: not ours to give as an answer's extra
		}
		if n := z.nodes[t]; n != nil {
			out = append(out, n.sets[dns.TypeA]...)
			out = append(out, n.sets[dns.TypeAAAA]...)
		}
	}
	return out
}

// synth returns the records of set, renamed to owner when they come from a
// wildcard.
func synth(set []dns.RR, owner string, wild bool) []dns.RR {
	if !wild {
		return set
	}
	out := make([]dns.RR, len(set))
	for i, rr := range set {
		rr = dns.Copy(rr)
		rr.Header().Name = owner
		out[i] = rr
	}
	return out
}

// Zones is a set of zones; a query goes to the zone with the longest origin
// that contains its name.
type Zones struct {
	byOrigin map[string]*Zone
}

// NewZones checks that no two zones share an origin.
func NewZones(zs ...*Zone) (*Zones, error) {
	s := &Zones{byOrigin: map[string]*Zone{}}
	for _, z := range zs {
		if old := s.byOrigin[z.Origin]; old != nil {
			return nil, fmt.Errorf("the zone %s is in both %s and %s", z.Origin, old.File, z.File)
		}
		s.byOrigin[z.Origin] = z
	}
	return s, nil
}

// Find returns the zone for name, or nil.
func (s *Zones) Find(name string) *Zone {
	if s == nil || len(s.byOrigin) == 0 {
		return nil
	}
	name = dns.CanonicalName(name)
	for p := name; p != ""; p = parent(p) {
		if z := s.byOrigin[p]; z != nil {
			return z
		}
	}
	return nil
}

// List returns the zones ordered by origin.
func (s *Zones) List() []*Zone {
	out := make([]*Zone, 0, len(s.byOrigin))
	for _, z := range s.byOrigin {
		out = append(out, z)
	}
	sort.Slice(out, func(i, j int) bool { return canonicalLess(out[i].Origin, out[j].Origin) })
	return out
}

// ZoneFile names a master file and, if the file does not say, its origin.
type ZoneFile struct {
	Path   string
	Origin string // empty: the owner of the file's SOA record
}

// LoadZones reads every file. It fails, naming the file and line, if any
// file is broken, so a reload either replaces all zones or none.
func LoadZones(files []ZoneFile) (*Zones, error) {
	zs := make([]*Zone, 0, len(files))
	for _, f := range files {
		z, err := LoadZone(f.Path, f.Origin)
		if err != nil {
			return nil, err
		}
		zs = append(zs, z)
	}
	return NewZones(zs...)
}
