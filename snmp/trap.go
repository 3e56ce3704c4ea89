package snmp

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/netkit-dev/netkit/server"
)

// The bindings every v2 notification starts with (RFC 3416 4.2.6).
var (
	oidUpTime  = OID{1, 3, 6, 1, 2, 1, 1, 3, 0}
	oidTrapOID = OID{1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0}
)

// Notify sends a notification of the kind trapOID (as linkDown or
// 1.3.6.1.4.1.99999.1) with vars after it: a v2c or v3 trap, which
// nobody acknowledges, or with inform an InformRequest (v2c), which waits
// for the receiver's answer and is sent again as the Config says. up is
// sysUpTime.0, the sender's uptime in hundredths of a second. The client
// should be dialled to the receiver (port 162).
func (c *Client) Notify(ctx context.Context, trapOID OID, up uint32, inform bool, vars ...Var) error {
	if c.cfg.Version == V1 {
		return &InputError{Input: "v1", Rule: "netkit sends notifications as v2c or v3 (v1 traps have a format of their own)"}
	}
	if inform && c.cfg.Version == V3 {
		return &InputError{Input: "inform", Rule: "v3 informs need the receiver's engine ID; send v3 as a trap, or inform with v2c"}
	}
	pdus := []gosnmp.SnmpPDU{
		{Name: oidUpTime.String(), Type: gosnmp.TimeTicks, Value: up},
		{Name: oidTrapOID.String(), Type: gosnmp.ObjectIdentifier, Value: trapOID.String()},
	}
	for _, v := range vars {
		pdus = append(pdus, v.pdu())
	}
	op := "trap"
	if inform {
		op = "inform"
	}
	c.mu.Lock()
	c.g.Context = ctx
	restore, err := c.authoritative()
	if err == nil {
		_, err = c.g.SendTrap(gosnmp.SnmpTrap{Variables: pdus, IsInform: inform})
		restore()
	}
	c.mu.Unlock()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return c.fail(op, trapOID, err)
	}
	return nil
}

// authoritative makes this client the authoritative engine for a v3
// trap, as the sender of a trap is (RFC 3414): the user's EngineID, or
// this process's own, with keys localized to it. restore puts back the
// parameters for requests.
func (c *Client) authoritative() (restore func(), err error) {
	usm, ok := c.g.SecurityParameters.(*gosnmp.UsmSecurityParameters)
	if c.cfg.Version != V3 || !ok {
		return func() {}, nil
	}
	id := localEngineID()
	if c.cfg.User.EngineID != "" {
		if id, err = decodeEngineID(c.cfg.User.EngineID); err != nil {
			return nil, err
		}
	}
	sp := usm.Copy().(*gosnmp.UsmSecurityParameters)
	sp.AuthoritativeEngineID = string(id)
	sp.AuthoritativeEngineBoots = 1
	sp.AuthoritativeEngineTime = uint32(time.Since(processStart) / time.Second)
	sp.SecretKey, sp.PrivacyKey = nil, nil
	if err := sp.InitSecurityKeys(); err != nil {
		return nil, err
	}
	c.g.SecurityParameters = sp
	return func() { c.g.SecurityParameters = usm }, nil
}

// localEngineID is this process's SNMP engine ID (RFC 3411): the
// enterprise bit with enterprise 0, format 5 (octets), 8 random bytes,
// drawn when first needed rather than at every netkit command's start.
var (
	localEngineID = sync.OnceValue(func() []byte {
		id := []byte{0x80, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0}
		rand.Read(id[5:])
		return id
	})
	processStart = time.Now()
)

// Trap is a notification received.
type Trap struct {
	At        time.Time      `json:"at"`
	From      netip.AddrPort `json:"from"`
	Version   string         `json:"version"`
	Community string         `json:"community,omitempty"`
	User      string         `json:"user,omitempty"` // v3
	Inform    bool           `json:"inform,omitempty"`
	// TrapOID is what happened: snmpTrapOID.0 of a v2 notification, or
	// for v1 the enterprise with the generic and specific trap numbers
	// as RFC 3584 maps them.
	TrapOID OID    `json:"trap_oid"`
	Name    string `json:"trap"`   // TrapOID by name
	Uptime  uint32 `json:"uptime"` // sysUpTime.0, hundredths of a second
	Vars    []Var  `json:"vars"`   // the bindings after those two
}

// TrapReceiver takes notifications: v1 and v2c traps and v2c informs
// (acknowledged) with one of Communities (any community if none), and
// v3 traps from Users (authenticated and decrypted). It is a
// server.PacketHandler: serve it on UDP port 162 (or any port).
type TrapReceiver struct {
	Communities []string
	Users       []User
	// Handle is called with each notification, one at a time.
	Handle func(Trap)
	// Dropped, if not nil, is told of each datagram not taken and why.
	Dropped func(from netip.AddrPort, why error)

	table *gosnmp.SnmpV3SecurityParametersTable
}

