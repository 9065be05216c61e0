package server

import (
	"context"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/xdrproxy/xdrproxy/admin"
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
	source  *tokencache.MSALSource
	cred    *config.FileWatcher // the secret or certificate file; nil otherwise
	keys    *config.FileWatcher // the client keys file; nil without one
	admin   *config.FileWatcher // the admin keys file; nil without one
	tls     *inboundTLS         // the listeners' certificate files; nil without TLS
	lastErr map[string]string   // per file, the read error last logged: each is logged once
	metrics *proxy.Metrics      // nil in tests that need none
	warm    chan struct{}       // asks the warmer for a round; holds at most one request
	// applied, if set, is called after each change of the file was
	// handled: with nil when it took effect, else with why it did not.
	applied func(error)
	// hungUp, if set, is called once a hangup has been handled.
	hungUp func()
	// adminKeys are the admin listener's keys, replaced when the admin
	// keys file changes; nil without one.
	adminKeys *admin.Keys
}

func newReloader(cfg *config.Config, log *zap.Logger, h *proxy.Handler, cache *tokencache.Cache, src *tokencache.MSALSource) *reloader {
	r := &reloader{cfg: cfg, log: log, handler: h, cache: cache, tenants: cfg.Tenants, source: src, lastErr: map[string]string{}, warm: make(chan struct{}, 1)}
	if cfg.TenantsFile != "" {
		r.file = config.WatchFrom(cfg.TenantsFile, cfg.TenantsFileSum)
	}
	if cfg.ClientKeysFile != "" {
		r.keys = config.NewFileWatcher(cfg.ClientKeysFile, cfg.ClientKeysFileContent)
	}
	if cfg.AdminKeysFile != "" {
		r.admin = config.NewFileWatcher(cfg.AdminKeysFile, cfg.AdminKeysFileContent)
	}
	switch cfg.Credential.Kind {
	case config.ClientSecretFile, config.ClientCertificate:
		// The file as it is now: the secret in cfg is trimmed.
		initial, _ := os.ReadFile(cfg.Credential.File)
		r.cred = config.NewFileWatcher(cfg.Credential.File, initial)
	}
	return r
}

// run polls every interval, and at once on each hangup (SIGHUP), until
// ctx is done. A hangup also retries every tenant that failed, now.
func (r *reloader) run(ctx context.Context, interval time.Duration, hangup <-chan os.Signal) {
	watching := r.file != nil || r.cred != nil || r.keys != nil || r.admin != nil || r.tls != nil
	if !watching && hangup == nil {
		return
	}
	done := make(chan struct{})
	go func() { defer close(done); r.warmer(ctx) }()
	defer func() { <-done }()
	// A SIGHUP's retry round runs beside this loop, one round at a time,
	// so that a slow Entra ID never holds up a key revoked meanwhile.
	var retries sync.WaitGroup
	var retrying sync.Mutex
	defer retries.Wait()
	var tick <-chan time.Time
	if watching {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			r.pollAll(ctx)
		case <-hangup:
			r.log.Info("SIGHUP: re-reading every file and retrying every failed tenant now")
			r.pollAll(ctx)
			retries.Go(func() {
				retrying.Lock()
				defer retrying.Unlock()
				r.cache.RetryFailed(ctx)
				if r.hungUp != nil {
					r.hungUp()
				}
			})
		}
	}
}

// pollAll re-reads every watched file, applying what changed.
func (r *reloader) pollAll(ctx context.Context) {
	r.pollCredential(ctx)
	r.pollKeys()
	r.pollAdminKeys()
	r.pollTLS()
	if r.file != nil {
		r.poll(ctx)
	}
}

// poll re-reads the tenants file and, when it changed and parses, serves
// the new tenant set at once: added tenants get tokens in the background,
// removed ones are refused and their tokens dropped. A file that cannot
// be read or parsed changes nothing.
func (r *reloader) poll(ctx context.Context) {
	data, changed, err := r.file.Check()
	if r.readFailed(r.file.Path, err) {
		r.log.Warn("tenants file unreadable; keeping the current tenants", zap.String("file", r.file.Path), zap.Int("tenants", r.tenants.Len()), zap.Error(err))
	}
	if err != nil {
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
			r.metrics.ForgetTenant(t.Name())
		}
	}
	// Label first, so that no request of a new tenant is counted under a
	// label the new set does not keep (a series nothing would delete);
	// then refuse removed tenants, then drop their tokens: a request
	// already past the tenant check gets no token from the cache either.
	r.metrics.LabelTenants(set, r.cfg.MetricsTenantLabels)
	r.handler.SetTenants(set)
	r.cache.SetTenants(tenantIDs(set))
	r.tenants = set
	level := zap.InfoLevel
	if set.Len() == 0 {
		level = zap.WarnLevel // every request is refused now
	}
	r.log.Check(level, "tenants file reloaded").Write(zap.String("file", r.file.Path), zap.Int("tenants", set.Len()),
		zap.Strings("added", added), zap.Strings("removed", removed))
	r.warmSoon()
	if r.applied != nil {
		r.applied(nil)
	}
}

