package simulator

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// huntingColumns are the columns of every simulated hunting result.
var huntingColumns = []struct{ name, typ string }{
	{"Timestamp", "DateTime"},
	{"DeviceName", "String"},
	{"ActionType", "String"},
	{"FileName", "String"},
}

// huntingRows is the simulated result of a hunting query: 5 rows, or N
// for a `| take N` or `| limit N` (at most 1000).
func huntingRows(t Tenant, query string, now time.Time) []map[string]any {
	rows := 5
	fields := strings.Fields(strings.ReplaceAll(query, "|", " | "))
	for i := 0; i+1 < len(fields); i++ {
		if f := strings.ToLower(fields[i]); f == "take" || f == "limit" {
			if n, err := strconv.Atoi(fields[i+1]); err == nil && n >= 0 {
				rows = min(n, 1000)
			}
		}
	}
	results := make([]map[string]any, rows)
	for i := range results {
		results[i] = map[string]any{
			"Timestamp":  now.UTC().Add(-timeStep(i)).Format("2006-01-02T15:04:05.0000000Z"),
			"DeviceName": fmt.Sprintf("%s-ws%03d", t.shortName(), i+1),
			"ActionType": "ProcessCreated",
			"FileName":   "powershell.exe",
		}
	}
	return results
}

// huntingSchema describes huntingColumns, with each API's spelling of the
// keys: Defender's "Name" and "Type", Graph's "name" and "type".
func huntingSchema(nameKey, typeKey string) []map[string]string {
	schema := make([]map[string]string, len(huntingColumns))
	for i, col := range huntingColumns {
		schema[i] = map[string]string{nameKey: col.name, typeKey: col.typ}
	}
	return schema
}
