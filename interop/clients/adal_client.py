"""ADAL Python (deprecated, still shipped by legacy tools): the v1 token
endpoint with resource=, the proxy as the authority.

See interop.py for the arguments and the output.
"""

import adal

import interop


def get_token(args, secret, scope):
    # ADAL asks for a resource, not a scope.
    resource = scope[: -len("/.default")] if scope.endswith("/.default") else scope
    ctx = adal.AuthenticationContext(
        args.authority_host + "/" + args.tenant,
        # The proxy is no authority Microsoft knows: skip the instance
        # discovery call to login.microsoftonline.com.
        validate_authority=False,
    )
    return ctx.acquire_token_with_client_credentials(resource, args.client_id, secret)["accessToken"]


if __name__ == "__main__":
    interop.run("adal " + adal.__version__, get_token)
