package config

// Cloud is a Microsoft cloud: it fixes the defaults of the authority host,
// the upstream API and the scope.
type Cloud struct {
	// Name is the value of XDRPROXY_CLOUD that selects it.
	Name string
	// AuthorityHost is Entra ID's login host for the cloud.
	AuthorityHost string
	// UpstreamURL is the Defender XDR API's base URL in the cloud.
	UpstreamURL string
	// Scope is the client-credentials scope for that API.
	Scope string
}

// Clouds lists the clouds XDRPROXY_CLOUD accepts. Hosts are from Microsoft's
// "Microsoft Defender XDR for US Government customers" page: GCC signs in on
// the commercial login host, GCC High and DoD on login.microsoftonline.us.
var Clouds = map[string]Cloud{
	"public": {
		Name:          "public",
		AuthorityHost: "https://login.microsoftonline.com",
		UpstreamURL:   "https://api.security.microsoft.com",
		Scope:         "https://api.security.microsoft.com/.default",
	},
	"usgov": {
		Name:          "usgov",
		AuthorityHost: "https://login.microsoftonline.com",
		UpstreamURL:   "https://api-gcc.security.microsoft.us",
		Scope:         "https://api-gcc.security.microsoft.us/.default",
	},
	"usgovhigh": {
		Name:          "usgovhigh",
		AuthorityHost: "https://login.microsoftonline.us",
		UpstreamURL:   "https://api-gov.security.microsoft.us",
		Scope:         "https://api-gov.security.microsoft.us/.default",
	},
	"dod": {
		Name:          "dod",
		AuthorityHost: "https://login.microsoftonline.us",
		UpstreamURL:   "https://api-gov.security.microsoft.us",
		Scope:         "https://api-gov.security.microsoft.us/.default",
	},
}
