package snmp

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gosnmp/gosnmp"
)

// Type is the SNMP type of a value: its BER tag.
type Type byte

// The types of SMIv2, and the exceptions a v2c or v3 agent answers with.
const (
	Integer          Type = 0x02
	OctetString      Type = 0x04
	Null             Type = 0x05
	ObjectIdentifier Type = 0x06
	IPAddress        Type = 0x40
	Counter32        Type = 0x41
	Gauge32          Type = 0x42
	TimeTicks        Type = 0x43
	Opaque           Type = 0x44
	Counter64        Type = 0x46
	NoSuchObject     Type = 0x80
	NoSuchInstance   Type = 0x81
	EndOfMibView     Type = 0x82
)

// String is the type's name as net-snmp prints it.
func (t Type) String() string {
	switch t {
	case Integer:
		return "INTEGER"
	case OctetString:
		return "STRING"
	case Null:
		return "NULL"
	case ObjectIdentifier:
		return "OID"
	case IPAddress:
		return "IpAddress"
	case Counter32:
		return "Counter32"
	case Gauge32:
		return "Gauge32"
	case TimeTicks:
		return "Timeticks"
	case Opaque:
		return "Opaque"
	case Counter64:
		return "Counter64"
	case NoSuchObject:
		return "noSuchObject"
	case NoSuchInstance:
		return "noSuchInstance"
	case EndOfMibView:
		return "endOfMibView"
	}
	return fmt.Sprintf("type-0x%02x", byte(t))
}

// Exception says whether the type is one of the v2 exceptions: the agent
// has no such object or instance, or the walk has passed the end.
func (t Type) Exception() bool { return t >= NoSuchObject && t <= EndOfMibView }

// Var is one variable binding: an OID and its value. Value holds, by
// Type: int64 (Integer), []byte (OctetString, Opaque), OID
// (ObjectIdentifier), netip.Addr (IPAddress), uint32 (Counter32, Gauge32,
// TimeTicks), uint64 (Counter64), nil (Null and the exceptions).
type Var struct {
	OID   OID
	Type  Type
	Value any
}

// Uint returns a numeric value as an unsigned integer (a negative Integer
// as 0), and false for other types.
func (v Var) Uint() (uint64, bool) {
	switch x := v.Value.(type) {
	case int64:
		return uint64(max(x, 0)), true
	case uint32:
		return uint64(x), true
	case uint64:
		return x, true
	}
	return 0, false
}

// Text is the value alone, as net-snmp prints it after the type: text
// for a printable string and hex bytes otherwise, Timeticks as
// (ticks) d:hh:mm:ss.cc, an OID by name.
func (v Var) Text() string {
	switch x := v.Value.(type) {
	case nil:
		switch v.Type {
		case NoSuchObject:
			return "No Such Object available on this agent at this OID"
		case NoSuchInstance:
			return "No Such Instance currently exists at this OID"
		case EndOfMibView:
			return "No more variables left in this MIB View (It is past the end of the MIB tree)"
		}
		return ""
	case []byte:
		if printable(x) {
			return string(x)
		}
		return strings.ToUpper(hexBytes(x, " "))
	case OID:
		return Name(x)
	case uint32:
		if v.Type == TimeTicks {
			return ticks(x)
		}
		return strconv.FormatUint(uint64(x), 10)
	}
	return fmt.Sprint(v.Value)
}

// String is the binding as net-snmp prints it:
// IF-MIB::ifDescr.1 = STRING: lo.
func (v Var) String() string {
	if v.Type.Exception() {
		return Name(v.OID) + " = " + v.Text()
	}
	typ := v.Type.String()
	if b, ok := v.Value.([]byte); ok && !printable(b) {
		typ = "Hex-STRING"
	}
	if v.Type == OctetString && len(v.Value.([]byte)) == 0 {
		return Name(v.OID) + ` = ""`
	}
	return Name(v.OID) + " = " + typ + ": " + v.Text()
}

// MarshalJSON writes the binding as {"oid", "name", "type", "value"}: the
// value a JSON number for the numeric types, a string otherwise (a string
// that is not printable text as hex, with "hex": true).
func (v Var) MarshalJSON() ([]byte, error) {
	j := struct {
		OID   string `json:"oid"`
		Name  string `json:"name"`
		Type  string `json:"type"`
		Value any    `json:"value"`
		Hex   bool   `json:"hex,omitempty"`
	}{OID: v.OID.String(), Name: Name(v.OID), Type: v.Type.String()}
	switch x := v.Value.(type) {
	case []byte:
		if printable(x) {
			j.Value = string(x)
		} else {
			j.Value, j.Hex = hex.EncodeToString(x), true
		}
	case OID:
		j.Value = x.String()
	case netip.Addr:
		j.Value = x.String()
	default:
		j.Value = x
	}
	return json.Marshal(j)
}

func printable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' || r == 0x7f {
			return false
		}
	}
	return true
}

func hexBytes(b []byte, sep string) string {
	var s strings.Builder
	for i, c := range b {
		if i > 0 {
			s.WriteString(sep)
		}
		fmt.Fprintf(&s, "%02x", c)
	}
	return s.String()
}

