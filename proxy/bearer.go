package proxy

import (
	"hash/maphash"
	"sync/atomic"
)

// bearerSlots is the size of a bearerTable.
const bearerSlots = 256

// bearerTable keeps the Authorization header of recently sent tokens, so
// that a request does not build "Bearer " + a token of a kilobyte or two
// anew: a table of slots indexed by a hash of tenant and scope, each
// holding the last token sent for one of them and its header. Lookups
// and updates take no lock; two tenants sharing a slot only cost the
// header's allocation, as before there was a table. It holds at most
// bearerSlots headers, whatever the number of tenants.
//
// The header slices it returns are shared by every request with that
// token: they are set whole in a request's header, never changed.
type bearerTable struct {
	seed  maphash.Seed
	slots [bearerSlots]atomic.Pointer[bearer]
}

type bearer struct {
	token  string
	header []string // {"Bearer " + token}
}

func newBearerTable() *bearerTable { return &bearerTable{seed: maphash.MakeSeed()} }

// header returns the Authorization header value for token, the token of
// tenant for scope.
func (t *bearerTable) header(tenant, scope, token string) []string {
	slot := &t.slots[(maphash.String(t.seed, tenant)^maphash.String(t.seed, scope))%bearerSlots]
	// The cache hands out the same string until the token changes: this
	// comparison is usually of two pointers.
	if b := slot.Load(); b != nil && b.token == token {
		return b.header
	}
	b := &bearer{token: token, header: []string{"Bearer " + token}}
	slot.Store(b)
	return b.header
}
