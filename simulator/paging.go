package simulator

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// pageRule is how one list endpoint pages: the page it serves when the
// client names no $top, the largest $top it accepts, and the smallest.
//
// Microsoft's list endpoints page with $top and $skip and answer a page
// that is not the last with an absolute @odata.nextLink: the request's own
// URL with $skip moved on and the client's other parameters kept, which a
// client follows as it is ("Paging Microsoft Graph data in your app",
// learn.microsoft.com/graph/paging: the link carries $skip or $skiptoken
// "and all the other query parameters present in the original request").
// The last page has no @odata.nextLink.
type pageRule struct {
	defaultTop, maxTop, minTop int
}

// The page rules of the simulated list endpoints, each from the endpoint's
// documentation where Microsoft states it.
var (
	// defenderIncidentsPaging: "List incidents API in Microsoft Defender
	// XDR" (learn.microsoft.com/defender-xdr/api-list-incidents): "$top,
	// with a maximum value of 100" and "Maximum page size is 100
	// incidents", so a request without $top gets pages of 100.
	defenderIncidentsPaging = pageRule{defaultTop: 100, maxTop: 100}
	// defenderAlertsPaging: "List alerts API" (learn.microsoft.com/
	// defender-endpoint/api/get-alerts, GET /api/alerts on
	// api.security.microsoft.com): "$top with max value of 10,000" and
	// "Maximum page size is 10,000".
	defenderAlertsPaging = pageRule{defaultTop: 10000, maxTop: 10000}
	// graphIncidentsPaging: "List incidents" (learn.microsoft.com/graph/
	// api/security-list-incidents) supports $top and $skip and says "Use
	// @odata.nextLink for pagination" but gives no size; Graph answers 50
	// incidents a page and refuses a $top over 50 ("The limit of '50' for
	// Top query has been exceeded", as clients of the API report), with
	// nextLinks such as .../security/incidents?$skip=50.
	graphIncidentsPaging = pageRule{defaultTop: 50, maxTop: 50, minTop: 1}
	// graphAlertsPaging: "List alerts_v2" (learn.microsoft.com/graph/api/
	// security-list-alerts_v2) supports $top and $skip ("GET
	// /security/alerts_V2?$top=100&$skip=200") and "Use @odata.nextLink for
	// pagination", but documents no page size. 2000 is the simulator's
	// assumption, not a documented figure.
	graphAlertsPaging = pageRule{defaultTop: 2000, maxTop: 2000, minTop: 1}
)

// readPaging reads $top and $skip as rule allows. Its error is worded as
// OData's query validation words it.
func readPaging(q url.Values, rule pageRule) (top, skip int, err error) {
	top = rule.defaultTop
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < rule.minTop {
			kind := "non-negative"
			if rule.minTop > 0 {
				kind = "positive"
			}
			return 0, 0, fmt.Errorf("Invalid value '%s' for $top query option found. The $top query option requires a %s integer value.", v, kind)
		}
		if n > rule.maxTop {
			return 0, 0, fmt.Errorf("The limit of '%d' for Top query has been exceeded. The value from the incoming request is '%s'.", rule.maxTop, v)
		}
		top = n
	}
	if v := q.Get("$skip"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, 0, fmt.Errorf("Invalid value '%s' for $skip query option found. The $skip query option requires a non-negative integer value.", v)
		}
		skip = n
	}
	return top, skip, nil
}

// listBody is a list answer: @odata.context, the page of items that skip
// and top select (never null), and @odata.nextLink when items follow it.
func listBody[T any](r *http.Request, context string, items []T, skip, top int) map[string]any {
	body := map[string]any{
		"@odata.context": context,
		"value":          pageOf(items, skip, top),
	}
	if top > 0 && skip+top < len(items) {
		body["@odata.nextLink"] = nextLink(r, skip+top)
	}
	return body
}

// pageOf is the page of items that $skip and $top select: never nil, so
// an empty page is written as [].
func pageOf[T any](items []T, skip, top int) []T {
	if skip >= len(items) {
		return []T{}
	}
	return items[skip:min(len(items), skip+top)]
}

// nextLink is the request's URL on the simulator's own origin with $skip
// moved on to skip, keeping the client's other parameters as written.
func nextLink(r *http.Request, skip int) string {
	var params []string
	for _, p := range strings.Split(r.URL.RawQuery, "&") {
		if p != "" && !strings.HasPrefix(p, "$skip=") && !strings.HasPrefix(p, "%24skip=") {
			params = append(params, p)
		}
	}
	params = append(params, "$skip="+strconv.Itoa(skip))
	return baseURL(r) + r.URL.Path + "?" + strings.Join(params, "&")
}