// ticks writes hundredths of a second as net-snmp does: (360000) 1:00:00.00.
func ticks(t uint32) string {
	cs := t % 100
	s := t / 100
	d, h, m := s/86400, s/3600%24, s/60%60
	if d > 0 {
		return fmt.Sprintf("(%d) %d day%s, %d:%02d:%02d.%02d", t, d, map[bool]string{true: "s", false: ""}[d != 1], h, m, s%60, cs)
	}
	return fmt.Sprintf("(%d) %d:%02d:%02d.%02d", t, h, m, s%60, cs)
}

// ParseValue reads a value to set, as net-snmp's snmpset takes it: a type
// letter and the text. i INTEGER, u Gauge32 (unsigned), c Counter32, C
// Counter64, t TimeTicks, a IpAddress, o OID (a name or number), s
// STRING, x hex STRING (as 0a1b or 0a:1b or "0a 1b"), n NULL.
func ParseValue(o OID, letter, text string) (Var, error) {
	bad := func(rule string) (Var, error) {
		return Var{}, &InputError{Input: letter + " " + text, Rule: rule}
	}
	v := Var{OID: o}
	switch letter {
	case "i":
		n, err := strconv.ParseInt(text, 10, 32)
		if err != nil {
			return bad("an INTEGER is a whole number from -2147483648 to 2147483647")
		}
		v.Type, v.Value = Integer, n
	case "u", "c", "t":
		n, err := strconv.ParseUint(text, 10, 32)
		if err != nil {
			return bad("this type is a whole number from 0 to 4294967295")
		}
		v.Type, v.Value = map[string]Type{"u": Gauge32, "c": Counter32, "t": TimeTicks}[letter], uint32(n)
	case "C":
		n, err := strconv.ParseUint(text, 10, 64)
		if err != nil {
			return bad("a Counter64 is a whole number from 0 to 18446744073709551615")
		}
		v.Type, v.Value = Counter64, n
	case "a":
		a, err := netip.ParseAddr(text)
		if err != nil || !a.Is4() {
			return bad("an IpAddress is an IPv4 address, as 192.0.2.1")
		}
		v.Type, v.Value = IPAddress, a
	case "o":
		oid, err := Resolve(text)
		if err != nil {
			return Var{}, err
		}
		if len(oid) < 2 {
			return bad("an OID value has two parts at least (BER writes the first two as one)")
		}
		v.Type, v.Value = ObjectIdentifier, oid
	case "s":
		v.Type, v.Value = OctetString, []byte(text)
	case "x":
		h := strings.NewReplacer(" ", "", ":", "").Replace(text)
		b, err := hex.DecodeString(h)
		if err != nil {
			return bad("a hex STRING is pairs of hex digits, as 0a1b or 0a:1b")
		}
		v.Type, v.Value = OctetString, b
	case "n":
		v.Type = Null
	default:
		return bad("the type is one of i u c C t a o s x n (as snmpset takes them)")
	}
	return v, nil
}

// fromPDU converts gosnmp's binding.
func fromPDU(p gosnmp.SnmpPDU) (Var, error) {
	o, err := ParseOID(p.Name)
	if err != nil {
		return Var{}, err
	}
	v := Var{OID: o, Type: Type(p.Type)}
	switch x := p.Value.(type) {
	case int:
		v.Value = int64(x)
	case uint:
		v.Value = uint32(x)
	case uint32:
		v.Value = x
	case uint64:
		v.Value = x
	case []byte:
		v.Value = x
	case string:
		switch v.Type {
		case ObjectIdentifier:
			if v.Value, err = ParseOID(x); err != nil {
				return Var{}, err
			}
		case IPAddress:
			a, err := netip.ParseAddr(x)
			if err != nil {
				return Var{}, fmt.Errorf("snmp: IpAddress %q: %w", x, err)
			}
			v.Value = a
		default:
			v.Value = []byte(x)
		}
	case nil:
	default:
		v.Value = x // Opaque floats and the like, as gosnmp reads them
	}
	if v.Type == Counter64 {
		if u, ok := v.Value.(uint32); ok {
			v.Value = uint64(u)
		}
	}
	return v, nil
}

// pdu converts to gosnmp's binding.
func (v Var) pdu() gosnmp.SnmpPDU {
	p := gosnmp.SnmpPDU{Name: v.OID.String(), Type: gosnmp.Asn1BER(v.Type)}
	switch x := v.Value.(type) {
	case int64:
		p.Value = int(x)
	case OID:
		p.Value = x.String()
	case netip.Addr:
		p.Value = x.String()
	default:
		p.Value = x
	}
	return p
}

// ParseBindings reads bindings to set or to send, as snmpset and
// snmptrap take them on their command lines: OID TYPE VALUE, again and
// again (see ParseValue for the types).
func ParseBindings(args []string) ([]Var, error) {
	if len(args)%3 != 0 {
		return nil, &InputError{Input: strings.Join(args, " "), Rule: "bindings come as OID TYPE VALUE, three words each"}
	}
	var vars []Var
	for i := 0; i < len(args); i += 3 {
		oid, err := Resolve(args[i])
		if err != nil {
			return nil, err
		}
		v, err := ParseValue(oid, args[i+1], args[i+2])
		if err != nil {
			return nil, err
		}
		vars = append(vars, v)
	}
	return vars, nil
}
