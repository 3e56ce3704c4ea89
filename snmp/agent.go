package snmp

import (
	"crypto/subtle"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/netkit-dev/netkit/server"
)

// Agent is a small read-only SNMP agent for v1, v2c and v3: it answers
// GetRequest, GetNextRequest and GetBulkRequest from the bindings that MIB
// returns, and refuses SetRequest (notWritable). It is a
// server.PacketHandler: serve it with a server.PacketServer on a UDP
// socket. Requests with another community (or an unknown v3 user, or a
// wrong key) are dropped and counted, as net-snmp's snmpd does.
type Agent struct {
	// Community is the v1/v2c community; "public" if empty.
	Community string
	// MIB returns the bindings served, in any order (the first of two
	// with one OID is served). The agent calls it at most once each
	// MaxAge (1 s if zero) and serves that snapshot; it keeps the slice,
	// so MIB must return a new one each call, and changes it only on a
	// copy (to sort it).
	MIB    func() ([]Var, error)
	MaxAge time.Duration
	// MaxMessage bounds an answer's size in bytes: a GETBULK answer is cut
	// to fit, a GET or GETNEXT that does not fit is answered tooBig. If
	// zero, 65507, the most a UDP datagram holds.
	MaxMessage int
	// Logger logs a MIB that fails. If nil, nothing is logged.
	Logger *slog.Logger
	// Users are the v3 users it answers (none: no v3), at the level each
	// request asks (a user without privacy cannot ask for it);
	// EngineID is its engine ID in hex, random for each process if empty.
	Users    []User
	EngineID string

	v3once   sync.Once
	v3err    error
	v3table  *gosnmp.SnmpV3SecurityParametersTable
	engineID string

	mu     sync.Mutex
	snap   atomic.Pointer[snapshot]
	counts struct {
		requests, answers, badCommunity, badPackets, unsupported, reports atomic.Uint64
	}
}

type snapshot struct {
	vars []Var // sorted by OID
	at   time.Time
}

// AgentStats counts what an agent saw.
type AgentStats struct {
	Requests     uint64 `json:"requests"`
	Answers      uint64 `json:"answers"`
	BadCommunity uint64 `json:"bad_community"` // and v3 users unknown or failing authentication
	BadPackets   uint64 `json:"bad_packets"`
	Unsupported  uint64 `json:"unsupported"` // v3, traps, reports
}

// Stats returns the counters.
func (a *Agent) Stats() AgentStats {
	return AgentStats{a.counts.requests.Load(), a.counts.answers.Load(), a.counts.badCommunity.Load(), a.counts.badPackets.Load(), a.counts.unsupported.Load()}
}

