package snmp

import (
	"time"

	"github.com/gosnmp/gosnmp"
)

// SNMPv3 for the agent (RFC 3414): it is the authoritative engine, with
// an engine ID, boots and time of its own; a manager first discovers
// them (a request with no engine ID is answered with a Report of
// usmStatsUnknownEngineIDs), then sends requests authenticated (and
// encrypted) with keys localized to that engine ID, which the agent
// checks with the users it knows, answering at the request's level.

// The USM statistics a Report carries.
var (
	oidUnknownEngineIDs  = OID{1, 3, 6, 1, 6, 3, 15, 1, 1, 4, 0}
	oidNotInTimeWindows  = OID{1, 3, 6, 1, 6, 3, 15, 1, 1, 2, 0}
	agentTimeWindow      = 150 * time.Second // RFC 3414 3.2.7
	agentEngineBoots     = uint32(1)
	agentEngineStartTime = time.Now()
)

// v3init readies the agent's users: their keys localized to its engine ID.
func (a *Agent) v3init() error {
	a.v3once.Do(func() {
		a.engineID = string(localEngineID())
		if a.EngineID != "" {
			id, err := decodeEngineID(a.EngineID)
			if err != nil {
				a.v3err = err
				return
			}
			a.engineID = string(id)
		}
		if len(a.Users) == 0 {
			return
		}
		t := gosnmp.NewSnmpV3SecurityParametersTable(gosnmp.Logger{})
		for _, u := range a.Users {
			_, sp, err := u.security()
			if err != nil {
				a.v3err = err
				return
			}
			sp.AuthoritativeEngineID = a.engineID
			if err := sp.InitSecurityKeys(); err != nil {
				a.v3err = err
				return
			}
			if err := t.Add(u.Name, sp); err != nil {
				a.v3err = err
				return
			}
		}
		a.v3table = t
	})
	return a.v3err
}

func engineTime() uint32 { return uint32(time.Since(agentEngineStartTime) / time.Second) }

// answerV3 decodes a v3 request, or answers a discovery probe with a
// Report. It returns the request, or nil and the bytes to send (nil for
// none).
func (a *Agent) answerV3(p []byte) (*gosnmp.SnmpPacket, []byte) {
	if err := a.v3init(); err != nil || a.v3table == nil {
		a.counts.unsupported.Add(1)
		return nil, nil
	}
	g := &gosnmp.GoSNMP{Version: gosnmp.Version3, SecurityModel: gosnmp.UserSecurityModel}
	g.SetTrapSecurityParametersTable(a.v3table)
	req, err := g.UnmarshalTrap(p, true)
	if err == nil {
		usm, ok := req.SecurityParameters.(*gosnmp.UsmSecurityParameters)
		switch {
		case !ok || usm.AuthoritativeEngineID != a.engineID:
			return nil, a.report(req, oidUnknownEngineIDs, nil)
		case req.MsgFlags&gosnmp.AuthNoPriv != 0 && !inWindow(usm):
			return nil, a.report(req, oidNotInTimeWindows, usm)
		}
		return req, nil
	}
	// A discovery probe: no user, no engine ID, no authentication.
	probe := &gosnmp.GoSNMP{Version: gosnmp.Version3, SecurityModel: gosnmp.UserSecurityModel, SecurityParameters: &gosnmp.UsmSecurityParameters{}}
	req, perr := probe.UnmarshalTrap(p, true)
	if perr == nil && req.MsgFlags&gosnmp.AuthNoPriv == 0 {
		if usm, ok := req.SecurityParameters.(*gosnmp.UsmSecurityParameters); ok && usm.AuthoritativeEngineID != a.engineID {
			return nil, a.report(req, oidUnknownEngineIDs, nil)
		}
	}
	a.counts.badCommunity.Add(1) // an unknown user or a wrong key
	return nil, nil
}

func inWindow(usm *gosnmp.UsmSecurityParameters) bool {
	now := engineTime()
	d := int64(usm.AuthoritativeEngineTime) - int64(now)
	return usm.AuthoritativeEngineBoots == agentEngineBoots && d < int64(agentTimeWindow/time.Second) && -d < int64(agentTimeWindow/time.Second)
}

// report answers req with a Report of one USM counter, unauthenticated
// (discovery) or, with usm, at authNoPriv as RFC 3414 3.2.7 asks.
func (a *Agent) report(req *gosnmp.SnmpPacket, counter OID, usm *gosnmp.UsmSecurityParameters) []byte {
	if req.MsgFlags&gosnmp.Reportable == 0 {
		return nil
	}
	sp := &gosnmp.UsmSecurityParameters{AuthoritativeEngineID: a.engineID, AuthoritativeEngineBoots: agentEngineBoots, AuthoritativeEngineTime: engineTime()}
	flags := gosnmp.NoAuthNoPriv
	if usm != nil {
		sp.UserName, sp.AuthenticationProtocol, sp.SecretKey = usm.UserName, usm.AuthenticationProtocol, usm.SecretKey
		sp.PrivacyProtocol = gosnmp.NoPriv
		flags = gosnmp.AuthNoPriv
	}
	n := uint32(a.counts.reports.Add(1))
	pkt := &gosnmp.SnmpPacket{
		Version: gosnmp.Version3, MsgFlags: flags, SecurityModel: gosnmp.UserSecurityModel, SecurityParameters: sp,
		PDUType: gosnmp.Report, MsgID: req.MsgID, RequestID: req.RequestID, MsgMaxSize: 65507,
		ContextEngineID: a.engineID, ContextName: req.ContextName,
		Variables: []gosnmp.SnmpPDU{{Name: counter.String(), Type: gosnmp.Counter32, Value: n}},
	}
	b, err := pkt.MarshalMsg()
	if err != nil {
		return nil
	}
	return b
}

// v3response wraps a response PDU for req at its security level.
func (a *Agent) v3response(req, resp *gosnmp.SnmpPacket) ([]byte, error) {
	usm := req.SecurityParameters.(*gosnmp.UsmSecurityParameters)
	sp := &gosnmp.UsmSecurityParameters{
		AuthoritativeEngineID: a.engineID, AuthoritativeEngineBoots: agentEngineBoots, AuthoritativeEngineTime: engineTime(),
		UserName: usm.UserName, AuthenticationProtocol: usm.AuthenticationProtocol, PrivacyProtocol: usm.PrivacyProtocol,
		SecretKey: usm.SecretKey, PrivacyKey: usm.PrivacyKey,
	}
	resp.Version, resp.SecurityModel, resp.SecurityParameters = gosnmp.Version3, gosnmp.UserSecurityModel, sp
	resp.MsgFlags = req.MsgFlags &^ gosnmp.Reportable
	resp.MsgID, resp.MsgMaxSize = req.MsgID, 65507
	resp.ContextEngineID, resp.ContextName = a.engineID, req.ContextName
	if err := sp.InitPacket(resp); err != nil {
		return nil, err
	}
	return resp.MarshalMsg()
}
