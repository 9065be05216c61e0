package pagelinks

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"
)

var (
	graph = Rule{
		From: "https://graph.microsoft.com/",
		To:   "http://127.0.0.1:8080/tenants/contoso/graph/",
	}
	defender = Rule{
		From: "https://api.security.microsoft.com/api",
		To:   "http://127.0.0.1:8080/tenants/contoso/defender",
	}
)

// rewriteCase is one body, the rule applied to it, the body expected out
// and how many links it rewrites.
type rewriteCase struct {
	name    string
	rule    Rule
	in      string
	want    string
	changed int
}

const (
	graphTo    = "http://127.0.0.1:8080/tenants/contoso/graph/"
	defenderTo = "http://127.0.0.1:8080/tenants/contoso/defender"
)

var rewriteCases = []rewriteCase{
	{
		name:    "defender page",
		rule:    defender,
		in:      `{"@odata.context":"https://api.security.microsoft.com/api/$metadata#Incidents","value":[{"incidentId":1,"status":"Active"},{"incidentId":2,"tags":["a","b"]}],"@odata.nextLink":"https://api.security.microsoft.com/api/incidents?$top=2&$skip=2"}`,
		want:    `{"@odata.context":"https://api.security.microsoft.com/api/$metadata#Incidents","value":[{"incidentId":1,"status":"Active"},{"incidentId":2,"tags":["a","b"]}],"@odata.nextLink":"` + defenderTo + `/incidents?$top=2&$skip=2"}`,
		changed: 1,
	},
	{
		name:    "graph skiptoken",
		rule:    graph,
		in:      `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users","value":[{"id":"1","displayName":"A"}],"@odata.nextLink":"https://graph.microsoft.com/v1.0/users?$top=1&$skiptoken=RFNwdAIAAQAAAD8"}`,
		want:    `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users","value":[{"id":"1","displayName":"A"}],"@odata.nextLink":"` + graphTo + `v1.0/users?$top=1&$skiptoken=RFNwdAIAAQAAAD8"}`,
		changed: 1,
	},
	{
		name:    "delta link",
		rule:    graph,
		in:      `{"value":[],"@odata.deltaLink":"https://graph.microsoft.com/v1.0/users/delta?$deltatoken=abc"}`,
		want:    `{"value":[],"@odata.deltaLink":"` + graphTo + `v1.0/users/delta?$deltatoken=abc"}`,
		changed: 1,
	},
	{
		name:    "nested member",
		rule:    defender,
		in:      `{"value":[{"id":"1","alerts":[{"x":[{}]}],"alerts@odata.nextLink":"https://api.security.microsoft.com/api/incidents/1/alerts?$skip=10"}]}`,
		want:    `{"value":[{"id":"1","alerts":[{"x":[{}]}],"alerts@odata.nextLink":"` + defenderTo + `/incidents/1/alerts?$skip=10"}]}`,
		changed: 1,
	},
	{
		name:    "escaped slashes",
		rule:    graph,
		in:      `{"@odata.nextLink":"https:\/\/graph.microsoft.com\/v1.0\/users?$skiptoken=x"}`,
		want:    `{"@odata.nextLink":"` + graphTo + `v1.0\/users?$skiptoken=x"}`,
		changed: 1,
	},
	{
		name:    "escapes in the rest kept",
		rule:    graph,
		in:      `{"@odata.nextLink":"https://graph.microsoft.com/v1.0/users?$top=1\u0026$skiptoken=x\ud83d\ude00\"\\"}`,
		want:    `{"@odata.nextLink":"` + graphTo + `v1.0/users?$top=1\u0026$skiptoken=x\ud83d\ude00\"\\"}`,
		changed: 1,
	},
	{
		name:    "escaped host",
		rule:    graph,
		in:      `{"@odata.nextLink":"https://graph.microsoft.\u0063om\u002fv1.0"}`,
		want:    `{"@odata.nextLink":"` + graphTo + `v1.0"}`,
		changed: 1,
	},
	{
		name:    "escaped member names",
		rule:    graph,
		in:      `{"\u0040odata.nextLink":"https://graph.microsoft.com/a","x@odata.delta\u004cink":"https://graph.microsoft.com/b","\"@odata.nextLink":"https://graph.microsoft.com/c"}`,
		want:    `{"\u0040odata.nextLink":"` + graphTo + `a","x@odata.delta\u004cink":"` + graphTo + `b","\"@odata.nextLink":"` + graphTo + `c"}`,
		changed: 3,
	},
	{
		name: "other hosts untouched",
		rule: graph,
		in:   `{"a@odata.nextLink":"https://evil.example/v1.0/users","b@odata.nextLink":"https://graph.microsoft.com.evil.example/v1.0","c@odata.nextLink":"https://graph.microsoft.com@evil.example/","d@odata.nextLink":"http://graph.microsoft.com/v1.0","e@odata.nextLink":"https://graph.microsoft.com:8443/v1.0","f@odata.nextLink":"/v1.0/users","g@odata.nextLink":"https://graph.microsoft.com"}`,
		want: `{"a@odata.nextLink":"https://evil.example/v1.0/users","b@odata.nextLink":"https://graph.microsoft.com.evil.example/v1.0","c@odata.nextLink":"https://graph.microsoft.com@evil.example/","d@odata.nextLink":"http://graph.microsoft.com/v1.0","e@odata.nextLink":"https://graph.microsoft.com:8443/v1.0","f@odata.nextLink":"/v1.0/users","g@odata.nextLink":"https://graph.microsoft.com"}`,
	},
	{
		name:    "base path boundary",
		rule:    defender,
		in:      `{"a@odata.nextLink":"https://api.security.microsoft.com/apix/incidents","b@odata.nextLink":"https://api.security.microsoft.com/api","c@odata.nextLink":"https://api.security.microsoft.com/api?$top=1","d@odata.nextLink":"https://api.security.microsoft.com/api#f","e@odata.nextLink":"https://api.security.microsoft.com/API/incidents","f@odata.nextLink":"https://api.security.microsoft.com/ap"}`,
		want:    `{"a@odata.nextLink":"https://api.security.microsoft.com/apix/incidents","b@odata.nextLink":"` + defenderTo + `","c@odata.nextLink":"` + defenderTo + `?$top=1","d@odata.nextLink":"` + defenderTo + `#f","e@odata.nextLink":"https://api.security.microsoft.com/API/incidents","f@odata.nextLink":"https://api.security.microsoft.com/ap"}`,
		changed: 3,
	},
	{
		name:    "upper-case scheme and host, default port",
		rule:    graph,
		in:      `{"a@odata.nextLink":"HTTPS://Graph.Microsoft.COM/V1.0/users","b@odata.nextLink":"https://graph.microsoft.com:443/v1.0/users"}`,
		want:    `{"a@odata.nextLink":"` + graphTo + `V1.0/users","b@odata.nextLink":"` + graphTo + `v1.0/users"}`,
		changed: 2,
	},
	{
		name:    "From with upper case and a default port",
		rule:    Rule{From: "HTTP://Api.Example:80/base", To: "https://p/x"},
		in:      `{"@odata.nextLink":"http://api.example/base/page?n=2"}`,
		want:    `{"@odata.nextLink":"https://p/x/page?n=2"}`,
		changed: 1,
	},
	{
		name: "values that are not strings",
		rule: graph,
		in:   `{"a@odata.nextLink":null,"b@odata.nextLink":1,"c@odata.nextLink":["https://graph.microsoft.com/v1.0"],"d@odata.nextLink":{"href":"https://graph.microsoft.com/v1.0"},"e@odata.nextLink":true,"f":"https://graph.microsoft.com/v1.0"}`,
		want: `{"a@odata.nextLink":null,"b@odata.nextLink":1,"c@odata.nextLink":["https://graph.microsoft.com/v1.0"],"d@odata.nextLink":{"href":"https://graph.microsoft.com/v1.0"},"e@odata.nextLink":true,"f":"https://graph.microsoft.com/v1.0"}`,
	},
	{
		name: "names that are not paging links",
		rule: graph,
		in:   `{"nextLink":"https://graph.microsoft.com/a","odata.nextLink":"https://graph.microsoft.com/b","@odata.nextlink":"https://graph.microsoft.com/c","@odata.nextLinks":"https://graph.microsoft.com/d","@odata.id":"https://graph.microsoft.com/e"}`,
		want: `{"nextLink":"https://graph.microsoft.com/a","odata.nextLink":"https://graph.microsoft.com/b","@odata.nextlink":"https://graph.microsoft.com/c","@odata.nextLinks":"https://graph.microsoft.com/d","@odata.id":"https://graph.microsoft.com/e"}`,
	},
	{
		name: "links in other values",
		rule: graph,
		in:   `{"links":["@odata.nextLink","https://graph.microsoft.com/a"],"b":"@odata.nextLink","c":"https://graph.microsoft.com/c","d":"x\"@odata.nextLink\":\"https://graph.microsoft.com/d"}`,
		want: `{"links":["@odata.nextLink","https://graph.microsoft.com/a"],"b":"@odata.nextLink","c":"https://graph.microsoft.com/c","d":"x\"@odata.nextLink\":\"https://graph.microsoft.com/d"}`,
	},
	{
		name:    "whitespace around the colon",
		rule:    graph,
		in:      "{\n  \"value\" : [ ] ,\n  \"@odata.nextLink\" :\r\n\t \"https://graph.microsoft.com/v1.0/users?$skip=1\"\n}\n",
		want:    "{\n  \"value\" : [ ] ,\n  \"@odata.nextLink\" :\r\n\t \"" + graphTo + "v1.0/users?$skip=1\"\n}\n",
		changed: 1,
	},
	{
		name:    "several documents",
		rule:    graph,
		in:      `{"@odata.nextLink":"https://graph.microsoft.com/a"} {"@odata.nextLink":"https://graph.microsoft.com/b"}`,
		want:    `{"@odata.nextLink":"` + graphTo + `a"} {"@odata.nextLink":"` + graphTo + `b"}`,
		changed: 2,
	},
	{
		name:    "To escaped",
		rule:    Rule{From: "https://graph.microsoft.com/", To: "http://p/a\"b\\c\n/"},
		in:      `{"@odata.nextLink":"https://graph.microsoft.com/v1.0"}`,
		want:    `{"@odata.nextLink":"http://p/a\"b\\c\u000a/v1.0"}`,
		changed: 1,
	},
	{
		name: "empty From matches nothing",
		rule: Rule{To: "http://p/"},
		in:   `{"@odata.nextLink":"https://graph.microsoft.com/v1.0","@odata.deltaLink":""}`,
		want: `{"@odata.nextLink":"https://graph.microsoft.com/v1.0","@odata.deltaLink":""}`,
	},
	{
		name: "invalid escape in the link",
		rule: graph,
		in:   `{"@odata.nextLink":"https:\/\/graph.microsoft.com\x/v1.0"}`,
		want: `{"@odata.nextLink":"https:\/\/graph.microsoft.com\x/v1.0"}`,
	},
	{
		name: "not JSON",
		rule: graph,
		in:   `<html>"@odata.nextLink":"https://graph.microsoft.com/a"} ] ] }}} "\`,
		want: `<html>"@odata.nextLink":"https://graph.microsoft.com/a"} ] ] }}} "\`,
	},
	{
		name: "link never closed",
		rule: graph,
		in:   `{"@odata.nextLink":"https://graph.microsoft.com/v1.0\`,
		want: `{"@odata.nextLink":"https://graph.microsoft.com/v1.0\`,
	},
	{
		name: "empty",
		rule: graph,
	},
}

