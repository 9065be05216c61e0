package simulator

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// Benchmark endpoints, not part of Defender's API: they let bench/run
// stream large bodies through a proxy with a verified token.
//
//	GET /bench/bytes?n=N  answers N bytes (up to 64 GiB), streamed.
//	PUT /bench/sink       reads the whole body and answers its length.
func (s *Server) routeBench(mux *http.ServeMux) {
	mux.Handle("GET /bench/bytes", s.guard(defenderAPI, []string{"Incident.Read.All"}, s.benchBytes))
	mux.Handle("PUT /bench/sink", s.guard(defenderAPI, []string{"Incident.Read.All"}, s.benchSink))
}

func (s *Server) benchBytes(w http.ResponseWriter, r *http.Request, _ *Claims) {
	n, err := strconv.ParseInt(r.URL.Query().Get("n"), 10, 64)
	if err != nil || n < 0 || n > 64<<30 {
		writeAPIError(w, http.StatusBadRequest, "BadRequest", "n must be a byte count up to 64 GiB")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	chunk := make([]byte, 64<<10)
	for n > 0 {
		k := min(n, int64(len(chunk)))
		if _, err := w.Write(chunk[:k]); err != nil {
			return
		}
		n -= k
	}
}

func (s *Server) benchSink(w http.ResponseWriter, r *http.Request, _ *Claims) {
	n, err := io.Copy(io.Discard, r.Body)
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "BadRequest", "reading the body: "+err.Error())
		return
	}
	fmt.Fprintf(w, "%d\n", n)
}

// BenchTenants returns n consented tenants with the demo roles and
// generated GUIDs (%08x-0000-4000-8000-000000000000 of 1..n), for scale
// benchmarks.
func BenchTenants(n int) []Tenant {
	out := make([]Tenant, n)
	for i := range out {
		out[i] = Tenant{ID: fmt.Sprintf("%08x-0000-4000-8000-000000000000", i+1), Name: fmt.Sprintf("bench-%d", i+1), Consented: true, Roles: DefaultRoles}
	}
	return out
}
