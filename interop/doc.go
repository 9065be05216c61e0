// Package interop tests xdrproxy with Microsoft's own client libraries:
// MSAL and azure-identity for Go and Python, and the deprecated ADAL for
// Python that legacy tools still ship. Each acquires a token with the
// proxy as its authority, calls the Defender and Graph APIs through it
// and follows @odata.nextLink through every page, against the demo's TLS
// listener, against `xdrproxy serve` over its own TLS (configured from the
// environment, with client keys) and against the demo behind a
// TLS-terminating front.
//
// It is a module of its own so that the product's go.mod does not grow
// by the Azure SDK. Run it with `cd interop && go test ./...`; the Python
// clients need Debian's python3-msal, python3-adal, python3-azure and
// python3-requests.
package interop