func TestRewrite(t *testing.T) {
	for _, tc := range rewriteCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(Rewrite(nil, []byte(tc.in), tc.rule)); got != tc.want {
				t.Errorf("Rewrite:\n got %s\nwant %s", got, tc.want)
			}
			prefix := []byte("kept:")
			if got := string(Rewrite(prefix, []byte(tc.in), tc.rule)); got != "kept:"+tc.want {
				t.Errorf("Rewrite onto a non-empty dst: %s", got)
			}
			checkReaders(t, tc.rule, []byte(tc.in), []byte(tc.want), tc.changed)
		})
	}
}

// checkReaders reads in through a Reader in one piece, one byte at a time,
// and in two pieces split at every point, and checks each gives want.
func checkReaders(t *testing.T, rule Rule, in, want []byte, changed int) {
	t.Helper()
	check := func(how string, src io.Reader) {
		t.Helper()
		r := NewReader(src, rule)
		got, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("%s: %v", how, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s:\n got %s\nwant %s", how, got, want)
		}
		if r.Rewritten() != changed {
			t.Fatalf("%s: Rewritten() = %d, want %d", how, r.Rewritten(), changed)
		}
	}
	check("whole", bytes.NewReader(in))
	check("one byte at a time", iotest.OneByteReader(bytes.NewReader(in)))
	check("with EOF on the last data", iotest.DataErrReader(bytes.NewReader(in)))
	for k := range len(in) + 1 {
		check("split at "+string(in[:k])+"|", &chunkReader{chunks: [][]byte{in[:k], in[k:]}})
	}
}

// chunkReader returns one of its chunks per Read, then io.EOF.
type chunkReader struct {
	chunks [][]byte
	reads  int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	c.reads++
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.chunks[0])
	if c.chunks[0] = c.chunks[0][n:]; len(c.chunks[0]) == 0 {
		c.chunks = c.chunks[1:]
	}
	return n, nil
}
