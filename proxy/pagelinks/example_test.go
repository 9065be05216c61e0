package pagelinks_test

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/xdrproxy/xdrproxy/proxy/pagelinks"
)

func ExampleNewReader() {
	body := strings.NewReader(`{"value":[],"@odata.nextLink":"https://graph.microsoft.com/v1.0/users?$skiptoken=X"}`)
	r := pagelinks.NewReader(body, pagelinks.Rule{
		From: "https://graph.microsoft.com/",
		To:   "https://proxy.example/tenants/contoso/graph/",
	})
	if _, err := io.Copy(os.Stdout, r); err != nil {
		fmt.Println(err)
	}
	fmt.Printf("\n%d link rewritten\n", r.Rewritten())
	// Output:
	// {"value":[],"@odata.nextLink":"https://proxy.example/tenants/contoso/graph/v1.0/users?$skiptoken=X"}
	// 1 link rewritten
}
