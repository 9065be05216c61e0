package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/xdrproxy/xdrproxy/fleet/seal"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// failureMemory is how long after its backoff ends the fleet remembers a
// key's failure count, so that the next failure, by any replica, backs
// off longer, as it would in one process.
const failureMemory = time.Hour

// sharedFailure is what is sealed in Redis for a key's last failure:
// what Entra ID said (never a secret: codes, the first line of its
// description) and the fleet's backoff.
type sharedFailure struct {
	Failures    int           `json:"n"`
	RetryAt     time.Time     `json:"retry_at"`
	Status      int           `json:"status,omitzero"`
	OAuthError  string        `json:"error,omitzero"`
	Codes       []int         `json:"codes,omitzero"`
	Description string        `json:"description"`
	RetryAfter  time.Duration `json:"retry_after,omitzero"`
}

// failureKey names k's last failure.
func (s *TokenStore) failureKey(k tokencache.Key) string {
	return s.c.prefix + "tokenfail:" + s.idHash + ":" + k.TenantID + ":" + k.Scope
}

// failureAD binds a sealed failure to its key, apart from its token.
func (s *TokenStore) failureAD(k tokencache.Key) []byte {
	return seal.AssociatedData(s.clientID, k.TenantID, "failure "+k.Scope)
}

// shareFailure writes err, a failed fetch of k, for every replica to wait
// out. Only Entra ID's answers are shared: a replica that cannot reach
// Entra ID says more about its own network than about the tenant, so the
// others keep trying.
func (s *TokenStore) shareFailure(k tokencache.Key, err error) error {
	var f *tokencache.Failure
	var ae *tokencache.AcquisitionError
	if !errors.As(err, &f) || !tokencache.Shareable(f.Err) || !errors.As(f.Err, &ae) {
		return nil
	}
	wait := f.RetryAt.Sub(s.now())
	if wait <= 0 {
		return nil
	}
	plain, jerr := json.Marshal(sharedFailure{Failures: f.Failures, RetryAt: f.RetryAt, Status: ae.Status, OAuthError: ae.OAuthError,
		Codes: ae.Codes, Description: ae.Description, RetryAfter: ae.RetryAfter})
	if jerr != nil {
		return jerr
	}
	sealed := s.keys.Seal(plain, s.failureAD(k))
	return s.c.do(func(ctx context.Context, rdb *redis.Client) error {
		return rdb.Set(ctx, s.failureKey(k), sealed, wait+failureMemory).Err()
	})
}

// openFailure returns the failure sealed in value for k, or nil when it
// does not open.
func (s *TokenStore) openFailure(k tokencache.Key, value string) *tokencache.Failure {
	plain, err := s.keys.Open([]byte(value), s.failureAD(k))
	var sf sharedFailure
	if err != nil || json.Unmarshal(plain, &sf) != nil || sf.Failures < 1 || sf.Description == "" {
		return nil
	}
	return &tokencache.Failure{
		Err: &tokencache.AcquisitionError{TenantID: k.TenantID, Status: sf.Status, OAuthError: sf.OAuthError,
			Codes: sf.Codes, Description: sf.Description, RetryAfter: sf.RetryAfter},
		Failures: sf.Failures,
		RetryAt:  sf.RetryAt,
	}
}

// ForgetFailure deletes k's shared failure, so that the next acquisition
// by any replica asks Entra ID at once: an operator fixed its cause.
func (s *TokenStore) ForgetFailure(k tokencache.Key) {
	if err := s.c.do(func(ctx context.Context, rdb *redis.Client) error {
		return rdb.Del(ctx, s.failureKey(k)).Err()
	}); err != nil {
		s.fallbacks.Add(1)
	}
}