// warmSoon asks the warmer to fetch tokens for tenants that lack one,
// without holding up the next poll: a removal must take effect within
// seconds even while Entra ID is slow.
func (r *reloader) warmSoon() {
	select {
	case r.warm <- struct{}{}:
	default: // a warm-up is already pending; it will see the latest set
	}
}

// warmer fetches, in the background, the tokens of every tenant and scope
// that lacks one, each time warmSoon asks, until ctx is done.
func (r *reloader) warmer(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.warm:
			ids := tenantIDs(r.handler.Tenants())
			for _, scope := range r.cfg.Scopes() {
				r.cache.Warm(ctx, ids, scope) // only tenants without a usable token are fetched
			}
		}
	}
}

// pollCredential re-reads the secret or certificate file and, when it
// changed and is usable, makes acquisitions from now on use it; tokens
// already held stay valid, and tenants that failed are retried at once.
// A bad file keeps the current credential.
func (r *reloader) pollCredential(ctx context.Context) {
	if r.cred == nil {
		return
	}
	data, changed, err := r.cred.Check()
	if r.readFailed(r.cred.Path, err) {
		r.log.Warn("credential file unreadable; keeping the current credential", zap.String("variable", r.cfg.Credential.Variable()), zap.Error(err))
	}
	if err != nil {
		return
	}
	if !changed {
		return
	}
	next := r.cfg.Credential
	switch next.Kind {
	case config.ClientSecretFile:
		next.Secret, err = config.SecretFromFile(data)
	case config.ClientCertificate:
		if err = config.CheckCertificatePEM(data); err == nil {
			next.Secret = config.Secret(data)
		}
	}
	if err == nil {
		err = r.source.Rotate(next)
	}
	if err != nil {
		r.log.Warn("new credential refused; keeping the current one", zap.String("variable", next.Variable()), zap.Error(err))
		if r.applied != nil {
			r.applied(err)
		}
		return
	}
	r.cfg.Credential = next
	r.log.Info("credential rotated: token requests from now on use the new one", zap.String("variable", next.Variable()), zap.String("file", next.File))
	r.cache.RetryFailedNow()
	r.warmSoon()
	if r.applied != nil {
		r.applied(nil)
	}
}

// pollKeys re-reads the client keys file: keys added work at once, keys
// removed stop at once. A malformed file changes nothing; a file with no
// key left refuses every client (revoking the last key must work).
func (r *reloader) pollKeys() {
	if r.keys == nil {
		return
	}
	r.pollKeysFile(r.keys, "client keys file", func(data []byte) (int, error) {
		keys, err := config.ParseClientKeys(r.keys.Path, data)
		if err != nil {
			return 0, err
		}
		r.handler.SetClientKeys(keys)
		return keys.Len(), nil
	})
}

// pollAdminKeys re-reads the admin keys file, as pollKeys the client
// keys file: the admin listener takes the keys it lists at once.
func (r *reloader) pollAdminKeys() {
	if r.admin == nil {
		return
	}
	r.pollKeysFile(r.admin, "admin keys file", func(data []byte) (int, error) {
		keys, err := config.ParseAdminKeys(r.admin.Path, data)
		if err != nil {
			return 0, err
		}
		r.adminKeys.Set(keys)
		return keys.Len(), nil
	})
}

// pollKeysFile re-reads the keys file w (what names it in logs) and,
// when it changed, has apply parse and serve it; apply returns how many
// keys it now holds. A malformed file changes nothing and is logged. The
// log names the file, never a key or a hash.
func (r *reloader) pollKeysFile(w *config.FileWatcher, what string, apply func(data []byte) (int, error)) {
	data, changed, err := w.Check()
	if r.readFailed(w.Path, err) {
		r.log.Warn(what+" unreadable; keeping the current keys", zap.String("file", w.Path), zap.Error(err))
	}
	if err != nil || !changed {
		return
	}
	n, err := apply(data)
	if err != nil {
		r.log.Warn(what+" is malformed; keeping the current keys", zap.String("file", w.Path), zap.Error(err))
		if r.applied != nil {
			r.applied(err)
		}
		return
	}
	level := zap.InfoLevel
	if n == 0 {
		level = zap.WarnLevel // every request that needs a key is refused now
	}
	r.log.Check(level, what+" reloaded").Write(zap.String("file", w.Path), zap.Int("keys", n))
	if r.applied != nil {
		r.applied(nil)
	}
}

// pollTLS re-reads the listeners' certificate, key and client CAs: a
// change that parses applies to new connections.
func (r *reloader) pollTLS() {
	if r.tls == nil {
		return
	}
	changed, err := r.tls.poll()
	if r.applied != nil && (changed || err != nil) {
		r.applied(err)
	}
}

// readFailed records the outcome of reading path and reports whether err
// is a new failure worth logging: a file that stays missing is logged
// once, not every poll.
func (r *reloader) readFailed(path string, err error) bool {
	if err == nil {
		delete(r.lastErr, path)
		return false
	}
	if r.lastErr[path] == err.Error() {
		return false
	}
	r.lastErr[path] = err.Error()
	return true
}
