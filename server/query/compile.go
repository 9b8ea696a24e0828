package query

import (
	"strconv"
	"strings"
	"time"
)

// SQL is a compiled query: a condition over a devices row d, its
// arguments in order (placeholders are ?).
type SQL struct {
	Where string
	Args  []any
}

// Compile turns a parsed query into a SQL condition over "devices d" at
// time now (for seen and inventoried).
func Compile(n *Node, now time.Time) SQL {
	c := &compiler{now: now}
	var b strings.Builder
	c.node(&b, n)
	return SQL{Where: b.String(), Args: c.args}
}

type compiler struct {
	now  time.Time
	args []any
}

func (c *compiler) node(b *strings.Builder, n *Node) {
	switch n.Op {
	case "and", "or":
		b.WriteByte('(')
		for i, k := range n.Kids {
			if i > 0 {
				b.WriteString(" " + strings.ToUpper(n.Op) + " ")
			}
			c.node(b, k)
		}
		b.WriteByte(')')
	case "not":
		b.WriteString("(NOT ")
		c.node(b, n.Kids[0])
		b.WriteByte(')')
	default:
		c.cond(b, n)
	}
}

// textColumn is each text field's value for a device d, lower-cased.
var textColumn = map[string]string{
	"name":   `lower(d.name)`,
	"os":     `lower(d.osname || ' ' || d.osversion)`,
	"ip":     `d.ipaddr`,
	"tag":    `lower(COALESCE((SELECT a.keyvalue FROM accountinfo a WHERE a.device_id = d.id AND a.keyname = 'TAG'), ''))`,
	"client": `lower(COALESCE((SELECT c.name FROM clients c WHERE c.id = d.client_id), ''))`,
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)

func contains(s string) string { return "%" + likeEscaper.Replace(strings.ToLower(s)) + "%" }

func sqlCmp(op string) string {
	if op == "!=" {
		return "<>"
	}
	return op
}

func (c *compiler) cond(b *strings.Builder, n *Node) {
	switch n.Field {
	case "software":
		if !n.Has {
			b.WriteString("NOT ")
		}
		b.WriteString(`EXISTS (SELECT 1 FROM software s WHERE s.device_id = d.id AND s.name LIKE ? ESCAPE '\'`)
		c.args = append(c.args, contains(n.Value))
		if n.VCmp != "" {
			b.WriteString(" AND s.vkey " + sqlCmp(n.VCmp) + " ?")
			c.args = append(c.args, VersionKey(n.Version))
		}
		b.WriteByte(')')
	case "name", "os", "ip", "tag", "client":
		col := textColumn[n.Field]
		switch n.Cmp {
		case "~":
			b.WriteString(col + ` LIKE ? ESCAPE '\'`)
			c.args = append(c.args, contains(n.Value))
		default:
			b.WriteString(col + " " + sqlCmp(n.Cmp) + " ?")
			c.args = append(c.args, strings.ToLower(n.Value))
		}
	case "memory", "cpus":
		col := map[string]string{"memory": "d.memory_mb", "cpus": "d.cpus"}[n.Field]
		v, _ := strconv.ParseFloat(n.Value, 64)
		b.WriteString(col + " " + sqlCmp(n.Cmp) + " ?")
		c.args = append(c.args, v)
	case "seen", "inventoried":
		// seen < 7 (days ago) is lastcome > now - 7 days: the comparison
		// turns round on the time column.
		col := map[string]string{"seen": "d.lastcome", "inventoried": "d.lastdate"}[n.Field]
		days, _ := strconv.ParseFloat(n.Value, 64)
		at := c.now.Add(-time.Duration(days * 24 * float64(time.Hour))).Unix()
		flip := map[string]string{"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "<>"}[n.Cmp]
		b.WriteString(col + " " + flip + " ?")
		c.args = append(c.args, at)
	case "subnet":
		prefix, _ := subnetPrefix(n.Value)
		if strings.HasSuffix(prefix, ".") {
			b.WriteString(`d.ipaddr LIKE ? ESCAPE '\'`)
			c.args = append(c.args, likeEscaper.Replace(prefix)+"%")
		} else {
			b.WriteString("d.ipaddr = ?")
			c.args = append(c.args, prefix)
		}
	}
}
