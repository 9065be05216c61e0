# Microsoft's partner-access page, "Obtenir un jeton d'accès à l'aide de
# Python", verbatim; then the incidents call as Microsoft's Python samples
# write it. legacy_test.go pastes the three values, as a user would, and
# changes only the two base URLs (https://login.windows.net and the API's).
import json
import urllib.request
import urllib.parse

tenantId = '' # Paste your directory (tenant) ID here
clientId = '' # Paste your application (client) ID here
appSecret = '' # Paste your own app secret here to test, then store it in a safe place, such as the Azure Key Vault!

url = "https://login.windows.net/%s/oauth2/token" % (tenantId)

resourceAppIdUri = 'https://api.security.microsoft.com'

body = {
    'resource' : resourceAppIdUri,
    'client_id' : clientId,
    'client_secret' : appSecret,
    'grant_type' : 'client_credentials'
}

data = urllib.parse.urlencode(body).encode("utf-8")

req = urllib.request.Request(url, data)
response = urllib.request.urlopen(req)
jsonResponse = json.loads(response.read())
aadToken = jsonResponse["access_token"]

url = "https://api.security.microsoft.com/api/incidents"

headers = {
    'Content-Type' : 'application/json',
    'Accept' : 'application/json',
    'Authorization' : "Bearer " + aadToken
}

req = urllib.request.Request(url, headers = headers)
response = urllib.request.urlopen(req)
jsonResponse = json.loads(response.read())
incidents = jsonResponse["value"]

print(aadToken)
print(len(incidents))
