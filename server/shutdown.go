package server

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/xdrproxy/xdrproxy/admin"
	"github.com/xdrproxy/xdrproxy/proxy"
)

// drain reports not-ready, refuses new requests, and waits at most
// XDRPROXY_SHUTDOWN_TIMEOUT for the requests in flight on the proxy
// listeners; then it closes the admin listener. It returns an error when
// requests were cut at that deadline.
func (p *process) drain(l *listeners) error {
	p.ready.MarkDraining()
	p.handler.Drain()
	p.log.Info("shutting down: draining in-flight requests", zap.Duration("timeout", p.cfg.ShutdownTimeout))
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.ShutdownTimeout)
	defer cancel()
	var cut atomic.Bool
	var drained sync.WaitGroup
	for _, srv := range l.proxySrvs {
		drained.Go(func() {
			if err := srv.Shutdown(ctx); err != nil {
				cut.Store(true)
				srv.Close()
			}
		})
	}
	drained.Wait()
	l.adminSrv.Close()
	if cut.Load() {
		return fmt.Errorf("in-flight requests were cut after XDRPROXY_SHUTDOWN_TIMEOUT=%s", p.cfg.ShutdownTimeout)
	}
	return nil
}

// refuseWhileDraining answers 503 ShuttingDown to requests that arrive,
// on connections already open, after shutdown began; requests already in
// flight are not affected.
func refuseWhileDraining(next http.Handler, ready *admin.Readiness) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ready.Draining() {
			w.Header().Set("Connection", "close")
			holdNoBody(w, r)
			proxy.WriteShuttingDown(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}