// Init checks the users and readies their keys; ServePacket calls it
// itself, but calling it first reports a bad user at once.
func (r *TrapReceiver) Init() error {
	if r.table != nil || len(r.Users) == 0 {
		return nil
	}
	t := gosnmp.NewSnmpV3SecurityParametersTable(gosnmp.Logger{})
	for i := range r.Users {
		_, sp, err := r.Users[i].security()
		if err != nil {
			return err
		}
		if err := t.Add(r.Users[i].Name, sp); err != nil {
			return err
		}
	}
	r.table = t
	return nil
}

// ServePacket takes one datagram.
func (r *TrapReceiver) ServePacket(w server.PacketWriter, p []byte, from netip.AddrPort) {
	drop := func(err error) {
		if r.Dropped != nil {
			r.Dropped(from, err)
		}
	}
	if err := r.Init(); err != nil {
		drop(err)
		return
	}
	g := &gosnmp.GoSNMP{Version: gosnmp.Version2c}
	if peekVersion(p) == 3 && r.table != nil {
		g.Version, g.SecurityModel = gosnmp.Version3, gosnmp.UserSecurityModel
		g.SetTrapSecurityParametersTable(r.table)
	}
	pkt, err := g.UnmarshalTrap(p, false)
	if err != nil {
		drop(err)
		return
	}
	if pkt.Version != gosnmp.Version3 && len(r.Communities) > 0 && !slices.ContainsFunc(r.Communities, func(c string) bool {
		return subtle.ConstantTimeCompare([]byte(c), []byte(pkt.Community)) == 1
	}) {
		drop(&InputError{Input: pkt.Community, Rule: "not a community this receiver takes"})
		return
	}
	if pkt.Version == gosnmp.Version3 && r.table == nil {
		drop(&InputError{Input: "v3", Rule: "no v3 users are configured"})
		return
	}
	if pkt.PDUType != gosnmp.SNMPv2Trap && pkt.PDUType != gosnmp.InformRequest && pkt.PDUType != gosnmp.Trap {
		drop(&InputError{Input: pkt.PDUType.String(), Rule: "not a notification"})
		return
	}
	t := Trap{At: time.Now(), From: from, Community: pkt.Community, Inform: pkt.PDUType == gosnmp.InformRequest}
	switch pkt.Version {
	case gosnmp.Version1:
		t.Version = "1"
		t.TrapOID = v1TrapOID(pkt.SnmpTrap)
		t.Uptime = uint32(pkt.Timestamp)
	case gosnmp.Version2c:
		t.Version = "2c"
	case gosnmp.Version3:
		t.Version, t.Community = "3", ""
		if usm, ok := pkt.SecurityParameters.(*gosnmp.UsmSecurityParameters); ok {
			t.User = usm.UserName
		}
	}
	for _, pv := range pkt.Variables {
		v, err := fromPDU(pv)
		if err != nil {
			drop(err)
			return
		}
		switch {
		case v.OID.Compare(oidUpTime) == 0 && v.Type == TimeTicks:
			t.Uptime, _ = v.Value.(uint32)
		case v.OID.Compare(oidTrapOID) == 0 && v.Type == ObjectIdentifier:
			t.TrapOID, _ = v.Value.(OID)
		default:
			t.Vars = append(t.Vars, v)
		}
	}
	t.Name = Name(t.TrapOID)
	if r.Handle != nil {
		r.Handle(t)
	}
	if t.Inform {
		pkt.PDUType, pkt.Error, pkt.ErrorIndex = gosnmp.GetResponse, gosnmp.NoError, 0
		if b, err := pkt.MarshalMsg(); err == nil {
			w.WriteTo(b, from)
		}
	}
}

// v1TrapOID maps a v1 trap to its v2 notification OID (RFC 3584 3.1):
// a generic trap to snmpTraps.(generic+1), an enterprise-specific one to
// enterprise.0.specific.
func v1TrapOID(t gosnmp.SnmpTrap) OID {
	if t.GenericTrap >= 0 && t.GenericTrap < 6 {
		return OID{1, 3, 6, 1, 6, 3, 1, 1, 5, uint32(t.GenericTrap + 1)}
	}
	ent, err := ParseOID(t.Enterprise)
	if err != nil {
		return nil
	}
	return ent.Append(0, uint32(max(t.SpecificTrap, 0)))
}

// peekVersion reads the version at the start of an SNMP message (a
// SEQUENCE whose first element is the INTEGER version: 0 for v1, 1 for
// v2c, 3 for v3), or -1.
func peekVersion(p []byte) int {
	if len(p) < 2 || p[0] != 0x30 {
		return -1
	}
	i := 2
	if p[1]&0x80 != 0 {
		i += int(p[1] & 0x7f)
	}
	if len(p) < i+3 || p[i] != 0x02 || p[i+1] != 1 {
		return -1
	}
	return int(p[i+2])
}

// decodeEngineID reads an engine ID in hex.
func decodeEngineID(s string) ([]byte, error) {
	id, err := hex.DecodeString(strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X"))
	if err != nil || len(id) < 5 || len(id) > 32 {
		return nil, &InputError{Input: s, Rule: "an engine ID is 5 to 32 bytes in hex, as 0x8000000001020304"}
	}
	return id, nil
}
