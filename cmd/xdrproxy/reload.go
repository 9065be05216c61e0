package main

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/proxy"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// reloadInterval is how often watched files are read: the contract applies
// a changed tenants file within 5 s.
const reloadInterval = 2 * time.Second

// reloader applies changes to the files the configuration names while the
// proxy runs.
type reloader struct {
	cfg     *config.Config
	log     *zap.Logger
	handler *proxy.Handler
	cache   *tokencache.Cache
	tenants *config.TenantSet
	file    *config.FileWatcher // nil without XDRPROXY_TENANTS_FILE
	// applied, if set, is called after each change of the file was
	// handled: with nil when it took effect, else with why it did not.
	applied func(error)
}

func newReloader(cfg *config.Config, log *zap.Logger, h *proxy.Handler, cache *tokencache.Cache) *reloader {
	r := &reloader{cfg: cfg, log: log, handler: h, cache: cache, tenants: cfg.Tenants}
	if cfg.TenantsFile != "" {
		r.file = config.NewFileWatcher(cfg.TenantsFile, cfg.TenantsFileContent)
	}
	return r
}

// run polls until ctx is done.
func (r *reloader) run(ctx context.Context, interval time.Duration) {
	if r.file == nil {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.poll(ctx)
		}
	}
}

// poll re-reads the tenants file and, when it changed and parses, serves
// the new tenant set at once: added tenants get tokens in the background,
// removed ones are refused and their tokens dropped. A file that cannot
// be read or parsed changes nothing.
func (r *reloader) poll(ctx context.Context) {
	data, changed, err := r.file.Check()
	if err != nil {
		r.log.Warn("tenants file unreadable; keeping the current tenants", zap.String("file", r.file.Path), zap.Int("tenants", r.tenants.Len()), zap.Error(err))
		return
	}
	if !changed {
		return
	}
	fromFile, err := config.ParseTenantsFile(r.file.Path, data)
	var set *config.TenantSet
	if err == nil {
		set, err = config.TenantSetFrom(r.cfg.StaticTenants, fromFile)
	}
	if err == nil && set.Len() == 0 {
		err = errNoTenants
	}
	if err != nil {
		r.log.Warn("tenants file is malformed; keeping the current tenants", zap.String("file", r.file.Path), zap.Int("tenants", r.tenants.Len()), zap.Error(err))
		if r.applied != nil {
			r.applied(err)
		}
		return
	}
	var added, removed []string
	for _, t := range set.All() {
		if old, ok := r.tenants.Lookup(t.ID); !ok || old != t {
			added = append(added, t.Name())
		}
	}
	for _, t := range r.tenants.All() {
		if _, ok := set.Lookup(t.ID); !ok {
			removed = append(removed, t.Name())
			r.cache.Forget(t.ID)
		}
	}
	r.handler.SetTenants(set)
	r.tenants = set
	r.log.Info("tenants file reloaded", zap.String("file", r.file.Path), zap.Int("tenants", set.Len()),
		zap.Strings("added", added), zap.Strings("removed", removed))
	ids := make([]string, 0, len(added))
	for _, t := range set.All() {
		ids = append(ids, t.ID)
	}
	for _, scope := range r.cfg.Scopes() {
		r.cache.Warm(ctx, ids, scope) // only tenants without a usable token are fetched
	}
	if r.applied != nil {
		r.applied(nil)
	}
}

// errNoTenants refuses a tenants file that would leave no tenant at all.
var errNoTenants = errors.New("the file would leave no tenant; an empty tenant set is refused")