func (a *Agent) view() []Var {
	maxAge := a.MaxAge
	if maxAge <= 0 {
		maxAge = time.Second
	}
	if s := a.snap.Load(); s != nil && time.Since(s.at) < maxAge {
		return s.vars
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if s := a.snap.Load(); s != nil && time.Since(s.at) < maxAge {
		return s.vars
	}
	var vars []Var
	if a.MIB != nil {
		var err error
		vars, err = a.MIB()
		if err != nil {
			if a.Logger != nil {
				a.Logger.Warn("snmp agent: MIB failed", "err", err)
			}
			if s := a.snap.Load(); s != nil {
				return s.vars
			}
		}
	}
	byOID := func(x, y Var) int { return x.OID.Compare(y.OID) }
	same := func(x, y Var) bool { return x.OID.Compare(y.OID) == 0 }
	if !slices.IsSortedFunc(vars, byOID) {
		vars = slices.Clone(vars) // sorted here, not in the caller's slice
		slices.SortStableFunc(vars, byOID)
	}
	if hasDuplicates(vars) {
		vars = slices.CompactFunc(slices.Clone(vars), same)
	}
	a.snap.Store(&snapshot{vars: vars, at: time.Now()})
	return vars
}

// hasDuplicates says whether sorted vars name an OID twice.
func hasDuplicates(vars []Var) bool {
	for i := 1; i < len(vars); i++ {
		if vars[i].OID.Compare(vars[i-1].OID) == 0 {
			return true
		}
	}
	return false
}

// ServePacket answers one request.
func (a *Agent) ServePacket(w server.PacketWriter, p []byte, from netip.AddrPort) {
	if b := a.Answer(p); b != nil {
		w.WriteTo(b, from)
	}
}

// Answer returns the answer to one request datagram, or nil when it gets
// none (not SNMP, another community, a version or PDU not served).
func (a *Agent) Answer(p []byte) []byte {
	a.counts.requests.Add(1)
	var req *gosnmp.SnmpPacket
	var err error
	v3 := peekVersion(p) == 3
	if v3 {
		var out []byte
		if req, out = a.answerV3(p); req == nil {
			return out
		}
	} else {
		if req, err = decode(p); err != nil {
			a.counts.badPackets.Add(1)
			return nil
		}
		if req.Version != gosnmp.Version1 && req.Version != gosnmp.Version2c {
			a.counts.unsupported.Add(1)
			return nil
		}
		community := a.Community
		if community == "" {
			community = "public"
		}
		if subtle.ConstantTimeCompare([]byte(req.Community), []byte(community)) != 1 {
			a.counts.badCommunity.Add(1)
			return nil
		}
	}
	v1 := req.Version == gosnmp.Version1
	resp := &gosnmp.SnmpPacket{Version: req.Version, Community: req.Community, PDUType: gosnmp.GetResponse, RequestID: req.RequestID}
	oids := make([]OID, len(req.Variables))
	for i, pv := range req.Variables {
		if oids[i], err = ParseOID(pv.Name); err != nil {
			a.counts.badPackets.Add(1)
			return nil
		}
	}
	view := a.view()
	limit := a.MaxMessage
	if limit <= 0 {
		limit = 65507
	}
	var vars []Var
	switch req.PDUType {
	case gosnmp.GetRequest:
		for i, o := range oids {
			v, ok := get(view, o)
			if !ok && v1 {
				return a.errorAnswer(resp, req, gosnmp.NoSuchName, i)
			}
			vars = append(vars, v)
		}
	case gosnmp.GetNextRequest:
		for i, o := range oids {
			v, ok := next(view, o)
			if !ok && v1 {
				return a.errorAnswer(resp, req, gosnmp.NoSuchName, i)
			}
			vars = append(vars, v)
		}
	case gosnmp.GetBulkRequest:
		if v1 {
			a.counts.unsupported.Add(1)
			return nil
		}
		vars = bulk(view, oids, int(req.NonRepeaters), int(req.MaxRepetitions), limit-64-len(req.Community))
	case gosnmp.SetRequest:
		status := gosnmp.NotWritable
		if v1 {
			status = gosnmp.NoSuchName
		}
		return a.errorAnswer(resp, req, status, 0)
	default:
		a.counts.unsupported.Add(1)
		return nil
	}
	for _, v := range vars {
		resp.Variables = append(resp.Variables, v.pdu())
	}
	b, err := a.marshal(req, resp)
	for err == nil && len(b) > limit {
		if req.PDUType != gosnmp.GetBulkRequest || len(resp.Variables) <= 1 {
			return a.errorAnswer(resp, req, gosnmp.TooBig, -1)
		}
		resp.Variables = resp.Variables[:len(resp.Variables)*9/10]
		b, err = a.marshal(req, resp)
	}
	if err != nil {
		a.counts.badPackets.Add(1)
		return nil
	}
	a.counts.answers.Add(1)
	return b
}

// errorAnswer answers with an error status about binding i (none if i
// is negative), echoing the request's bindings as RFC 3416 asks.
func (a *Agent) errorAnswer(resp, req *gosnmp.SnmpPacket, status gosnmp.SNMPError, i int) []byte {
	resp.Error, resp.ErrorIndex = status, 0
	if i >= 0 {
		resp.ErrorIndex = uint8(min(i+1, 255))
	}
	resp.Variables = nil
	if status != gosnmp.TooBig {
		for _, pv := range req.Variables {
			resp.Variables = append(resp.Variables, gosnmp.SnmpPDU{Name: pv.Name, Type: gosnmp.Null})
		}
	}
	b, err := a.marshal(req, resp)
	if err != nil {
		a.counts.badPackets.Add(1)
		return nil
	}
	a.counts.answers.Add(1)
	return b
}

// marshal writes resp, at req's security level for v3.
func (a *Agent) marshal(req, resp *gosnmp.SnmpPacket) ([]byte, error) {
	if req.Version == gosnmp.Version3 {
		return a.v3response(req, resp)
	}
	return resp.MarshalMsg()
}

// decode reads a request with gosnmp's codec, which has no state for
// v1 and v2c.
func decode(p []byte) (pkt *gosnmp.SnmpPacket, err error) {
	g := &gosnmp.GoSNMP{Version: gosnmp.Version2c}
	return g.SnmpDecodePacket(p)
}

// get finds o in view, or says why not: noSuchInstance where the object
// (o without its last part) has instances, noSuchObject otherwise.
func get(view []Var, o OID) (Var, bool) {
	i, found := slices.BinarySearchFunc(view, o, func(v Var, o OID) int { return v.OID.Compare(o) })
	if found {
		return view[i], true
	}
	if len(o) > 1 && i < len(view) && view[i].OID.HasPrefix(o[:len(o)-1]) || i > 0 && len(o) > 1 && view[i-1].OID.HasPrefix(o[:len(o)-1]) {
		return Var{OID: o, Type: NoSuchInstance}, false
	}
	return Var{OID: o, Type: NoSuchObject}, false
}

// next finds the first binding after o, or endOfMibView.
func next(view []Var, o OID) (Var, bool) {
	i := nextIndex(view, o)
	if i >= len(view) {
		return Var{OID: o, Type: EndOfMibView}, false
	}
	return view[i], true
}

func nextIndex(view []Var, o OID) int {
	i, found := slices.BinarySearchFunc(view, o, func(v Var, o OID) int { return v.OID.Compare(o) })
	if found {
		i++
	}
	return i
}

// bulk answers a GetBulkRequest (RFC 3416 4.2.3): one GETNEXT for each
// of the first n bindings, then up to m rounds of GETNEXT for the rest,
// ending early when every repeater has reached the end or the answer
// would pass budget bytes.
func bulk(view []Var, oids []OID, n, m, budget int) []Var {
	n = min(max(n, 0), len(oids))
	var out []Var
	size := 0
	add := func(v Var) bool {
		size += encodedSize(v)
		if size > budget && len(out) > 0 {
			return false
		}
		out = append(out, v)
		return true
	}
	for _, o := range oids[:n] {
		v, _ := next(view, o)
		if !add(v) {
			return out
		}
	}
	rest := oids[n:]
	if len(rest) == 0 || m <= 0 {
		return out
	}
	pos := make([]int, len(rest))
	for j, o := range rest {
		pos[j] = nextIndex(view, o)
	}
	for range m {
		ended := true
		for j := range rest {
			var v Var
			if pos[j] < len(view) {
				v = view[pos[j]]
				pos[j]++
				ended = false
			} else {
				v = Var{OID: rest[j], Type: EndOfMibView}
			}
			if !add(v) {
				return out
			}
		}
		if ended {
			break
		}
	}
	return out
}

// encodedSize estimates a binding's size in BER, a little high.
func encodedSize(v Var) int {
	n := 8 // sequence, OID and value headers
	for _, p := range v.OID {
		switch {
		case p < 1<<7:
			n++
		case p < 1<<14:
			n += 2
		case p < 1<<21:
			n += 3
		default:
			n += 5
		}
	}
	switch x := v.Value.(type) {
	case []byte:
		n += len(x) + 2
	case OID:
		n += 5 * len(x)
	default:
		n += 9
	}
	return n
}
