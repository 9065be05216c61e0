"""MSAL Python: a confidential client with the proxy as its authority.

See interop.py for the arguments and the output.
"""

import msal

import interop


class TokenError(Exception):
    """MSAL's error answer (error, error_description) as an exception."""


def get_token(args, secret, scope):
    app = msal.ConfidentialClientApplication(
        args.client_id,
        client_credential=secret,
        authority=args.authority_host + "/" + args.tenant,
        # The proxy is no authority Microsoft knows: skip the instance
        # discovery call to login.microsoftonline.com (MSAL >= 1.19;
        # validate_authority=False does the same in older versions).
        instance_discovery=False,
    )
    result = app.acquire_token_for_client(scopes=[scope])
    if "access_token" not in result:
        raise TokenError("%s: %s" % (result.get("error"), result.get("error_description")))
    return result["access_token"]


if __name__ == "__main__":
    interop.run("msal " + msal.__version__, get_token)
