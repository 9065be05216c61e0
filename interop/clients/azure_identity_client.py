"""azure-identity Python: ClientSecretCredential with the proxy as its
authority host.

See interop.py for the arguments and the output.
"""

import inspect

import azure.identity
from azure.identity._internal.msal_credentials import MsalCredential

import interop


def discovery_switch():
    """Returns the keyword that turns instance discovery off: 1.13.0b2
    (Debian bookworm's python3-azure) calls it instance_discovery=False,
    1.13.0 and later disable_instance_discovery=True. A keyword the
    version does not know would be passed on to the HTTP pipeline and
    silently ignored, so look it up rather than guess."""
    if "disable_instance_discovery" in inspect.signature(MsalCredential.__init__).parameters:
        return {"disable_instance_discovery": True}
    return {"instance_discovery": False}


def get_token(args, secret, scope):
    cred = azure.identity.ClientSecretCredential(
        args.tenant, args.client_id, secret,
        authority=args.authority_host,  # host only: the tenant is appended
        **discovery_switch(),
    )
    return cred.get_token(scope).token


if __name__ == "__main__":
    interop.run("azure-identity " + azure.identity.__version__, get_token)
