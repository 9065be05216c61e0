package tokencache

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"
	"unique"
)

// Claims are the access-token claims the proxy reports (never the token).
type Claims struct {
	// Audience is the aud claim, one or several values. Tokens with the
	// same audience share the slice: it must not be modified.
	Audience []string
	// TenantID is the tid claim.
	TenantID string
	// Roles are the application roles consented to. Tokens with the same
	// roles share the slice: it must not be modified.
	Roles []string
	// AppID is the appid claim (v1 tokens) or azp (v2): the client ID.
	AppID string
	// ExpiresAt is the exp claim; zero when absent.
	ExpiresAt time.Time
	// ReadErr is why the claims could not be read from the token (not a
	// JWT, not JSON); nil when they were.
	ReadErr error
}

// DecodeClaims reads a JWT's payload without verifying it: the token came
// straight from Entra ID over TLS, and only its claims are shown.
func DecodeClaims(token string) (Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Claims{}, errors.New("not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return Claims{}, errors.New("the payload is not base64url")
	}
	var raw struct {
		Aud   json.RawMessage `json:"aud"`
		Tid   string          `json:"tid"`
		Roles []string        `json:"roles"`
		AppID string          `json:"appid"`
		Azp   string          `json:"azp"`
		Exp   json.Number     `json:"exp"`
	}
	if err := json.Unmarshal(payload, &raw); err != nil {
		return Claims{}, errors.New("the payload is not JSON")
	}
	c := Claims{TenantID: raw.Tid, Roles: internList(raw.Roles), AppID: intern(raw.AppID)}
	if c.AppID == "" {
		c.AppID = intern(raw.Azp)
	}
	if exp, err := raw.Exp.Float64(); err == nil && exp > 0 {
		c.ExpiresAt = time.Unix(int64(exp), 0)
	}
	var aud []string
	var one string
	if json.Unmarshal(raw.Aud, &one) == nil {
		aud = []string{one}
	} else if json.Unmarshal(raw.Aud, &aud) != nil {
		aud = nil
	}
	c.Audience = internList(aud)
	return c, nil
}

// intern returns the one copy of s the process keeps while it is in use:
// the application ID, audience and roles are the same in the tokens of
// thousands of tenants, and a cached token's claims live as long as it.
func intern(s string) string { return unique.Make(s).Value() }

// maxLists bounds how many distinct lists internList keeps: a few role
// sets (one per consent the tenants gave) and audiences in practice.
const maxLists = 1024

// lists holds the one copy of each list internList has seen, keyed by
// its elements joined with a NUL (which no role or audience contains).
var lists struct {
	sync.Mutex
	m map[string][]string
}

// internList returns the one copy of list the process keeps, its strings
// interned: every tenant's token carries the same roles and audience,
// and a slice of them per cached token costs 80 bytes or more (10,000
// tenants: 0.8 MB). Nil or empty gives nil; beyond maxLists distinct
// lists, list is returned with its strings interned but not shared.
func internList(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	key := strings.Join(list, "\x00")
	lists.Lock()
	defer lists.Unlock()
	if shared, ok := lists.m[key]; ok && slices.Equal(shared, list) { // ["a\x00b"] and ["a" "b"] share a key
		return shared
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = intern(s)
	}
	if len(lists.m) < maxLists {
		if lists.m == nil {
			lists.m = map[string][]string{}
		}
		lists.m[intern(key)] = out
	}
	return out
}

// MissingRoles returns the roles in required that are not in have, in
// required's order, or nil when none is missing. have may gather the
// roles claims of several tokens (a tenant's APIs). Roles are compared
// exactly, case included, as Entra ID issues them.
func MissingRoles(have, required []string) []string {
	var missing []string
	for _, want := range required {
		if !slices.Contains(have, want) {
			missing = append(missing, want)
		}
	}
	return missing
}
