package server

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/fleet"
)

// fleetWatchInterval is how often a replica asks Redis whether it
// answers while no request does: xdrproxy_redis_up tells the truth on an
// idle replica, and sharing resumes within this after an outage.
const fleetWatchInterval = 2 * time.Second

// fleetState is what a replica shares with the others through Redis:
// its limiter and its token store, over one client.
type fleetState struct {
	client  *fleet.Client
	limiter *fleet.Limiter
	tokens  *fleet.TokenStore
}

// newFleet connects to the fleet's Redis when cfg names one; nil
// otherwise. A Redis that does not answer does not stop the start: the
// replica serves on its own state and logs it once.
func newFleet(cfg *config.Config, log *zap.Logger, reg prometheus.Registerer, timeout time.Duration) (*fleetState, error) {
	if !cfg.Fleet.Enabled() {
		return nil, nil
	}
	client, err := fleet.Dial(fleet.Options{
		URL:          cfg.Fleet.URL.String(),
		PasswordFile: cfg.Fleet.PasswordFile,
		Prefix:       cfg.Fleet.KeyPrefix,
		Timeout:      timeout,
		Logger:       log,
	})
	if err != nil {
		return nil, err
	}
	f := &fleetState{
		client:  client,
		limiter: fleet.NewLimiter(client, fleet.LimiterOptions{ClientID: cfg.ClientID, QueueTimeout: cfg.QueueTimeout}),
		tokens:  fleet.NewTokenStore(client, fleet.TokenStoreOptions{ClientID: cfg.ClientID, Keys: cfg.Fleet.TokenKeys}),
	}
	u := cfg.Fleet.URL
	log.Info("sharing rate limits, holds and tokens with the fleet through Redis",
		zap.String("redis", u.Scheme+"://"+u.Host+u.Path), zap.String("key_prefix", cfg.Fleet.KeyPrefix),
		zap.Bool("redis_up", client.Up()))
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "xdrproxy_redis_up", Help: "1 while the fleet's Redis answers, 0 while this replica uses its own state.",
		}, func() float64 {
			if client.Up() {
				return 1
			}
			return 0
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "xdrproxy_redis_fallbacks_total", Help: "Calls to the fleet's Redis that this replica answered from its own state because Redis did not answer, by state (limits or tokens).",
			ConstLabels: prometheus.Labels{"state": "limits"},
		}, func() float64 { return float64(f.limiter.Fallbacks()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "xdrproxy_redis_fallbacks_total", Help: "Calls to the fleet's Redis that this replica answered from its own state because Redis did not answer, by state (limits or tokens).",
			ConstLabels: prometheus.Labels{"state": "tokens"},
		}, func() float64 { return float64(f.tokens.Fallbacks()) }),
	)
	return f, nil
}

// watch keeps the replica's view of Redis current until ctx is done.
func (f *fleetState) watch(ctx context.Context) {
	if f != nil {
		f.client.Watch(ctx, fleetWatchInterval)
	}
}

// close ends the token store's waits and closes the connections to
// Redis. The token cache is closed first.
func (f *fleetState) close() {
	if f != nil {
		f.tokens.Close()
		f.limiter.Close()
		_ = f.client.Close()
	}
}
