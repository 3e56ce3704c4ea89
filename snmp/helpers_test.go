package snmp

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// netsnmpText is a binding as net-snmp prints it with -On -Oe -Ot -Ox.
func netsnmpText(v Var) string {
	switch x := v.Value.(type) {
	case []byte:
		if len(x) == 0 {
			return `""`
		}
		return "Hex-STRING: " + strings.ToUpper(hexBytes(x, " ")) + " "
	case OID:
		return "OID: " + x.String()
	case uint32:
		if v.Type == TimeTicks {
			return fmt.Sprintf("%d", x)
		}
	}
	return v.Type.String() + ": " + v.Text()
}

// execEnv runs a net-snmp tool without MIB files, so its output is
// numeric.
func execEnv(bin string, args ...string) ([]byte, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "MIBS=")
	return cmd.CombinedOutput()
}
