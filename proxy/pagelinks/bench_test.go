package pagelinks

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// defenderPage returns a Defender-like incidents page of about size bytes,
// compact as the API sends it, ending in nextLink unless that is empty.
func defenderPage(size int, nextLink string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"@odata.context":"https://api.security.microsoft.com/api/$metadata#Incidents","value":[`)
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"incidentId":%d,"incidentUri":"https://security.microsoft.com/incidents/%d?tid=c0ffee00-1234-5678-9abc-def012345678",`+
			`"redirectIncidentId":null,"incidentName":"Multi-stage incident involving Initial access \u0026 Lateral movement on one endpoint",`+
			`"createdTime":"2024-05-%02dT10:%02d:11.8766667Z","lastUpdateTime":"2024-05-%02dT11:02:38.3233333Z","assignedTo":"secops@contoso.com",`+
			`"classification":"Unknown","determination":"NotAvailable","status":"Active","severity":"High","tags":["Ransomware","Credential \"theft\""],`+
			`"comments":[{"comment":"Escalated to tier 2\nsee ticket #4711","createdBy":"analyst@contoso.com","createdTime":"2024-05-20T09:30:00Z"}],`+
			`"alerts":[{"alertId":"da637%09d_-1234567890","providerAlertId":"da637%09d","incidentId":%d,"serviceSource":"MicrosoftDefenderForEndpoint",`+
			`"detectionSource":"WindowsDefenderAv","mitreTechniques":["T1059.001","T1105"],"devices":[{"mdatpDeviceId":"8e3c1c2d5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c",`+
			`"deviceDnsName":"ws-%05d.contoso.com","osPlatform":"Windows10","osBuild":19045,"rbacGroupName":"Workstations","healthStatus":"Active",`+
			`"riskScore":"High","exposureLevel":"Medium","tags":[]}],"entities":[{"entityType":"Process","fileName":"powershell.exe",`+
			`"filePath":"C:\\Windows\\System32\\WindowsPowerShell\\v1.0","processId":%d,"processCommandLine":"powershell.exe -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA",`+
			`"sha256":"6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b","verdict":"Malicious","evidenceCreationTime":"2024-05-20T10:02:11.27Z"}]}]}`,
			i, i, i%28+1, i%60, i%28+1, i, i, i, i%100000, 4000+i%60000)
	}
	b.WriteString(`]`)
	if nextLink != "" {
		fmt.Fprintf(&b, `,"@odata.nextLink":%q`, nextLink)
	}
	b.WriteString(`}`)
	return b.Bytes()
}

// BenchmarkRewriter streams a 10 MB Defender-like page through a Reader,
// with one nextLink at its end and with none, against an io.Copy of the
// same bytes, and rewrites it whole with Rewrite.
func BenchmarkRewriter(b *testing.B) {
	withLink := defenderPage(10<<20, "https://api.security.microsoft.com/api/incidents?$top=100&$skip=100")
	noLink := defenderPage(10<<20, "")
	rule := Rule{From: "https://api.security.microsoft.com/api", To: "http://127.0.0.1:8080/tenants/contoso/defender"}
	stream := func(page []byte, rewritten int) func(*testing.B) {
		return func(b *testing.B) {
			b.SetBytes(int64(len(page)))
			b.ReportAllocs()
			for b.Loop() {
				r := NewReader(bytes.NewReader(page), rule)
				if _, err := io.Copy(io.Discard, r); err != nil || r.Rewritten() != rewritten {
					b.Fatalf("%v, %d links rewritten", err, r.Rewritten())
				}
			}
		}
	}
	b.Run("link", stream(withLink, 1))
	b.Run("no-link", stream(noLink, 0))
	b.Run("io.Copy", func(b *testing.B) {
		b.SetBytes(int64(len(withLink)))
		b.ReportAllocs()
		for b.Loop() {
			// Hide bytes.Reader's WriteTo: copy through Read, as a proxy does.
			if _, err := io.Copy(io.Discard, struct{ io.Reader }{bytes.NewReader(withLink)}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Rewrite", func(b *testing.B) {
		b.SetBytes(int64(len(withLink)))
		b.ReportAllocs()
		dst := make([]byte, 0, len(withLink)+1024)
		for b.Loop() {
			dst = Rewrite(dst[:0], withLink, rule)
		}
	})
}
